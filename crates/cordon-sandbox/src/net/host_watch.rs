//! Model 1 denies the host's own addresses (services bound to every address
//! would otherwise be reachable through the uplink). The host gains
//! addresses while sandboxes run — a VPN comes up, a container bridge is
//! created, DHCP renews — so the set in the sandbox's table follows them: a
//! thread listens for the kernel's address notifications (rtnetlink) and adds
//! every new address to the `host4`/`host6` sets, as it appears. Addresses
//! the host loses stay denied (harmless, and never a window).

use std::net::IpAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::thread::JoinHandle;

use nix::sys::socket::{
    bind, socket, AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use cordon_policy::netrules::NetRules;

use super::enter::Namespaces;
use super::nft;

/// rtnetlink multicast groups of `linux/rtnetlink.h`.
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;

/// The running watch; stops when dropped.
pub struct HostWatch {
    stop: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

impl HostWatch {
    /// Watch the host's addresses for the table in `ns`, which already denies
    /// `known`. Subscribes before it re-reads the addresses, so none that
    /// appears from now on is missed.
    pub fn start(ns: &Namespaces, known: Vec<IpAddr>, rules: NetRules) -> Result<Self, String> {
        let events = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )
        .map_err(|e| format!("network: watching the host's addresses: {e}"))?;
        bind(
            events.as_raw_fd(),
            &NetlinkAddr::new(0, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR),
        )
        .map_err(|e| format!("network: watching the host's addresses: {e}"))?;
        let ns = Namespaces {
            user: ns.user.try_clone().map_err(|e| format!("network: {e}"))?,
            net: ns.net.try_clone().map_err(|e| format!("network: {e}"))?,
        };
        let (stop_r, stop_w) = crate::sys::pipe()
            .map_err(|e| format!("network: watching the host's addresses: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("cordon-host-addrs".into())
            .stack_size(128 * 1024)
            .spawn(move || watch(events, stop_r, ns, known, rules))
            .map_err(|e| format!("network: watching the host's addresses: {e}"))?;
        Ok(HostWatch {
            stop: stop_w,
            thread: Some(thread),
        })
    }
}

impl Drop for HostWatch {
    fn drop(&mut self) {
        crate::sys::write_all(self.stop.as_raw_fd(), b"s");
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(events: OwnedFd, stop: OwnedFd, ns: Namespaces, mut known: Vec<IpAddr>, rules: NetRules) {
    // Anything that appeared between the table's install and the subscription.
    add_new(&ns, &mut known, &rules);
    let mut buf = [0u8; 8192];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: events.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of two pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            continue;
        }
        if fds[1].revents != 0 {
            return;
        }
        if fds[0].revents != 0 {
            // The messages themselves are not parsed: any change of the
            // host's addresses (or an overrun, ENOBUFS) means a fresh read.
            // SAFETY: reading into a valid buffer; the content is not used.
            let n = unsafe {
                libc::recv(
                    events.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n == 0 {
                return;
            }
            add_new(&ns, &mut known, &rules);
        }
    }
}

/// Add the host's addresses not in `known` to the sandbox's sets.
fn add_new(ns: &Namespaces, known: &mut Vec<IpAddr>, rules: &NetRules) {
    let fresh: Vec<IpAddr> = nft::denied_host_addresses(rules)
        .into_iter()
        .filter(|a| !known.contains(a))
        .collect();
    if fresh.is_empty() {
        return;
    }
    let added = ns.netfilter_socket(false).and_then(|socket| {
        super::nft_install::add_elements(&socket, &nft::host_address_sets(&fresh))
    });
    match added {
        Ok(_) => known.extend(fresh),
        Err(e) => eprintln!(
            "cordon: warning: network: the host's new addresses {fresh:?} could not be \
             denied in the sandbox: {e}"
        ),
    }
}
