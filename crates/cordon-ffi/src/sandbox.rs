//! A live one-shot run (`mxc_spawn_json`, `mxc_spawn_pty_json`): the cordon
//! binary started with the config in a private file, the workload's stdin,
//! stdout and stderr as pipes handed to the caller (or its terminal,
//! `terminal`), the outcome read when it ends.
//!
//! The SDK polls (`try_wait`) from its event loop and waits from a worker
//! thread once the run ended or was killed, so the child sits behind a
//! mutex, and `kill` signals by pid (never after the child was reaped).

use std::io::Write;
use std::os::fd::{IntoRawFd, OwnedFd, RawFd};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::runner::{read_outcome, FfiError, PrivateFile};
use crate::terminal::Terminal;

/// cordon's `--dry-run` of the config: its refusal, as MXC's error.
fn check(bin: &std::path::Path, config: &PrivateFile) -> Result<(), FfiError> {
    let checked = PrivateFile::create()
        .map_err(|e| FfiError::backend(format!("creating the outcome file: {e}")))?;
    let dry = Command::new(bin)
        .arg("--outcome-file")
        .arg(&checked.0)
        .arg("--dry-run")
        .arg("--config")
        .arg(&config.0)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FfiError::backend(format!("starting {}: {e}", bin.display())))?;
    // A refusal is in the outcome, as for a run; so is a pass (`dryRun`):
    // an exit status of 0 alone (a program that is not cordon, an older
    // cordon that ran the command) is not a check that passed.
    let stderr = String::from_utf8_lossy(&dry.stderr);
    if dry.status.success() && dry_run_passed(&checked) {
        return Ok(());
    }
    if !dry.status.success() {
        read_outcome(&checked, &stderr)?;
    }
    Err(FfiError::backend(format!(
        "cordon did not confirm the check (no dry-run outcome, exit {}): {}",
        dry.status,
        stderr.trim()
    )))
}

/// The outcome file says a dry run passed.
fn dry_run_passed(outcome: &PrivateFile) -> bool {
    std::fs::read_to_string(&outcome.0)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|doc| doc["dryRun"] == true)
}

/// One spawned run.
pub struct Sandbox {
    child: Mutex<Child>,
    pid: libc::pid_t,
    /// The child was reaped: its pid may belong to another process now.
    reaped: AtomicBool,
    /// The caller killed it for its own timeout.
    killed_for_timeout: AtomicBool,
    stdio: Mutex<[Option<OwnedFd>; 3]>,
    /// A `spawnWithPty` run's terminal.
    terminal: Option<Terminal>,
    outcome: PrivateFile,
    _config: PrivateFile,
    /// What `wait` found, kept for a second call.
    ended: Mutex<Option<(i32, bool)>>,
}

/// How a run's stdio is connected.
enum Attach {
    /// Three pipes, handed to the caller.
    Pipes,
    /// A terminal of `rows` × `columns`, relayed to the caller.
    Terminal { rows: u16, columns: u16 },
}

impl Sandbox {
    /// Check the request (cordon's `--dry-run`: a refusal is an error here,
    /// not an exit code later), then start it with its stdio as pipes.
    pub fn spawn(request: &str) -> Result<Sandbox, FfiError> {
        Sandbox::start(request, Attach::Pipes)
    }

    /// As [`Sandbox::spawn`], the workload on a terminal (`cordon run --pty`).
    pub fn spawn_pty(request: &str, rows: u16, columns: u16) -> Result<Sandbox, FfiError> {
        Sandbox::start(request, Attach::Terminal { rows, columns })
    }

    fn start(request: &str, attach: Attach) -> Result<Sandbox, FfiError> {
        let bin = crate::runner::cordon()?;
        let config = PrivateFile::create()
            .map_err(|e| FfiError::backend(format!("creating the config file: {e}")))?;
        std::fs::File::create(&config.0)
            .and_then(|mut f| f.write_all(request.as_bytes()))
            .map_err(|e| FfiError::backend(format!("writing the config file: {e}")))?;
        check(&bin, &config)?;
        let outcome = PrivateFile::create()
            .map_err(|e| FfiError::backend(format!("creating the outcome file: {e}")))?;
        let mut command = Command::new(&bin);
        command.arg("--outcome-file").arg(&outcome.0);
        let mut terminal = None;
        match attach {
            Attach::Pipes => {
                command
                    .arg("--config")
                    .arg(&config.0)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
            }
            Attach::Terminal { rows, columns } => {
                let (term, slave) = Terminal::open(rows, columns)
                    .map_err(|e| FfiError::backend(format!("opening a terminal: {e}")))?;
                let copy = |fd: &OwnedFd| {
                    fd.try_clone()
                        .map(Stdio::from)
                        .map_err(|e| FfiError::backend(format!("the terminal: {e}")))
                };
                command
                    .args(["run", "--pty", "--config"])
                    .arg(&config.0)
                    .stdin(copy(&slave.0)?)
                    .stdout(copy(&slave.0)?)
                    .stderr(Stdio::from(slave.0));
                // The terminal becomes cordon's controlling terminal, so
                // that resizing it signals cordon. Runs between fork and
                // exec: raw system calls only.
                let controlling_terminal = || {
                    // SAFETY: setsid(2) has no memory effects.
                    if unsafe { libc::setsid() } < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // SAFETY: TIOCSCTTY on our stdin, the terminal's slave side.
                    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                };
                // SAFETY: the hook makes async-signal-safe system calls only.
                unsafe {
                    std::os::unix::process::CommandExt::pre_exec(&mut command, controlling_terminal)
                };
                terminal = Some(term);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| FfiError::backend(format!("starting {}: {e}", bin.display())))?;
        // The slave's copies in this process go with the command, so that
        // the relay sees the terminal's end when cordon's is gone.
        drop(command);
        let stdio = match terminal.as_mut() {
            Some(term) => {
                term.relay()
                    .map_err(|e| FfiError::backend(format!("relaying the terminal: {e}")))?;
                let caller = term.take_caller_end();
                let input = caller.as_ref().and_then(|fd| fd.try_clone().ok());
                [input, caller, None]
            }
            None => [
                child.stdin.take().map(OwnedFd::from),
                child.stdout.take().map(OwnedFd::from),
                child.stderr.take().map(OwnedFd::from),
            ],
        };
        let pid = libc::pid_t::try_from(child.id())
            .map_err(|_| FfiError::backend("the child's pid does not fit pid_t"))?;
        Ok(Sandbox {
            child: Mutex::new(child),
            pid,
            reaped: AtomicBool::new(false),
            killed_for_timeout: AtomicBool::new(false),
            stdio: Mutex::new(stdio),
            terminal,
            outcome,
            _config: config,
            ended: Mutex::new(None),
        })
    }

    /// Resize the run's terminal (an error for a run on pipes).
    pub fn resize(&self, rows: u16, columns: u16) -> Result<(), FfiError> {
        match &self.terminal {
            Some(term) => term
                .resize(rows, columns)
                .map_err(|e| FfiError::backend(format!("resizing the terminal: {e}"))),
            None => Err(FfiError {
                status: crate::runner::status_of("malformed_request"),
                message: "this run has no terminal to resize".into(),
                remediation: None,
            }),
        }
    }

    /// The host pid of the run's cordon process.
    pub fn id(&self) -> u32 {
        u32::try_from(self.pid).unwrap_or(0)
    }

    /// The three pipe ends, handed over once (-1 where none is left).
    pub fn take_stdio(&self) -> [RawFd; 3] {
        let mut stdio = self.stdio.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = [-1; 3];
        for (slot, fd) in out.iter_mut().zip(stdio.iter_mut()) {
            if let Some(fd) = fd.take() {
                *slot = fd.into_raw_fd();
            }
        }
        out
    }

    /// Kill the run: cordon kills the whole sandbox on SIGTERM.
    pub fn kill(&self, for_timeout: bool) {
        if for_timeout {
            self.killed_for_timeout.store(true, Ordering::SeqCst);
        }
        if !self.reaped.load(Ordering::SeqCst) {
            // SAFETY: kill(2) on our own child, not yet reaped (its pid is ours).
            unsafe { libc::kill(self.pid, libc::SIGTERM) };
        }
    }

    /// `None` while it runs; its exit code and timeout once it ended.
    pub fn try_wait(&self) -> Result<Option<(i32, bool)>, FfiError> {
        if let Some(ended) = *self.ended.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(Some(ended));
        }
        let status = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_wait()
            .map_err(|e| FfiError::backend(format!("polling cordon: {e}")))?;
        match status {
            None => Ok(None),
            Some(status) => self.settle(status).map(Some),
        }
    }

    /// Block until it ends.
    pub fn wait(&self) -> Result<(i32, bool), FfiError> {
        if let Some(ended) = *self.ended.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(ended);
        }
        let status = self
            .child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wait()
            .map_err(|e| FfiError::backend(format!("waiting for cordon: {e}")))?;
        self.settle(status)
    }

    fn settle(&self, status: std::process::ExitStatus) -> Result<(i32, bool), FfiError> {
        use std::os::unix::process::ExitStatusExt;
        self.reaped.store(true, Ordering::SeqCst);
        let fallback = status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
        let (code, timed_out) = read_outcome(&self.outcome, "").unwrap_or((fallback, false));
        let ended = (
            code,
            timed_out || self.killed_for_timeout.load(Ordering::SeqCst),
        );
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(ended);
        Ok(ended)
    }
}

impl Drop for Sandbox {
    /// Freed while running: the run is killed and reaped, nothing is left.
    fn drop(&mut self) {
        if !self.reaped.load(Ordering::SeqCst) {
            self.kill(false);
            let _ = self.wait();
        }
    }
}
