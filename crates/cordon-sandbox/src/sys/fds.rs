//! Descriptors: pipes, raw writes that work after fork, passing
//! descriptors over unix sockets, close-on-exec sweeps, no-symlink opens.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Close every descriptor but stdio and `keep`, then point stdio at
/// /dev/null: for processes that outlive the command that started them.
pub fn detach_descriptors(keep: &[RawFd]) {
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor this process no longer uses.
            unsafe { libc::close(fd) };
        }
    }
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors.
            unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) };
        }
    }
}

/// Mark every descriptor from `first` up close-on-exec, whoever opened it
/// (the caller's own inherited descriptors too), so that an exec passes on
/// nothing else. close_range(2) rather than glibc's
/// posix_spawn_file_actions_addclosefrom_np, which musl lacks; a kernel
/// without it (before 5.11) stops the exec rather than leak.
pub fn close_at_exec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range(2) only sets flags on this process's descriptors.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A descriptor syscall(2) returned (a `long`): descriptors fit `int`.
pub(super) fn to_fd(raw: libc::c_long) -> io::Result<RawFd> {
    RawFd::try_from(raw).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))
}

/// A pipe with both ends close-on-exec: (read, write).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just created by pipe2 and owned by nobody else.
    let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    // SAFETY: as above.
    let write = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    Ok((read, write))
}

/// Place `fds` at `first`, `first + 1`, … (inherited across exec), without
/// clobbering one another: each goes above the targets first, then into
/// place. For a forked child before exec: raw system calls, no allocation.
pub fn descriptors_to<const N: usize>(fds: &[RawFd; N], first: RawFd) -> io::Result<()> {
    let above = first.saturating_add(RawFd::try_from(N).unwrap_or(RawFd::MAX));
    let mut high = [0; N];
    for (slot, fd) in high.iter_mut().zip(fds.iter()) {
        // SAFETY: duplicating a descriptor this process holds.
        *slot = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, above) };
        if *slot < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    for (target, fd) in (first..).zip(high) {
        // SAFETY: duplicating a descriptor this process holds (dup2 clears
        // close-on-exec on the copy).
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Write all of `buf` to a raw descriptor (usable after fork, no allocation).
pub fn write_all(fd: RawFd, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: `buf` is a valid slice for its length.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        buf = &buf[n.unsigned_abs()..];
    }
}

/// Send one byte on a socket without SIGPIPE if the peer is gone (cordon
/// runs with SIGPIPE's default action). Whether it was sent.
pub fn send_byte(fd: RawFd, byte: u8) -> bool {
    // SAFETY: send(2) of a one-byte local buffer.
    unsafe { libc::send(fd, [byte].as_ptr().cast(), 1, libc::MSG_NOSIGNAL) == 1 }
}

/// Path to C string.
pub fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// Open `path` as an O_PATH descriptor, refusing if any component is a
/// symlink: the object reached is the one the path names, not wherever a
/// concurrently planted link points.
pub fn open_no_symlinks(path: &Path) -> io::Result<OwnedFd> {
    let c = cstring(path)?;
    // SAFETY: open_how is plain data; zeroed then filled.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: openat2 with a NUL-terminated path and a correctly sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = to_fd(fd)?;
    // SAFETY: a fresh descriptor from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Send one descriptor over a unix socket, with a small message.
pub fn send_fd(channel: RawFd, fd: RawFd, message: &[u8]) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [io::IoSlice::new(message)];
    sendmsg::<()>(channel, &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None)?;
    Ok(())
}

/// Receive one message and, if it carries one, a descriptor. Returns the
/// message length (0 at end of stream) and the descriptor.
pub fn recv_fd(channel: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut cmsg = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        channel,
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut received = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for fd in fds {
                // SAFETY: descriptors just received; we own them.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                received.get_or_insert(owned);
            }
        }
    }
    Ok((msg.bytes, received))
}
