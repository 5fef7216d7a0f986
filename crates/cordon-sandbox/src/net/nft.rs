//! Model 1's packet filter: an nftables table in the sandbox's own network
//! namespace, installed before the workload starts. The workload holds no
//! capability in that namespace, so it cannot change or remove the table.

use std::net::IpAddr;

use cordon_policy::netrules::{NetRules, Peers, PortMatch, Proto, Verdict};

/// Comment of the rule that drops traffic to the host's own addresses.
pub const HOST_ADDRESSES: &str = "host addresses";

/// The sets of the host's own addresses in the sandbox's table.
pub const HOST_SET_V4: &str = "host4";
pub const HOST_SET_V6: &str = "host6";

/// An nftables script adding `addrs` (the host's, gained since the table was
/// installed) to its sets.
pub fn add_host_addresses(addrs: &[IpAddr]) -> String {
    let mut out = String::new();
    for addr in addrs {
        let set = if addr.is_ipv4() {
            HOST_SET_V4
        } else {
            HOST_SET_V6
        };
        out.push_str(&format!("add element inet cordon {set} {{ {addr} }}\n"));
    }
    out
}

/// The nftables script for `rules`. `host_addrs` are the host's own
/// (non-loopback) addresses: the sandbox never reaches the host through them.
pub fn script(rules: &NetRules, host_addrs: &[IpAddr]) -> String {
    let mut egress = vec![
        "oif \"lo\" accept".to_string(),
        "ct state established,related accept".to_string(),
        // Neighbour discovery with the uplink's gateway.
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept"
            .to_string(),
    ];
    // Named sets, so that addresses the host gains later can be added to a
    // running sandbox's table (see `host_watch`).
    for (family, set) in [("ip", HOST_SET_V4), ("ip6", HOST_SET_V6)] {
        egress.push(format!(
            "{family} daddr @{set} counter goto refuse comment \"{HOST_ADDRESSES}\""
        ));
    }
    for verdict in [Verdict::Deny, Verdict::Allow] {
        for rule in rules.rules.iter().filter(|r| r.verdict == verdict) {
            for matcher in rule_matchers(&rule.peers, &rule.ports) {
                egress.push(format!(
                    "{matcher}counter {} comment \"{}\"",
                    action(verdict),
                    rule.name
                ));
            }
        }
    }
    egress.push(format!(
        "counter {} comment \"default\"",
        action(rules.default)
    ));
    let ingress = [
        "iif \"lo\" accept",
        "ct state established,related accept",
        "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept",
        "counter drop comment \"ingress\"",
    ];
    let mut out = String::from("table inet cordon {\n");
    let (v4, v6): (Vec<&IpAddr>, Vec<&IpAddr>) = host_addrs.iter().partition(|a| a.is_ipv4());
    for (set, kind, addrs) in [
        (HOST_SET_V4, "ipv4_addr", v4),
        (HOST_SET_V6, "ipv6_addr", v6),
    ] {
        out.push_str(&format!("  set {set} {{\n    type {kind}\n"));
        if !addrs.is_empty() {
            let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            out.push_str(&format!("    elements = {{ {} }}\n", list.join(", ")));
        }
        out.push_str("  }\n");
    }
    out.push_str(
        "  chain refuse {\n    meta l4proto tcp reject with tcp reset\n    drop\n  }\n  chain egress {\n",
    );
    out.push_str("    type filter hook output priority 0; policy drop;\n");
    for line in egress {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str("  }\n  chain ingress {\n    type filter hook input priority 0; policy drop;\n");
    for line in ingress {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str("  }\n}\n");
    out
}

/// Denied TCP gets a reset (the client fails at once with "connection
/// refused" instead of hanging); other denied packets are dropped, which a
/// local sender sees as EPERM.
fn action(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allow => "accept",
        Verdict::Deny => "goto refuse",
    }
}

/// The match expressions of one rule, one per destination and port selector
/// (each ends with a space, or is empty for "everything").
fn rule_matchers(peers: &Peers, ports: &[PortMatch]) -> Vec<String> {
    // (address match, family of the address or None for both)
    let destinations: Vec<(String, Option<bool>)> = match peers {
        Peers::Any => vec![(String::new(), None)],
        // Names are the filtering proxy's business, never the packet filter's.
        Peers::Hosts(_) => return Vec::new(),
        Peers::Nets(nets) => nets
            .iter()
            .map(|n| {
                let family = if n.net.addr().is_ipv4() { "ip" } else { "ip6" };
                let mut m = format!("{family} daddr {} ", n.net);
                let excepts: Vec<String> = n.except.iter().map(|e| e.to_string()).collect();
                if !excepts.is_empty() {
                    m.push_str(&format!("{family} daddr != {{ {} }} ", excepts.join(", ")));
                }
                (m, Some(n.net.addr().is_ipv4()))
            })
            .collect(),
    };
    let mut out = Vec::new();
    for (dest, v4) in &destinations {
        if ports.is_empty() {
            out.push(dest.clone());
        }
        for port in ports {
            out.push(format!("{dest}{}", port_matcher(port, *v4)));
        }
    }
    out
}

fn port_matcher(port: &PortMatch, v4: Option<bool>) -> String {
    let range = match port.ports {
        Some((lo, hi)) if lo == hi => format!("th dport {lo} "),
        Some((lo, hi)) => format!("th dport {lo}-{hi} "),
        None => String::new(),
    };
    match port.proto {
        Proto::Tcp => format!("meta l4proto tcp {range}"),
        Proto::Udp => format!("meta l4proto udp {range}"),
        Proto::Icmp => match v4 {
            Some(true) => "meta l4proto icmp ".into(),
            Some(false) => "meta l4proto ipv6-icmp ".into(),
            None => "meta l4proto { icmp, ipv6-icmp } ".into(),
        },
        Proto::Any if range.is_empty() => String::new(),
        Proto::Any => format!("meta l4proto {{ tcp, udp }} {range}"),
    }
}

/// The host's addresses model 1 denies under `rules`: all of
/// [`host_addresses`] except lab addresses — those configured on the
/// loopback device outside 127.0.0.0/8 and ::1 — that an allow rule names
/// specifically (a network narrower than everything). Such an address is
/// how a host without a network offers local services to sandboxes; a rule
/// allowing "everywhere" does not open it.
pub fn denied_host_addresses(rules: &NetRules) -> Vec<IpAddr> {
    own_addresses()
        .into_iter()
        .filter(|(a, on_loopback)| !(*on_loopback && rules.allows_specifically(*a)))
        .map(|(a, _)| a)
        .collect()
}

/// The host's own addresses except loopback and link-local ones.
pub fn host_addresses() -> Vec<IpAddr> {
    own_addresses().into_iter().map(|(a, _)| a).collect()
}

/// The host's own addresses except loopback and link-local ones, each with
/// whether it is configured on a loopback device (a lab address), from one
/// reading of the interface list.
fn own_addresses() -> Vec<(IpAddr, bool)> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut out: Vec<(IpAddr, bool)> = Vec::new();
    for ifa in addrs {
        let Some(addr) = ifa.address else { continue };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        let link_local = matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80);
        if ip.is_loopback() || link_local {
            continue;
        }
        let on_loopback = ifa
            .flags
            .contains(nix::net::if_::InterfaceFlags::IFF_LOOPBACK);
        match out.iter_mut().find(|(a, _)| *a == ip) {
            Some((_, lab)) => *lab |= on_loopback,
            None => out.push((ip, on_loopback)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_policy::netrules::{NetMatch, NetRule};

    #[test]
    fn deny_rules_come_before_allow_rules_and_default_last() {
        let rules = NetRules {
            default: Verdict::Deny,
            rules: vec![
                NetRule {
                    name: "a".into(),
                    verdict: Verdict::Allow,
                    peers: Peers::Nets(vec![NetMatch::new(
                        "10.0.0.0/8".parse().unwrap(),
                        vec!["10.9.0.0/16".parse().unwrap()],
                    )]),
                    ports: vec![PortMatch {
                        proto: Proto::Tcp,
                        ports: Some((80, 90)),
                    }],
                },
                NetRule {
                    name: "d".into(),
                    verdict: Verdict::Deny,
                    peers: Peers::Nets(vec![NetMatch::new("fd00::/8".parse().unwrap(), vec![])]),
                    ports: vec![PortMatch {
                        proto: Proto::Icmp,
                        ports: None,
                    }],
                },
            ],
        };
        let s = script(&rules, &["192.0.2.2".parse().unwrap()]);
        let pos = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} in {s}"));
        // The host's addresses are a named set (kept current while the
        // sandbox runs), matched before every rule.
        assert!(
            pos("set host4 {\n    type ipv4_addr\n    elements = { 192.0.2.2 }")
                < pos("chain egress")
        );
        assert!(pos("set host6 {\n    type ipv6_addr\n  }") < pos("chain egress"));
        assert!(pos("ip daddr @host4 counter goto refuse") < pos("comment \"d\""));
        assert!(pos("ip6 daddr @host6 counter goto refuse") < pos("comment \"d\""));
        assert_eq!(
            add_host_addresses(&["10.1.2.3".parse().unwrap(), "fd00::9".parse().unwrap()]),
            "add element inet cordon host4 { 10.1.2.3 }\nadd element inet cordon host6 { fd00::9 }\n"
        );
        assert!(
            pos("ip6 daddr fd00::/8 meta l4proto ipv6-icmp counter goto refuse")
                < pos("comment \"a\"")
        );
        assert!(s.contains(
            "ip daddr 10.0.0.0/8 ip daddr != { 10.9.0.0/16 } meta l4proto tcp th dport 80-90 counter accept comment \"a\""
        ));
        assert!(pos("comment \"a\"") < pos("counter goto refuse comment \"default\""));
        crate::golden::check("nft-script.nft", &s);
    }
}
