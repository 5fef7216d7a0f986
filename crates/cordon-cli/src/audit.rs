//! Audit records (SPEC §5): JSON lines appended to the operator's log. A policy
//! cannot turn this off; only the operator's flag or environment sets it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use cordon_policy::Plan;
use cordon_sandbox::Outcome;
use serde_json::{json, Value};

pub struct AuditLog {
    file: Option<std::fs::File>,
}

/// `<backend>:<128-bit random hex>`.
pub fn new_sandbox_id(backend: &str) -> String {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Fall back to time and pid: ids label records, they guard nothing here.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        bytes[..8].copy_from_slice(&(t.as_nanos() as u64).to_le_bytes());
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
    pub fn open(path: Option<&Path>) -> Self {
        let file = path.and_then(
            |p| match OpenOptions::new().create(true).append(true).open(p) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!(
                        "cordon: warning: cannot open audit log {}: {e}",
                        p.display()
                    );
                    None
                }
            },
        );
        AuditLog { file }
    }

    fn write(&self, record: Value) {
        if let Some(mut file) = self.file.as_ref() {
            // One write per record so concurrent runs do not interleave lines.
            let line = format!("{record}\n");
            let _ = file.write_all(line.as_bytes());
        }
    }

    pub fn spawn(&self, sandbox_id: &str, plan: &Plan, backend: &str) {
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
        }));
    }

    pub fn exit(&self, sandbox_id: &str, outcome: &Outcome) {
        self.write(json!({
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

    /// One record per proxy decision, and the packet rules' hit counts.
    pub fn network(&self, sandbox_id: &str, outcome: &Outcome) {
        let Some(report) = &outcome.network else {
            return;
        };
        for event in &report.decisions {
            let mut record = decision_json(event);
            record["event"] = json!("network");
            record["sandboxId"] = json!(sandbox_id);
            self.write(record);
        }
        if !report.rule_hits.is_empty() {
            self.write(json!({
                "event": "network-rules",
                "timeMs": now_ms(),
                "sandboxId": sandbox_id,
                "ruleHits": rule_hits_json(report),
            }));
        }
    }

    pub fn error(&self, sandbox_id: &str, message: &str) {
        self.write(json!({
            "event": "error",
            "timeMs": now_ms(),
            "sandboxId": sandbox_id,
            "message": message,
        }));
    }
}

/// A proxy decision as JSON (audit records and `--json`).
pub fn decision_json(event: &cordon_sandbox::net::NetEvent) -> Value {
    json!({
        "timeMs": event.time_ms,
        "kind": event.kind,
        "destination": event.destination,
        "address": event.address.map(|a| a.to_string()),
        "port": event.port,
        "allowed": event.allowed,
        "rule": event.rule,
        "detail": event.detail,
    })
}

/// Packet-rule hits as a JSON array of {rule, packets}.
pub fn rule_hits_json(report: &cordon_sandbox::net::NetworkReport) -> Value {
    report
        .rule_hits
        .iter()
        .map(|(rule, packets)| json!({"rule": rule, "packets": packets}))
        .collect()
}
