//! Processes: clone into new namespaces with a pidfd, posix_spawn a
//! session, prctl, leaving without destructors.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::fds::{close_at_exec_from, to_fd};

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

/// A pid the kernel returned in a wider integer (clone's and syscall(2)'s
/// return values): pids fit `pid_t` by definition.
fn to_pid(raw: impl TryInto<libc::pid_t>) -> libc::pid_t {
    raw.try_into().unwrap_or(-1)
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

/// Terminate the calling process immediately, without running destructors or
/// atexit handlers that belong to the parent's copy of the program.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// prctl with integer arguments.
pub fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the prctl options used by cordon take integer arguments only.
    if unsafe { libc::prctl(option, arg2, 0, 0, 0) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Put the calling process under `SCHED_BATCH`: same share of the CPU, but
/// its wake-ups never preempt the task running there. (A raw system call:
/// musl's `sched_setscheduler` always fails with ENOSYS.)
pub fn batch_scheduling() -> io::Result<()> {
    // The kernel's struct sched_param is one int (the C libraries' may be
    // larger: musl's is).
    let priority: libc::c_int = 0;
    // SAFETY: sched_setscheduler(2) on the calling process (pid 0) reads one
    // int, which lives for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_sched_setscheduler,
            0,
            libc::SCHED_BATCH,
            &priority as *const libc::c_int,
        )
    };
    if ret == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
