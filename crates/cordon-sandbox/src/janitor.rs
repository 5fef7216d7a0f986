//! The janitor: a small process, forked before a sandbox creates anything on
//! the host, that removes what the sandbox left if cordon dies without doing
//! it itself (SIGKILL at any moment, the whole process group killed at once).
//!
//! cordon tells it about each host object *before* creating it (write-ahead),
//! over a `SOCK_SEQPACKET` socketpair, one message per object. When the
//! socket closes (cordon is done, failed, or died), the janitor kills the
//! processes it was told about (checked by start time, so a reused pid is
//! never hit), empties and removes the cgroups, removes the placeholders that
//! no other run still holds, and the temporary trees: what cordon removed
//! itself is simply gone by then. A long-lived sandbox hands its janitor the init to watch
//! instead: the janitor stays for the sandbox's life, holds its placeholders,
//! and cleans up when the init is gone.
//!
//! The janitor runs in a session of its own (a process-group kill does not
//! reach it; cordon waits for it to get there before its first message),
//! with no descriptor of cordon's but its end of the socket (it must not
//! hold the caller's terminal or pipes open) and, for a moment, the removed
//! placeholders cordon hands it to close ([`Janitor::dispose`]).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};

use crate::error::SandboxError;
pub use crate::leftover::Leftover;
use crate::leftover::Notebook;
use crate::sys::{self, Forked};

/// The tag of a descriptor handed over only to be closed ([`Janitor::dispose`]).
const DISPOSE: &[u8] = b"D";

/// How long the janitor waits for an [`Leftover::Awaited`] process.
const AWAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One message to the janitor.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Message {
    Note(Leftover),
    /// A long-lived sandbox was committed: watch this init and clean up
    /// when it exits.
    Watch(libc::pid_t, u64),
}

impl Message {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let path = |tag: u8, p: &Path, out: &mut Vec<u8>| {
            out.push(tag);
            out.extend_from_slice(p.as_os_str().as_bytes());
        };
        match self {
            Message::Note(Leftover::Placeholder(p)) => path(b'P', p, &mut out),
            Message::Note(Leftover::Cgroup(p)) => path(b'C', p, &mut out),
            Message::Note(Leftover::Tree(p)) => path(b'T', p, &mut out),
            Message::Note(Leftover::Tagged(t)) => {
                out.push(b'G');
                out.extend_from_slice(t.as_bytes());
            }
            Message::Note(Leftover::Process(pid, start)) => {
                out.extend_from_slice(format!("I{pid}:{start}").as_bytes())
            }
            Message::Note(Leftover::Awaited(pid, start)) => {
                out.extend_from_slice(format!("A{pid}:{start}").as_bytes())
            }
            Message::Watch(pid, start) => {
                out.extend_from_slice(format!("W{pid}:{start}").as_bytes())
            }
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Message> {
        let (&tag, rest) = bytes.split_first()?;
        let path = || PathBuf::from(std::ffi::OsStr::from_bytes(rest));
        let process = || -> Option<(libc::pid_t, u64)> {
            let text = std::str::from_utf8(rest).ok()?;
            let (pid, start) = text.split_once(':')?;
            Some((pid.parse().ok()?, start.parse().ok()?))
        };
        Some(match tag {
            b'P' => Message::Note(Leftover::Placeholder(path())),
            b'C' => Message::Note(Leftover::Cgroup(path())),
            b'T' => Message::Note(Leftover::Tree(path())),
            b'G' => Message::Note(Leftover::Tagged(String::from_utf8(rest.to_vec()).ok()?)),
            b'I' => {
                let (pid, start) = process()?;
                Message::Note(Leftover::Process(pid, start))
            }
            b'A' => {
                let (pid, start) = process()?;
                Message::Note(Leftover::Awaited(pid, start))
            }
            b'W' => {
                let (pid, start) = process()?;
                Message::Watch(pid, start)
            }
            _ => return None,
        })
    }
}

/// cordon's side of a running janitor.
#[derive(Debug)]
pub struct Janitor {
    channel: OwnedFd,
    pid: libc::pid_t,
    /// Whether its "ready" byte was read (see [`Janitor::spawn`]).
    ready: std::sync::Mutex<bool>,
}

impl Janitor {
    /// Fork the janitor. Returns at once; the first message to it waits
    /// until it runs in its own session (it says so with one byte), so that
    /// a process-group kill cannot take it along once anything it is told
    /// about exists. cordon goes on preparing meanwhile (≈ 0.2 ms here).
    pub fn spawn() -> Result<Self, SandboxError> {
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| SandboxError::setup(format!("janitor socket: {e}")))?;
        match sys::clone_process(0).map_err(|e| SandboxError::setup(format!("janitor: {e}")))? {
            Forked::Child => {
                drop(ours);
                janitor_main(theirs)
            }
            Forked::Parent { pid, pidfd: _ } => {
                crate::timing::phase("janitor-forked");
                drop(theirs);
                Ok(Janitor {
                    channel: ours,
                    pid,
                    ready: std::sync::Mutex::new(false),
                })
            }
        }
    }

    /// A janitor if running `plan` makes anything on the host (placeholders,
    /// a cgroup); `None` otherwise (nothing to remove, no process to fork).
    pub fn spawn_if_needed(plan: &cordon_policy::Plan) -> Result<Option<Self>, SandboxError> {
        use crate::cgroups::ResourcePlanExt;
        let needed = !plan.filesystem.placeholders.is_empty() || plan.resources.needs_cgroup();
        needed.then(Self::spawn).transpose()
    }

    /// A unique, harmless environment variable name to tag a run's
    /// processes with (see [`Leftover::Tagged`]).
    pub fn run_tag() -> String {
        let mut bytes = [0u8; 12];
        // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
        unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("CORDON_RUN_{hex}")
    }

    /// The descriptor a forked child of this process passes to
    /// [`announce_self`], once the janitor runs in its own session.
    pub fn ready_channel(&self) -> Result<std::os::fd::RawFd, SandboxError> {
        self.await_ready()?;
        Ok(self.channel.as_raw_fd())
    }

    /// The janitor's pid (a long-lived sandbox records it: `stop` waits for it).
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Wait (once) until the janitor runs in its own session.
    fn await_ready(&self) -> Result<(), SandboxError> {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        if *ready {
            return Ok(());
        }
        let mut byte = [0u8; 1];
        match recv(self.channel.as_raw_fd(), &mut byte, MsgFlags::empty()) {
            Ok(1) if byte[0] == b'r' => {
                *ready = true;
                crate::timing::phase("janitor-ready");
                Ok(())
            }
            _ => Err(SandboxError::setup("the janitor did not start")),
        }
    }

    fn send(&self, message: &Message) -> Result<(), SandboxError> {
        self.await_ready()?;
        send(
            self.channel.as_raw_fd(),
            &message.encode(),
            MsgFlags::MSG_NOSIGNAL,
        )
        .map(drop)
        .map_err(|e| SandboxError::setup(format!("telling the janitor: {e}")))
    }

    /// Tell the janitor about `what` before it is created or started.
    pub fn note(&self, what: Leftover) -> Result<(), SandboxError> {
        self.send(&Message::Note(what))
    }

    /// Tell the janitor about a process just started (by pid), to kill.
    pub fn note_process(&self, pid: libc::pid_t) -> Result<(), SandboxError> {
        match sys::start_time(pid) {
            Some(start) => self.note(Leftover::Process(pid, start)),
            // Already gone: nothing to kill.
            None => Ok(()),
        }
    }

    /// Tell the janitor about a process just started (by pid), to wait for.
    pub fn note_awaited(&self, pid: libc::pid_t) -> Result<(), SandboxError> {
        match sys::start_time(pid) {
            Some(start) => self.note(Leftover::Awaited(pid, start)),
            None => Ok(()),
        }
    }

    /// Hand the janitor descriptors to close (its tag `D`): the last
    /// references to removed placeholders, whose closing frees their inodes
    /// (≈ 0.4 ms for seven on ext4) — off the path to cordon's answer. One
    /// the janitor cannot take is closed here.
    pub fn dispose(&self, fds: Vec<OwnedFd>) {
        if self.await_ready().is_err() {
            return;
        }
        for fd in fds {
            let _ = sys::send_fd(self.channel.as_raw_fd(), fd.as_raw_fd(), DISPOSE);
        }
    }

    /// A long-lived sandbox is up: the janitor stays while its init `pid`
    /// lives, holds its placeholders, and cleans up when it exits.
    pub fn watch(self, pid: libc::pid_t) -> Result<(), SandboxError> {
        let start = sys::start_time(pid)
            .ok_or_else(|| SandboxError::setup("the sandbox's init died while starting"))?;
        self.send(&Message::Watch(pid, start))?;
        // Answered once the janitor holds the placeholders: only then may the
        // caller let go of its own hold.
        let mut ack = [0u8; 1];
        match recv(self.channel.as_raw_fd(), &mut ack, MsgFlags::empty()) {
            Ok(1) if ack[0] == b'w' => Ok(()),
            _ => Err(SandboxError::setup(
                "the janitor did not take over the sandbox",
            )),
        }
    }
}

impl Notebook for Janitor {
    fn note(&self, what: Leftover) -> Result<(), SandboxError> {
        Janitor::note(self, what)
    }
}

/// The size of one descriptor in a control message.
const INT_SIZE: u32 = 4;
const _: () = assert!(std::mem::size_of::<libc::c_int>() == INT_SIZE as usize);

/// Tell the janitor on `channel` (inherited from the process that spawned
/// it) to kill this process if cordon dies: called by a child that will
/// outlive its parent (a long-lived sandbox's init, bwrap in a session of its
/// own) before it can escape, so that no moment exists at which cordon's
/// death leaves it unknown. Raw system calls only, no allocation: it runs
/// between fork and exec.
pub fn announce_self(channel: std::os::fd::RawFd) -> std::io::Result<()> {
    // SAFETY: getpid cannot fail and touches no memory.
    let me = unsafe { libc::getpid() };
    // SAFETY: pidfd_open(me, 0) returns a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, me, 0) };
    // A descriptor fits an int; -1 (failure) too.
    let pidfd = libc::c_int::try_from(pidfd).unwrap_or(-1);
    if pidfd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut tag = *b"F";
    let mut iov = libc::iovec {
        iov_base: tag.as_mut_ptr().cast(),
        iov_len: tag.len(),
    };
    // Room for one cmsghdr carrying one descriptor, aligned for cmsghdr.
    let mut space = [0u64; 4];
    // SAFETY: msghdr is plain data; zeroed is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(INT_SIZE) } as _;
    // SAFETY: the control buffer holds one header and one descriptor (32
    // bytes), so the first header lies inside it.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    // SAFETY: CMSG_LEN only computes a size.
    let cmsg_len = unsafe { libc::CMSG_LEN(INT_SIZE) } as _;
    // SAFETY: `cmsg` points at the zeroed, aligned header inside `space`.
    let header = unsafe { &mut *cmsg };
    header.cmsg_level = libc::SOL_SOCKET;
    header.cmsg_type = libc::SCM_RIGHTS;
    header.cmsg_len = cmsg_len;
    // SAFETY: the data of that header lies inside `space` too.
    let data = unsafe { libc::CMSG_DATA(cmsg) };
    // SAFETY: room for one int at `data`, possibly unaligned.
    unsafe { std::ptr::write_unaligned(data.cast::<libc::c_int>(), pidfd) };
    // SAFETY: a complete msghdr whose buffers outlive the call.
    let sent = unsafe { libc::sendmsg(channel, &msg, libc::MSG_NOSIGNAL) };
    let result = match sent {
        -1 => Err(std::io::Error::last_os_error()),
        _ => Ok(()),
    };
    // SAFETY: closing the pidfd this function opened (the janitor has its copy).
    unsafe { libc::close(pidfd) };
    result
}

/// The janitor process.
fn janitor_main(channel: OwnedFd) -> ! {
    // Its wake-ups must not preempt cordon: woken on the CPU cordon runs
    // on when cordon closes the channel at the end of a run, it would clean
    // up and exit (≈ 1.4 ms) before cordon could return (bench/phases.py).
    // Before its session, so that it never runs as a janitor without it.
    let _ = sys::batch_scheduling();
    // Own session: from here on a kill of cordon's process group misses it.
    // Then say so.
    let _ = nix::unistd::setsid();
    sys::detach_descriptors(&[channel.as_raw_fd()]);
    let empty = nix::sys::signal::SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    );
    // Terminal and termination signals meant for cordon's job do not stop it.
    for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGTERM, libc::SIGQUIT] {
        // SAFETY: setting a disposition to SIG_IGN in a single-threaded child.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
    if send(channel.as_raw_fd(), b"r", MsgFlags::MSG_NOSIGNAL).is_err() {
        sys::exit_now(0);
    }
    let mut notes: Vec<Leftover> = Vec::new();
    // Processes that announced themselves (see `announce_self`), by pidfd.
    let mut announced: Vec<OwnedFd> = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let (n, fd) = match sys::recv_fd(channel.as_raw_fd(), &mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) | Ok((0, _)) => break,
            Ok(got) => got,
        };
        match (&buf[..n], fd) {
            (b"F", Some(pidfd)) => {
                announced.push(pidfd);
                continue;
            }
            // Closed here, now: that is the whole message.
            (DISPOSE, Some(_)) => continue,
            _ => {}
        }
        match Message::decode(&buf[..n]) {
            Some(Message::Note(what)) => notes.push(what),
            Some(Message::Watch(pid, start)) => {
                watch(pid, start, &notes, channel);
                kill_announced(&announced);
                clean(&notes);
                sys::exit_now(0);
            }
            None => {}
        }
    }
    kill_announced(&announced);
    clean(&notes);
    sys::exit_now(0)
}

/// SIGKILL every process whose command line holds `token`, until none is
/// left (bounded: a tagged process forks no more once killed).
fn kill_tagged(token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let tagged = tagged_processes(token);
        if tagged.is_empty() || std::time::Instant::now() >= deadline {
            return;
        }
        for pid in tagged {
            // SAFETY: kill(2) of a process whose command line carries this
            // run's random token (found a moment ago).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn tagged_processes(token: &str) -> Vec<libc::pid_t> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: libc::pid_t = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            cmdline
                .split(|b| *b == 0)
                .any(|arg| arg == token.as_bytes())
                .then_some(pid)
        })
        .collect()
}

/// Kill the processes that announced themselves, children first (bwrap's
/// child in the sandbox's namespaces does not die with bwrap when bwrap
/// has no `--die-with-parent`; as the PID namespace's first process it takes
/// the sandbox with it), and wait for them.
fn kill_announced(announced: &[OwnedFd]) {
    for pidfd in announced {
        if let Some(pid) = pidfd_pid(pidfd) {
            // Stopped first, so that it forks no child between the scan
            // below and its death (the child would be orphaned, alive).
            crate::supervisor::signal(pidfd, libc::SIGSTOP);
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
            while !stopped_or_gone(pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            for child in sys::descendants(pid) {
                // SAFETY: kill(2) of a process found below one that
                // announced itself as the sandbox's a moment ago. (Only its
                // parent, still alive, could have reaped it since, and a pid
                // reused within that moment is the accepted risk of any
                // /proc scan.)
                unsafe { libc::kill(child, libc::SIGKILL) };
            }
        }
        crate::supervisor::kill(pidfd);
        crate::supervisor::wait_exit(pidfd);
    }
}

/// Whether process `pid` is stopped (or no longer there).
fn stopped_or_gone(pid: libc::pid_t) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    matches!(state, Some("T" | "t" | "Z" | "X") | None)
}

/// The pid a pidfd refers to (its fdinfo), while the process lives.
fn pidfd_pid(pidfd: &OwnedFd) -> Option<libc::pid_t> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|p| p.trim().parse().ok())
        .filter(|p: &libc::pid_t| *p > 0)
}

/// Hold the placeholders while the init `pid` lives; return when it is gone.
/// `channel` is answered once the placeholders are held, then closed.
fn watch(pid: libc::pid_t, start: u64, notes: &[Leftover], channel: OwnedFd) {
    let held: Vec<crate::placeholders::Held> = notes
        .iter()
        .filter_map(|n| match n {
            Leftover::Placeholder(p) => crate::placeholders::Held::adopt(p),
            _ => None,
        })
        .collect();
    let _ = send(channel.as_raw_fd(), b"w", MsgFlags::MSG_NOSIGNAL);
    drop(channel);
    if let Some(pidfd) = pin(pid, start) {
        crate::supervisor::wait_exit(&pidfd);
    }
    drop(held);
}

/// A pidfd of `pid` if it is still the process that started at `start`.
pub(crate) fn pin(pid: libc::pid_t, start: u64) -> Option<OwnedFd> {
    if pid <= 0 || sys::start_time(pid) != Some(start) {
        return None;
    }
    let pidfd = sys::pidfd_open(pid).ok()?;
    // Checked again now that the pidfd pins the process.
    (sys::start_time(pid) == Some(start)).then_some(pidfd)
}

/// Kill the noted processes and wait for them, then remove the rest.
fn clean(notes: &[Leftover]) {
    for note in notes {
        match note {
            Leftover::Process(pid, start) => {
                if let Some(pidfd) = pin(*pid, *start) {
                    crate::supervisor::kill(&pidfd);
                    crate::supervisor::wait_exit(&pidfd);
                }
            }
            Leftover::Tagged(token) => kill_tagged(token),
            Leftover::Awaited(pid, start) => {
                if let Some(pidfd) = pin(*pid, *start) {
                    crate::supervisor::wait_exit_within(&pidfd, AWAIT_LIMIT);
                }
            }
            _ => {}
        }
    }
    let cgroups: Vec<PathBuf> = notes
        .iter()
        .filter_map(|n| match n {
            Leftover::Cgroup(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    crate::cgroups::remove_dirs(&cgroups);
    for note in notes {
        match note {
            // The sandbox's processes may still hold it for a moment after
            // they were killed (their descriptors close as they exit).
            Leftover::Placeholder(p) => {
                crate::placeholders::remove_if_unused(p, std::time::Duration::from_secs(2))
            }
            Leftover::Tree(p) => {
                let _ = crate::remove::remove_tree(p);
            }
            Leftover::Cgroup(_)
            | Leftover::Process(..)
            | Leftover::Awaited(..)
            | Leftover::Tagged(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_wire() {
        for m in [
            Message::Note(Leftover::Placeholder("/a b/\n.vscode".into())),
            Message::Note(Leftover::Cgroup("/sys/fs/cgroup/x".into())),
            Message::Note(Leftover::Tree("/tmp/cordon-tmp-1".into())),
            Message::Note(Leftover::Process(42, 1234567)),
            Message::Note(Leftover::Awaited(43, 7)),
            Message::Note(Leftover::Tagged("CORDON_RUN_0a1b".into())),
            Message::Watch(7, 99),
        ] {
            assert_eq!(Message::decode(&m.encode()), Some(m.clone()));
        }
        assert_eq!(Message::decode(b"Ixx"), None);
        assert_eq!(Message::decode(b""), None);
    }
}
