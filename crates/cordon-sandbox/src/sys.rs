//! Thin wrappers over the kernel interfaces that neither `nix` nor `landlock`
//! cover, shared by the backends. Not every `unsafe` block lives here: code
//! that runs between fork and exec, or builds one kernel structure in
//! place, keeps its system calls beside it. Every block, here or there,
//! says why it is sound (`// SAFETY:`, enforced by clippy's
//! `undocumented_unsafe_blocks`).

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `struct clone_args` of clone3(2), version 0 layout (64 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// Result of [`clone_process`] as seen by each side.
pub enum Forked {
    /// In the parent: the child's pid and a pidfd for it.
    Parent { pid: libc::pid_t, pidfd: OwnedFd },
    /// In the child.
    Child,
}

/// Whether this process has exactly one thread.
pub fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .map(|n| n.trim() == "1")
        })
        .unwrap_or(false)
}

/// fork(2)-like clone3 into new namespaces, returning a pidfd in the parent.
///
/// The caller must be single-threaded: the child continues on a copy of the
/// parent's stack, like after fork, and only the calling thread exists in it
/// (another thread could hold a lock the child then waits on forever).
pub fn clone_process(namespace_flags: u64) -> io::Result<Forked> {
    if !single_threaded() {
        return Err(io::Error::other(
            "cordon must start sandboxes from a single-threaded process",
        ));
    }
    let mut pidfd: RawFd = -1;
    let args = CloneArgs {
        flags: namespace_flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut RawFd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    // SAFETY: clone3 with no CLONE_VM and no stack behaves like fork: the child
    // gets a copy-on-write image and returns 0 here. `args` and `pidfd` are live
    // for the call; the kernel writes the pidfd into `pidfd` in the parent.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        // Container runtimes often answer clone3 with ENOSYS (its flags are out of
        // a seccomp filter's reach) while still allowing clone.
        -1 if io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) => {
            clone_legacy(namespace_flags)
        }
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: to_pid(pid),
            // SAFETY: the kernel returned a fresh pidfd that nothing else owns.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}

/// clone(2) without a new stack (fork-like), then a pidfd for the child.
fn clone_legacy(namespace_flags: u64) -> io::Result<Forked> {
    // SAFETY: as in clone_process: no CLONE_VM and no stack, so this is a fork
    // of a single-threaded process. x86_64/aarch64 argument order: flags,
    // stack, parent_tid, child_tid, tls.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            namespace_flags | libc::SIGCHLD as u64,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match ret {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => {
            let pid = to_pid(pid);
            let pidfd = match pidfd_open(pid) {
                Ok(fd) => fd,
                Err(e) => {
                    // SAFETY: kill(2) of our own child so it does not linger.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    // SAFETY: reaping that child; a null status pointer is allowed.
                    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
                    return Err(e);
                }
            };
            Ok(Forked::Parent { pid, pidfd })
        }
    }
}

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

/// A pid the kernel returned in a wider integer (clone's and syscall(2)'s
/// return values): pids fit `pid_t` by definition.
fn to_pid(raw: impl TryInto<libc::pid_t>) -> libc::pid_t {
    raw.try_into().unwrap_or(-1)
}

/// A descriptor syscall(2) returned (a `long`): descriptors fit `int`.
fn to_fd(raw: libc::c_long) -> io::Result<RawFd> {
    RawFd::try_from(raw).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))
}

/// The pid of a child started with `std::process::Command`.
pub fn child_pid(child: &std::process::Child) -> libc::pid_t {
    to_pid(child.id())
}

/// A pidfd of `pid` (which then cannot be confused with a reused pid).
pub fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = to_fd(fd)?;
    // SAFETY: a fresh descriptor from the kernel; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

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

/// Terminate the calling process immediately, without running destructors or
/// atexit handlers that belong to the parent's copy of the program.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// Path to C string.
pub fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// prctl with integer arguments.
pub fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used by cordon take integer arguments only.
    if unsafe { libc::prctl(option, arg2, 0, 0, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// capget(2)/capset(2) header, version 3 (two data words: capabilities 0-63).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn capset(data: &[CapData; 2]) -> io::Result<()> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and two data words are the layout capset(2) expects for v3.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) } == -1
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clear effective, permitted and inheritable capability sets.
pub fn clear_capability_sets() -> io::Result<()> {
    capset(&[CapData::default(); 2])
}

/// Keep capability `cap` (0-31, held now) across an exec by a non-root uid:
/// add it to the inheritable and then the ambient set.
pub fn keep_capability_across_exec(cap: u32) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and two data words are the layout capget(2) fills for v3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    data[0].inheritable |= 1 << cap;
    capset(&data)?;
    // SAFETY: PR_CAP_AMBIENT takes integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap as libc::c_ulong,
            0,
            0,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Bring the loopback interface of the current network namespace up.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain socket call; the descriptor is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just created and is owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = libc::c_char::from_ne_bytes([*src]);
    }
    req.ifr_ifru.ifru_flags = libc::c_short::try_from(libc::IFF_UP | libc::IFF_RUNNING)
        .expect("interface flags fit a short");
    use std::os::fd::AsRawFd;
    // SAFETY: SIOCSIFFLAGS reads a valid ifreq that outlives the call.
    // The request's type differs between libcs (glibc: unsigned long, musl: int).
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The last capability number this kernel knows.
pub fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// What the spawned process gets as descriptors 0-2.
#[derive(Clone, Copy)]
pub enum Stdio<'a> {
    /// Keep the caller's.
    Inherit,
    /// These descriptors.
    Fds([RawFd; 3]),
    /// This terminal, opened after `setsid` so it becomes the controlling one.
    Terminal(&'a CStr),
}

/// Start `program` with `argv` (argv[0] as the program should see it) as a
/// new session leader in `cwd` with an empty signal mask and no descriptors
/// above 2, via posix_spawn (vfork speed: the init's pages are not copied).
/// `stdio` replaces descriptors 0-2. Returns the child's pid or the errno of
/// the failure.
pub fn spawn_session(
    program: &CStr,
    argv: &[CString],
    envp: &[CString],
    cwd: &CStr,
    stdio: Stdio<'_>,
) -> io::Result<libc::pid_t> {
    let mut argv_ptrs: Vec<*mut libc::c_char> = argv
        .iter()
        .map(|a| a.as_ptr() as *mut libc::c_char)
        .collect();
    argv_ptrs.push(std::ptr::null_mut());
    let mut envp_ptrs: Vec<*mut libc::c_char> = envp
        .iter()
        .map(|e| e.as_ptr() as *mut libc::c_char)
        .collect();
    envp_ptrs.push(std::ptr::null_mut());
    let check = |rc: libc::c_int| {
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(rc))
        }
    };
    // Nothing beyond the three standard descriptors reaches the command.
    close_at_exec_from(3)?;
    let mut spawn = SpawnObjects::new()?;
    let (attr, actions) = (&mut spawn.attr, &mut spawn.actions);
    // The flags' types differ between libcs (glibc: short and int; musl: int).
    let short =
        |flag: libc::c_int| libc::c_short::try_from(flag).expect("posix_spawn flags fit a short");
    #[allow(
        clippy::useless_conversion,
        reason = "an identity conversion with one libc only"
    )]
    let flags = short(libc::c_int::from(libc::POSIX_SPAWN_SETSID))
        | short(libc::c_int::from(libc::POSIX_SPAWN_SETSIGMASK));
    // SAFETY: `attr` was initialised by SpawnObjects::new.
    check(unsafe { libc::posix_spawnattr_setflags(attr, flags) })?;
    // SAFETY: sigset_t is plain data; sigemptyset initialises it below.
    let mut empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut empty) };
    // SAFETY: `attr` is initialised; `empty` is a valid, initialised set.
    check(unsafe { libc::posix_spawnattr_setsigmask(attr, &empty) })?;
    match stdio {
        Stdio::Inherit => {}
        Stdio::Fds(fds) => {
            for (target, fd) in (0..).zip(fds) {
                // SAFETY: `actions` was initialised by SpawnObjects::new.
                check(unsafe { libc::posix_spawn_file_actions_adddup2(actions, fd, target) })?;
            }
        }
        Stdio::Terminal(path) => {
            // SAFETY: `actions` is initialised; `path` is NUL-terminated and
            // outlives the spawn below.
            check(unsafe {
                libc::posix_spawn_file_actions_addopen(actions, 0, path.as_ptr(), libc::O_RDWR, 0)
            })?;
            for target in [1, 2] {
                // SAFETY: `actions` was initialised by SpawnObjects::new.
                check(unsafe { libc::posix_spawn_file_actions_adddup2(actions, 0, target) })?;
            }
        }
    }
    // SAFETY: `actions` is initialised; `cwd` is NUL-terminated and outlives
    // the spawn below.
    check(unsafe { libc::posix_spawn_file_actions_addchdir_np(actions, cwd.as_ptr()) })?;
    let mut pid: libc::pid_t = 0;
    // SAFETY: both objects are initialised; `program`, and every pointer of
    // the NULL-terminated `argv_ptrs` and `envp_ptrs`, is NUL-terminated and
    // outlives this call.
    check(unsafe {
        libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            actions,
            attr,
            argv_ptrs.as_ptr(),
            envp_ptrs.as_ptr(),
        )
    })?;
    Ok(pid)
}

/// posix_spawn's attribute and file-action objects, initialised together and
/// destroyed on drop.
struct SpawnObjects {
    attr: libc::posix_spawnattr_t,
    actions: libc::posix_spawn_file_actions_t,
}

impl SpawnObjects {
    fn new() -> io::Result<Box<SpawnObjects>> {
        // SAFETY: both are plain data, initialised by the calls below before use.
        let mut objects: Box<SpawnObjects> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: initialising an attribute object we own.
        let rc = unsafe { libc::posix_spawnattr_init(&mut objects.attr) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        // SAFETY: initialising a file-actions object we own.
        let rc = unsafe { libc::posix_spawn_file_actions_init(&mut objects.actions) };
        if rc != 0 {
            // SAFETY: the attribute object was initialised above.
            unsafe { libc::posix_spawnattr_destroy(&mut objects.attr) };
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(objects)
    }
}

impl Drop for SpawnObjects {
    fn drop(&mut self) {
        // SAFETY: initialised in `new` (a failed `new` returns no object).
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.actions) };
        // SAFETY: as above.
        unsafe { libc::posix_spawnattr_destroy(&mut self.attr) };
    }
}

/// One process as /proc/PID/stat describes it.
pub struct ProcStat {
    pub pid: libc::pid_t,
    pub ppid: libc::pid_t,
    pub session: libc::pid_t,
}

/// Processes whose parent chain leads to `root` (not `root` itself).
pub fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
    let parents: Vec<(libc::pid_t, libc::pid_t)> =
        processes().into_iter().map(|p| (p.pid, p.ppid)).collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for (pid, ppid) in &parents {
            if *ppid == parent && !found.contains(pid) {
                found.push(*pid);
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

/// Every process visible in this process's /proc.
pub fn processes() -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command may hold spaces and parentheses; fields follow the last ')'.
            let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
            let _state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            let _pgrp = fields.next()?;
            let session = fields.next()?.parse().ok()?;
            Some(ProcStat { pid, ppid, session })
        })
        .collect()
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

/// A new pseudo-terminal of the current devpts: (master, slave path), sized.
pub fn open_pty(rows: u16, cols: u16) -> io::Result<(OwnedFd, CString)> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let master: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/ptmx")?
        .into();
    let unlock: libc::c_int = 0;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCSPTLCK reads an int from a valid pointer, on our master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK as _, &unlock) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: TIOCGPTN writes an int through a valid pointer, on our master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN as _, &mut number) } != 0 {
        return Err(io::Error::last_os_error());
    }
    set_window_size(master.as_raw_fd(), rows, cols);
    let path = CString::new(format!("/dev/pts/{number}")).map_err(io::Error::other)?;
    Ok((master, path))
}

/// Rows and columns of the terminal on `fd`.
pub fn window_size(fd: RawFd) -> Option<(u16, u16)> {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: ioctl with a valid winsize pointer.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ as _, &mut ws) } != 0 {
        return None;
    }
    Some((ws.ws_row, ws.ws_col))
}

/// Resize the terminal on `fd`.
pub fn set_window_size(fd: RawFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize that lives for the call.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ as _, &ws) };
}

/// Puts stdin in raw mode while alive, if it is a terminal.
pub struct RawMode(Option<libc::termios>);

impl RawMode {
    pub fn enter() -> Self {
        // SAFETY: termios is plain data; tcgetattr fills it on success.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid termios pointer.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return RawMode(None);
        }
        let mut raw = saved;
        // SAFETY: cfmakeraw edits a termios we own.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: tcsetattr reads a valid termios.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) };
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restoring the attributes saved above.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, saved) };
        }
    }
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

/// Start time of a process (clock ticks since boot), to tell a pid apart from
/// a later process that reused it.
/// A dead process that was not reaped yet (a zombie) counts as gone.
pub fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    if matches!(fields.next(), Some("Z") | Some("X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}
