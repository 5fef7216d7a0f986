//! Metadata changes in Landlock-only mode, decided outside the sandbox.
//!
//! Landlock does not judge `chmod`, `chown`, `utimes` or extended
//! attributes: the kernel asks only that the caller own the file. Without a
//! mount namespace (read-only binds would refuse them) a sandbox could change
//! the mode of every file its uid owns anywhere on the host — for host root's
//! sandbox, `chmod u+s` on a root-owned interpreter.
//!
//! The seccomp filter (`SharedHostLimits::broker_metadata_changes`) hands
//! those calls to the reaper as user notifications, and [`Broker::answer`]
//! answers each: it opens the object the call names the way the kernel
//! would (from the caller's working directory or descriptor), makes the
//! change itself on that very object when it lies in a tree the sandbox may
//! write, and answers EPERM otherwise. The kernel's "continue" answer is not
//! used: the sandbox could swap a symlink between the check and the call.
//! The reaper has the sandbox's uid and groups and no capability (root's
//! reaper drops them before it serves), so the kernel's own checks
//! (ownership, group membership) are still the sandbox's.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Longest path the kernel takes (PATH_MAX, with its NUL).
const PATH_MAX: usize = 4096;
/// Longest extended attribute name (XATTR_NAME_MAX, with its NUL).
const XATTR_NAME_MAX: usize = 256;
/// Largest extended attribute value (XATTR_SIZE_MAX).
const XATTR_SIZE_MAX: u64 = 65536;

/// What a call asks to change.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Mode(libc::mode_t),
    Owner(libc::uid_t, libc::gid_t),
    /// Access and modification times as `utimensat` takes them (seconds,
    /// nanoseconds or `UTIME_NOW`/`UTIME_OMIT`); `None`: both now.
    Times(Option<[(i64, i64); 2]>),
    SetXattr {
        name: CString,
        value: Vec<u8>,
        flags: libc::c_int,
    },
    RemoveXattr(CString),
}

/// The object a call names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `path` from `dir` (a descriptor of the caller; `AT_FDCWD`: its
    /// working directory). An empty path with `empty_path` names `dir`.
    Path {
        dir: RawFd,
        path: CString,
        follow: bool,
        empty_path: bool,
    },
    /// An open descriptor of the caller.
    Descriptor(RawFd),
}

/// Why a call is answered without being made: the errno the caller gets.
type Refusal = libc::c_int;

/// Answers the metadata calls of one sandbox.
#[derive(Debug)]
pub struct Broker {
    /// The trees the sandbox may write (Landlock's full grants), canonical.
    writable: Vec<PathBuf>,
}

impl Broker {
    /// A broker allowing changes below `writable` (resolved here, before
    /// the sandbox runs, so that a symlinked grant compares as its target).
    pub fn new(writable: impl IntoIterator<Item = PathBuf>) -> Self {
        let writable = writable
            .into_iter()
            .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
            .collect();
        Broker { writable }
    }

    /// Ask the kernel to run the workload and the reaper on one CPU for each
    /// call (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6): a call is a
    /// ping-pong between the two, and waking another (idle) CPU for each
    /// half cost most of its time. Older kernels keep the usual wake-ups.
    pub fn prefer_one_cpu(listener: RawFd) {
        const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
        // SAFETY: NOTIF_SET_FLAGS takes the flags by value.
        unsafe {
            libc::ioctl(
                listener,
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
            )
        };
    }

    /// Receive one notification on `listener` and answer it. An error is
    /// the listener's own; a call the broker refuses is answered, not an
    /// error, and a caller that died before its call was received needs no
    /// answer.
    pub fn answer(&self, listener: RawFd) -> io::Result<()> {
        // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
        let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: NOTIF_RECV writes one seccomp_notif into `notif`.
        if unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) } != 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                // The caller died before it was received; interrupted.
                Some(libc::ENOENT | libc::EINTR) => Ok(()),
                _ => Err(e),
            };
        }
        let error = match self.serve(listener, &notif) {
            Ok(()) => 0,
            Err(errno) => -errno,
        };
        let mut resp = libc::seccomp_notif_resp {
            id: notif.id,
            val: 0,
            error,
            flags: 0,
        };
        // SAFETY: NOTIF_SEND reads one seccomp_notif_resp. A caller killed
        // meanwhile makes it fail with ENOENT, which needs no answer.
        unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
        Ok(())
    }

    fn serve(&self, listener: RawFd, notif: &libc::seccomp_notif) -> Result<(), Refusal> {
        let pid = notif.pid;
        let mut id = notif.id;
        let still_waiting = |id: &mut u64| {
            // SAFETY: NOTIF_ID_VALID reads one u64.
            unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, id) == 0 }
        };
        let decoded = decode(notif.data.nr, &notif.data.args, &Memory(pid));
        // The pid named the caller when the call was made; the call still
        // waiting proves that the memory just read, and the /proc entries
        // opened below, were the caller's (not a process that took its pid).
        if !still_waiting(&mut id) {
            return Err(libc::ENOENT);
        }
        let (target, change) = decoded?;
        let object = open_target(pid, &target)?;
        if !still_waiting(&mut id) {
            return Err(libc::ENOENT);
        }
        if !self.may_change(&object) {
            return Err(libc::EPERM);
        }
        apply(&object, &change)
    }

    /// Whether the object lies in a tree the sandbox may write.
    fn may_change(&self, object: &OwnedFd) -> bool {
        let Ok(path) = std::fs::read_link(format!("/proc/self/fd/{}", object.as_raw_fd())) else {
            return false;
        };
        // Pipes, sockets and anonymous files have no path; an unlinked file
        // no longer lies anywhere.
        if !path.is_absolute() || path.to_string_lossy().ends_with(" (deleted)") {
            return false;
        }
        within(&path, &self.writable)
    }
}

/// Whether `path` is one of `trees` or below one (whole components).
fn within(path: &Path, trees: &[PathBuf]) -> bool {
    trees.iter().any(|tree| path.starts_with(tree))
}

fn errno(e: &io::Error) -> Refusal {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// The caller's memory, by pid.
struct Memory(u32);

impl Memory {
    fn read(&self, buf: &mut [u8], addr: u64) -> Result<(), Refusal> {
        let pid = libc::pid_t::try_from(self.0).map_err(|_| libc::ESRCH)?;
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let remote = libc::iovec {
            iov_base: usize::try_from(addr).map_err(|_| libc::EFAULT)? as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: one local iovec over `buf`; the remote one is only read by
        // the kernel, in the caller's address space.
        let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        match usize::try_from(n) {
            Ok(n) if n == buf.len() => Ok(()),
            _ => Err(libc::EFAULT),
        }
    }

    fn bytes(&self, addr: u64, len: u64) -> Result<Vec<u8>, Refusal> {
        let len = usize::try_from(len).map_err(|_| libc::E2BIG)?;
        let mut buf = vec![0u8; len];
        self.read(&mut buf, addr)?;
        Ok(buf)
    }

    /// A NUL-terminated string of at most `max` bytes (with its NUL), read a
    /// page at a time so that a string near the end of a mapping is read.
    fn string(&self, mut addr: u64, max: usize, too_long: Refusal) -> Result<CString, Refusal> {
        if addr == 0 {
            return Err(libc::EFAULT);
        }
        let mut out = Vec::new();
        while out.len() < max {
            let page_left = 4096 - usize::try_from(addr % 4096).expect("below 4096");
            let chunk = page_left.min(max - out.len());
            let mut buf = vec![0u8; chunk];
            self.read(&mut buf, addr)?;
            if let Some(end) = buf.iter().position(|b| *b == 0) {
                out.extend_from_slice(&buf[..end]);
                return Ok(CString::new(out).expect("no NUL before the end"));
            }
            out.extend_from_slice(&buf);
            addr += u64::try_from(chunk).expect("a page fits u64");
        }
        Err(too_long)
    }

    fn path(&self, addr: u64) -> Result<CString, Refusal> {
        self.string(addr, PATH_MAX, libc::ENAMETOOLONG)
    }

    fn xattr_name(&self, addr: u64) -> Result<CString, Refusal> {
        self.string(addr, XATTR_NAME_MAX, libc::ERANGE)
    }

    /// Two `u64`-sized signed words per time (timespec or timeval).
    fn two_pairs(&self, addr: u64) -> Result<[(i64, i64); 2], Refusal> {
        let raw = self.bytes(addr, 32)?;
        let word =
            |i: usize| i64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().expect("eight bytes"));
        Ok([(word(0), word(1)), (word(2), word(3))])
    }
}

/// An `int` argument: the low 32 bits of the register.
fn int(arg: u64) -> libc::c_int {
    let low = u32::try_from(arg & 0xffff_ffff).expect("masked to 32 bits");
    libc::c_int::from_ne_bytes(low.to_ne_bytes())
}

/// A `mode_t`, `uid_t` or `gid_t` argument (32 bits; -1 stays all ones).
fn word(arg: u64) -> u32 {
    u32::try_from(arg & 0xffff_ffff).expect("masked to 32 bits")
}

/// The `AT_*` flags of a call that takes them; unknown bits are refused as
/// the kernel would.
fn at_flags(arg: u64) -> Result<(bool, bool), Refusal> {
    let flags = int(arg);
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(libc::EINVAL);
    }
    Ok((
        flags & libc::AT_SYMLINK_NOFOLLOW == 0,
        flags & libc::AT_EMPTY_PATH != 0,
    ))
}

/// The target and change of one call, from its number and arguments.
fn decode(nr: libc::c_int, a: &[u64; 6], mem: &Memory) -> Result<(Target, Change), Refusal> {
    let nr = i64::from(nr);
    let path = |dir: RawFd, addr: u64, follow: bool| -> Result<Target, Refusal> {
        Ok(Target::Path {
            dir,
            path: mem.path(addr)?,
            follow,
            empty_path: false,
        })
    };
    let at = |dir: u64, addr: u64, flags: u64| -> Result<Target, Refusal> {
        let (follow, empty_path) = at_flags(flags)?;
        Ok(Target::Path {
            dir: int(dir),
            path: mem.path(addr)?,
            follow,
            empty_path,
        })
    };
    let times = |addr: u64| -> Result<Change, Refusal> {
        Ok(Change::Times(match addr {
            0 => None,
            addr => Some(mem.two_pairs(addr)?),
        }))
    };
    // timeval pairs (utimes, futimesat): microseconds to nanoseconds.
    let micro_times = |addr: u64| -> Result<Change, Refusal> {
        Ok(Change::Times(match addr {
            0 => None,
            addr => {
                let [(s0, u0), (s1, u1)] = mem.two_pairs(addr)?;
                if !(0..1_000_000).contains(&u0) || !(0..1_000_000).contains(&u1) {
                    return Err(libc::EINVAL);
                }
                Some([(s0, u0 * 1000), (s1, u1 * 1000)])
            }
        }))
    };
    let set_xattr = |name: u64, value: u64, size: u64, flags: u64| -> Result<Change, Refusal> {
        if size > XATTR_SIZE_MAX {
            return Err(libc::E2BIG);
        }
        Ok(Change::SetXattr {
            name: mem.xattr_name(name)?,
            value: if size == 0 {
                Vec::new()
            } else {
                mem.bytes(value, size)?
            },
            flags: int(flags),
        })
    };
    let remove_xattr =
        |name: u64| -> Result<Change, Refusal> { Ok(Change::RemoveXattr(mem.xattr_name(name)?)) };
    let cwd = libc::AT_FDCWD;
    #[cfg(target_arch = "x86_64")]
    match nr {
        libc::SYS_chmod => return Ok((path(cwd, a[0], true)?, Change::Mode(word(a[1])))),
        libc::SYS_chown => return Ok((path(cwd, a[0], true)?, owner(a[1], a[2]))),
        libc::SYS_lchown => return Ok((path(cwd, a[0], false)?, owner(a[1], a[2]))),
        libc::SYS_utime => {
            // struct utimbuf: two time_t seconds.
            let change = match a[1] {
                0 => Change::Times(None),
                addr => {
                    let raw = mem.bytes(addr, 16)?;
                    let secs = |i: usize| {
                        i64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().expect("eight bytes"))
                    };
                    Change::Times(Some([(secs(0), 0), (secs(1), 0)]))
                }
            };
            return Ok((path(cwd, a[0], true)?, change));
        }
        libc::SYS_utimes => return Ok((path(cwd, a[0], true)?, micro_times(a[1])?)),
        libc::SYS_futimesat => {
            let target = match a[1] {
                0 => Target::Descriptor(int(a[0])),
                addr => path(int(a[0]), addr, true)?,
            };
            return Ok((target, micro_times(a[2])?));
        }
        _ => {}
    }
    match nr {
        libc::SYS_fchmod => Ok((Target::Descriptor(int(a[0])), Change::Mode(word(a[1])))),
        libc::SYS_fchmodat => Ok((path(int(a[0]), a[1], true)?, Change::Mode(word(a[2])))),
        crate::seccomp::SYS_FCHMODAT2 => Ok((at(a[0], a[1], a[3])?, Change::Mode(word(a[2])))),
        libc::SYS_fchown => Ok((Target::Descriptor(int(a[0])), owner(a[1], a[2]))),
        libc::SYS_fchownat => Ok((at(a[0], a[1], a[4])?, owner(a[2], a[3]))),
        libc::SYS_utimensat => {
            let target = match a[1] {
                // futimens: the descriptor itself.
                0 if at_flags(a[3])? == (true, false) => Target::Descriptor(int(a[0])),
                0 => return Err(libc::EINVAL),
                addr => at(a[0], addr, a[3])?,
            };
            Ok((target, times(a[2])?))
        }
        libc::SYS_setxattr => Ok((path(cwd, a[0], true)?, set_xattr(a[1], a[2], a[3], a[4])?)),
        libc::SYS_lsetxattr => Ok((path(cwd, a[0], false)?, set_xattr(a[1], a[2], a[3], a[4])?)),
        libc::SYS_fsetxattr => Ok((
            Target::Descriptor(int(a[0])),
            set_xattr(a[1], a[2], a[3], a[4])?,
        )),
        libc::SYS_removexattr => Ok((path(cwd, a[0], true)?, remove_xattr(a[1])?)),
        libc::SYS_lremovexattr => Ok((path(cwd, a[0], false)?, remove_xattr(a[1])?)),
        libc::SYS_fremovexattr => Ok((Target::Descriptor(int(a[0])), remove_xattr(a[1])?)),
        _ => Err(libc::ENOSYS),
    }
}

fn owner(uid: u64, gid: u64) -> Change {
    Change::Owner(word(uid), word(gid))
}

/// Open (`O_PATH`) the object `target` names, resolving it from the caller's
/// descriptors and working directory, with the caller's permissions.
fn open_target(pid: u32, target: &Target) -> Result<OwnedFd, Refusal> {
    let of_caller = |fd: RawFd| -> Result<OwnedFd, Refusal> {
        let entry = if fd == libc::AT_FDCWD {
            format!("/proc/{pid}/cwd")
        } else if fd < 0 {
            return Err(libc::EBADF);
        } else {
            format!("/proc/{pid}/fd/{fd}")
        };
        open_path(libc::AT_FDCWD, &CString::new(entry).expect("no NUL"), true).map_err(
            // A descriptor the caller does not have.
            |e| match e {
                libc::ENOENT if fd != libc::AT_FDCWD => libc::EBADF,
                e => e,
            },
        )
    };
    match target {
        Target::Descriptor(fd) if *fd == libc::AT_FDCWD => Err(libc::EBADF),
        Target::Descriptor(fd) => of_caller(*fd),
        Target::Path {
            dir,
            path,
            follow,
            empty_path,
        } => {
            if path.as_bytes().is_empty() {
                return if *empty_path {
                    of_caller(*dir)
                } else {
                    Err(libc::ENOENT)
                };
            }
            if let Some(fd) = own_descriptor(path) {
                return of_caller(fd);
            }
            // No other magic link is followed: the broker may look into
            // every process of the caller's uid, which the sandbox may not.
            if path.as_bytes().starts_with(b"/") {
                return resolve(libc::AT_FDCWD, path, *follow);
            }
            let base = of_caller(*dir)?;
            resolve(base.as_raw_fd(), path, *follow)
        }
    }
}

/// The descriptor `path` names if it is the caller's own descriptor entry,
/// `/proc/self/fd/N` or `/proc/thread-self/fd/N`, exactly as C libraries
/// write it to change a descriptor's mode without following a symlink.
fn own_descriptor(path: &CStr) -> Option<RawFd> {
    let bytes = path.to_bytes();
    let number = bytes
        .strip_prefix(b"/proc/self/fd/")
        .or_else(|| bytes.strip_prefix(b"/proc/thread-self/fd/"))?;
    if number.is_empty() || !number.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(number).ok()?.parse().ok()
}

/// Resolve `path` from `dir` as the kernel would for the caller, except that
/// magic links (`/proc/PID/fd/N`, `/proc/PID/cwd`, ...) are refused (ELOOP).
fn resolve(dir: RawFd, path: &CStr, follow: bool) -> Result<OwnedFd, Refusal> {
    // SAFETY: open_how is plain data (libc marks it non-exhaustive).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = u64::from(constant_flags(follow));
    how.resolve = libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 with a NUL-terminated path and an open_how of the
    // size passed; the result is checked.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    let fd = RawFd::try_from(fd).map_err(|_| libc::EBADF)?;
    if fd < 0 {
        return Err(errno(&io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `O_PATH` open flags, following a final symlink or not.
fn constant_flags(follow: bool) -> u32 {
    let flags = libc::O_PATH | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW };
    u32::try_from(flags).expect("open flags are positive")
}

/// Open one of the caller's /proc entries (a magic link, followed).
fn open_path(dir: RawFd, path: &CStr, follow: bool) -> Result<OwnedFd, Refusal> {
    let flags = libc::O_PATH | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW };
    // SAFETY: openat with a NUL-terminated path; the result is checked.
    let fd = unsafe { libc::openat(dir, path.as_ptr(), flags) };
    if fd < 0 {
        return Err(errno(&io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor from the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn is_symlink(object: &OwnedFd) -> Result<bool, Refusal> {
    // SAFETY: fstat writes one stat into the zeroed local.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on our own descriptor into a valid local.
    if unsafe { libc::fstat(object.as_raw_fd(), &mut st) } != 0 {
        return Err(errno(&io::Error::last_os_error()));
    }
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFLNK)
}

/// Make `change` on `object` (an `O_PATH` descriptor; as the caller).
fn apply(object: &OwnedFd, change: &Change) -> Result<(), Refusal> {
    let fd = object.as_raw_fd();
    // Through the descriptor's /proc entry: the object itself, never a path
    // that could have changed since it was judged.
    let proc_path = CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL");
    let empty = c"";
    let rc = match change {
        Change::Mode(mode) => {
            if is_symlink(object)? {
                return Err(libc::EOPNOTSUPP);
            }
            // SAFETY: chmod with a NUL-terminated path.
            unsafe { libc::chmod(proc_path.as_ptr(), mode & 0o7777) }
        }
        Change::Owner(uid, gid) => {
            // SAFETY: fchownat on our descriptor with an empty path.
            unsafe { libc::fchownat(fd, empty.as_ptr(), *uid, *gid, libc::AT_EMPTY_PATH) }
        }
        Change::Times(times) => {
            let spec = times.map(|t| {
                t.map(|(sec, nsec)| libc::timespec {
                    tv_sec: sec,
                    tv_nsec: nsec,
                })
            });
            let ptr = spec.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
            // SAFETY: utimensat on our descriptor with an empty path; `ptr`
            // is null or two timespecs alive for the call.
            unsafe {
                libc::utimensat(
                    fd,
                    empty.as_ptr(),
                    ptr,
                    libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
                )
            }
        }
        Change::SetXattr { name, value, flags } => {
            if is_symlink(object)? {
                return Err(libc::EPERM);
            }
            // SAFETY: setxattr with NUL-terminated path and name and a
            // buffer of `value.len()` bytes.
            unsafe {
                libc::setxattr(
                    proc_path.as_ptr(),
                    name.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    *flags,
                )
            }
        }
        Change::RemoveXattr(name) => {
            if is_symlink(object)? {
                return Err(libc::EPERM);
            }
            // SAFETY: removexattr with NUL-terminated path and name.
            unsafe { libc::removexattr(proc_path.as_ptr(), name.as_ptr()) }
        }
    };
    if rc != 0 {
        return Err(errno(&io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_compares_whole_components() {
        let trees = [PathBuf::from("/work/repo"), PathBuf::from("/tmp/run")];
        assert!(within(Path::new("/work/repo"), &trees));
        assert!(within(Path::new("/work/repo/src/main.rs"), &trees));
        assert!(within(Path::new("/tmp/run/x"), &trees));
        // Control: a sibling sharing the prefix, and outside.
        assert!(!within(Path::new("/work/repository"), &trees));
        assert!(!within(Path::new("/work"), &trees));
        assert!(!within(Path::new("/usr/bin/python3"), &trees));
    }

    #[test]
    fn proc_self_fd_names_the_callers_descriptor() {
        assert_eq!(own_descriptor(c"/proc/self/fd/3"), Some(3));
        assert_eq!(own_descriptor(c"/proc/thread-self/fd/12"), Some(12));
        // Control: anything else is a path like any other.
        for other in [
            c"/proc/self/fd/",
            c"/proc/self/fd/3/x",
            c"/proc/self/cwd",
            c"/proc/1/fd/3",
            c"//proc/self/fd/3",
            c"/usr/bin/python3",
        ] {
            assert_eq!(own_descriptor(other), None, "{other:?}");
        }
    }

    #[test]
    fn int_arguments_keep_their_sign() {
        assert_eq!(int(u64::from(u32::MAX)), -1);
        assert_eq!(int(0xffff_ffff_ffff_ff9c), libc::AT_FDCWD);
        assert_eq!(word(u64::MAX), u32::MAX);
        assert_eq!(at_flags(0), Ok((true, false)));
        assert_eq!(at_flags(0x1100), Ok((false, true)));
        assert_eq!(at_flags(0x400), Err(libc::EINVAL));
    }
}
