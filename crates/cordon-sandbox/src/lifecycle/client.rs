//! `cordon exec`: send one command to a running sandbox's server and relay
//! until it ends.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use cordon_policy::{ErrorCode, ProcessPlan};
use nix::sys::socket::{
    connect, recv, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType,
};

use super::error::{io_err, LifecycleError, Result};
use super::protocol::{ExecReply, ExecRequest, TermSize};
use super::roots::socket_address;
use crate::sys;

/// How an exec ended.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub exec_error: Option<String>,
}

/// How long `exec --pty` keeps relaying a terminal that stays open (held by a
/// background process) once the command has ended.
const PTY_DRAIN: Duration = Duration::from_millis(200);

/// Run one command in a running sandbox with this process's stdin, stdout and
/// stderr (or, with `pty`, through a new terminal of the sandbox that this
/// process relays and resizes). Output streams live. If this process dies,
/// the command is killed.
pub fn exec(socket_path: &Path, plan: &ProcessPlan, pty: bool) -> Result<ExecOutcome> {
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| io_err("exec socket", e.into()))?;
    let (_dir, addr) = socket_address(socket_path)?;
    connect(sock.as_raw_fd(), &addr).map_err(|e| {
        LifecycleError::new(
            ErrorCode::BackendError,
            format!("the sandbox does not answer ({e}); it may have crashed"),
        )
    })?;
    let request = ExecRequest {
        argv: plan.argv.clone(),
        words: plan.words.clone(),
        env: plan.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        cwd: Some(plan.cwd.clone()),
        timeout_ms: plan
            .timeout
            .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        pty: pty.then(|| {
            let (rows, cols) = sys::window_size(1).unwrap_or((24, 80));
            TermSize { rows, cols }
        }),
    };
    let request = serde_json::to_vec(&request)
        .map_err(|e| LifecycleError::new(ErrorCode::BackendError, format!("exec request: {e}")))?;
    // Without --pty, a terminal among the caller's descriptors is relayed
    // through a pipe, never handed over (see `tty_relay`).
    let mut relay = match pty {
        true => None,
        false => Some(crate::tty_relay::TtyRelay::new().map_err(|e| io_err("terminal relay", e))?),
    };
    let fds = relay.as_ref().map_or([0, 1, 2], |r| r.passed());
    let iov = [IoSlice::new(&request)];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None)
        .map_err(|e| io_err("sending the exec request", e.into()))?;
    if let Some(relay) = relay.as_mut() {
        relay.sent();
    }
    let reply = match relay {
        _ if pty => relay_terminal(&sock)?,
        Some(relay) if relay.active() => {
            relay.run_until(sock.as_raw_fd());
            receive(&sock)?
        }
        _ => receive(&sock)?,
    };
    match reply {
        ExecReply::Refused { error } => {
            Err(LifecycleError::new(ErrorCode::PolicyValidation, error))
        }
        ExecReply::Ended {
            exit_code,
            signal,
            timed_out,
            exec_error,
        } => Ok(ExecOutcome {
            exit_code,
            signal,
            timed_out,
            exec_error,
        }),
    }
}

fn bad_answer(e: serde_json::Error) -> LifecycleError {
    LifecycleError::new(
        ErrorCode::BackendError,
        format!("bad answer from the sandbox: {e}"),
    )
}

/// One message from the sandbox.
fn receive(sock: &OwnedFd) -> Result<ExecReply> {
    let mut buf = vec![0u8; 64 * 1024];
    let n = loop {
        match recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io_err("waiting for the command", e.into())),
            Ok(n) => break n,
        }
    };
    if n == 0 {
        return Err(LifecycleError::new(
            ErrorCode::BackendError,
            "the sandbox went away while the command ran (stopped or crashed)",
        ));
    }
    serde_json::from_slice(&buf[..n]).map_err(bad_answer)
}

/// `exec --pty`: receive the terminal's master side, relay it until the
/// command ends, then drain what is left.
fn relay_terminal(sock: &OwnedFd) -> Result<ExecReply> {
    let mut buf = [0u8; 4096];
    let (n, master) = sys::recv_fd(sock.as_raw_fd(), &mut buf)
        .map_err(|e| io_err("waiting for the terminal", e))?;
    let Some(master) = master else {
        // No terminal: the sandbox answered with an error or a status.
        return serde_json::from_slice(&buf[..n]).map_err(bad_answer);
    };
    let relay = crate::pty_relay::Relay::start(master).map_err(|e| io_err("terminal relay", e))?;
    let status = receive(sock);
    relay.finish_within(PTY_DRAIN);
    status
}
