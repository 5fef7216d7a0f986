//! One request through the cordon binary: MXC's invocation with the config
//! on standard input, the workload's output captured, the outcome read from
//! a file of its own (never mixed with the workload's bytes).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// What a finished run gives back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunOutput {
    pub exit_code: i32,
    pub timed_out: bool,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A refusal or failure, as MXC's native status and message.
#[derive(Debug, PartialEq, Eq)]
pub struct FfiError {
    /// MXC's native status (1 `malformed_request` … 12 `backend_error`).
    pub status: i32,
    pub message: String,
    pub remediation: Option<String>,
}

impl FfiError {
    pub(crate) fn backend(message: impl Into<String>) -> FfiError {
        FfiError {
            status: status_of("backend_error"),
            message: message.into(),
            remediation: None,
        }
    }
}

/// MXC's native status number of an error code (its SDK maps it back).
pub fn status_of(code: &str) -> i32 {
    match code {
        "malformed_request" => 1,
        "unsupported_containment" => 2,
        "unsupported_phase" => 3,
        "backend_unavailable" => 4,
        "malformed_id" => 5,
        "stale_id" => 6,
        "not_provisioned" => 7,
        "not_started" => 8,
        "already_started" => 9,
        "already_stopped" => 10,
        "policy_validation" => 11,
        _ => 12,
    }
}

/// A file private to this process (the outcome, a config), removed when
/// dropped.
pub(crate) struct PrivateFile(pub(crate) PathBuf);

impl PrivateFile {
    pub(crate) fn create() -> std::io::Result<PrivateFile> {
        use std::os::unix::fs::OpenOptionsExt;
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "cordon-ffi-{}-{}-{nanos}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok(PrivateFile(path))
    }
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The cordon binary, or MXC's `backend_unavailable` saying how to get one.
pub(crate) fn cordon() -> Result<PathBuf, FfiError> {
    crate::locate::cordon_binary().map_err(|message| FfiError {
        status: status_of("backend_unavailable"),
        message,
        remediation: Some("install cordon, or set CORDON_BIN to its path".into()),
    })
}

/// Run one one-shot request (MXC's JSON) to completion.
pub fn run_json(request: &str) -> Result<RunOutput, FfiError> {
    let bin = cordon()?;
    let outcome = PrivateFile::create()
        .map_err(|e| FfiError::backend(format!("creating the outcome file: {e}")))?;
    let mut child = Command::new(&bin)
        .arg("--outcome-file")
        .arg(&outcome.0)
        .args(["--config", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| FfiError::backend(format!("starting {}: {e}", bin.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A refused config may be rejected before it is read in full.
        let _ = stdin.write_all(request.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| FfiError::backend(format!("waiting for {}: {e}", bin.display())))?;
    let (exit_code, timed_out) = read_outcome(&outcome, &String::from_utf8_lossy(&out.stderr))?;
    Ok(RunOutput {
        exit_code,
        timed_out,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// The exit code and whether the timeout fired, from cordon's outcome file;
/// a refusal there becomes its error. `stderr`: what cordon said, for when
/// it left no outcome at all.
pub(crate) fn read_outcome(outcome: &PrivateFile, stderr: &str) -> Result<(i32, bool), FfiError> {
    let text = std::fs::read_to_string(&outcome.0).unwrap_or_default();
    let doc: Value = serde_json::from_str(&text).map_err(|_| {
        FfiError::backend(format!(
            "cordon ended without an outcome: {}",
            stderr.trim()
        ))
    })?;
    if let Some(error) = doc.get("error") {
        return Err(FfiError {
            status: status_of(error["code"].as_str().unwrap_or("backend_error")),
            message: error["message"]
                .as_str()
                .unwrap_or("cordon refused the request")
                .to_string(),
            remediation: None,
        });
    }
    let exit_code = doc["exitCode"]
        .as_i64()
        .and_then(|c| i32::try_from(c).ok())
        .ok_or_else(|| FfiError::backend(format!("cordon's outcome has no exit code: {text}")))?;
    Ok((exit_code, doc["timedOut"].as_bool().unwrap_or(false)))
}

/// MXC's backend discovery document, as `cordon --available-backends` prints it.
pub fn available_backends_json() -> Result<String, FfiError> {
    let bin = cordon()?;
    let out = Command::new(&bin)
        .arg("--available-backends")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FfiError::backend(format!("starting {}: {e}", bin.display())))?;
    if !out.status.success() {
        return Err(FfiError::backend(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_mxcs_table() {
        assert_eq!(status_of("malformed_request"), 1);
        assert_eq!(status_of("policy_validation"), 11);
        assert_eq!(status_of("anything else"), 12);
    }
}
