//! Model 1's packet filter: an nftables table in the sandbox's own network
//! namespace, installed before the workload starts. The workload holds no
//! capability in that namespace, so it cannot change or remove the table.

use std::net::IpAddr;

use cordon_policy::netrules::{NetRules, Peers, PortMatch, Proto, Verdict};
use ipnet::IpNet;

/// Comment of the rule that drops traffic to the host's own addresses.
pub const HOST_ADDRESSES: &str = "host addresses";

/// The sets of the host's own addresses in the sandbox's table.
pub const HOST_SET_V4: &str = "host4";
pub const HOST_SET_V6: &str = "host6";

/// The table's name (family `inet`).
pub const TABLE: &str = "cordon";

/// The chain that refuses: a TCP reset for TCP, a drop for the rest.
const REFUSE: &str = "refuse";

/// The packet filter model 1 installs: what `nft_install` writes to the
/// kernel, and what `--debug` shows (in nft's syntax, [`Table::script`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sets: Vec<AddressSet>,
    /// In the order they are created: a chain a rule jumps to comes first.
    pub chains: Vec<Chain>,
}

/// A named set of addresses of one family.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressSet {
    pub name: &'static str,
    pub v4: bool,
    pub elements: Vec<IpAddr>,
}

/// A chain and its rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub name: &'static str,
    /// For a base chain: where it hooks (type filter, priority 0, policy
    /// drop). `None` for a chain only reached by `goto`.
    pub hook: Option<Hook>,
    pub rules: Vec<Rule>,
}

/// Where a base chain sees packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// Packets the sandbox sends.
    Output,
    /// Packets the sandbox receives.
    Input,
}

/// One rule: every match must hold, then the action is taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub matches: Vec<Match>,
    pub counter: bool,
    pub action: Action,
    /// The rule's name in the policy, for its counters.
    pub comment: Option<String>,
}

/// What a rule does with a packet it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Accept,
    Drop,
    /// Continue in a chain, not returning.
    Goto(&'static str),
    /// Answer with a TCP reset (then drop).
    RejectTcpReset,
}

/// A condition on a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Through the loopback device: leaving (`oif`) or arriving (`iif`).
    Loopback { output: bool },
    /// Part of, or related to, a connection already accepted.
    EstablishedOrRelated,
    /// An ICMPv6 message of one of these types.
    Icmpv6Type(Vec<Icmpv6Type>),
    /// To an address in a named set of the table.
    DaddrInSet { v4: bool, set: &'static str },
    /// To an address in `net` (or, `negated`, outside it).
    Daddr { net: IpNet, negated: bool },
    /// Of one of these transport protocols.
    L4Proto(Vec<L4Proto>),
    /// To a transport port from `.0` to `.1` (after an `L4Proto` match).
    Dport(u16, u16),
}

/// The ICMPv6 neighbour discovery messages the uplink's link needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Type {
    RouterSolicit,
    RouterAdvert,
    NeighborSolicit,
    NeighborAdvert,
}

impl Icmpv6Type {
    pub fn code(self) -> u8 {
        match self {
            Icmpv6Type::RouterSolicit => 133,
            Icmpv6Type::RouterAdvert => 134,
            Icmpv6Type::NeighborSolicit => 135,
            Icmpv6Type::NeighborAdvert => 136,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Icmpv6Type::RouterSolicit => "nd-router-solicit",
            Icmpv6Type::RouterAdvert => "nd-router-advert",
            Icmpv6Type::NeighborSolicit => "nd-neighbor-solicit",
            Icmpv6Type::NeighborAdvert => "nd-neighbor-advert",
        }
    }
}

/// A transport protocol a rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Proto {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
}

impl L4Proto {
    /// Its IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            L4Proto::Tcp => 6,
            L4Proto::Udp => 17,
            L4Proto::Icmp => 1,
            L4Proto::Icmpv6 => 58,
        }
    }

    fn name(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
            L4Proto::Icmp => "icmp",
            L4Proto::Icmpv6 => "ipv6-icmp",
        }
    }
}

/// The host's `addrs` (gained since the table was installed) as the sets
/// they belong in: (set, addresses of its family).
pub fn host_address_sets(addrs: &[IpAddr]) -> Vec<(&'static str, Vec<IpAddr>)> {
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = addrs.iter().partition(|a| a.is_ipv4());
    [(HOST_SET_V4, v4), (HOST_SET_V6, v6)]
        .into_iter()
        .filter(|(_, a)| !a.is_empty())
        .collect()
}

/// The table for `rules`. `host_addrs` are the host's own (non-loopback)
/// addresses: the sandbox never reaches the host through them.
pub fn table(rules: &NetRules, host_addrs: &[IpAddr]) -> Table {
    let accept = |matches: Vec<Match>| Rule {
        matches,
        counter: false,
        action: Action::Accept,
        comment: None,
    };
    let mut egress = vec![
        accept(vec![Match::Loopback { output: true }]),
        accept(vec![Match::EstablishedOrRelated]),
        // Neighbour discovery with the uplink's gateway.
        accept(vec![Match::Icmpv6Type(vec![
            Icmpv6Type::NeighborSolicit,
            Icmpv6Type::NeighborAdvert,
            Icmpv6Type::RouterSolicit,
        ])]),
    ];
    // Named sets, so that addresses the host gains later can be added to a
    // running sandbox's table (see `host_watch`).
    for (v4, set) in [(true, HOST_SET_V4), (false, HOST_SET_V6)] {
        egress.push(Rule {
            matches: vec![Match::DaddrInSet { v4, set }],
            counter: true,
            action: Action::Goto(REFUSE),
            comment: Some(HOST_ADDRESSES.into()),
        });
    }
    for verdict in [Verdict::Deny, Verdict::Allow] {
        for rule in rules.rules.iter().filter(|r| r.verdict == verdict) {
            for matches in rule_matches(&rule.peers, &rule.ports) {
                egress.push(Rule {
                    matches,
                    counter: true,
                    action: action(verdict),
                    comment: Some(rule.name.clone()),
                });
            }
        }
    }
    egress.push(Rule {
        matches: Vec::new(),
        counter: true,
        action: action(rules.default),
        comment: Some("default".into()),
    });
    let ingress = vec![
        accept(vec![Match::Loopback { output: false }]),
        accept(vec![Match::EstablishedOrRelated]),
        accept(vec![Match::Icmpv6Type(vec![
            Icmpv6Type::NeighborSolicit,
            Icmpv6Type::NeighborAdvert,
            Icmpv6Type::RouterAdvert,
        ])]),
        Rule {
            matches: Vec::new(),
            counter: true,
            action: Action::Drop,
            comment: Some("ingress".into()),
        },
    ];
    let refuse = vec![
        Rule {
            matches: vec![Match::L4Proto(vec![L4Proto::Tcp])],
            counter: false,
            action: Action::RejectTcpReset,
            comment: None,
        },
        Rule {
            matches: Vec::new(),
            counter: false,
            action: Action::Drop,
            comment: None,
        },
    ];
    let set = |name, v4: bool| AddressSet {
        name,
        v4,
        elements: host_addrs
            .iter()
            .filter(|a| a.is_ipv4() == v4)
            .copied()
            .collect(),
    };
    Table {
        sets: vec![set(HOST_SET_V4, true), set(HOST_SET_V6, false)],
        chains: vec![
            Chain {
                name: REFUSE,
                hook: None,
                rules: refuse,
            },
            Chain {
                name: "egress",
                hook: Some(Hook::Output),
                rules: egress,
            },
            Chain {
                name: "ingress",
                hook: Some(Hook::Input),
                rules: ingress,
            },
        ],
    }
}

impl Table {
    /// The table in nft's syntax (what `nft -f` would install the same way;
    /// the tests compare the two in the kernel).
    pub fn script(&self) -> String {
        let mut out = format!("table inet {TABLE} {{\n");
        for set in &self.sets {
            let kind = if set.v4 { "ipv4_addr" } else { "ipv6_addr" };
            out.push_str(&format!("  set {} {{\n    type {kind}\n", set.name));
            if !set.elements.is_empty() {
                let list: Vec<String> = set.elements.iter().map(|a| a.to_string()).collect();
                out.push_str(&format!("    elements = {{ {} }}\n", list.join(", ")));
            }
            out.push_str("  }\n");
        }
        for chain in &self.chains {
            out.push_str(&format!("  chain {} {{\n", chain.name));
            if let Some(hook) = chain.hook {
                let hook = match hook {
                    Hook::Output => "output",
                    Hook::Input => "input",
                };
                out.push_str(&format!(
                    "    type filter hook {hook} priority 0; policy drop;\n"
                ));
            }
            for rule in &chain.rules {
                out.push_str(&format!("    {}\n", rule.script()));
            }
            out.push_str("  }\n");
        }
        out.push_str("}\n");
        out
    }
}

impl Rule {
    fn script(&self) -> String {
        let mut words: Vec<String> = self.matches.iter().map(Match::script).collect();
        if self.counter {
            words.push("counter".into());
        }
        words.push(match self.action {
            Action::Accept => "accept".into(),
            Action::Drop => "drop".into(),
            Action::Goto(chain) => format!("goto {chain}"),
            Action::RejectTcpReset => "reject with tcp reset".into(),
        });
        if let Some(comment) = &self.comment {
            words.push(format!("comment \"{comment}\""));
        }
        words.join(" ")
    }
}

impl Match {
    fn script(&self) -> String {
        let family = |v4: bool| if v4 { "ip" } else { "ip6" };
        let list = |names: Vec<&str>| match names.as_slice() {
            [one] => one.to_string(),
            _ => format!("{{ {} }}", names.join(", ")),
        };
        match self {
            Match::Loopback { output: true } => "oif \"lo\"".into(),
            Match::Loopback { output: false } => "iif \"lo\"".into(),
            Match::EstablishedOrRelated => "ct state established,related".into(),
            Match::Icmpv6Type(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
                format!("icmpv6 type {{ {} }}", names.join(", "))
            }
            Match::DaddrInSet { v4, set } => format!("{} daddr @{set}", family(*v4)),
            Match::Daddr { net, negated } => format!(
                "{} daddr {}{net}",
                family(net.addr().is_ipv4()),
                if *negated { "!= " } else { "" }
            ),
            Match::L4Proto(protos) => {
                format!(
                    "meta l4proto {}",
                    list(protos.iter().map(|p| p.name()).collect())
                )
            }
            Match::Dport(lo, hi) if lo == hi => format!("th dport {lo}"),
            Match::Dport(lo, hi) => format!("th dport {lo}-{hi}"),
        }
    }
}

/// Denied TCP gets a reset (the client fails at once with "connection
/// refused" instead of hanging); other denied packets are dropped, which a
/// local sender sees as EPERM.
fn action(verdict: Verdict) -> Action {
    match verdict {
        Verdict::Allow => Action::Accept,
        Verdict::Deny => Action::Goto(REFUSE),
    }
}

/// The matches of one rule, one list per destination and port selector
/// (an empty list for "everything").
fn rule_matches(peers: &Peers, ports: &[PortMatch]) -> Vec<Vec<Match>> {
    // (address matches, family of the address or None for both)
    let destinations: Vec<(Vec<Match>, Option<bool>)> = match peers {
        Peers::Any => vec![(Vec::new(), None)],
        // Names are the filtering proxy's business, never the packet filter's.
        Peers::Hosts(_) => return Vec::new(),
        Peers::Nets(nets) => nets
            .iter()
            .map(|n| {
                let mut m = vec![Match::Daddr {
                    net: n.net,
                    negated: false,
                }];
                // Outside every exception: one negated match each.
                m.extend(n.except.iter().map(|e| Match::Daddr {
                    net: *e,
                    negated: true,
                }));
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
            let mut m = dest.clone();
            m.extend(port_matches(port, *v4));
            out.push(m);
        }
    }
    out
}

fn port_matches(port: &PortMatch, v4: Option<bool>) -> Vec<Match> {
    let range = port.ports.map(|(lo, hi)| Match::Dport(lo, hi));
    let protos = match port.proto {
        Proto::Tcp => vec![L4Proto::Tcp],
        Proto::Udp => vec![L4Proto::Udp],
        Proto::Icmp => {
            return vec![Match::L4Proto(match v4 {
                Some(true) => vec![L4Proto::Icmp],
                Some(false) => vec![L4Proto::Icmpv6],
                None => vec![L4Proto::Icmp, L4Proto::Icmpv6],
            })];
        }
        Proto::Any if range.is_none() => return Vec::new(),
        Proto::Any => vec![L4Proto::Tcp, L4Proto::Udp],
    };
    std::iter::once(Match::L4Proto(protos))
        .chain(range)
        .collect()
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
        let s = table(&rules, &["192.0.2.2".parse().unwrap()]).script();
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
        let (a, b): (IpAddr, IpAddr) = ("10.1.2.3".parse().unwrap(), "fd00::9".parse().unwrap());
        assert_eq!(
            host_address_sets(&[a, b]),
            vec![(HOST_SET_V4, vec![a]), (HOST_SET_V6, vec![b])]
        );
        assert_eq!(host_address_sets(&[b]), vec![(HOST_SET_V6, vec![b])]);
        assert!(
            pos("ip6 daddr fd00::/8 meta l4proto ipv6-icmp counter goto refuse")
                < pos("comment \"a\"")
        );
        assert!(s.contains(
            "ip daddr 10.0.0.0/8 ip daddr != 10.9.0.0/16 meta l4proto tcp th dport 80-90 counter accept comment \"a\""
        ));
        assert!(pos("comment \"a\"") < pos("counter goto refuse comment \"default\""));
        crate::golden::check("nft-script.nft", &s);
    }
}
