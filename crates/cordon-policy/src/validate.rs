//! Checks that need no filesystem: versions, backend sections, strings, network
//! shapes, UI. Produces the parts of the plan that do not depend on the host.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::config::{
    Action, Config, Egress, EnforcementMode, LegacyDefault, Network, PortSelector, Protocol, Proxy,
    Rule,
};
use crate::error::{ErrorCode, PolicyError, Result};
use crate::netrules::{HostPattern, NetMatch, NetRule, NetRules, Peers, PortMatch, Proto, Verdict};
use crate::plan::{Containment, NetworkPlan, ResourcePlan};
use crate::version::SchemaVersion;

/// Backends that exist on other platforms only, with the platform they need.
const FOREIGN_BACKENDS: &[(&str, &str)] = &[
    ("processcontainer", "Windows"),
    ("appcontainer", "Windows"),
    ("windows_sandbox", "Windows"),
    ("wslc", "Windows"),
    ("isolation_session", "Windows"),
    ("hyperlight", "Windows"),
    ("seatbelt", "macOS"),
    ("macos_sandbox", "macOS"),
];

const LINUX_BACKENDS: &[&str] = &["process", "native", "bubblewrap", "lxc", "microvm", "vm"];

/// Keys of `experimental` that are settings, not backend sections.
const EXPERIMENTAL_SETTINGS: &[&str] = &["telemetry", "test"];
/// Keys of `experimental` that configure a backend.
const EXPERIMENTAL_BACKENDS: &[&str] = &[
    "wslc",
    "microvm",
    "hyperlight",
    "windows_sandbox",
    "isolation_session",
    "lxc",
    "bubblewrap",
    "native",
    "seatbelt",
];

/// Declared schema version (absent: current).
pub fn schema_version(config: &Config) -> Result<SchemaVersion> {
    match &config.version {
        None => Ok(SchemaVersion::CURRENT),
        Some(raw) => SchemaVersion::parse(raw),
    }
}

/// Resolve `containment` and check that only the selected backend's section is present.
pub fn containment(config: &Config, version: SchemaVersion) -> Result<Containment> {
    let requested = config.containment.as_deref().unwrap_or("process");
    let selected = requested.to_ascii_lowercase();
    if let Some((_, platform)) = FOREIGN_BACKENDS.iter().find(|(n, _)| *n == selected) {
        return Err(PolicyError::new(
            ErrorCode::UnsupportedContainment,
            format!(
                "containment: {requested:?} needs {platform}; on Linux use \"process\" (native \
                 namespaces + Landlock), \"bubblewrap\", \"lxc\" or \"microvm\""
            ),
        ));
    }
    if !LINUX_BACKENDS.contains(&selected.as_str()) {
        return Err(PolicyError::malformed(format!(
            "containment: unknown backend {requested:?}; valid values on Linux: {}",
            LINUX_BACKENDS.join(", ")
        )));
    }

    // Every backend section present in the config, by the backend it configures.
    let mut sections: Vec<(&str, &str)> = Vec::new();
    if config.lxc.is_some() {
        sections.push(("lxc", "lxc"));
    }
    match (&config.process_container, &config.app_container) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::malformed(
                "processContainer and appContainer are the same section under two names; keep one",
            ))
        }
        (Some(_), None) => sections.push(("processContainer", "processcontainer")),
        (None, Some(_)) => sections.push(("appContainer", "processcontainer")),
        (None, None) => {}
    }
    match (&config.seatbelt, &config.macos_sandbox) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::malformed(
                "seatbelt and macos_sandbox are the same section under two names; keep one",
            ))
        }
        (Some(_), None) => sections.push(("seatbelt", "seatbelt")),
        (None, Some(_)) => sections.push(("macos_sandbox", "seatbelt")),
        (None, None) => {}
    }
    if let Some(experimental) = &config.experimental {
        for key in experimental.keys() {
            if key == "seatbelt" {
                return Err(PolicyError::malformed(
                    "experimental.seatbelt: the seatbelt section moved to the top level (\"seatbelt\")",
                ));
            }
            if key == "test" && version < SchemaVersion::V0_8 {
                return Err(PolicyError::malformed(format!(
                    "experimental.test: needs schema 0.8 or later, config declares {version}"
                )));
            }
            if EXPERIMENTAL_SETTINGS.contains(&key.as_str()) {
                continue;
            }
            if !EXPERIMENTAL_BACKENDS.contains(&key.as_str()) {
                let mut valid: Vec<&str> = EXPERIMENTAL_SETTINGS.to_vec();
                valid.extend(EXPERIMENTAL_BACKENDS.iter().filter(|k| **k != "seatbelt"));
                return Err(PolicyError::malformed(format!(
                    "experimental: unknown field {key:?}, expected one of {}",
                    valid.join(", ")
                )));
            }
            sections.push(("experimental", key));
        }
    }
    let selected_concrete = match selected.as_str() {
        "process" => "native",
        "vm" => "microvm",
        other => other,
    };
    let foreign: Vec<String> = sections
        .iter()
        .filter(|(_, backend)| {
            *backend != selected_concrete && !(selected == "process" && *backend == "bubblewrap")
        })
        .map(|(field, backend)| {
            if *field == "experimental" {
                format!("experimental.{backend}")
            } else {
                field.to_string()
            }
        })
        .collect();
    if !foreign.is_empty() {
        return Err(PolicyError::malformed(format!(
            "multiple containment backends configured: containment is {selected:?} but the config \
             also carries {}; a config may carry only the selected backend's section",
            foreign.join(", ")
        )));
    }

    Ok(match selected.as_str() {
        "process" => Containment::Process,
        "native" => Containment::Native,
        "bubblewrap" => Containment::Bubblewrap,
        "microvm" | "vm" => Containment::MicroVm,
        "lxc" => {
            let lxc = config.lxc.clone().unwrap_or_default();
            let distribution = lxc.distribution.filter(|s| !s.is_empty());
            let release = lxc.release.filter(|s| !s.is_empty());
            match (distribution, release) {
                (Some(distribution), Some(release)) => Containment::Lxc {
                    distribution,
                    release,
                },
                _ => {
                    return Err(PolicyError::malformed(
                        "lxc: containment \"lxc\" needs both lxc.distribution and lxc.release",
                    ))
                }
            }
        }
        _ => unreachable!("checked against LINUX_BACKENDS above"),
    })
}

/// A non-empty string without NUL.
pub fn check_text(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(PolicyError::malformed(format!(
            "{field}: must not be empty"
        )));
    }
    if value.contains('\0') {
        return Err(PolicyError::malformed(format!(
            "{field}: must not contain a NUL character"
        )));
    }
    Ok(())
}

/// An absolute filesystem path as MXC's contract allows it.
pub fn check_path(field: &str, value: &str) -> Result<()> {
    check_text(field, value)?;
    if value.contains('"') {
        return Err(PolicyError::malformed(format!(
            "{field}: {value:?} must not contain a double quote"
        )));
    }
    if !value.starts_with('/') {
        return Err(PolicyError::malformed(format!(
            "{field}: {value:?} must be an absolute path"
        )));
    }
    Ok(())
}

/// `process.env` entries as (key, value), checked.
pub fn environment(entries: &[String]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("process.env[{i}]");
        if entry.contains('\0') {
            return Err(PolicyError::malformed(format!(
                "{field}: must not contain a NUL character"
            )));
        }
        let Some((key, value)) = entry.split_once('=') else {
            return Err(PolicyError::malformed(format!(
                "{field}: {entry:?} is not of the form KEY=VALUE"
            )));
        };
        if key.is_empty() {
            return Err(PolicyError::malformed(format!(
                "{field}: {entry:?} has an empty variable name"
            )));
        }
        // A later entry for the same key replaces the earlier one.
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Linux never gives the sandbox a display; asking for one is refused (SPEC §2.3).
pub fn ui(config: &Config) -> Result<()> {
    let Some(ui) = &config.ui else { return Ok(()) };
    if ui.disable == Some(false) {
        return Err(PolicyError::policy(
            "ui.disable: false asks for display access; cordon on Linux never gives the sandbox \
             a display (no X11, Wayland or D-Bus session)",
        ));
    }
    if let Some(clipboard) = ui.clipboard {
        if clipboard != crate::config::Clipboard::None {
            return Err(PolicyError::policy(
                format!(
                    "ui.clipboard: {clipboard:?} cannot be granted on Linux; the sandbox has no \
                 access to the host session's clipboard (use \"none\")"
                )
                .to_lowercase(),
            ));
        }
    }
    if ui.injection == Some(true) {
        return Err(PolicyError::policy(
            "ui.injection: true cannot be granted on Linux; the sandbox has no input devices",
        ));
    }
    Ok(())
}

/// `resources` (cordon extension): what can be enforced now, refused otherwise.
pub fn resources(config: &Config) -> Result<ResourcePlan> {
    let Some(res) = &config.resources else {
        return Ok(ResourcePlan::default());
    };
    const MIB: u64 = 1024 * 1024;
    let positive = |field: &str, v: Option<u64>| -> Result<Option<u64>> {
        match v {
            Some(0) => Err(PolicyError::malformed(format!(
                "resources.{field}: must be at least 1"
            ))),
            other => Ok(other),
        }
    };
    let max_file_size_bytes = positive("maxFileSizeMb", res.max_file_size_mb)?
        .map(|mb| mb.checked_mul(MIB))
        .map(|b| b.ok_or_else(|| PolicyError::malformed("resources.maxFileSizeMb: too large")))
        .transpose()?;
    let memory_bytes = positive("memoryMb", res.memory_mb)?
        .map(|mb| {
            mb.checked_mul(MIB)
                .ok_or_else(|| PolicyError::malformed("resources.memoryMb: too large"))
        })
        .transpose()?;
    Ok(ResourcePlan {
        max_file_size_bytes,
        max_open_files: positive("maxOpenFiles", res.max_open_files)?,
        memory_bytes,
        max_processes: positive("maxProcesses", res.max_processes)?,
        cpu_percent: positive("cpuPercent", res.cpu_percent)?,
    })
}

/// Map the network section to a connectivity model (SPEC §2.2). Everything is
/// validated; what cordon cannot enforce yet is refused by name.
pub fn network(config: &Config, version: SchemaVersion) -> Result<(NetworkPlan, Vec<String>)> {
    let mut notices = Vec::new();
    let runtime_proxy = config
        .runtime_config
        .as_ref()
        .and_then(|r| r.network_proxy.as_deref());
    if config.runtime_config.is_some() && version < SchemaVersion::V0_8 {
        return Err(PolicyError::malformed(format!(
            "runtimeConfig: needs schema 0.8 or later, config declares {version}"
        )));
    }
    if let Some(url) = runtime_proxy {
        check_proxy_url("runtimeConfig.networkProxy", url, true)?;
    }

    let Some(net) = &config.network else {
        if let Some(url) = runtime_proxy {
            return proxy_only("runtimeConfig.networkProxy", url).map(|p| (p, notices));
        }
        return Ok((NetworkPlan::Isolated, notices));
    };

    let legacy = net.default_policy.is_some()
        || net.enforcement_mode.is_some()
        || net.allowed_hosts.is_some()
        || net.blocked_hosts.is_some()
        || net.proxy.is_some();
    let directional = net.egress.is_some() || net.ingress.is_some();
    if legacy && directional {
        return Err(PolicyError::malformed(
            "network: mixes the legacy shape (defaultPolicy, enforcementMode, allowedHosts, \
             blockedHosts, proxy) with the directional shape (egress, ingress); use one",
        ));
    }
    if directional && version < SchemaVersion::V0_8 {
        let field = if net.egress.is_some() {
            "network.egress"
        } else {
            "network.ingress"
        };
        return Err(PolicyError::malformed(format!(
            "{field}: directional network policy needs schema 0.8 or later, config declares {version}"
        )));
    }

    if directional {
        return directional_network(net, version, runtime_proxy).map(|p| (p, notices));
    }
    if runtime_proxy.is_some() {
        return Err(PolicyError::policy(
            "runtimeConfig.networkProxy: cannot be combined with the legacy network shape; use \
             network.egress.default \"deny\" with no rules",
        ));
    }
    legacy_network(net, version, &mut notices).map(|p| (p, notices))
}

fn legacy_network(
    net: &Network,
    version: SchemaVersion,
    notices: &mut Vec<String>,
) -> Result<NetworkPlan> {
    let modern = version >= SchemaVersion::V0_8;
    if modern
        && matches!(
            net.enforcement_mode,
            Some(EnforcementMode::Firewall | EnforcementMode::Both)
        )
    {
        return Err(PolicyError::policy(
            "network.enforcementMode: enforcementMode='firewall' and 'both' are not supported on \
             schema 0.8+; rules are enforced inside the sandbox's own network stack",
        ));
    }
    let allowed = net.allowed_hosts.as_deref().unwrap_or_default();
    let blocked = net.blocked_hosts.as_deref().unwrap_or_default();
    for (field, hosts) in [
        ("network.allowedHosts", allowed),
        ("network.blockedHosts", blocked),
    ] {
        for (i, host) in hosts.iter().enumerate() {
            check_host_entry(&format!("{field}[{i}]"), host)?;
        }
    }
    if let Some(proxy) = &net.proxy {
        let url = legacy_proxy_url(proxy)?;
        if !allowed.is_empty() || !blocked.is_empty() {
            return Err(PolicyError::policy(
                "network.proxy: cannot be combined with allowedHosts/blockedHosts; the proxy and \
                 packet-rule models are exclusive",
            ));
        }
        if modern {
            return proxy_only("network.proxy", &url);
        }
        notices.push(format!(
            "network: schema {version} proxy keeps MXC's legacy meaning: the sandbox shares the \
             host's network and gets proxy variables for {url}"
        ));
        return Ok(NetworkPlan::HostShared { proxy: Some(url) });
    }
    if !allowed.is_empty() || !blocked.is_empty() {
        if net.allow_local_network == Some(true) {
            return Err(PolicyError::policy(
                "network.allowLocalNetwork: true cannot be combined with allowedHosts/blockedHosts; \
                 the rules govern a private network stack",
            ));
        }
        let default = match net.default_policy.unwrap_or(LegacyDefault::Block) {
            LegacyDefault::Block => Verdict::Deny,
            LegacyDefault::Allow => Verdict::Allow,
        };
        let mut rules = Vec::new();
        for (field, hosts, verdict) in [
            ("network.allowedHosts", allowed, Verdict::Allow),
            ("network.blockedHosts", blocked, Verdict::Deny),
        ] {
            for (i, host) in hosts.iter().enumerate() {
                let peers = match parse_cidr(field, host) {
                    Ok(net) => Peers::Nets(vec![NetMatch::new(net, vec![])]),
                    Err(_) => Peers::Hosts(vec![HostPattern::new(host)]),
                };
                rules.push(NetRule {
                    name: format!("{field}[{i}]"),
                    verdict,
                    peers,
                    ports: vec![],
                });
            }
        }
        return Ok(rules_plan(NetRules { default, rules }));
    }
    match net.default_policy.unwrap_or(LegacyDefault::Block) {
        LegacyDefault::Block => {
            if modern && net.allow_local_network == Some(true) {
                return Err(PolicyError::policy(
                    "network.allowLocalNetwork: true is confined to the sandbox's own network \
                     namespace under defaultPolicy \"block\"; nothing outside can reach it",
                ));
            }
            Ok(NetworkPlan::Isolated)
        }
        LegacyDefault::Allow if !modern => {
            notices.push(format!(
                "network: schema {version} defaultPolicy \"allow\" shares the host's network with \
                 the sandbox (MXC's meaning); use schema 0.8 egress rules to restrict it"
            ));
            Ok(NetworkPlan::HostShared { proxy: None })
        }
        LegacyDefault::Allow if net.allow_local_network == Some(true) => {
            notices.push(
                "network: allowLocalNetwork true shares the host's network with the sandbox"
                    .to_string(),
            );
            Ok(NetworkPlan::HostShared { proxy: None })
        }
        LegacyDefault::Allow => Ok(NetworkPlan::Filtered(NetRules {
            default: Verdict::Allow,
            rules: vec![],
        })),
    }
}

fn directional_network(
    net: &Network,
    _version: SchemaVersion,
    runtime_proxy: Option<&str>,
) -> Result<NetworkPlan> {
    let egress = net.egress.clone().unwrap_or_default();
    let rules = check_rules(&egress)?;
    if let Some(ingress) = &net.ingress {
        if ingress.default == Some(Action::Allow) {
            return Err(PolicyError::policy(
                "network.ingress.default: \"allow\" is not supported; nothing outside the sandbox \
                 can open a connection into it",
            ));
        }
        if ingress.host_loopback == Some(Action::Allow) {
            return Err(PolicyError::policy(
                "network.ingress.hostLoopback: \"allow\" is not supported: the config cannot say \
                 which host-loopback ports to expose, and exposing all of them would hand the \
                 sandbox every local service; use runtimeConfig.networkProxy for one endpoint",
            ));
        }
    }
    let default = egress.default.unwrap_or(Action::Deny);
    if runtime_proxy.is_some() {
        if default != Action::Deny || rules > 0 {
            return Err(PolicyError::policy(
                "runtimeConfig.networkProxy: requires network.egress.default \"deny\" with no \
                 rules (the proxy is the only way out)",
            ));
        }
        return proxy_only(
            "runtimeConfig.networkProxy",
            runtime_proxy.unwrap_or_default(),
        );
    }
    if net.allow_local_network == Some(true) {
        return Err(PolicyError::policy(
            "network.allowLocalNetwork: true is confined to the sandbox's own network namespace \
             under directional rules; nothing outside can reach it",
        ));
    }
    let rules = NetRules {
        default: match default {
            Action::Allow => Verdict::Allow,
            Action::Deny => Verdict::Deny,
        },
        rules: egress_rules(&egress),
    };
    if rules.rules.is_empty() && rules.default == Verdict::Deny {
        return Ok(NetworkPlan::Isolated);
    }
    Ok(rules_plan(rules))
}

/// Rules naming hosts are enforced by cordon's proxy; pure CIDR rules by the
/// packet filter of a private stack.
fn rules_plan(rules: NetRules) -> NetworkPlan {
    if rules.names_hosts() {
        NetworkPlan::FilteringProxy(rules)
    } else {
        NetworkPlan::Filtered(rules)
    }
}

/// A port the checks above found in 1..=65535.
fn port(p: i64) -> u16 {
    u16::try_from(p).unwrap_or(0)
}

/// The (validated) egress rules as [`NetRule`]s. A rule whose `to` mixes
/// CIDRs and names becomes two rules of the same name.
fn egress_rules(egress: &Egress) -> Vec<NetRule> {
    let mut out = Vec::new();
    for (list, verdict, rules) in [
        ("allow", Verdict::Allow, &egress.allow),
        ("deny", Verdict::Deny, &egress.deny),
    ] {
        for (i, rule) in rules.as_deref().unwrap_or_default().iter().enumerate() {
            let name = format!("network.egress.{list}[{i}]");
            let ports: Vec<PortMatch> = rule
                .ports
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|sel| PortMatch {
                    proto: match sel.protocol.unwrap_or(Protocol::Any) {
                        Protocol::Tcp => Proto::Tcp,
                        Protocol::Udp => Proto::Udp,
                        Protocol::Icmp => Proto::Icmp,
                        Protocol::Any => Proto::Any,
                    },
                    ports: sel.port.map(|p| (port(p), port(sel.end_port.unwrap_or(p)))),
                })
                .collect();
            let Some(to) = &rule.to else {
                out.push(NetRule {
                    name,
                    verdict,
                    peers: Peers::Any,
                    ports,
                });
                continue;
            };
            let mut nets = Vec::new();
            let mut hosts = Vec::new();
            for peer in to {
                if let Some(cidr) = &peer.cidr {
                    let excepts = peer.except.as_deref().unwrap_or_default();
                    // Validated before: these parse.
                    if let Ok(net) = parse_cidr("", cidr) {
                        let except = excepts.iter().filter_map(|e| parse_cidr("", e).ok());
                        nets.push(NetMatch::new(net, except.collect()));
                    }
                }
                if let Some(host) = &peer.host {
                    hosts.push(HostPattern::new(host));
                }
            }
            let nets = (!nets.is_empty()).then_some(Peers::Nets(nets));
            let hosts = (!hosts.is_empty()).then_some(Peers::Hosts(hosts));
            for peers in [nets, hosts].into_iter().flatten() {
                out.push(NetRule {
                    name: name.clone(),
                    verdict,
                    peers,
                    ports: ports.clone(),
                });
            }
        }
    }
    out
}

/// Validate every egress rule; returns how many there are.
fn check_rules(egress: &Egress) -> Result<usize> {
    let mut count = 0;
    for (list, rules) in [("allow", &egress.allow), ("deny", &egress.deny)] {
        for (i, rule) in rules.as_deref().unwrap_or_default().iter().enumerate() {
            check_rule(&format!("network.egress.{list}[{i}]"), rule)?;
            count += 1;
        }
    }
    Ok(count)
}

fn check_rule(field: &str, rule: &Rule) -> Result<()> {
    if let Some(to) = &rule.to {
        if to.is_empty() {
            return Err(PolicyError::malformed(format!(
                "{field}.to: must hold at least one peer (omit it to match every destination)"
            )));
        }
        for (i, peer) in to.iter().enumerate() {
            let field = format!("{field}.to[{i}]");
            match (&peer.cidr, &peer.host) {
                (Some(_), Some(_)) => {
                    return Err(PolicyError::malformed(format!(
                        "{field}: has both cidr and host; a peer is one or the other"
                    )))
                }
                (None, None) => {
                    return Err(PolicyError::malformed(format!(
                        "{field}: needs cidr or host"
                    )))
                }
                (Some(cidr), None) => {
                    let net = parse_cidr(&format!("{field}.cidr"), cidr)?;
                    for (j, ex) in peer
                        .except
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        let ex_field = format!("{field}.except[{j}]");
                        let ex_net = parse_cidr(&ex_field, ex)?;
                        if !net.contains(&ex_net) {
                            return Err(PolicyError::malformed(format!(
                                "{ex_field}: {ex} is not inside {cidr}"
                            )));
                        }
                    }
                }
                (None, Some(host)) => {
                    if peer.except.is_some() {
                        return Err(PolicyError::malformed(format!(
                            "{field}.except: only applies to cidr peers"
                        )));
                    }
                    check_host_name(&format!("{field}.host"), host)?;
                }
            }
        }
    }
    let names_hosts = rule.to.iter().flatten().any(|p| p.host.is_some());
    if names_hosts && field.contains(".allow[") {
        for (i, sel) in rule.ports.iter().flatten().enumerate() {
            if matches!(sel.protocol, Some(Protocol::Udp | Protocol::Icmp)) {
                return Err(PolicyError::policy(format!(
                    "{field}.ports[{i}].protocol: host peers are enforced by cordon's HTTP/SOCKS5 \
                     proxy, which carries TCP only; use a cidr peer for udp or icmp"
                )));
            }
        }
    }
    if let Some(ports) = &rule.ports {
        if ports.is_empty() {
            return Err(PolicyError::malformed(format!(
                "{field}.ports: must hold at least one selector (omit it to match every port)"
            )));
        }
        for (i, sel) in ports.iter().enumerate() {
            check_port_selector(&format!("{field}.ports[{i}]"), sel)?;
        }
    }
    Ok(())
}

fn check_port_selector(field: &str, sel: &PortSelector) -> Result<()> {
    let in_range = |name: &str, v: i64| -> Result<()> {
        if !(1..=65535).contains(&v) {
            return Err(PolicyError::malformed(format!(
                "{field}.{name}: {v} is not a port (1-65535)"
            )));
        }
        Ok(())
    };
    if let Some(port) = sel.port {
        in_range("port", port)?;
    }
    if let Some(end) = sel.end_port {
        in_range("endPort", end)?;
        match sel.port {
            None => {
                return Err(PolicyError::malformed(format!(
                    "{field}.endPort: requires port"
                )))
            }
            Some(port) if end < port => {
                return Err(PolicyError::malformed(format!(
                    "{field}.endPort: {end} is below port {port}"
                )))
            }
            _ => {}
        }
    }
    if sel.protocol == Some(Protocol::Icmp) && sel.port.is_some() {
        return Err(PolicyError::malformed(format!(
            "{field}: icmp has no ports; drop port/endPort"
        )));
    }
    Ok(())
}

/// A CIDR, or a bare address meaning a single host.
fn parse_cidr(field: &str, text: &str) -> Result<IpNet> {
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net);
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    Err(PolicyError::malformed(format!(
        "{field}: {text:?} is not a CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)"
    )))
}

/// A legacy host list entry: an IP, a CIDR, or a (possibly wildcard) name.
fn check_host_entry(field: &str, entry: &str) -> Result<()> {
    check_text(field, entry)?;
    if entry.parse::<IpNet>().is_ok() || entry.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    check_host_name(field, entry)
}

/// `api.example.com` or `*.example.com`.
fn check_host_name(field: &str, name: &str) -> Result<()> {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    let valid = !bare.is_empty()
        && bare.len() <= 253
        && bare.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid {
        return Err(PolicyError::malformed(format!(
            "{field}: {name:?} is not a host name, IP address or CIDR (wildcards only as \
             \"*.example.com\")"
        )));
    }
    Ok(())
}

/// Legacy `network.proxy`: exactly one variant, returned as a URL.
fn legacy_proxy_url(proxy: &Proxy) -> Result<String> {
    let set = [
        proxy.localhost.is_some(),
        proxy.builtin_test_server.is_some(),
        proxy.url.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if set == 0 {
        return Err(PolicyError::malformed(
            "network.proxy: empty; set exactly one of localhost, url (builtinTestServer is not \
             available in cordon)",
        ));
    }
    if set > 1 {
        return Err(PolicyError::malformed(
            "network.proxy: set exactly one of localhost, builtinTestServer, url",
        ));
    }
    if proxy.builtin_test_server.is_some() {
        return Err(PolicyError::policy(
            "network.proxy.builtinTestServer: MXC's built-in test proxy is not available in cordon; \
             run a proxy and use network.proxy.localhost",
        ));
    }
    if let Some(port) = proxy.localhost {
        if !(1..=65535).contains(&port) {
            return Err(PolicyError::malformed(format!(
                "network.proxy.localhost: {port} is not a port (1-65535)"
            )));
        }
        return Ok(format!("http://127.0.0.1:{port}"));
    }
    let url = proxy.url.as_deref().unwrap_or_default();
    check_proxy_url("network.proxy.url", url, false)?;
    Ok(url.to_string())
}

/// The loopback endpoint of a proxy URL (already validated), if it is one.
fn loopback_endpoint(url: &str) -> Option<std::net::SocketAddr> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip: IpAddr = match host {
        "localhost" | "127.0.0.1" => IpAddr::from([127, 0, 0, 1]),
        "[::1]" => "::1".parse().ok()?,
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

/// Model 2 through the caller's proxy (URL already validated). A proxy on
/// the host's loopback appears at its own address inside the sandbox; any
/// other appears at 127.0.0.1 and its port, and the variables say so.
fn proxy_only(field: &str, url: &str) -> Result<NetworkPlan> {
    if let Some(endpoint) = loopback_endpoint(url) {
        return Ok(NetworkPlan::ProxyOnly {
            endpoint,
            upstream: endpoint.to_string(),
            url: url.to_string(),
        });
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    if scheme != "http" {
        return Err(PolicyError::policy(format!(
            "{field}: an {scheme}:// proxy that is not on the host's loopback cannot be relayed: \
             its certificate names a host the sandbox reaches only as 127.0.0.1; use an http:// \
             proxy URL (CONNECT still carries TLS end to end)"
        )));
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let port: u16 = authority
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or_else(|| PolicyError::malformed(format!("{field}: needs an explicit port")))?;
    Ok(NetworkPlan::ProxyOnly {
        endpoint: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        upstream: authority.to_string(),
        url: format!("http://127.0.0.1:{port}{tail}"),
    })
}

/// Validate a proxy URL strictly. The URL is never echoed when it may hold a secret.
pub fn check_proxy_url(field: &str, url: &str, loopback_only: bool) -> Result<()> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(PolicyError::malformed(format!(
            "{field}: not a URL (expected http://HOST:PORT)"
        )));
    };
    if scheme != "http" && scheme != "https" {
        return Err(PolicyError::malformed(format!(
            "{field}: scheme {scheme:?} is not supported (http or https only)"
        )));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        // Do not repeat the URL: it holds credentials.
        return Err(PolicyError::malformed(format!(
            "{field}: credentials in the proxy URL are not allowed (the URL is not repeated here \
             because it holds a secret)"
        )));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((h, after)) = v6.split_once(']') else {
            return Err(PolicyError::malformed(format!(
                "{field}: malformed IPv6 host"
            )));
        };
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let Some(port) = port else {
        return Err(PolicyError::malformed(format!(
            "{field}: needs an explicit port (e.g. http://127.0.0.1:3128)"
        )));
    };
    match port.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => {}
        _ => {
            return Err(PolicyError::malformed(format!(
                "{field}: port {port:?} is not a port (1-65535)"
            )))
        }
    }
    if host.is_empty() {
        return Err(PolicyError::malformed(format!("{field}: missing host")));
    }
    if loopback_only && !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        return Err(PolicyError::policy(format!(
            "{field}: host {host:?} is not a loopback address (127.0.0.1, localhost or [::1])"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_config;

    fn net(json: &str) -> Result<NetworkPlan> {
        let cfg = parse_config(json.as_bytes()).unwrap();
        let v = schema_version(&cfg).unwrap();
        network(&cfg, v).map(|(p, _)| p)
    }

    #[test]
    fn no_network_section_is_isolated() {
        assert_eq!(net("{}").unwrap(), NetworkPlan::Isolated);
        assert_eq!(
            net(r#"{"network":{"egress":{"default":"deny"}}}"#).unwrap(),
            NetworkPlan::Isolated
        );
        assert_eq!(
            net(r#"{"network":{"defaultPolicy":"block"}}"#).unwrap(),
            NetworkPlan::Isolated
        );
    }

    #[test]
    fn legacy_allow_shares_host_only_where_spec_says() {
        let v07 = r#"{"version":"0.7.0","network":{"defaultPolicy":"allow"}}"#;
        assert!(matches!(net(v07).unwrap(), NetworkPlan::HostShared { .. }));
        let v08 =
            r#"{"version":"0.8.0","network":{"defaultPolicy":"allow","allowLocalNetwork":true}}"#;
        assert!(matches!(net(v08).unwrap(), NetworkPlan::HostShared { .. }));
        let nat = r#"{"version":"0.8.0","network":{"defaultPolicy":"allow"}}"#;
        let NetworkPlan::Filtered(rules) = net(nat).unwrap() else {
            panic!("a private NAT'd stack expected")
        };
        assert_eq!((rules.default, rules.rules.len()), (Verdict::Allow, 0));
    }

    #[test]
    fn legacy_lists_become_packet_rules_or_proxy_rules() {
        let cidrs = r#"{"network":{"defaultPolicy":"block","allowedHosts":["10.0.0.0/8"],"blockedHosts":["10.1.2.3"]}}"#;
        let NetworkPlan::Filtered(rules) = net(cidrs).unwrap() else {
            panic!("packet rules expected")
        };
        assert_eq!(rules.default, Verdict::Deny);
        assert_eq!(rules.rules[1].name, "network.blockedHosts[0]");
        assert_eq!(rules.rules[1].verdict, Verdict::Deny);
        let names =
            r#"{"network":{"defaultPolicy":"block","allowedHosts":["*.pypi.org","10.0.0.0/8"]}}"#;
        let NetworkPlan::FilteringProxy(rules) = net(names).unwrap() else {
            panic!("the filtering proxy expected")
        };
        assert!(matches!(&rules.rules[0].peers, Peers::Hosts(h) if h[0].as_str() == "*.pypi.org"));
    }

    #[test]
    fn directional_rules_map_to_models() {
        let nat = r#"{"network":{"egress":{"default":"allow"}}}"#;
        assert!(matches!(net(nat).unwrap(), NetworkPlan::Filtered(_)));
        let mixed = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8"},{"host":"a.test"}],"ports":[{"protocol":"tcp","port":443}]}]}}}"#;
        let NetworkPlan::FilteringProxy(rules) = net(mixed).unwrap() else {
            panic!("the filtering proxy expected")
        };
        assert_eq!(rules.rules.len(), 2);
        assert!(rules
            .rules
            .iter()
            .all(|r| r.name == "network.egress.allow[0]"));
        let udp_host = r#"{"network":{"egress":{"allow":[{"to":[{"host":"a.test"}],"ports":[{"protocol":"udp","port":53}]}]}}}"#;
        assert!(net(udp_host).unwrap_err().message.contains("TCP only"));
        let loopback = r#"{"network":{"ingress":{"hostLoopback":"allow"}}}"#;
        assert!(net(loopback).unwrap_err().message.contains("hostLoopback"));
    }

    #[test]
    fn shapes_cannot_mix_and_directional_needs_08() {
        let mixed = r#"{"network":{"defaultPolicy":"block","egress":{"default":"deny"}}}"#;
        assert!(net(mixed).unwrap_err().message.contains("mixes"));
        let old = r#"{"version":"0.7.0","network":{"egress":{"default":"deny"}}}"#;
        assert!(net(old).unwrap_err().message.contains("0.8 or later"));
    }

    #[test]
    fn rules_are_validated_before_being_refused() {
        let bad_cidr = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/33"}]}]}}}"#;
        let msg = net(bad_cidr).unwrap_err().message;
        assert!(msg.contains("network.egress.allow[0].to[0].cidr"), "{msg}");
        let bad_port = r#"{"network":{"egress":{"allow":[{"ports":[{"port":70000}]}]}}}"#;
        assert!(net(bad_port).unwrap_err().message.contains("ports[0].port"));
        let range = r#"{"network":{"egress":{"allow":[{"ports":[{"port":90,"endPort":80}]}]}}}"#;
        assert!(net(range).unwrap_err().message.contains("below port"));
        let except = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8","except":["11.0.0.0/8"]}]}]}}}"#;
        assert!(net(except).unwrap_err().message.contains("not inside"));
        let ok = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"protocol":"tcp","port":443}]}]}}}"#;
        assert!(matches!(net(ok).unwrap(), NetworkPlan::Filtered(_)));
    }

    #[test]
    fn proxy_urls_are_strict_and_secrets_not_echoed() {
        let creds = r#"{"network":{"proxy":{"url":"http://user:hunter2@127.0.0.1:8080"}}}"#;
        let msg = net(creds).unwrap_err().message;
        assert!(
            msg.contains("credentials") && !msg.contains("hunter2"),
            "{msg}"
        );
        let no_port = r#"{"network":{"proxy":{"url":"http://127.0.0.1"}}}"#;
        assert!(net(no_port).unwrap_err().message.contains("explicit port"));
        let ftp = r#"{"network":{"proxy":{"url":"ftp://127.0.0.1:21"}}}"#;
        assert!(net(ftp).unwrap_err().message.contains("scheme"));
        let empty = r#"{"network":{"proxy":{}}}"#;
        assert!(net(empty).unwrap_err().message.contains("empty"));
        let remote = r#"{"runtimeConfig":{"networkProxy":"http://10.1.2.3:3128"}}"#;
        assert!(net(remote).unwrap_err().message.contains("loopback"));
    }

    #[test]
    fn firewall_mode_is_refused_on_08_only() {
        let v08 = r#"{"version":"0.8.0","network":{"defaultPolicy":"block","enforcementMode":"firewall"}}"#;
        assert!(net(v08)
            .unwrap_err()
            .message
            .contains("enforcementMode='firewall' and 'both' are not supported"));
        let v06 = r#"{"version":"0.6.0","network":{"defaultPolicy":"block","enforcementMode":"firewall"}}"#;
        assert_eq!(net(v06).unwrap(), NetworkPlan::Isolated);
    }

    fn containment_of(json: &str) -> Result<Containment> {
        let cfg = parse_config(json.as_bytes()).unwrap();
        containment(&cfg, schema_version(&cfg).unwrap())
    }

    #[test]
    fn foreign_backends_are_unsupported_containment() {
        for name in [
            "processcontainer",
            "windows_sandbox",
            "wslc",
            "seatbelt",
            "hyperlight",
        ] {
            let err = containment_of(&format!(r#"{{"containment":"{name}"}}"#)).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedContainment, "{name}");
            assert!(err.message.contains("on Linux use"), "{err}");
        }
    }

    #[test]
    fn only_the_selected_backend_section_is_allowed() {
        let err =
            containment_of(r#"{"containment":"native","lxc":{"distribution":"a","release":"1"}}"#)
                .unwrap_err();
        assert!(err
            .message
            .contains("multiple containment backends configured"));
        let err = containment_of(r#"{"processContainer":{},"appContainer":{}}"#).unwrap_err();
        assert!(err.message.contains("same section"));
        let err = containment_of(r#"{"experimental":{"seatbelt":{}}}"#).unwrap_err();
        assert!(err.message.contains("moved to the top level"));
        let err = containment_of(r#"{"experimental":{"wslc":{}}}"#).unwrap_err();
        assert!(err.message.contains("multiple containment backends"));
        assert!(containment_of(r#"{"experimental":{"telemetry":{}}}"#).is_ok());
        let err =
            containment_of(r#"{"containment":"lxc","lxc":{"distribution":"debian"}}"#).unwrap_err();
        assert!(err.message.contains("lxc.release"));
    }

    #[test]
    fn ui_beyond_none_is_refused() {
        for ui in [
            r#"{"ui":{"disable":false}}"#,
            r#"{"ui":{"clipboard":"read"}}"#,
            r#"{"ui":{"injection":true}}"#,
        ] {
            let cfg = parse_config(ui.as_bytes()).unwrap();
            assert!(super::ui(&cfg).is_err(), "{ui}");
        }
        let cfg = parse_config(br#"{"ui":{"disable":true,"clipboard":"none"}}"#).unwrap();
        assert!(super::ui(&cfg).is_ok());
    }

    #[test]
    fn env_entries_are_checked() {
        assert!(environment(&["NOEQUALS".into()])
            .unwrap_err()
            .message
            .contains("process.env[0]"));
        assert!(environment(&["=x".into()]).is_err());
        let env = environment(&["A=1".into(), "B=x=y".into(), "A=2".into()]).unwrap();
        assert_eq!(
            env,
            vec![("B".into(), "x=y".into()), ("A".into(), "2".into())]
        );
    }
}
