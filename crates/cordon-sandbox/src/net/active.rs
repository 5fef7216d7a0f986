//! A sandbox's running network: set up in its namespaces before the
//! workload starts, torn down (and its counters read) at the end.

use std::net::SocketAddr;
use std::sync::Arc;

use cordon_policy::plan::{NetworkPlan, Plan, FILTERING_PROXY_ENDPOINT};

use super::decisions::{DecisionLog, NetworkReport};
use super::enter::Namespaces;
use super::{host_watch, nft, nft_install, proxy, publish, relay, uplink};

/// The running network of one sandbox.
pub struct ActiveNetwork {
    ns: Namespaces,
    /// Model 1: keeps the table's host addresses current (dropped before `ns`).
    host_watch: Option<host_watch::HostWatch>,
    uplink: Option<uplink::Uplink>,
    /// Model 1: the packet rules are installed (their counters can be read).
    filtered: bool,
    proxy: Option<proxy::FilteringProxy>,
    relay: Option<relay::Relay>,
    /// One relay per published port.
    published: Vec<relay::Relay>,
}

/// Whether a plan needs the supervisor's work in the sandbox's namespaces.
pub fn needs_supervisor(plan: &Plan) -> bool {
    !plan.published.is_empty()
        || matches!(
            plan.network,
            NetworkPlan::Filtered(_)
                | NetworkPlan::ProxyOnly { .. }
                | NetworkPlan::FilteringProxy(_)
        )
}

/// How the sandbox's network is isolated, in words (for `--debug`).
pub fn describe(plan: &NetworkPlan) -> &'static str {
    match plan {
        NetworkPlan::Isolated => "network namespace (own loopback only)",
        NetworkPlan::Filtered(_) => {
            "network namespace with packet rules (nftables) and a user-mode uplink (slirp4netns)"
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
        plan: &Plan,
        ns: Namespaces,
        debug: bool,
        log: Option<Arc<DecisionLog>>,
    ) -> Result<Self, String> {
        let mut active = ActiveNetwork {
            ns,
            host_watch: None,
            uplink: None,
            filtered: false,
            proxy: None,
            relay: None,
            published: Vec::new(),
        };
        match &plan.network {
            NetworkPlan::Filtered(rules) => {
                // The uplink takes longest: start it first, install the
                // rules meanwhile.
                let ipv6 = active.ns.static_ipv6_only()?;
                let mut uplink = uplink::Uplink::spawn(&active.ns)?;
                crate::timing::phase("uplink-spawned");
                // slirp4netns configures the interface's IPv4 well before it
                // serves it; packets sent meanwhile wait in the tap queue. A
                // helper waits for that in the namespace and adds IPv6 while
                // the rules go in.
                let v6 = ipv6.then_some(&uplink::IPV6);
                let timeout = std::time::Duration::from_secs(2);
                let waiting = active.ns.await_uplink(v6, timeout)?;
                let host_addrs = nft::denied_host_addresses(rules);
                let table = nft::table(rules, &host_addrs);
                if debug {
                    eprintln!(
                        "cordon: network: packet filter of the sandbox (in nft's syntax):\n{}",
                        table.script()
                    );
                }
                let installed = active
                    .ns
                    .netfilter_socket(true)
                    .and_then(|socket| nft_install::install(&socket, &table))
                    .map_err(|e| format!("network: installing the packet rules: {e}"));
                crate::timing::phase("nft-done");
                // Collect the helper before any error returns.
                let configured = waiting.finish();
                installed?;
                active.filtered = true;
                active.host_watch = Some(host_watch::HostWatch::start(
                    &active.ns,
                    host_addrs,
                    rules.clone(),
                )?);
                crate::timing::phase("rules-installed");
                if !configured? {
                    // Slow (a loaded host) or failed: slirp4netns says which.
                    uplink.wait_ready()?;
                    if !active.ns.await_uplink(v6, timeout)?.finish()? {
                        return Err("network uplink: slirp4netns reported ready but the \
                                    sandbox has no route"
                            .into());
                    }
                }
                uplink.finish_readiness_in_background(debug);
                crate::timing::phase("uplink-ready");
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
                let sandbox = active
                    .ns
                    .try_clone()
                    .map_err(|e| format!("filtering proxy: {e}"))?;
                active.proxy = Some(proxy::FilteringProxy::start(
                    listener,
                    sandbox,
                    rules.clone(),
                    debug,
                    log,
                )?);
            }
            NetworkPlan::Isolated | NetworkPlan::HostShared { .. } => {}
        }
        if !plan.published.is_empty() {
            active.published = publish::start(&plan.published, &active.ns)?;
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
        self.published.clear();
        // Only model 1 has packet rules.
        if self.filtered && rule_hits {
            let read = self.ns.netfilter_socket(false).and_then(|socket| {
                super::nft_counters::read(&socket)
                    .map_err(|e| format!("reading the packet rules' counters: {e}"))
            });
            match read {
                Ok(hits) => report.rule_hits = hits,
                Err(e) => report.counters_unread = Some(e),
            }
            crate::timing::phase("counters-read");
        }
        drop(self.uplink.take());
        report
    }
}
