//! The new mount API (open_tree, mount_setattr, move_mount), idmapped
//! trees and the user namespaces behind them, pivot_root.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::fds::{pipe, to_fd};

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
#[derive(Default)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;

/// Set mount attributes on the mount at `path`, and on every mount below it when `recursive`.
pub fn mount_setattr(path: &CStr, attr_set: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set,
        ..Default::default()
    };
    let mut flags = libc::AT_SYMLINK_NOFOLLOW as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `path` is NUL-terminated and `attr` is a correctly sized
    // mount_attr; both outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// mount_setattr(2): give a detached mount tree the idmapping of a user namespace.
pub const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
/// open_tree(2): a detached copy instead of the mount itself.
const OPEN_TREE_CLONE: libc::c_uint = 1;
/// move_mount(2): the source / the target is the descriptor itself.
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;

/// A detached copy of the mount tree at `path`, submounts included
/// (open_tree(2) with OPEN_TREE_CLONE | AT_RECURSIVE).
pub fn clone_tree(path: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `path` is NUL-terminated and live for the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint,
        )
    };
    if fd == -1 {
        return Err(io::Error::last_os_error());
    }
    let fd = to_fd(fd)?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Set `attr_set` on every mount of the detached tree `tree`, and map its file
/// owners through the user namespace `userns` (an idmapped mount).
pub fn idmap_tree(tree: &OwnedFd, userns: &OwnedFd, attr_set: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: attr_set | MOUNT_ATTR_IDMAP,
        userns_fd: u64::from(userns.as_raw_fd().unsigned_abs()),
        ..Default::default()
    };
    // SAFETY: an empty path with AT_EMPTY_PATH names `tree` itself; `attr` is a
    // correctly sized mount_attr live for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Attach the detached tree `tree` on the directory `target` (move_mount(2)
/// between two descriptors, so no path is looked up again).
pub fn attach_tree(tree: RawFd, target: RawFd) -> io::Result<()> {
    // SAFETY: both descriptors are open; empty paths with the *_EMPTY_PATH
    // flags name the descriptors themselves.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            target,
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Attach the detached tree `tree` over the directory at `path` (no symlink
/// in `path` is followed).
pub fn attach_tree_at(tree: RawFd, path: &CStr) -> io::Result<()> {
    // SAFETY: `tree` is open and `path` NUL-terminated, live for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            libc::AT_FDCWD,
            path.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Make every mount of this mount namespace private, so that nothing mounted
/// here propagates to the namespace it was copied from.
pub fn make_mounts_private() -> io::Result<()> {
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(io::Error::from)
}

/// A new user namespace with the given uid and gid maps (lines of
/// "inside outside count"), as a descriptor. Needs the privilege to write such
/// maps (host root). A child holds the namespace while the maps are written,
/// then leaves on its own; the returned [`NamespaceHolder`] reaps it when
/// dropped. Not waiting for it here keeps two wake-ups of a child on another
/// CPU (up to 0.7 ms on a VM whose idle vCPUs sleep) off the start of a run.
/// The child shares this process's memory (CLONE_VM, on a small stack of its
/// own) and only makes raw system calls: no copy of the address space to
/// build and tear down.
pub fn user_namespace(uid_map: &str, gid_map: &str) -> io::Result<(OwnedFd, NamespaceHolder)> {
    /// The child: wait until every write end of the pipe is closed, then leave.
    extern "C" fn hold(arg: *mut libc::c_void) -> libc::c_int {
        // SAFETY: `arg` points at the holder's boxed `[read, write]` pair,
        // which is freed only after this child has been reaped.
        let [release_r, release_w] = unsafe { *(arg as *const [RawFd; 2]) };
        let mut byte = 0u8;
        // SAFETY: closing a descriptor of this child's own table. (Sharing
        // the parent's thread pointer, a failing call here would set the
        // parent's errno; neither call can fail on these descriptors.)
        unsafe { libc::close(release_w) };
        // SAFETY: reading one byte into a local.
        unsafe { libc::read(release_r, (&mut byte as *mut u8).cast(), 1) };
        0
    }
    const STACK: usize = 16 * 1024;
    let (release_r, release_w) = pipe()?;
    let mut fds = Box::new([release_r.as_raw_fd(), release_w.as_raw_fd()]);
    let mut stack = vec![0u8; STACK];
    // SAFETY: the child runs `hold` on `stack` (the top, which clone expects)
    // and touches nothing else of this process but `fds`; both are kept by the
    // holder until it has reaped the child. No exit signal: only a waitpid
    // with __WCLONE (the holder's) reaps it, never another waiter's.
    let pid = unsafe {
        libc::clone(
            hold,
            stack.as_mut_ptr().wrapping_add(STACK).cast(),
            libc::CLONE_VM | libc::CLONE_NEWUSER,
            fds.as_mut_ptr().cast(),
        )
    };
    if pid == -1 {
        return Err(io::Error::last_os_error());
    }
    let holder = NamespaceHolder {
        pid,
        _stack: stack,
        _fds: fds,
    };
    let namespace = std::fs::write(format!("/proc/{pid}/uid_map"), uid_map)
        .and_then(|()| std::fs::write(format!("/proc/{pid}/gid_map"), gid_map))
        .and_then(|()| std::fs::File::open(format!("/proc/{pid}/ns/user")).map(OwnedFd::from));
    // The child's own copy of the write end is closed by the child: once it
    // runs, its read sees the end of the pipe and it leaves.
    drop(release_w);
    drop(release_r);
    namespace.map(|ns| (ns, holder))
}

/// The child behind a [`user_namespace`], reaped (after it has left on its
/// own) when this is dropped; its stack lives until then.
pub struct NamespaceHolder {
    pid: libc::pid_t,
    _stack: Vec<u8>,
    _fds: Box<[RawFd; 2]>,
}

impl Drop for NamespaceHolder {
    fn drop(&mut self) {
        // SAFETY: waiting for our own clone child, which leaves once the pipe's
        // write ends are closed (already done); until it has, it may still be
        // running on `_stack`, which is freed only after this returns.
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WCLONE) };
    }
}

/// pivot_root(2).
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: both arguments are NUL-terminated strings live for the call.
    let ret = unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
