//! The sandbox's network beyond its own loopback (SPEC §2.2), run by the
//! supervisor inside the sandbox's user and network namespaces:
//!
//! - model 1 (`Filtered`): an nftables table in the sandbox's namespace
//!   (`nft`) and an uplink to the outside (`uplink`, pasta);
//! - model 2 with the caller's proxy (`ProxyOnly`): a relay (`relay`);
//! - model 2 with host rules (`FilteringProxy`): cordon's proxy (`proxy`).
//!
//! Everything here is in place before the workload starts.

pub mod enter;
mod host_watch;
pub mod keeper;
pub mod nft;
pub mod proxy;
pub mod relay;
pub mod uplink;

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cordon_policy::plan::{NetworkPlan, FILTERING_PROXY_ENDPOINT};

pub use enter::Namespaces;

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
    file: std::fs::File,
    sandbox_id: String,
    /// A failed write has been reported (once is enough).
    failed: std::sync::atomic::AtomicBool,
}

impl DecisionLog {
    /// `file` must be open for appending.
    pub fn new(file: std::fs::File, sandbox_id: &str) -> Self {
        DecisionLog {
            file,
            sandbox_id: sandbox_id.to_string(),
            failed: Default::default(),
        }
    }

    pub fn record(&self, event: &NetEvent) {
        let mut record = event.to_json();
        record["event"] = "network".into();
        record["sandboxId"] = self.sandbox_id.as_str().into();
        // One write per line, so that concurrent writers do not interleave.
        if let Err(e) = (&self.file).write_all(format!("{record}\n").as_bytes()) {
            if !self.failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!(
                    "cordon: warning: audit log: proxy decisions are not being recorded: {e}"
                );
            }
        }
    }

    /// The descriptor a forked keeper must keep open.
    fn descriptor(&self) -> RawFd {
        self.file.as_raw_fd()
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
}

/// The running network of one sandbox.
pub struct ActiveNetwork {
    ns: Namespaces,
    /// Model 1: keeps the table's host addresses current (dropped before `ns`).
    host_watch: Option<host_watch::HostWatch>,
    uplink: Option<uplink::Uplink>,
    proxy: Option<proxy::FilteringProxy>,
    relay: Option<relay::Relay>,
}

/// Whether a plan needs the supervisor's work in the sandbox's namespaces.
pub fn needs_supervisor(plan: &NetworkPlan) -> bool {
    matches!(
        plan,
        NetworkPlan::Filtered(_) | NetworkPlan::ProxyOnly { .. } | NetworkPlan::FilteringProxy(_)
    )
}

/// Whether the host has an IPv4 and an IPv6 default route (pasta gives the
/// sandbox those it finds).
fn host_default_routes() -> (bool, bool) {
    let v4 = std::fs::read_to_string("/proc/net/route")
        .map(|table| {
            table.lines().skip(1).any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 8 && f[1] == "00000000" && f[7] == "00000000" && f[0] != "lo"
            })
        })
        .unwrap_or(false);
    let v6 = std::fs::read_to_string("/proc/net/ipv6_route")
        .map(|table| {
            table.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 10
                    && f[0] == "00000000000000000000000000000000"
                    && f[1] == "00"
                    && f[9] != "lo"
            })
        })
        .unwrap_or(false);
    (v4, v6)
}

/// How the sandbox's network is isolated, in words (for `--debug`).
pub fn describe(plan: &NetworkPlan) -> &'static str {
    match plan {
        NetworkPlan::Isolated => "network namespace (own loopback only)",
        NetworkPlan::Filtered(_) => {
            "network namespace with packet rules (nftables) and a user-mode uplink (pasta)"
        }
        NetworkPlan::ProxyOnly { .. } => {
            "network namespace whose only way out is the caller's proxy"
        }
        NetworkPlan::FilteringProxy(_) => {
            "network namespace whose only way out is cordon's filtering proxy"
        }
        NetworkPlan::HostShared { .. } => "host network shared",
    }
}

impl ActiveNetwork {
    /// Set up what `plan` needs in the namespaces `ns`. Returns once the
    /// workload may start; the caller's group may use ICMP echo sockets
    /// there (model 1). Proxy
    /// decisions go to `log` as they are made, and on stderr with `debug`.
    pub fn start(
        plan: &NetworkPlan,
        ns: Namespaces,
        debug: bool,
        log: Option<Arc<DecisionLog>>,
    ) -> Result<Self, String> {
        let mut active = ActiveNetwork {
            ns,
            host_watch: None,
            uplink: None,
            proxy: None,
            relay: None,
        };
        match plan {
            NetworkPlan::Filtered(rules) => {
                // pasta takes longest: start it first, install the rules meanwhile.
                let mut uplink = uplink::Uplink::spawn(&active.ns)?;
                crate::native::phase("uplink-spawned");
                let host_addrs = nft::host_addresses();
                let script = nft::script(rules, &host_addrs);
                if debug {
                    eprintln!("cordon: network: packet filter of the sandbox:\n{script}");
                }
                active
                    .ns
                    .run_net_admin("nft", &["-f", "-"], &script, true)
                    .map_err(|e| {
                        if e.starts_with("starting nft") && e.contains("No such file") {
                            format!(
                                "network: packet rules need nftables' nft on PATH (Debian \
                                 package \"nftables\"): {e}"
                            )
                        } else {
                            format!("network: installing the packet rules: {e}")
                        }
                    })?;
                active.host_watch = Some(host_watch::HostWatch::start(&active.ns, host_addrs)?);
                crate::native::phase("rules-installed");
                // pasta configures the interface well before it is done
                // starting; packets sent meanwhile wait in its tap queue. So
                // the workload may start once the routes exist.
                let timeout = std::time::Duration::from_secs(2);
                let (v4, v6) = host_default_routes();
                if active.ns.wait_for_routes(v4, v6, timeout) {
                    uplink.finish_readiness_in_background(debug);
                } else {
                    uplink.wait_ready()?;
                }
                crate::native::phase("uplink-ready");
                active.uplink = Some(uplink);
            }
            NetworkPlan::ProxyOnly {
                endpoint, upstream, ..
            } => {
                let listener = active.ns.listen(*endpoint)?;
                active.relay = Some(relay::Relay::start(listener, upstream.clone())?);
            }
            NetworkPlan::FilteringProxy(rules) => {
                let (ip, port) = FILTERING_PROXY_ENDPOINT;
                let listener = active.ns.listen(SocketAddr::from((ip, port)))?;
                active.proxy = Some(proxy::FilteringProxy::start(
                    listener,
                    rules.clone(),
                    debug,
                    log,
                )?);
            }
            NetworkPlan::Isolated | NetworkPlan::HostShared { .. } => {}
        }
        Ok(active)
    }

    /// After the sandbox has ended: stop everything and report (with the
    /// packet rules' hit counts when `rule_hits`).
    pub fn finish(mut self, rule_hits: bool) -> NetworkReport {
        drop(self.host_watch.take());
        let mut report = NetworkReport::default();
        if let Some(proxy) = self.proxy.take() {
            (report.decisions, report.decisions_not_kept) = proxy.finish();
        }
        drop(self.relay.take());
        // Only model 1 has an uplink, and packet rules with it.
        if self.uplink.is_some() && rule_hits {
            if let Ok(json) =
                self.ns
                    .run_net_admin("nft", &["-j", "list", "table", "inet", "cordon"], "", false)
            {
                report.rule_hits = nft::counters(&json);
            }
            crate::native::phase("counters-read");
        }
        drop(self.uplink.take());
        report
    }
}
