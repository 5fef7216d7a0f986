//! Which of the host's interfaces model 1's uplink copies.
//!
//! pasta gives the sandbox an interface modelled on the host's: by default
//! the one with the default route. A host without one — an offline laptop,
//! air-gapped CI, a network namespace that holds only local services — made
//! pasta refuse to start ("No external routable interface"), and with it
//! every policy with egress rules. There the sandbox should still reach what
//! the host's routing reaches (addresses on a local bridge, lab addresses on
//! the loopback device outside 127.0.0.0/8), under the rules. So when no
//! default route exists, cordon names a template itself: an interface that
//! carries a usable address, with an address and a gateway for the sandbox
//! from the link-local range, which pasta only uses on its side of the tap.
//! The host's routing still decides where each connection goes.
//!
//! The pasta of Debian 12 (2023-03) copies IPv6 only from an interface that
//! has a link-local address, which the loopback device never has: IPv6 lab
//! addresses reachable only on `lo` stay out of reach (a bridge works).

use std::net::IpAddr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;

/// What pasta is told about the host, and which families the sandbox gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Extra pasta arguments (none when the host has a default route).
    pub args: Vec<String>,
    pub ipv4: bool,
    pub ipv6: bool,
}

/// The sandbox's side of an offline uplink: link-local for IPv4 (never a
/// destination worth reaching), a unique-local /64 for IPv6.
const SANDBOX_V4: &str = "169.254.77.2";
const GATEWAY_V4: &str = "169.254.77.1";
const NETMASK_V4: &str = "255.255.255.252";
const SANDBOX_V6: &str = "fdc0:d0:77::2";
const GATEWAY_V6: &str = "fdc0:d0:77::1";
/// pasta's own MAC address when the template (the loopback device) has none.
const UPLINK_MAC: &str = "02:c0:d0:00:00:01";

/// How the uplink reaches the host's networks, or `None` when the host has
/// nothing the sandbox could reach beyond its loopback (then no uplink runs
/// and the rules govern an empty way out).
pub fn choose() -> Option<Template> {
    let (v4, v6) = default_routes();
    if v4 || v6 {
        return Some(Template {
            args: Vec::new(),
            ipv4: v4,
            ipv6: v6,
        });
    }
    offline(&interfaces())
}

/// One host interface, as far as a template needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Interface {
    name: String,
    loopback: bool,
    /// An IPv4 address outside 127.0.0.0/8.
    ipv4: bool,
    /// A global or unique-local IPv6 address (not ::1, not link-local).
    ipv6: bool,
    /// An IPv6 link-local address (old pasta needs one to copy IPv6).
    link_local: bool,
}

fn offline(interfaces: &[Interface]) -> Option<Template> {
    let usable = |i: &&Interface| i.ipv4 || (i.ipv6 && i.link_local);
    // A real interface first (a bridge, a dummy), the one with more families;
    // the loopback device only when nothing else carries an address.
    let template = interfaces
        .iter()
        .filter(|i| !i.loopback)
        .filter(usable)
        .max_by_key(|i| usize::from(i.ipv4) + usize::from(i.ipv6 && i.link_local))
        .or_else(|| interfaces.iter().filter(|i| i.loopback).find(usable))?;
    let ipv6 = template.ipv6 && template.link_local;
    // The sandbox's interface gets its own name: pasta would otherwise name
    // it after the template and fail to create a second "lo".
    let mut args = vec![
        "--interface".to_string(),
        template.name.clone(),
        "--ns-ifname".to_string(),
        "eth0".to_string(),
    ];
    if template.ipv4 {
        for (flag, value) in [
            ("--address", SANDBOX_V4),
            ("--netmask", NETMASK_V4),
            ("--gateway", GATEWAY_V4),
        ] {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    if ipv6 {
        for (flag, value) in [("--address", SANDBOX_V6), ("--gateway", GATEWAY_V6)] {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    if template.loopback {
        args.extend(["--mac-addr".to_string(), UPLINK_MAC.to_string()]);
    }
    Some(Template {
        args,
        ipv4: template.ipv4,
        ipv6,
    })
}

fn interfaces() -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    let Ok(addrs) = getifaddrs() else {
        return out;
    };
    for ifa in addrs {
        let at = match out.iter().position(|i| i.name == ifa.interface_name) {
            Some(at) => at,
            None => {
                out.push(Interface {
                    name: ifa.interface_name.clone(),
                    loopback: ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK),
                    ..Interface::default()
                });
                out.len() - 1
            }
        };
        let Some(addr) = ifa.address else { continue };
        let entry = &mut out[at];
        if let Some(v4) = addr.as_sockaddr_in() {
            entry.ipv4 |= !IpAddr::V4(v4.ip()).is_loopback();
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            let ip = v6.ip();
            if (ip.segments()[0] & 0xffc0) == 0xfe80 {
                entry.link_local = true;
            } else if !ip.is_loopback() {
                entry.ipv6 = true;
            }
        }
    }
    out
}

/// Whether the host has an IPv4 and an IPv6 default route (pasta gives the
/// sandbox those it finds).
pub fn default_routes() -> (bool, bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str, loopback: bool, ipv4: bool, ipv6: bool, link_local: bool) -> Interface {
        Interface {
            name: name.into(),
            loopback,
            ipv4,
            ipv6,
            link_local,
        }
    }

    #[test]
    fn loopback_lab_addresses_template_ipv4_with_a_mac() {
        let t = offline(&[iface("lo", true, true, true, false)]).unwrap();
        assert!(t.ipv4 && !t.ipv6, "{t:?}");
        assert_eq!(t.args[..2], ["--interface", "lo"]);
        assert!(t.args.contains(&UPLINK_MAC.to_string()), "{t:?}");
    }

    #[test]
    fn a_bridge_is_preferred_and_carries_ipv6() {
        let t = offline(&[
            iface("lo", true, true, false, false),
            iface("br0", false, false, true, true),
        ])
        .unwrap();
        assert_eq!((t.ipv4, t.ipv6), (false, true));
        assert_eq!(t.args[..2], ["--interface", "br0"]);
        assert!(!t.args.contains(&UPLINK_MAC.to_string()));
    }

    #[test]
    fn nothing_to_reach_means_no_uplink() {
        assert_eq!(offline(&[iface("lo", true, false, false, false)]), None);
        assert_eq!(offline(&[iface("lo", true, false, true, false)]), None);
    }
}
