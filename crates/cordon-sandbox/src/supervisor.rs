//! The supervisor side of a run: wait for the sandbox init, enforce the
//! deadline, turn cordon's own termination signals into a sandbox kill, and
//! collect what the init reported.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::SandboxError;
use crate::init_report::{InitReport, LandlockEnforced};

/// Signals that end cordon politely; each one kills the sandbox first.
const TERMINATING: &[Signal] = &[
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// cordon's terminating signals, redirected to a descriptor for the run.
pub struct SignalWatch {
    fd: SignalFd,
    previous: SigSet,
}

impl SignalWatch {
    pub fn install() -> Result<Self, SandboxError> {
        let mut set = SigSet::empty();
        for sig in TERMINATING {
            set.add(*sig);
        }
        let mut previous = SigSet::empty();
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut previous))
            .map_err(|e| SandboxError::setup(format!("blocking signals: {e}")))?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|e| SandboxError::setup(format!("signalfd: {e}")))?;
        Ok(SignalWatch { fd, previous })
    }

    /// Put the signal mask back as it was before the run.
    pub fn restore(&self) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}

/// How the workload ended, as far as the supervisor knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildStatus {
    Exited(i32),
    Signaled(i32),
    /// The sandbox could not be built; nothing ran.
    SetupFailed(String),
    /// Namespaces exist but cannot be used here: another backend may work.
    NamespacesUnusable(String),
    /// `/bin/sh` could not be executed inside the sandbox.
    ExecFailed(i32, String),
    /// Killed by the supervisor (timeout or signal) before it reported.
    Killed,
}

/// Whether a run ended with exit status 0 on its own. Reading the packet
/// rules' counters costs a run with rules about 6 ms (nft is started in the
/// sandbox's namespace: 18.9 → 24.6 ms, `hyperfine` of `cordon run` with one
/// allow rule, 2026-12-03); a run that did not end well has them read
/// always, so that packet denials behind a failure are said at exit.
pub fn ended_well(report: &ChildReport) -> bool {
    matches!(report.status, ChildStatus::Exited(0))
        && !report.timed_out
        && report.interrupted.is_none()
}

#[derive(Debug, Clone)]
pub struct ChildReport {
    pub status: ChildStatus,
    pub timed_out: bool,
    /// cordon received this signal and killed the sandbox.
    pub interrupted: Option<i32>,
    /// From the deadline to the sandbox being gone.
    pub kill_latency: Option<Duration>,
    /// What the sandbox init reported the Landlock layer achieved.
    pub landlock: Option<LandlockEnforced>,
}

pub fn kill(pidfd: &OwnedFd) {
    signal(pidfd, libc::SIGKILL);
}

/// Send `sig` to the process `pidfd` refers to.
pub fn signal(pidfd: &OwnedFd, sig: libc::c_int) {
    // SAFETY: pidfd_send_signal with a valid pidfd and no siginfo.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        );
    }
}

/// Wait up to `limit` for the process `pidfd` refers to to exit; whether it did.
pub fn wait_exit_within(pidfd: &OwnedFd, limit: std::time::Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let deadline = std::time::Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: a valid one-element pollfd array.
        match unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) } {
            n if n > 0 => return true,
            0 => return false,
            _ => {} // interrupted: wait for the rest
        }
    }
    false
}

/// Why [`wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// The process behind the pidfd exited.
    Exited,
    /// The deadline passed; nothing was killed yet.
    TimedOut,
    /// cordon received this terminating signal; nothing was killed yet.
    Signal(i32),
}

/// Wait until the process behind `pidfd` exits, the deadline passes, or cordon
/// receives a terminating signal.
pub fn wait(
    pidfd: &OwnedFd,
    deadline: Option<Instant>,
    signals: &SignalWatch,
) -> Result<WaitEnd, SandboxError> {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Ok(WaitEnd::TimedOut);
        }
        let ts = remaining.map(|r| libc::timespec {
            // Longer than a year: wake up after one and look again.
            tv_sec: r.as_secs().try_into().unwrap_or(365 * 86_400),
            tv_nsec: libc::c_long::from(r.subsec_nanos()),
        });
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `fds` is a valid array of two pollfds; `ts_ptr` is null or
        // points to a live timespec; no signal mask change.
        let n = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, ts_ptr, std::ptr::null()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(SandboxError::setup(format!("waiting for the sandbox: {e}")));
        }
        if fds[1].revents & libc::POLLIN != 0 {
            if let Ok(Some(info)) = signals.fd.read_signal() {
                return Ok(WaitEnd::Signal(
                    i32::try_from(info.ssi_signo).unwrap_or(libc::SIGKILL),
                ));
            }
        }
        if fds[0].revents & libc::POLLIN != 0 {
            return Ok(WaitEnd::Exited);
        }
    }
}

/// Wait for the sandbox init, enforcing `timeout` and forwarding termination as a kill.
pub fn supervise(
    _pid: libc::pid_t,
    pidfd: &OwnedFd,
    report: OwnedFd,
    timeout: Option<Duration>,
    signals: &SignalWatch,
) -> Result<ChildReport, SandboxError> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut timed_out = false;
    let mut interrupted = None;
    let mut kill_latency = None;
    let end = wait(pidfd, deadline, signals);
    match end {
        Ok(WaitEnd::Exited) => {}
        Ok(WaitEnd::TimedOut) => {
            kill(pidfd);
            wait_exit(pidfd);
            kill_latency = deadline.map(|d| d.elapsed());
            timed_out = true;
        }
        Ok(WaitEnd::Signal(sig)) => {
            kill(pidfd);
            wait_exit(pidfd);
            interrupted = Some(sig);
        }
        Err(e) => {
            kill(pidfd);
            wait_exit(pidfd);
            let _ = reap(pidfd);
            return Err(e);
        }
    }
    let status = reap(pidfd)?;
    let mut text = String::new();
    let _ = std::fs::File::from(report).read_to_string(&mut text);
    let (mut child, landlock) = parse_report(&text);
    if child == ChildStatus::Killed && !timed_out && interrupted.is_none() {
        // The init died without a word: it was killed from outside.
        child = match status {
            InitStatus::Signaled(sig) => {
                ChildStatus::SetupFailed(format!("the sandbox init was killed by signal {sig}"))
            }
            InitStatus::Exited(code) => ChildStatus::SetupFailed(format!(
                "the sandbox init exited with {code} without reporting"
            )),
        };
    }
    Ok(ChildReport {
        status: child,
        timed_out,
        interrupted,
        kill_latency,
        landlock,
    })
}

/// What a sandbox init (or reaper) reported on its report pipe: how the
/// command ended, and what Landlock achieved. A setup error wins: nothing ran.
pub fn parse_report(text: &str) -> (ChildStatus, Option<LandlockEnforced>) {
    let mut status = ChildStatus::Killed;
    let mut landlock = None;
    for report in InitReport::parse_all(text) {
        match report {
            InitReport::SetupFailed { message } => {
                return (ChildStatus::SetupFailed(message), landlock)
            }
            InitReport::NamespacesUnusable { message } => {
                return (ChildStatus::NamespacesUnusable(message), landlock)
            }
            InitReport::ExecFailed { code, message } => {
                status = ChildStatus::ExecFailed(code, message)
            }
            InitReport::Exited { code } => status = ChildStatus::Exited(code),
            InitReport::Signaled { signal } => status = ChildStatus::Signaled(signal),
            InitReport::Landlock { enforced } => landlock = Some(enforced),
            InitReport::Ready => {}
        }
    }
    (status, landlock)
}

pub enum InitStatus {
    Exited(i32),
    Signaled(i32),
}

/// Block until the process behind `pidfd` has exited (without reaping it;
/// works for processes that are not our children too).
pub fn wait_exit(pidfd: &OwnedFd) {
    let mut fds = [libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: valid one-element pollfd array.
    while unsafe { libc::poll(fds.as_mut_ptr(), 1, -1) } < 0 {}
}

pub fn reap(pidfd: &OwnedFd) -> Result<InitStatus, SandboxError> {
    // SAFETY: siginfo_t is plain data; zeroed is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waitid on our own child's pidfd, writing into a valid siginfo_t.
        let ret = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd().unsigned_abs(),
                &mut info,
                libc::WEXITED,
            )
        };
        if ret == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(SandboxError::setup(format!("reaping the sandbox: {e}")));
        }
    }
    // SAFETY: waitid filled `info` for a CLD_* event.
    let (code, status) = unsafe { (info.si_code, info.si_status()) };
    Ok(if code == libc::CLD_EXITED {
        InitStatus::Exited(status)
    } else {
        InitStatus::Signaled(status)
    })
}
