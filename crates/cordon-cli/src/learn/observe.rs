//! `cordon __observe REPORT -- CMD`: run inside a learning sandbox, it runs
//! CMD under a seccomp filter that reports (through seccomp user
//! notification, which needs no privilege) every path the command's
//! processes open, stat, execute, create or remove, and every address they
//! connect to — then lets each call continue unchanged
//! (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`): the kernel decides under the
//! sandbox's own policy, the observer only takes notes. Observations go to
//! REPORT as JSON lines, each once, in order.
//!
//! Hand-rolled BPF (a dozen instructions): `seccompiler` has no user
//! notification action.

use std::collections::HashSet;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};

use serde_json::json;

/// `_IOWR('!', 0, struct seccomp_notif)` and `_IOWR('!', 1, struct seccomp_notif_resp)`.
const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
const NOTIF_SEND: libc::c_ulong = 0xc018_2101;

#[cfg(target_arch = "x86_64")]
const ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64

/// What a call does with its path.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    /// Open for reading, chdir.
    Read,
    /// stat, access, readlink: looked at, not opened.
    Stat,
    /// Open for writing, create a file, remove a directory, remove, rename.
    Write,
    /// Make a directory: needs no grant where it exists already (the
    /// kernel answers EEXIST before it checks for write access).
    Mkdir,
    Exec,
    Connect,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Stat => "stat",
            Op::Write => "write",
            Op::Mkdir => "mkdir",
            Op::Exec => "exec",
            Op::Connect => "connect",
        }
    }
}

/// Where a syscall keeps its path: (dirfd argument, path argument).
enum Args {
    /// Path in `path`, relative to the cwd.
    Path(usize),
    /// `dirfd` and `path`.
    At(usize, usize),
}

/// The observed syscalls: number, how to read the path, what it does (`None`:
/// decided from the open flags).
fn watched() -> Vec<(i64, Args, Option<Op>)> {
    use Args::*;
    let mut list = vec![
        (libc::SYS_openat, At(0, 1), None),
        (libc::SYS_openat2, At(0, 1), None),
        (libc::SYS_execve, Path(0), Some(Op::Exec)),
        (libc::SYS_execveat, At(0, 1), Some(Op::Exec)),
        (libc::SYS_newfstatat, At(0, 1), Some(Op::Stat)),
        (libc::SYS_statx, At(0, 1), Some(Op::Stat)),
        (libc::SYS_faccessat, At(0, 1), Some(Op::Stat)),
        (libc::SYS_faccessat2, At(0, 1), Some(Op::Stat)),
        (libc::SYS_readlinkat, At(0, 1), Some(Op::Stat)),
        (libc::SYS_chdir, Path(0), Some(Op::Read)),
        (libc::SYS_mkdirat, At(0, 1), Some(Op::Mkdir)),
        (libc::SYS_unlinkat, At(0, 1), Some(Op::Write)),
        (libc::SYS_renameat2, At(0, 1), Some(Op::Write)),
        (libc::SYS_connect, Path(1), Some(Op::Connect)),
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend([
        (libc::SYS_open, Path(0), None),
        (libc::SYS_creat, Path(0), Some(Op::Write)),
        (libc::SYS_stat, Path(0), Some(Op::Stat)),
        (libc::SYS_lstat, Path(0), Some(Op::Stat)),
        (libc::SYS_access, Path(0), Some(Op::Stat)),
        (libc::SYS_readlink, Path(0), Some(Op::Stat)),
        (libc::SYS_mkdir, Path(0), Some(Op::Mkdir)),
        (libc::SYS_rmdir, Path(0), Some(Op::Write)),
        (libc::SYS_unlink, Path(0), Some(Op::Write)),
        (libc::SYS_rename, Path(0), Some(Op::Write)),
        (libc::SYS_renameat, At(0, 1), Some(Op::Write)),
    ]);
    list
}

/// BPF opcodes (`linux/bpf_common.h`): BPF_LD|BPF_W|BPF_ABS,
/// BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K.
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;

/// The low 32 bits of a syscall argument as the C `int` it is.
fn int_arg(arg: u64) -> i32 {
    let low = u32::try_from(arg & 0xffff_ffff).unwrap_or(0);
    i32::from_ne_bytes(low.to_ne_bytes())
}

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: JEQ_K,
        jt,
        jf,
        k,
    }
}

/// The filter: other architectures and unwatched calls pass; watched ones
/// go to the listener.
fn program(numbers: &[i64]) -> Vec<libc::sock_filter> {
    let (load, ret) = (LD_W_ABS, RET_K);
    let mut p = vec![
        stmt(load, 4),
        jump(ARCH, 1, 0),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
    ];
    p.push(stmt(load, 0));
    let n = numbers.len();
    for (i, nr) in numbers.iter().enumerate() {
        // Matched: jump over the remaining comparisons and the ALLOW.
        let to_notify = u8::try_from(n - i).unwrap_or(u8::MAX);
        p.push(jump(u32::try_from(*nr).unwrap_or(u32::MAX), to_notify, 0));
    }
    p.push(stmt(ret, libc::SECCOMP_RET_ALLOW));
    p.push(stmt(ret, libc::SECCOMP_RET_USER_NOTIF));
    p
}

/// Install the filter on this process; the listener's descriptor.
fn install(numbers: &[i64]) -> std::io::Result<OwnedFd> {
    let filter = program(numbers);
    let prog = libc::sock_fprog {
        len: u16::try_from(filter.len()).unwrap_or(u16::MAX),
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points at `filter`, alive for the call; the kernel copies it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog as *const libc::sock_fprog,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| std::io::Error::other("listener fd"))?;
    // SAFETY: the kernel just returned this descriptor to this process.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A NUL-terminated string at `addr` in `pid`'s memory.
fn read_string(mem: &std::fs::File, addr: u64) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    let n = mem.read_at(&mut buf, addr).ok()?;
    let end = buf[..n].iter().position(|b| *b == 0)?;
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// `path` made absolute against `dirfd` of `pid` (or its cwd), without
/// resolving links (the host does that later).
fn absolute(pid: u32, dirfd: Option<u64>, path: &str) -> PathBuf {
    if path.starts_with('/') {
        return normal(Path::new(path));
    }
    let base = match dirfd.map(int_arg) {
        Some(fd) if fd != libc::AT_FDCWD => format!("/proc/{pid}/fd/{fd}"),
        _ => format!("/proc/{pid}/cwd"),
    };
    let base = std::fs::read_link(base).unwrap_or_else(|_| PathBuf::from("/"));
    normal(&base.join(path))
}

/// `.` and `..` removed lexically.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// `ip:port` or a socket path of a `sockaddr` of `len` bytes at `addr`.
fn peer(mem: &std::fs::File, addr: u64, len: u64) -> Option<String> {
    let mut buf = [0u8; 128];
    let len = usize::try_from(len).ok()?.min(buf.len());
    let n = mem.read_at(&mut buf[..len], addr).ok()?;
    let family = u16::from_ne_bytes([buf[0], buf[1]]);
    let port = u16::from_be_bytes([buf[2], buf[3]]);
    match i32::from(family) {
        libc::AF_INET if n >= 8 => {
            let ip = std::net::Ipv4Addr::new(buf[4], buf[5], buf[6], buf[7]);
            Some(format!("{ip}:{port}"))
        }
        libc::AF_INET6 if n >= 24 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&buf[8..24]);
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(b)))
        }
        libc::AF_UNIX if n > 2 => {
            let path = &buf[2..n];
            let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
            (end > 0).then(|| format!("unix:{}", String::from_utf8_lossy(&path[..end])))
        }
        _ => None,
    }
}

/// Whether `open` flags ask for writing.
fn writes(flags: u64) -> bool {
    let flags = int_arg(flags);
    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & (libc::O_CREAT | libc::O_TRUNC) != 0
}

/// Run `command` under observation; its exit code.
pub fn observe(report: &Path, command: &[String]) -> i32 {
    match run(report, command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cordon learn: the observer failed: {e}");
            125
        }
    }
}

fn run(report: &Path, command: &[String]) -> std::io::Result<i32> {
    use nix::sys::socket::{
        recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
        SockFlag, SockType,
    };
    let table = watched();
    let numbers: Vec<i64> = table.iter().map(|(nr, _, _)| *nr).collect();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(report)?;
    let words: Vec<CString> = command
        .iter()
        .map(|w| CString::new(w.as_bytes()).map_err(|_| std::io::Error::other("NUL in command")))
        .collect::<Result<_, _>>()?;
    if words.is_empty() {
        return Err(std::io::Error::other("no command"));
    }
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    // SAFETY: this process has one thread (it has just started); the child
    // only installs a filter, sends a descriptor and execs.
    let child = match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Child => {
            drop(ours);
            let code = match install(&numbers) {
                Ok(listener) => {
                    let fds = [listener.as_raw_fd()];
                    let cmsg = [ControlMessage::ScmRights(&fds)];
                    let iov = [std::io::IoSlice::new(b"L")];
                    if sendmsg::<()>(theirs.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
                        .is_ok()
                    {
                        drop(listener);
                        drop(theirs);
                        let _ = nix::unistd::execvp(&words[0], &words);
                        eprintln!("cordon learn: cannot run {}", command[0]);
                        127
                    } else {
                        125
                    }
                }
                Err(e) => {
                    eprintln!("cordon learn: cannot observe (seccomp user notification): {e}");
                    125
                }
            };
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop(theirs);
    let mut buf = [0u8; 1];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let listener = recvmsg::<()>(
        ours.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .ok()
    .and_then(|msg| {
        msg.cmsgs().ok()?.find_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
    })
    // SAFETY: the descriptor just arrived with SCM_RIGHTS; this process owns it.
    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
    let mut seen: HashSet<(Op, String)> = HashSet::new();
    let mut status = None;
    if let Some(listener) = &listener {
        let mut quiet_after_exit = 0;
        loop {
            let mut pfd = [libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            // SAFETY: `pfd` is a valid array of one pollfd for the call.
            let ready = unsafe { libc::poll(pfd.as_mut_ptr(), 1, 100) };
            if ready > 0 && pfd[0].revents & libc::POLLIN != 0 {
                if let Some((op, target)) = serve(listener.as_raw_fd(), &table) {
                    if seen.insert((op, target.clone())) {
                        let line = json!({"op": op.name(), "target": target});
                        let _ = out.write_all(format!("{line}\n").as_bytes());
                    }
                }
                continue;
            }
            if ready > 0 && pfd[0].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                break;
            }
            if status.is_none() {
                status = reap(child, false);
            }
            if status.is_some() {
                // The command ended; what it left behind ends with the sandbox.
                quiet_after_exit += 1;
                if quiet_after_exit > 2 {
                    break;
                }
            }
        }
    }
    drop(listener);
    let code = match status {
        Some(code) => code,
        None => reap(child, true).unwrap_or(125),
    };
    Ok(code)
}

/// The exit code of `child` once it ended (`block`: wait for it).
fn reap(child: nix::unistd::Pid, block: bool) -> Option<i32> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let flags = (!block).then_some(WaitPidFlag::WNOHANG);
    match waitpid(child, flags) {
        Ok(WaitStatus::Exited(_, code)) => Some(code),
        Ok(WaitStatus::Signaled(_, sig, _)) => Some(128 + sig as i32),
        Err(_) => Some(125),
        _ => None,
    }
}

/// Receive one notification, note what it asks, let it continue.
fn serve(listener: RawFd, table: &[(i64, Args, Option<Op>)]) -> Option<(Op, String)> {
    // SAFETY: seccomp_notif is plain data; all zeroes is a valid value.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: NOTIF_RECV fills `notif`, which outlives the call.
    if unsafe {
        libc::ioctl(
            listener,
            NOTIF_RECV as _,
            &mut notif as *mut libc::seccomp_notif,
        )
    } < 0
    {
        return None;
    }
    let noted = note(&notif, table);
    let resp = libc::seccomp_notif_resp {
        id: notif.id,
        val: 0,
        error: 0,
        flags: u32::try_from(libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE).unwrap_or(1),
    };
    // SAFETY: NOTIF_SEND reads `resp`, which outlives the call. A task that
    // died meanwhile makes it fail; nothing to do then.
    unsafe {
        libc::ioctl(
            listener,
            NOTIF_SEND as _,
            &resp as *const libc::seccomp_notif_resp,
        )
    };
    noted
}

fn note(notif: &libc::seccomp_notif, table: &[(i64, Args, Option<Op>)]) -> Option<(Op, String)> {
    let nr = i64::from(notif.data.nr);
    let (_, args, op) = table.iter().find(|(n, _, _)| *n == nr)?;
    let a = notif.data.args;
    let mem = std::fs::File::open(format!("/proc/{}/mem", notif.pid)).ok()?;
    if nr == libc::SYS_connect {
        return peer(&mem, a[1], a[2]).map(|p| (Op::Connect, p));
    }
    let (dirfd, path_arg) = match args {
        Args::Path(i) => (None, a[*i]),
        Args::At(d, i) => (Some(a[*d]), a[*i]),
    };
    let raw = read_string(&mem, path_arg)?;
    if raw.is_empty() {
        return None;
    }
    let op = match op {
        Some(op) => *op,
        None => {
            let flags = if nr == libc::SYS_openat2 {
                let mut b = [0u8; 8];
                mem.read_at(&mut b, a[2]).ok()?;
                u64::from_ne_bytes(b)
            } else if matches!(args, Args::Path(_)) {
                a[1]
            } else {
                a[2]
            };
            if writes(flags) {
                Op::Write
            } else {
                Op::Read
            }
        }
    };
    let path = absolute(notif.pid, dirfd, &raw);
    Some((op, path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_absolute_lexically() {
        assert_eq!(normal(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normal(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(
            absolute(1, None, "/etc//passwd"),
            PathBuf::from("/etc/passwd")
        );
    }

    #[test]
    fn open_flags_that_write() {
        assert!(!writes(0));
        assert!(writes(1));
        assert!(writes(0o100));
        assert!(!writes(0o200000));
    }
}
