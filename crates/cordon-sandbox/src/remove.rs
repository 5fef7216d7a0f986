//! Removing a directory tree a sandbox wrote to (a long-lived sandbox's
//! persistent `/tmp`, Landlock-only mode's per-run `TMPDIR`).
//!
//! The tree's contents are the workload's: symlinks to anywhere, FIFOs,
//! sockets, and directories it made unreadable or unwritable (mode 0000 or
//! 0500). `std::fs::remove_dir_all` stops at the first directory it cannot
//! open or empty and leaves the rest on the host. This walk never follows a
//! link (every step is `openat` relative to the parent's descriptor with
//! `O_NOFOLLOW`) and gives a directory owned by the caller back its owner
//! permissions before it goes in.

use std::ffi::{CStr, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Deepest nesting followed; a deeper tree is an attempt to exhaust the walk.
const MAX_DEPTH: usize = 4096;

/// Remove `path` and everything below it without following any symlink. A
/// missing `path` is not an error.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no directory entry", path.display()),
        ));
    };
    let parent_fd = open_dir(libc::AT_FDCWD, parent.as_os_str())?;
    match remove_entry(parent_fd.as_raw_fd(), name, 0) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn cstring(name: &OsStr) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a file name"))
}

fn open_dir(at: RawFd, name: &OsStr) -> io::Result<OwnedFd> {
    let c = cstring(name)?;
    // SAFETY: openat with a NUL-terminated name; the result is checked.
    let fd = unsafe {
        libc::openat(
            at,
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn unlink_at(at: RawFd, name: &OsStr, flags: libc::c_int) -> io::Result<()> {
    let c = cstring(name)?;
    // SAFETY: unlinkat with a NUL-terminated name relative to a directory we hold.
    if unsafe { libc::unlinkat(at, c.as_ptr(), flags) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Remove the entry `name` of the directory `at`.
fn remove_entry(at: RawFd, name: &OsStr, depth: usize) -> io::Result<()> {
    // Anything that is not a directory (file, symlink, FIFO, socket, device)
    // is unlinked as it is; a directory answers EISDIR.
    match unlink_at(at, name, 0) {
        Ok(()) => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {}
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
        Err(e) => return Err(e),
    }
    if depth >= MAX_DEPTH {
        return Err(io::Error::other(format!(
            "more than {MAX_DEPTH} nested directories"
        )));
    }
    let dir = match open_dir(at, name) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
            make_owner_accessible(at, name)?;
            open_dir(at, name)?
        }
        Err(e) => return Err(e),
    };
    // Entries cannot be unlinked from a directory without write and search
    // permission: the owner's bits are restored first (a no-op when set).
    // SAFETY: fchmod on a descriptor we own.
    unsafe { libc::fchmod(dir.as_raw_fd(), 0o700) };
    for child in list(&dir)? {
        remove_entry(dir.as_raw_fd(), &child, depth + 1)?;
    }
    unlink_at(at, name, libc::AT_REMOVEDIR)
}

/// chmod 0700 of a directory that cannot be opened, without following a link.
fn make_owner_accessible(at: RawFd, name: &OsStr) -> io::Result<()> {
    let c = cstring(name)?;
    // SAFETY: an O_PATH descriptor of the entry itself (not followed).
    let fd = unsafe {
        libc::openat(
            at,
            c.as_ptr(),
            libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `openat` just returned this descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // fchmod refuses O_PATH descriptors; chmod through /proc/self/fd does not
    // follow a symlink here, the descriptor is the directory itself.
    let proc_path = format!("/proc/self/fd/{}\0", fd.as_raw_fd());
    // SAFETY: chmod with a NUL-terminated path built above.
    if unsafe { libc::chmod(proc_path.as_ptr().cast(), 0o700) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The names in a directory, `.` and `..` left out.
fn list(dir: &OwnedFd) -> io::Result<Vec<std::ffi::OsString>> {
    // SAFETY: dup of a descriptor we own; fdopendir takes the copy over.
    let copy = unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if copy < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fdopendir on a fresh descriptor it now owns.
    let stream = unsafe { libc::fdopendir(copy) };
    if stream.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so the copy is still ours to close.
        unsafe { libc::close(copy) };
        return Err(e);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: readdir on a stream we opened; the entry is valid until the next call.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: readdir returned a valid entry, alive until the next call.
        let d_name = unsafe { &(*entry).d_name };
        // SAFETY: d_name is a NUL-terminated array inside the entry.
        let name = unsafe { CStr::from_ptr(d_name.as_ptr()) };
        let bytes = name.to_bytes();
        if bytes != b"." && bytes != b".." {
            names.push(OsStr::from_bytes(bytes).to_os_string());
        }
    }
    // SAFETY: closing the stream we opened (and the copied descriptor with it).
    unsafe { libc::closedir(stream) };
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn removes_what_a_workload_leaves_without_following_links() {
        let base = std::env::temp_dir().join(format!("cordon-remove-{}", std::process::id()));
        let outside = base.with_extension("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        let tree = base.join("tree");
        std::fs::create_dir_all(tree.join("a/b/c")).unwrap();
        std::fs::write(tree.join("a/b/c/file"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, tree.join("link-dir")).unwrap();
        std::os::unix::fs::symlink(outside.join("keep"), tree.join("a/link-file")).unwrap();
        nix::unistd::mkfifo(
            &tree.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(tree.join("sock")).unwrap();
        std::fs::create_dir_all(tree.join("locked/inner")).unwrap();
        std::fs::write(tree.join("locked/inner/f"), "x").unwrap();
        for (dir, mode) in [("locked/inner", 0o000), ("locked", 0o000), ("a/b", 0o500)] {
            std::fs::set_permissions(tree.join(dir), std::fs::Permissions::from_mode(mode))
                .unwrap();
        }
        remove_tree(&tree).unwrap();
        assert!(std::fs::symlink_metadata(&tree).is_err(), "tree left");
        assert_eq!(std::fs::read_to_string(outside.join("keep")).unwrap(), "x");
        remove_tree(&tree).unwrap();
        std::fs::remove_dir_all(&base).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }
}
