//! cordon's filtering proxy (model 2 with host rules). It runs in the
//! supervisor, on the host's side, and accepts on a socket that listens in the
//! sandbox's own network namespace: the sandbox has no other way out.
//!
//! One port speaks HTTP (CONNECT and absolute-URI requests) and SOCKS5 (told
//! apart by the first byte). Each request is judged by the policy's rules:
//! the name against host rules, then every address it resolves to (at
//! connect time) against CIDR deny rules and the host's loopback.
//!
//! A request for the sandbox's own loopback (`localhost`, `127.0.0.1`,
//! `::1`) — a client that ignores `NO_PROXY` reaching a server the workload
//! started — is served from inside the sandbox's network namespace, where
//! that loopback is the sandbox's: the host's stays out of reach.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cordon_policy::netrules::{Destination, NetRules, Proto, Verdict};

use super::{http, socks5};
use crate::net::decisions::{DecisionLog, NetEvent, KEPT_DECISIONS};
use crate::net::enter::Namespaces;
use crate::net::nft;
use crate::net::relay::{self, Slot};

/// Environment variable naming a hosts file ("IP name..." lines) the proxy
/// resolves from instead of DNS. For tests: never real DNS there.
pub const HOSTS_FILE_VAR: &str = "CORDON_PROXY_HOSTS";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    rules: NetRules,
    events: Mutex<Vec<NetEvent>>,
    events_not_kept: AtomicU64,
    debug: bool,
    log: Option<Arc<DecisionLog>>,
    hosts: Option<Vec<(IpAddr, String)>>,
    /// The sandbox's namespaces: connections to its own loopback are made there.
    sandbox: Namespaces,
}

/// A running proxy; stops accepting when finished or dropped.
pub struct FilteringProxy {
    listener: OwnedFd,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl FilteringProxy {
    pub fn start(
        listener: OwnedFd,
        sandbox: Namespaces,
        rules: NetRules,
        debug: bool,
        log: Option<Arc<DecisionLog>>,
    ) -> Result<Self, String> {
        let hosts = match std::env::var_os(HOSTS_FILE_VAR) {
            None => None,
            Some(path) => Some(read_hosts(&path).map_err(|e| {
                format!(
                    "{HOSTS_FILE_VAR}: cannot read {}: {e}",
                    path.to_string_lossy()
                )
            })?),
        };
        let shared = Arc::new(Shared {
            rules,
            events: Mutex::new(Vec::new()),
            events_not_kept: AtomicU64::new(0),
            debug,
            log,
            hosts,
            sandbox,
        });
        let accept_fd = listener
            .try_clone()
            .map_err(|e| format!("filtering proxy: {e}"))?;
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("cordon-proxy".into())
            .spawn(move || {
                relay::block_sigpipe();
                let accepting = TcpListener::from(accept_fd);
                let open = relay::Connections::default();
                // Refusals at the limit are audited, but as the first of a
                // burst and a count when it ends: a sandbox hammering the
                // proxy must not grow the operator's log at its own pace.
                let mut refused: u64 = 0;
                for client in accepting.incoming() {
                    let Ok(mut client) = client else { break };
                    let Some(slot) = open.acquire() else {
                        let why = format!(
                            "the sandbox has {} connections open through the proxy already",
                            relay::MAX_CONNECTIONS
                        );
                        if refused == 0 {
                            worker.record(limit_event(format!("refused: {why}")));
                        }
                        refused += 1;
                        respond(&mut client, 503, &why);
                        continue;
                    };
                    worker.record_refusals_after_the_first(&mut refused);
                    let shared = worker.clone();
                    let _ = std::thread::Builder::new()
                        .name("cordon-proxy-conn".into())
                        .spawn(move || handle(&shared, client, slot));
                }
                worker.record_refusals_after_the_first(&mut refused);
            })
            .map_err(|e| format!("filtering proxy: {e}"))?;
        Ok(FilteringProxy {
            listener,
            thread: Some(thread),
            shared,
        })
    }

    /// Stop accepting; return the decisions kept and how many were not.
    pub fn finish(mut self) -> (Vec<NetEvent>, u64) {
        self.stop();
        let kept =
            std::mem::take(&mut *self.shared.events.lock().unwrap_or_else(|e| e.into_inner()));
        (kept, self.shared.events_not_kept.load(Ordering::Relaxed))
    }

    fn stop(&mut self) {
        // SAFETY: shutdown(2) on our own listening socket wakes the accept loop.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FilteringProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A connection refused before its request was read: no destination yet.
fn limit_event(detail: String) -> NetEvent {
    NetEvent::new(
        "limit",
        "",
        None,
        0,
        false,
        "connection-limit",
        Some(detail),
    )
}

fn read_hosts(path: &std::ffi::OsStr) -> std::io::Result<Vec<(IpAddr, String)>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(Ok(ip)) = words.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        for name in words {
            out.push((ip, name.to_ascii_lowercase()));
        }
    }
    Ok(out)
}

/// What the client asked for.
struct Request {
    host: String,
    port: u16,
    kind: &'static str,
}

fn handle(shared: &Shared, mut client: TcpStream, slot: Slot) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let mut first = [0u8; 1];
    if client.read_exact(&mut first).is_err() {
        return;
    }
    if first[0] == 5 {
        socks5(shared, client, slot);
    } else {
        http(shared, client, first[0], slot);
    }
}

/// Why a request got no connection; the text is for the client.
enum Refusal {
    /// The policy forbids it (HTTP 403, SOCKS5 "not allowed by ruleset").
    Policy(String),
    /// Allowed, but the destination could not be reached (HTTP 502).
    Unreachable(String),
}

/// The rule name recorded for requests to the sandbox's own loopback.
pub const OWN_LOOPBACK: &str = "sandbox-loopback";

/// The sandbox's own loopback address a request names, if it names one.
fn own_loopback(host: &str, literal: Option<IpAddr>) -> Option<IpAddr> {
    if let Some(ip) = literal {
        return ip.is_loopback().then_some(ip);
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (host == "localhost" || host.ends_with(".localhost")).then_some(IpAddr::from([127, 0, 0, 1]))
}

/// Judge a request and connect if it is allowed.
fn open(shared: &Shared, req: &Request) -> Result<TcpStream, Refusal> {
    let literal = req
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    if let Some(ip) = own_loopback(&req.host, literal) {
        let connected = shared.sandbox.connect(SocketAddr::new(ip, req.port));
        let reason = connected.as_ref().err().cloned();
        shared.record(NetEvent::new(
            req.kind,
            &req.host,
            Some(ip),
            req.port,
            true,
            OWN_LOOPBACK,
            reason.clone(),
        ));
        return connected.map_err(Refusal::Unreachable);
    }
    let decision = match literal {
        Some(ip) => shared
            .rules
            .judge(Destination::Addr(ip), Proto::Tcp, Some(req.port)),
        None => shared
            .rules
            .judge(Destination::Name(&req.host), Proto::Tcp, Some(req.port)),
    };
    let record = |allowed: bool, address: Option<IpAddr>, rule: &str, reason: Option<String>| {
        shared.record(NetEvent::new(
            req.kind, &req.host, address, req.port, allowed, rule, reason,
        ))
    };
    if decision.verdict == Verdict::Deny {
        record(false, literal, &decision.rule, None);
        return Err(Refusal::Policy(format!(
            "{}:{} is not allowed by the sandbox's network policy ({})",
            req.host, req.port, decision.rule
        )));
    }
    let addrs: Vec<IpAddr> = match literal {
        Some(ip) => vec![ip],
        None => match shared.resolve(&req.host, req.port) {
            Ok(addrs) if !addrs.is_empty() => addrs,
            Ok(_) | Err(_) => {
                let why = format!("{} does not resolve", req.host);
                record(false, None, &decision.rule, Some(why.clone()));
                return Err(Refusal::Unreachable(why));
            }
        },
    };
    let mut last_error = Refusal::Unreachable(format!("{} has no address", req.host));
    // Read now, not when the sandbox started: an address the host gained
    // since (a VPN, a container bridge, a DHCP renewal) is the host's too.
    let host_addrs = nft::host_addresses();
    for ip in addrs {
        let ip = cordon_policy::netrules::unmap_addr(ip);
        // The host's own loopback is never a destination (hostLoopback deny),
        // whatever a name resolves to.
        if ip.is_loopback() || ip.is_unspecified() {
            record(false, Some(ip), "network.ingress.hostLoopback", None);
            last_error = Refusal::Policy(format!(
                "{}:{} ({ip}) is the host's loopback, which the sandbox's network policy denies",
                req.host, req.port
            ));
            continue;
        }
        // Nor the host itself through one of its own addresses (services
        // bound to every address), as in model 1.
        if host_addrs.contains(&ip) {
            record(false, Some(ip), nft::HOST_ADDRESSES, None);
            last_error = Refusal::Policy(format!(
                "{}:{} ({ip}) is this host's own address, which the sandbox's network policy \
                 denies",
                req.host, req.port
            ));
            continue;
        }
        // A name's addresses still meet the CIDR deny rules (no rebinding
        // around them).
        let by_addr = shared
            .rules
            .judge(Destination::Addr(ip), Proto::Tcp, Some(req.port));
        if literal.is_none() && by_addr.verdict == Verdict::Deny && by_addr.rule != "default" {
            record(false, Some(ip), &by_addr.rule, None);
            last_error = Refusal::Policy(format!(
                "{}:{} ({ip}) is not allowed by the sandbox's network policy ({})",
                req.host, req.port, by_addr.rule
            ));
            continue;
        }
        match TcpStream::connect_timeout(&SocketAddr::new(ip, req.port), CONNECT_TIMEOUT) {
            Ok(stream) => {
                record(true, Some(ip), &decision.rule, None);
                return Ok(stream);
            }
            Err(e) => {
                record(
                    true,
                    Some(ip),
                    &decision.rule,
                    Some(format!("connect failed: {e}")),
                );
                last_error = Refusal::Unreachable(format!(
                    "connecting to {}:{} ({ip}): {e}",
                    req.host, req.port
                ));
            }
        }
    }
    Err(last_error)
}

impl Shared {
    /// End of a burst of refusals at the connection limit: one record counts
    /// those after the first (which was recorded as it happened).
    fn record_refusals_after_the_first(&self, refused: &mut u64) {
        if *refused > 1 {
            self.record(limit_event(format!(
                "{} more connections refused at the limit",
                *refused - 1
            )));
        }
        *refused = 0;
    }

    fn record(&self, event: NetEvent) {
        if self.debug {
            // Names come from the sandbox: escaped, so that no byte of theirs
            // reaches the operator's terminal as a control sequence.
            eprintln!("cordon: network: {}", event.describe().escape_debug());
        }
        if let Some(log) = &self.log {
            log.record(&event);
        }
        let mut kept = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() < KEPT_DECISIONS {
            kept.push(event);
        } else {
            self.events_not_kept.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        match &self.hosts {
            Some(table) => Ok(table
                .iter()
                .filter(|(_, n)| *n == name)
                .map(|(ip, _)| *ip)
                .collect()),
            None => Ok((name.as_str(), port)
                .to_socket_addrs()?
                .map(|a| a.ip())
                .collect()),
        }
    }
}

fn socks5(shared: &Shared, mut client: TcpStream, slot: Slot) {
    let (host, port) = match socks5::handshake(&mut client) {
        Ok(target) => target,
        Err(_) => return,
    };
    let req = Request {
        host,
        port,
        kind: "socks5",
    };
    match open(shared, &req) {
        Ok(upstream) => {
            socks5::send_reply(&mut client, socks5::reply::SUCCEEDED);
            let _ = client.set_read_timeout(None);
            relay::pump(client, upstream, slot);
        }
        Err(Refusal::Policy(_)) => socks5::send_reply(&mut client, socks5::reply::NOT_ALLOWED),
        Err(Refusal::Unreachable(_)) => socks5::send_reply(&mut client, socks5::reply::REFUSED),
    }
}

fn http(shared: &Shared, mut client: TcpStream, first: u8, slot: Slot) {
    let mut buf = vec![first];
    let (target, head_end) = loop {
        match http::parse(&buf) {
            Ok(Some(done)) => break done,
            Ok(None) => {}
            Err(refused) => return respond(&mut client, refused.status, refused.message),
        }
        let mut chunk = [0u8; 4096];
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let rest = &buf[head_end..];
    match target {
        http::Target::Connect { host, port } => {
            let req = Request {
                host,
                port,
                kind: "connect",
            };
            match open(shared, &req) {
                Ok(mut upstream) => {
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .is_err()
                        || upstream.write_all(rest).is_err()
                    {
                        return;
                    }
                    let _ = client.set_read_timeout(None);
                    relay::pump(client, upstream, slot);
                }
                Err(why) => refuse(&mut client, &why),
            }
        }
        http::Target::Plain { host, port, head } => {
            let req = Request {
                host,
                port,
                kind: "http",
            };
            let mut upstream = match open(shared, &req) {
                Ok(upstream) => upstream,
                Err(why) => return refuse(&mut client, &why),
            };
            if upstream.write_all(&head).is_err() || upstream.write_all(rest).is_err() {
                return;
            }
            let _ = client.set_read_timeout(None);
            relay::pump(client, upstream, slot);
        }
    }
}

fn refuse(client: &mut TcpStream, why: &Refusal) {
    match why {
        Refusal::Policy(text) => respond(client, 403, text),
        Refusal::Unreachable(text) => respond(client, 502, text),
    }
}

fn respond(client: &mut TcpStream, status: u16, message: &str) {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        503 => "Service Unavailable",
        431 => "Request Header Fields Too Large",
        _ => "Bad Gateway",
    };
    let body = format!("cordon: {message}\n");
    let _ = client.write_all(
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let _ = client.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_keeps_a_bounded_number_of_decisions_and_the_log_gets_all() {
        let path = std::env::temp_dir().join(format!("cordon-decisions-{}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .unwrap();
        let shared = Shared {
            rules: NetRules {
                default: Verdict::Deny,
                rules: Vec::new(),
            },
            events: Mutex::new(Vec::new()),
            events_not_kept: AtomicU64::new(0),
            debug: false,
            log: Some(Arc::new(DecisionLog::new(vec![file], "native:test"))),
            hosts: None,
            // Never entered here: the test's own namespaces stand in.
            sandbox: Namespaces {
                user: std::fs::File::open("/proc/self/ns/user").unwrap().into(),
                net: std::fs::File::open("/proc/self/ns/net").unwrap().into(),
            },
        };
        let extra = 5;
        for i in 0..KEPT_DECISIONS + extra {
            shared.record(NetEvent::new(
                "connect",
                &format!("h{i}.test"),
                None,
                443,
                false,
                "default",
                None,
            ));
        }
        assert_eq!(shared.events.lock().unwrap().len(), KEPT_DECISIONS);
        assert_eq!(shared.events_not_kept.load(Ordering::Relaxed), extra as u64);
        let log = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(log.lines().count(), KEPT_DECISIONS + extra);
        let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
        assert_eq!(last["event"], "network");
        assert_eq!(last["sandboxId"], "native:test");
        assert_eq!(
            last["destination"],
            format!("h{}.test", KEPT_DECISIONS + extra - 1)
        );
        assert_eq!(last["rule"], "default");
    }
}
