//! The network section (SPEC §2.2): legacy and directional shapes, egress
//! rules, hosts, ports, proxies.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::config::{
    Action, Config, Egress, EnforcementMode, LegacyDefault, Network, PortSelector, Protocol, Proxy,
    Rule,
};
use crate::error::{PolicyError, Result};
use crate::netrules::{HostPattern, NetMatch, NetRule, NetRules, Peers, PortMatch, Proto, Verdict};
use crate::plan::{NetworkPlan, PublishedPort};
use crate::version::SchemaVersion;

use super::fields::check_text;

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
    // An ingress that only publishes ports says nothing about the shape.
    let directional = net.egress.is_some()
        || net
            .ingress
            .as_ref()
            .is_some_and(|i| i.default.is_some() || i.host_loopback.is_some());
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
    // `enforcementMode` chose how MXC enforced host lists (capabilities,
    // firewall or both); cordon enforces them one way, inside the sandbox's
    // own network stack, whichever is named.
    let firewall = matches!(
        net.enforcement_mode,
        Some(EnforcementMode::Firewall | EnforcementMode::Both)
    );
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
        if net.default_policy == Some(LegacyDefault::Block) {
            return Err(PolicyError::policy(
                "network.proxy: cannot be combined with defaultPolicy \"block\"; a caller's proxy \
                 enforces its own host policy (drop defaultPolicy, or use cordon's filtering \
                 proxy with host names in allowedHosts instead of a proxy)",
            ));
        }
        if firewall {
            return Err(PolicyError::policy(
                "network.proxy: cannot be combined with enforcementMode \"firewall\" or \"both\"; \
                 the proxy and packet-rule models are exclusive (drop enforcementMode)",
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

/// `network.ingress.publish`: TCP only, onto the host's loopback only, each
/// host port once; refused where the sandbox shares the host's network (its
/// ports are the host's already).
pub fn published(config: &Config, network: &NetworkPlan) -> Result<Vec<PublishedPort>> {
    let entries = config
        .network
        .as_ref()
        .and_then(|n| n.ingress.as_ref())
        .and_then(|i| i.publish.as_deref())
        .unwrap_or_default();
    let mut out: Vec<PublishedPort> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("network.ingress.publish[{i}]");
        if let NetworkPlan::HostShared { .. } = network {
            return Err(PolicyError::policy(format!(
                "{field}: the sandbox shares the host's network, so its ports are the host's \
                 already; publish ports from a sandbox with its own network"
            )));
        }
        match entry.protocol.as_deref() {
            None | Some("tcp") => {}
            Some(other) => {
                return Err(PolicyError::policy(format!(
                    "{field}.protocol: {other:?} cannot be published; only \"tcp\" can"
                )))
            }
        }
        let port = entry.port.filter(|p| *p > 0).ok_or_else(|| {
            PolicyError::malformed(format!(
                "{field}.port: required, the sandbox's port (1-65535)"
            ))
        })?;
        let host_port = entry.host_port.unwrap_or(port);
        if host_port == 0 {
            return Err(PolicyError::malformed(format!(
                "{field}.hostPort: must be 1-65535"
            )));
        }
        let address = entry.host_address.as_deref().unwrap_or("127.0.0.1");
        let ip: IpAddr = address
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                PolicyError::malformed(format!(
                    "{field}.hostAddress: {address:?} is not an IP address (e.g. 127.0.0.1)"
                ))
            })?;
        if !ip.is_loopback() {
            return Err(PolicyError::policy(format!(
                "{field}.hostAddress: {ip} is not a loopback address; ports are published on \
                 the host's loopback only (127.0.0.1 or ::1), never to other machines"
            )));
        }
        let host = std::net::SocketAddr::new(ip, host_port);
        if out.iter().any(|p| p.host == host) {
            return Err(PolicyError::malformed(format!(
                "{field}: {host} is published twice; give each host port once"
            )));
        }
        out.push(PublishedPort { host, port });
    }
    Ok(out)
}
