//! Network rules after validation: what model 1's packet filter and cordon's
//! filtering proxy enforce. Pure data plus the one decision function both
//! share, so a packet rule and a proxy request are judged by the same logic.

use std::net::IpAddr;

use ipnet::IpNet;

/// What a rule (or the default) does with matching traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// Transport protocol of a port selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// TCP and UDP when a port is given; every protocol otherwise.
    Any,
}

/// One `ports[]` entry: a protocol and an optional inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMatch {
    pub proto: Proto,
    pub ports: Option<(u16, u16)>,
}

impl PortMatch {
    fn matches(&self, proto: Proto, port: Option<u16>) -> bool {
        let proto_ok = match self.proto {
            Proto::Any => self.ports.is_none() || matches!(proto, Proto::Tcp | Proto::Udp),
            p => p == proto,
        };
        let port_ok = match (self.ports, port) {
            (None, _) => true,
            (Some((lo, hi)), Some(p)) => (lo..=hi).contains(&p),
            (Some(_), None) => false,
        };
        proto_ok && port_ok
    }
}

/// A CIDR destination with its `except` holes. IPv4-mapped IPv6 networks are
/// stored as IPv4 (the kernel sends such traffic as IPv4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetMatch {
    pub net: IpNet,
    pub except: Vec<IpNet>,
}

impl NetMatch {
    pub fn new(net: IpNet, except: Vec<IpNet>) -> Self {
        NetMatch {
            net: unmap_net(net),
            except: except.into_iter().map(unmap_net).collect(),
        }
    }
    fn matches(&self, addr: IpAddr) -> bool {
        self.net.contains(&addr) && !self.except.iter().any(|e| e.contains(&addr))
    }
}

/// A destination name: `api.example.com` (exactly that name) or
/// `*.example.com` (any subdomain, not the apex). Stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    pub fn new(pattern: &str) -> Self {
        HostPattern(pattern.trim_end_matches('.').to_ascii_lowercase())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn matches(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match self.0.strip_prefix("*.") {
            Some(suffix) => {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix)
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
            }
            None => name == self.0,
        }
    }
}

/// Where a rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peers {
    /// No `to`: every destination.
    Any,
    Nets(Vec<NetMatch>),
    Hosts(Vec<HostPattern>),
}

/// One allow or deny rule, named after where it came from in the config
/// (e.g. `network.egress.allow[0]`), so decisions can say which rule matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRule {
    pub name: String,
    pub verdict: Verdict,
    pub peers: Peers,
    /// Empty: every protocol and port.
    pub ports: Vec<PortMatch>,
}

/// A destination being judged.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    Name(&'a str),
    Addr(IpAddr),
}

/// The rule set of one sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetRules {
    pub default: Verdict,
    pub rules: Vec<NetRule>,
}

/// Outcome of judging one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The rule that decided, or `default`.
    pub rule: String,
}

impl NetRules {
    /// Deny rules win over allow rules; then the default. A name is only
    /// matched by host rules and an address only by CIDR rules; rules without
    /// `to` match both.
    pub fn judge(&self, dest: Destination, proto: Proto, port: Option<u16>) -> Decision {
        let dest = match dest {
            Destination::Addr(a) => Destination::Addr(unmap_addr(a)),
            d => d,
        };
        let matching = |verdict: Verdict| {
            self.rules.iter().find(|r| {
                r.verdict == verdict
                    && (r.ports.is_empty() || r.ports.iter().any(|p| p.matches(proto, port)))
                    && match (&r.peers, dest) {
                        (Peers::Any, _) => true,
                        (Peers::Nets(nets), Destination::Addr(a)) => {
                            nets.iter().any(|n| n.matches(a))
                        }
                        (Peers::Hosts(hosts), Destination::Name(n)) => {
                            hosts.iter().any(|h| h.matches(n))
                        }
                        _ => false,
                    }
            })
        };
        for verdict in [Verdict::Deny, Verdict::Allow] {
            if let Some(rule) = matching(verdict) {
                return Decision {
                    verdict,
                    rule: rule.name.clone(),
                };
            }
        }
        Decision {
            verdict: self.default,
            rule: "default".into(),
        }
    }

    /// Whether an allow rule names `addr` through a network narrower than
    /// everything (`10.77.0.0/24`, not `0.0.0.0/0` or a rule without `to`):
    /// the policy asks for that address on purpose.
    pub fn allows_specifically(&self, addr: IpAddr) -> bool {
        let addr = unmap_addr(addr);
        self.rules.iter().any(|r| {
            r.verdict == Verdict::Allow
                && matches!(&r.peers, Peers::Nets(nets)
                    if nets.iter().any(|n| n.net.prefix_len() > 0 && n.matches(addr)))
        })
    }

    /// Whether any rule names hosts (then cordon's filtering proxy enforces the policy).
    pub fn names_hosts(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.peers, Peers::Hosts(_)))
    }
}

/// `::ffff:a.b.c.d` is `a.b.c.d`.
pub fn unmap_addr(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        v4 => v4,
    }
}

fn unmap_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, verdict: Verdict, peers: Peers, ports: Vec<PortMatch>) -> NetRule {
        NetRule {
            name: name.into(),
            verdict,
            peers,
            ports,
        }
    }
    fn nets(list: &[&str]) -> Peers {
        Peers::Nets(
            list.iter()
                .map(|n| NetMatch::new(n.parse().unwrap(), vec![]))
                .collect(),
        )
    }
    fn addr(s: &str) -> Destination<'static> {
        Destination::Addr(s.parse().unwrap())
    }

    #[test]
    fn deny_wins_then_allow_then_default() {
        let tcp80 = PortMatch {
            proto: Proto::Tcp,
            ports: Some((80, 80)),
        };
        let rules = NetRules {
            default: Verdict::Deny,
            rules: vec![
                rule("allow0", Verdict::Allow, nets(&["10.0.0.0/8"]), vec![tcp80]),
                rule("deny0", Verdict::Deny, nets(&["10.1.0.0/16"]), vec![]),
            ],
        };
        let j = |a, p, port| rules.judge(addr(a), p, port);
        assert_eq!(j("10.2.0.1", Proto::Tcp, Some(80)).rule, "allow0");
        assert_eq!(j("10.2.0.1", Proto::Tcp, Some(80)).verdict, Verdict::Allow);
        assert_eq!(j("10.1.0.1", Proto::Tcp, Some(80)).rule, "deny0");
        assert_eq!(j("10.2.0.1", Proto::Tcp, Some(81)).rule, "default");
        assert_eq!(j("10.2.0.1", Proto::Udp, Some(80)).verdict, Verdict::Deny);
        // The mapped form of an address is judged as the address.
        assert_eq!(j("::ffff:10.2.0.1", Proto::Tcp, Some(80)).rule, "allow0");
        assert_eq!(j("::ffff:10.1.0.1", Proto::Tcp, Some(80)).rule, "deny0");
    }

    #[test]
    fn except_and_mapped_networks() {
        let m = NetMatch::new(
            "::ffff:10.0.0.0/104".parse().unwrap(),
            vec!["::ffff:10.9.0.0/112".parse().unwrap()],
        );
        assert_eq!(m.net, "10.0.0.0/8".parse::<IpNet>().unwrap());
        assert!(m.matches("10.1.2.3".parse().unwrap()));
        assert!(!m.matches("10.9.1.1".parse().unwrap()));
    }

    #[test]
    fn wildcards_match_subdomains_not_the_apex() {
        let p = HostPattern::new("*.Example.com");
        assert!(p.matches("a.example.com"));
        assert!(p.matches("A.B.EXAMPLE.COM."));
        assert!(!p.matches("example.com"));
        assert!(!p.matches("badexample.com"));
        let exact = HostPattern::new("api.example.com");
        assert!(exact.matches("API.example.com"));
        assert!(!exact.matches("x.api.example.com"));
    }

    #[test]
    fn names_and_addresses_meet_only_their_own_rules() {
        let rules = NetRules {
            default: Verdict::Deny,
            rules: vec![
                rule(
                    "hosts",
                    Verdict::Allow,
                    Peers::Hosts(vec![HostPattern::new("a.test")]),
                    vec![],
                ),
                rule("nets", Verdict::Allow, nets(&["192.0.2.0/24"]), vec![]),
            ],
        };
        let name = rules.judge(Destination::Name("a.test"), Proto::Tcp, Some(443));
        assert_eq!(name.rule, "hosts");
        let other = rules.judge(Destination::Name("b.test"), Proto::Tcp, Some(443));
        assert_eq!(other.verdict, Verdict::Deny);
        assert_eq!(
            rules.judge(addr("192.0.2.7"), Proto::Tcp, None).rule,
            "nets"
        );
        assert_eq!(
            rules.judge(addr("198.51.100.1"), Proto::Tcp, None).verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn any_protocol_with_ports_means_tcp_and_udp() {
        let any = PortMatch {
            proto: Proto::Any,
            ports: Some((53, 53)),
        };
        assert!(any.matches(Proto::Udp, Some(53)));
        assert!(any.matches(Proto::Tcp, Some(53)));
        assert!(!any.matches(Proto::Icmp, None));
        let all = PortMatch {
            proto: Proto::Any,
            ports: None,
        };
        assert!(all.matches(Proto::Icmp, None));
    }
}
