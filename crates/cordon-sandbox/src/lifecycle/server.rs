//! The long-lived sandbox init of a state-aware sandbox.
//!
//! It is PID 1 of the sandbox's namespaces and also its supervisor: it listens
//! on a unix socket (bound on the host before the root was switched, so only
//! the host can reach it), and for each `exec` request spawns the command in
//! the sandbox with the client's own stdin, stdout and stderr (passed as
//! descriptors, so output streams live), then answers with the exit status.
//! Killing it (`stop`) kills every process of the sandbox.
//!
//! The wire format is `protocol`'s.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{accept4, recvmsg, send, ControlMessageOwned, MsgFlags, SockFlag};

use super::protocol::{ExecReply, ExecRequest, MAX_REQUEST};
use crate::sys;

struct Exec {
    client: OwnedFd,
    deadline: Option<Instant>,
    timed_out: bool,
}

fn respond(client: &OwnedFd, reply: &ExecReply) {
    let _ = send(client.as_raw_fd(), &reply.encode(), MsgFlags::MSG_NOSIGNAL);
}

/// Kill an exec's process group and every process still in its session.
fn kill_session(sid: libc::pid_t) {
    // SAFETY: kill(2) of a process group inside the sandbox.
    unsafe { libc::kill(-sid, libc::SIGKILL) };
    for process in sys::processes().into_iter().filter(|p| p.session == sid) {
        // SAFETY: kill(2) of a process inside the sandbox.
        unsafe { libc::kill(process.pid, libc::SIGKILL) };
    }
}

/// Read one request and its descriptors from a new connection and spawn it.
fn start_exec(client: OwnedFd, buf: &mut [u8]) -> Result<(libc::pid_t, Exec), (OwnedFd, String)> {
    let mut cmsg = nix::cmsg_space!([RawFd; 3]);
    let (len, fds) = {
        let mut iov = [IoSliceMut::new(buf)];
        match recvmsg::<()>(
            client.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => {
                let mut fds: Vec<OwnedFd> = Vec::new();
                if let Ok(cmsgs) = msg.cmsgs() {
                    for c in cmsgs {
                        if let ControlMessageOwned::ScmRights(raw) = c {
                            // SAFETY: descriptors just received; we own them.
                            fds.extend(
                                raw.into_iter()
                                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                            );
                        }
                    }
                }
                (msg.bytes, fds)
            }
            Err(e) => return Err((client, format!("reading the request: {e}"))),
        }
    };
    if fds.len() != 3 {
        return Err((
            client,
            "a request carries exactly three descriptors (stdin, stdout, stderr)".into(),
        ));
    }
    let request = match ExecRequest::parse(&buf[..len]) {
        Ok(r) => r,
        Err(e) => return Err((client, e)),
    };
    let cwd_text = request.cwd.display().to_string();
    match std::fs::metadata(&request.cwd) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err((
                client,
                format!(
                    "process.cwd: {cwd_text} is not usable inside the sandbox: not a directory"
                ),
            ))
        }
        Err(e) => {
            return Err((
                client,
                format!("process.cwd: {cwd_text} is not usable inside the sandbox: {e}"),
            ))
        }
    }
    let Ok(cwd) = sys::cstring(&request.cwd) else {
        return Err((client, "request.cwd contains NUL".into()));
    };
    let (argv, words, envp) = (request.argv, request.words, request.envp);
    let deadline = request.timeout.map(|t| Instant::now() + t);
    // With a terminal, the command gets a new pty of the sandbox's devpts and
    // the client gets its master side to relay (and resize) itself.
    let terminal = match request.pty {
        None => None,
        Some(size) => match sys::open_pty(size.rows, size.cols) {
            Ok(pair) => Some(pair),
            Err(e) => return Err((client, format!("allocating a terminal: {e}"))),
        },
    };
    let stdio = match &terminal {
        Some((_, slave)) => sys::Stdio::Terminal(slave),
        None => sys::Stdio::Fds([fds[0].as_raw_fd(), fds[1].as_raw_fd(), fds[2].as_raw_fd()]),
    };
    let spawned = crate::shell::spawn_command(&argv, words.as_deref(), &envp, &cwd, stdio);
    if let (Ok(_), Some((master, _))) = (&spawned, &terminal) {
        let _ = sys::send_fd(client.as_raw_fd(), master.as_raw_fd(), b"{\"pty\":true}");
    }
    match spawned {
        Ok(pid) => Ok((
            pid,
            Exec {
                client,
                deadline,
                timed_out: false,
            },
        )),
        Err(e) => {
            let code = if e.raw_os_error() == Some(libc::ENOENT) {
                127
            } else {
                126
            };
            respond(
                &client,
                &ExecReply::Ended {
                    exit_code: code,
                    signal: None,
                    timed_out: false,
                    exec_error: Some(format!("cannot run {}: {e}", argv[0].to_string_lossy())),
                },
            );
            Err((client, String::new()))
        }
    }
}

/// Serve exec requests until killed. `listener` is a bound, listening socket.
pub fn serve(listener: RawFd) -> ! {
    // The init inherited whatever its starter had open, such as a lock on
    // the sandbox's state.
    sys::detach_descriptors(&[listener]);
    // Nothing in the sandbox may ptrace the server, read its memory or take
    // its descriptors (the listening socket): commands run as its uid.
    if sys::prctl(libc::PR_SET_DUMPABLE, 0).is_err() {
        sys::exit_now(125);
    }
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None);
    let Ok(sigchld) = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
    else {
        sys::exit_now(125);
    };
    let mut execs: HashMap<libc::pid_t, Exec> = HashMap::new();
    // One request buffer for the sandbox's lifetime.
    let mut buf = vec![0u8; MAX_REQUEST];
    loop {
        let now = Instant::now();
        let next = execs.values().filter_map(|e| e.deadline).min();
        let timeout_ms = next
            .map(|d| d.saturating_duration_since(now).as_millis().min(60_000) as libc::c_int + 1)
            .unwrap_or(-1);
        let mut fds = vec![
            libc::pollfd {
                fd: listener,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sigchld.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let order: Vec<libc::pid_t> = execs.keys().copied().collect();
        for pid in &order {
            fds.push(libc::pollfd {
                fd: execs[pid].client.as_raw_fd(),
                events: 0,
                revents: 0,
            });
        }
        // SAFETY: `fds` is a valid array of pollfds for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            continue;
        }
        // A client that went away takes its command with it.
        for (i, pid) in order.iter().enumerate() {
            if fds[i + 2].revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                kill_session(*pid);
            }
        }
        let now = Instant::now();
        for (pid, exec) in execs.iter_mut() {
            if !exec.timed_out && exec.deadline.is_some_and(|d| d <= now) {
                exec.timed_out = true;
                kill_session(*pid);
            }
        }
        if fds[1].revents & libc::POLLIN != 0 {
            while let Ok(Some(_)) = sigchld.read_signal() {}
        }
        // Reap everything: tracked commands get their answer, orphans just go.
        loop {
            let mut status = 0;
            // SAFETY: waitpid into a valid local.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if let Some(exec) = execs.remove(&pid) {
                let (code, signal) = if libc::WIFSIGNALED(status) {
                    let sig = libc::WTERMSIG(status);
                    (128 + sig, Some(sig))
                } else {
                    (libc::WEXITSTATUS(status), None)
                };
                let code = if exec.timed_out { 124 } else { code };
                respond(
                    &exec.client,
                    &ExecReply::Ended {
                        exit_code: code,
                        signal,
                        timed_out: exec.timed_out,
                        exec_error: None,
                    },
                );
            }
        }
        if fds[0].revents & libc::POLLIN != 0 {
            if let Ok(raw) = accept4(listener, SockFlag::SOCK_CLOEXEC) {
                // SAFETY: accept4 returned a fresh descriptor.
                let client = unsafe { OwnedFd::from_raw_fd(raw) };
                match start_exec(client, &mut buf) {
                    Ok((pid, exec)) => {
                        execs.insert(pid, exec);
                    }
                    Err((client, message)) => {
                        if !message.is_empty() {
                            respond(&client, &ExecReply::Refused { error: message });
                        }
                    }
                }
            }
        }
    }
}

/// Run cordon's exec server in this process (inside a sandbox built by
/// bwrap) on the inherited listening socket `listener`.
/// Refuses to run outside a confined process (seccomp filter installed and
/// no_new_privs set, as bwrap leaves it): it must never serve commands on the
/// host unsandboxed.
pub fn serve_inherited(listener: RawFd) -> ! {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let confined =
        status.lines().any(|l| l == "Seccomp:\t2") && status.lines().any(|l| l == "NoNewPrivs:\t1");
    if !confined {
        eprintln!("cordon: __serve only runs inside a sandbox cordon started");
        sys::exit_now(125);
    }
    serve(listener)
}
