//! Published ports (`network.ingress.publish`, `--publish`): a listener on
//! the host's loopback for each, whose connections are carried to the port
//! on the sandbox's own loopback. Nothing else of the sandbox is reachable
//! from the host, and nothing of the host from the sandbox by this way.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::OwnedFd;

use cordon_policy::plan::PublishedPort;

use super::enter::Namespaces;
use super::relay::{Relay, Side};

/// Listen on every published port (before the workload starts, so that a
/// port the host already uses fails the run at once) and start relaying.
pub fn start(ports: &[PublishedPort], ns: &Namespaces) -> Result<Vec<Relay>, String> {
    let mut relays = Vec::with_capacity(ports.len());
    for published in ports {
        let listener = TcpListener::bind(published.host).map_err(|e| {
            format!(
                "network.ingress.publish: cannot listen on {} for the sandbox's port {}: {e}",
                published.host, published.port
            )
        })?;
        let sandbox = ns
            .try_clone()
            .map_err(|e| format!("network.ingress.publish: {e}"))?;
        let port = published.port;
        let relay = Relay::start_with(OwnedFd::from(listener), Side::Host, move || {
            connect_inside(&sandbox, port)
        })?;
        relays.push(relay);
    }
    Ok(relays)
}

/// A connection to `port` on the sandbox's loopback: IPv4 first, then IPv6
/// (a server may listen on either).
fn connect_inside(sandbox: &Namespaces, port: u16) -> std::io::Result<std::net::TcpStream> {
    let v4 = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
    let v6 = SocketAddr::new(IpAddr::from(std::net::Ipv6Addr::LOCALHOST), port);
    sandbox
        .connect(v4)
        .or_else(|_| sandbox.connect(v6))
        .map_err(std::io::Error::other)
}
