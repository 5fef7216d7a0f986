//! Audit records (SPEC §5): JSON lines appended to the operator's log. A policy
//! cannot turn this off; only the operator's flag or environment sets it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cordon_policy::{Plan, PolicyError};
use cordon_sandbox::net::DecisionLog;
use cordon_sandbox::Outcome;
use serde_json::{json, Value};

pub struct AuditLog {
    /// Each log and its path: the operator's ceiling's (forced) and the
    /// one asked for with `--audit-log`, when there are both.
    sinks: Vec<(std::fs::File, PathBuf)>,
}

/// `<backend>:<128-bit random hex>`.
pub fn new_sandbox_id(backend: &str) -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if usize::try_from(n).ok() != Some(bytes.len()) {
        // Fall back to time and pid: ids label records, they guard nothing here.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        // The low 64 bits of the time in nanoseconds.
        bytes[..8].copy_from_slice(&t.as_nanos().to_le_bytes()[..8]);
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{backend}:{hex}")
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

impl AuditLog {
    /// The operator asked for a trail (`--audit-log`, `CORDON_AUDIT_LOG`,
    /// or the ceiling's `audit.log`, which no caller can turn off): a log
    /// that cannot be opened stops the command rather than letting it run
    /// unrecorded.
    pub fn open(asked: Option<&Path>) -> Result<Self, PolicyError> {
        let forced = cordon_policy::ceiling::InForce::load()?
            .ceiling
            .and_then(|c| c.audit_log.map(|log| (log, c.source)));
        let mut sinks = Vec::new();
        if let Some((path, ceiling)) = &forced {
            let file = OpenOptions::new().append(true).open(path).map_err(|e| {
                PolicyError::policy(format!(
                    "the operator's ceiling ({} audit.log) records every command in {}, which \
                     cannot be opened for appending: {e}; cordon runs nothing unrecorded (the \
                     operator creates it, e.g. install -m 0622 /dev/null {})",
                    ceiling.display(),
                    path.display(),
                    path.display()
                ))
            })?;
            sinks.push((file, path.clone()));
        }
        if let Some(path) = asked {
            let same = forced.as_ref().is_some_and(|(f, _)| {
                std::fs::canonicalize(f).ok() == std::fs::canonicalize(path).ok()
            });
            if !same {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| {
                        PolicyError::malformed(format!(
                            "--audit-log (or CORDON_AUDIT_LOG): cannot open {}: {e}; \
                             cordon does not run without the audit trail it was asked for",
                            path.display()
                        ))
                    })?;
                sinks.push((file, path.to_path_buf()));
            }
        }
        Ok(AuditLog { sinks })
    }

    /// Append one record to every log (one write each, so concurrent runs
    /// do not interleave lines). A failure is said on stderr and returned.
    fn write(&self, record: Value) -> Result<(), PolicyError> {
        let line = format!("{record}\n");
        for (mut file, path) in self.sinks.iter().map(|(f, p)| (f, p)) {
            file.write_all(line.as_bytes()).map_err(|e| {
                let message = format!("audit log: cannot write to {}: {e}", path.display());
                eprintln!("cordon: warning: {message}");
                PolicyError::malformed(message)
            })?;
        }
        Ok(())
    }

    /// Written before the sandbox starts: if it cannot be, nothing runs.
    pub fn spawn(&self, sandbox_id: &str, plan: &Plan, backend: &str) -> Result<(), PolicyError> {
        self.write(json!({
            "event": "spawn",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "containerId": plan.container_id,
            "backend": backend,
            "policyVersion": plan.version.to_string(),
            "policyHash": plan.policy_hash,
            "command": plan.command_line,
            "uid": cordon_policy::Caller::current().uid,
        }))
    }

    pub fn exit(&self, sandbox_id: &str, outcome: &Outcome) {
        let _ = self.write(json!({
            "event": "exit",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "exitCode": outcome.exit_code,
            "code": outcome.code,
            "signal": outcome.signal,
            "durationMs": outcome.duration.as_secs_f64() * 1000.0,
            "timedOut": outcome.timed_out,
            "interruptedBy": outcome.interrupted,
            "backend": outcome.backend,
            "limitsHit": outcome.limits_hit,
        }));
    }

    /// The logs' paths (none without a log).
    pub fn paths(&self) -> Vec<PathBuf> {
        self.sinks.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Whether anything is recorded.
    pub fn is_on(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// Where the filtering proxy appends its `network` records, one per
    /// decision as it is made (None without an audit log).
    pub fn decision_log(&self, sandbox_id: &str) -> Option<DecisionLog> {
        let files: Vec<_> = self
            .sinks
            .iter()
            .filter_map(|(f, _)| f.try_clone().ok())
            .collect();
        if files.is_empty() {
            return None;
        }
        Some(DecisionLog::new(files, sandbox_id))
    }

    /// The packet rules' hit counts at the end of a run.
    pub fn rule_hits(&self, sandbox_id: &str, outcome: &Outcome) {
        let Some(report) = &outcome.network else {
            return;
        };
        if !report.rule_hits.is_empty() {
            let _ = self.write(json!({
                "event": "network-rules",
                "timeMs": now_ms(),
                "sandboxId": sandbox_id,
                "ruleHits": rule_hits_json(report),
            }));
        }
    }

    /// A phase of a long-lived sandbox (`start`, `stop`, `deprovision`) and
    /// whether it succeeded.
    pub fn phase(&self, sandbox_id: &str, phase: &str, error: Option<&str>) {
        let _ = self.write(json!({
            "event": phase,
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "uid": cordon_policy::Caller::current().uid,
            "error": error,
        }));
    }

    /// A command run in a long-lived sandbox, written before it starts: if it
    /// cannot be, the command does not run.
    pub fn exec(&self, sandbox_id: &str, command: Option<&str>) -> Result<(), PolicyError> {
        self.write(json!({
            "event": "exec",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "command": command,
            "uid": cordon_policy::Caller::current().uid,
        }))
    }

    /// How a command run in a long-lived sandbox ended.
    pub fn exec_exit(&self, sandbox_id: &str, outcome: &cordon_sandbox::lifecycle::ExecOutcome) {
        let _ = self.write(json!({
            "event": "exit",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "exitCode": outcome.exit_code,
            "signal": outcome.signal,
            "timedOut": outcome.timed_out,
        }));
    }

    pub fn error(&self, sandbox_id: &str, message: &str) {
        let _ = self.write(json!({
            "event": "error",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "message": message,
        }));
    }
}

/// Packet-rule hits as a JSON array of {rule, packets}.
pub fn rule_hits_json(report: &cordon_sandbox::net::NetworkReport) -> Value {
    report
        .rule_hits
        .iter()
        .map(|(rule, packets)| json!({"rule": rule, "packets": packets}))
        .collect()
}
