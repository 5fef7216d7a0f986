//! What the filtering proxy decided: one event per connection, the log the
//! operator's audit file receives, and the report at the end of a run.

use std::io::Write;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{SystemTime, UNIX_EPOCH};

/// One decision of the filtering proxy.
#[derive(Debug, Clone)]
pub struct NetEvent {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u128,
    /// `connect`, `http` or `socks5`; `limit` for a connection refused at
    /// the connection limit before its request was read.
    pub kind: &'static str,
    /// The name or address the client asked for (empty for `limit`).
    pub destination: String,
    /// The address judged or connected to, when there is one.
    pub address: Option<IpAddr>,
    pub port: u16,
    pub allowed: bool,
    /// The rule that decided (`default` when none matched).
    pub rule: String,
    /// More about the outcome (e.g. the connection failed).
    pub detail: Option<String>,
}

impl NetEvent {
    pub fn new(
        kind: &'static str,
        destination: &str,
        address: Option<IpAddr>,
        port: u16,
        allowed: bool,
        rule: &str,
        detail: Option<String>,
    ) -> Self {
        NetEvent {
            time_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
            kind,
            destination: destination.to_string(),
            address,
            port,
            allowed,
            rule: rule.to_string(),
            detail,
        }
    }

    /// The decision as JSON (audit records and `--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "timeMs": self.time_ms,
            "kind": self.kind,
            "destination": self.destination,
            "address": self.address.map(|a| a.to_string()),
            "port": self.port,
            "allowed": self.allowed,
            "rule": self.rule,
            "detail": self.detail,
        })
    }

    /// One line for `--debug`.
    pub fn describe(&self) -> String {
        let addr = self.address.map(|a| format!(" ({a})")).unwrap_or_default();
        let detail = self
            .detail
            .as_ref()
            .map(|d| format!("; {d}"))
            .unwrap_or_default();
        format!(
            "{} {}:{}{addr} [{}] by {}{detail}",
            if self.allowed { "allowed" } else { "denied" },
            self.destination,
            self.port,
            self.kind,
            self.rule
        )
    }
}

/// The operator's audit log as the filtering proxy writes to it: one
/// `network` record (SPEC §5) per decision, appended as the decision is made,
/// so the trail survives a killed runner and a long-lived sandbox's keeper.
#[derive(Debug)]
pub struct DecisionLog {
    files: Vec<std::fs::File>,
    sandbox_id: String,
    /// A failed write has been reported (once is enough).
    failed: std::sync::atomic::AtomicBool,
}

impl DecisionLog {
    /// Each of `files` must be open for appending.
    pub fn new(files: Vec<std::fs::File>, sandbox_id: &str) -> Self {
        DecisionLog {
            files,
            sandbox_id: sandbox_id.to_string(),
            failed: Default::default(),
        }
    }

    pub fn record(&self, event: &NetEvent) {
        let mut record = event.to_json();
        record["event"] = "network".into();
        record["sandboxId"] = self.sandbox_id.as_str().into();
        // One write per line, so that concurrent writers do not interleave.
        let line = format!("{record}\n");
        for mut file in &self.files {
            if let Err(e) = file.write_all(line.as_bytes()) {
                if !self.failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!(
                        "cordon: warning: audit log: proxy decisions are not being recorded: {e}"
                    );
                }
            }
        }
    }

    /// The descriptors a forked keeper must keep open.
    pub(super) fn descriptors(&self) -> Vec<RawFd> {
        self.files.iter().map(|f| f.as_raw_fd()).collect()
    }
}

/// How many decisions a run keeps in memory for its report; the audit log
/// gets all of them. Bounds what a sandbox making endless requests costs.
pub const KEPT_DECISIONS: usize = 10_000;

/// What the network did during a run.
#[derive(Debug, Clone, Default)]
pub struct NetworkReport {
    /// The filtering proxy's decisions (the first `KEPT_DECISIONS`).
    pub decisions: Vec<NetEvent>,
    /// Decisions made beyond those kept.
    pub decisions_not_kept: u64,
    /// Packets that hit each packet-filter rule (first packets of connections).
    pub rule_hits: Vec<(String, u64)>,
    /// Why `rule_hits` is empty although they were asked for.
    pub counters_unread: Option<String>,
}
