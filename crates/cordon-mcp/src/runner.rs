//! One request to the cordon binary: the request on descriptor 3
//! (`--config-fd 3`: never on the command line, which other users can read),
//! the outcome on descriptor 4 (`--outcome-fd 4`: never mixed with the
//! workload's bytes), stdin/stdout/stderr the workload's own.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

/// What one cordon process left: its output, and its outcome document (or
/// the error document of a refusal) when it wrote one.
#[derive(Debug)]
pub struct Answer {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub outcome: Option<Value>,
}

/// Put `from` at descriptor `to` in the child (clearing close-on-exec).
fn place(from: RawFd, to: RawFd) -> std::io::Result<()> {
    if from == to {
        // SAFETY: F_SETFD on a descriptor this process holds open.
        if unsafe { libc::fcntl(to, libc::F_SETFD, 0) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        return Ok(());
    }
    // SAFETY: dup2(2) of a descriptor this process holds open.
    if unsafe { libc::dup2(from, to) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The pipe a started cordon's outcome arrives on.
pub struct Outcome(std::io::PipeReader);

impl Outcome {
    /// After the child ended: its outcome (or error) document, if it wrote one.
    pub fn read(mut self) -> Option<Value> {
        let mut text = String::new();
        let _ = self.0.read_to_string(&mut text);
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str(l).ok())
    }
}

/// Start `cordon ARGS --config-fd 3 --outcome-fd 4` with `request`;
/// stdin piped when `with_stdin`, stdout and stderr piped.
pub fn start(
    cordon: &Path,
    args: &[&str],
    request: &Value,
    with_stdin: bool,
) -> std::io::Result<(tokio::process::Child, Outcome)> {
    let (config_r, mut config_w) = std::io::pipe()?;
    let (outcome_r, outcome_w) = std::io::pipe()?;
    let (cr, ow) = (config_r.as_raw_fd(), outcome_w.as_raw_fd());
    let mut cmd = tokio::process::Command::new(cordon);
    cmd.args(args)
        .args(["--config-fd", "3", "--outcome-fd", "4"])
        .stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Both pipes are close-on-exec; the child gets its two ends at 3 and 4.
    // (The outcome end first when it sits at 3, so placing the config end
    // there cannot close it.)
    let hook = move || {
        if ow == 3 {
            let moved = {
                // SAFETY: dup(2) of a descriptor this process holds open.
                let fd = unsafe { libc::dup(ow) };
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                fd
            };
            place(cr, 3)?;
            return place(moved, 4);
        }
        place(cr, 3)?;
        place(ow, 4)
    };
    // SAFETY: the hook only calls dup(2), dup2(2) and fcntl(2), which are
    // async-signal-safe, between fork and exec.
    unsafe { cmd.pre_exec(hook) };
    let child = cmd.spawn()?;
    drop(config_r);
    drop(outcome_w);
    // A request is small and cordon reads it first; a refusal may close it early.
    let _ = config_w.write_all(request.to_string().as_bytes());
    drop(config_w);
    Ok((child, Outcome(outcome_r)))
}

/// Run `cordon ARGS` with `request` and `stdin` to its end.
pub async fn run(
    cordon: &Path,
    args: &[&str],
    request: &Value,
    stdin: Option<&[u8]>,
) -> std::io::Result<Answer> {
    let (mut child, outcome) = start(cordon, args, request, stdin.is_some())?;
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        let _ = pipe.write_all(data).await;
    }
    let out = child.wait_with_output().await?;
    Ok(Answer {
        stdout: out.stdout,
        stderr: out.stderr,
        outcome: outcome.read(),
    })
}

/// `cordon ls --json`, this user's sandboxes.
pub async fn list(cordon: &Path) -> std::io::Result<Value> {
    let out = tokio::process::Command::new(cordon)
        .args(["ls", "--json"])
        .stdin(Stdio::null())
        .output()
        .await?;
    serde_json::from_slice(&out.stdout)
        .map_err(|e| std::io::Error::other(format!("cordon ls --json: {e}")))
}
