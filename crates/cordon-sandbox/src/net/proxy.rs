//! cordon's filtering proxy (model 2 with host rules). It runs in the
//! supervisor, on the host's side, and accepts on a socket that listens in the
//! sandbox's own network namespace: the sandbox has no other way out.
//!
//! One port speaks HTTP (CONNECT and absolute-URI requests) and SOCKS5 (told
//! apart by the first byte). Each request is judged by the policy's rules:
//! the name against host rules, then every address it resolves to (at
//! connect time) against CIDR deny rules and the host's loopback.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cordon_policy::netrules::{Destination, NetRules, Proto, Verdict};

use super::{DecisionLog, NetEvent, KEPT_DECISIONS};

/// Environment variable naming a hosts file ("IP name..." lines) the proxy
/// resolves from instead of DNS. For tests: never real DNS there.
pub const HOSTS_FILE_VAR: &str = "CORDON_PROXY_HOSTS";

const HEAD_LIMIT: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

struct Shared {
    rules: NetRules,
    events: Mutex<Vec<NetEvent>>,
    events_not_kept: AtomicU64,
    debug: bool,
    log: Option<Arc<DecisionLog>>,
    hosts: Option<Vec<(IpAddr, String)>>,
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
        });
        let accept_fd = listener
            .try_clone()
            .map_err(|e| format!("filtering proxy: {e}"))?;
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("cordon-proxy".into())
            .spawn(move || {
                super::relay::block_sigpipe();
                let accepting = TcpListener::from(accept_fd);
                let open = super::relay::Connections::default();
                // Refusals at the limit are audited, but as the first of a
                // burst and a count when it ends: a sandbox hammering the
                // proxy must not grow the operator's log at its own pace.
                let mut refused: u64 = 0;
                for client in accepting.incoming() {
                    let Ok(mut client) = client else { break };
                    let Some(slot) = open.acquire() else {
                        let why = format!(
                            "the sandbox has {} connections open through the proxy already",
                            super::relay::MAX_CONNECTIONS
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

fn handle(shared: &Shared, mut client: TcpStream, slot: super::relay::Slot) {
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

/// Judge a request and connect if it is allowed.
fn open(shared: &Shared, req: &Request) -> Result<TcpStream, Refusal> {
    let literal = req
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
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
    let host_addrs = super::nft::host_addresses();
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
            record(false, Some(ip), super::nft::HOST_ADDRESSES, None);
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

fn socks5(shared: &Shared, mut client: TcpStream, slot: super::relay::Slot) {
    // Greeting: VER(5, already read) NMETHODS METHODS...
    let mut n = [0u8; 1];
    if client.read_exact(&mut n).is_err() {
        return;
    }
    let mut methods = vec![0u8; n[0] as usize];
    if client.read_exact(&mut methods).is_err() {
        return;
    }
    if !methods.contains(&0) {
        let _ = client.write_all(&[5, 0xff]);
        return;
    }
    if client.write_all(&[5, 0]).is_err() {
        return;
    }
    // Request: VER CMD RSV ATYP DST.ADDR DST.PORT
    let mut head = [0u8; 4];
    if client.read_exact(&mut head).is_err() {
        return;
    }
    let reply = |client: &mut TcpStream, code: u8| {
        let _ = client.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
    };
    if head[1] != 1 {
        return reply(&mut client, 7); // command not supported: CONNECT only
    }
    let host = match head[3] {
        1 => {
            let mut a = [0u8; 4];
            if client.read_exact(&mut a).is_err() {
                return;
            }
            IpAddr::from(a).to_string()
        }
        4 => {
            let mut a = [0u8; 16];
            if client.read_exact(&mut a).is_err() {
                return;
            }
            IpAddr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            if client.read_exact(&mut len).is_err() {
                return;
            }
            let mut name = vec![0u8; len[0] as usize];
            if client.read_exact(&mut name).is_err() {
                return;
            }
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return reply(&mut client, 8), // address type not supported
    };
    let mut port = [0u8; 2];
    if client.read_exact(&mut port).is_err() {
        return;
    }
    let req = Request {
        host,
        port: u16::from_be_bytes(port),
        kind: "socks5",
    };
    match open(shared, &req) {
        Ok(upstream) => {
            reply(&mut client, 0);
            let _ = client.set_read_timeout(None);
            super::relay::pump(client, upstream, slot);
        }
        // 2: connection not allowed by ruleset; 5: connection refused.
        Err(Refusal::Policy(_)) => reply(&mut client, 2),
        Err(Refusal::Unreachable(_)) => reply(&mut client, 5),
    }
}

fn http(shared: &Shared, mut client: TcpStream, first: u8, slot: super::relay::Slot) {
    let mut buf = vec![first];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > HEAD_LIMIT {
            return respond(&mut client, 431, "request head too large");
        }
        let mut chunk = [0u8; 4096];
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let rest = buf[head_end..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return respond(&mut client, 400, "malformed request line");
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, None) else {
            return respond(&mut client, 400, "CONNECT needs host:port");
        };
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
                    || upstream.write_all(&rest).is_err()
                {
                    return;
                }
                let _ = client.set_read_timeout(None);
                super::relay::pump(client, upstream, slot);
            }
            Err(why) => refuse(&mut client, &why),
        }
        return;
    }
    // Plain HTTP through a proxy: an absolute URI.
    let Some(after_scheme) = target.strip_prefix("http://") else {
        return respond(
            &mut client,
            400,
            "cordon's proxy takes http:// URLs and CONNECT (use CONNECT for https)",
        );
    };
    let (authority, path) = match after_scheme.find('/') {
        Some(i) => (&after_scheme[..i], &after_scheme[i..]),
        None => (after_scheme, "/"),
    };
    // Userinfo (`http://allowed@other/`) would make the judged host and the
    // one a reader sees differ.
    if authority.contains('@') {
        return respond(
            &mut client,
            400,
            "credentials in a proxied URL are not accepted",
        );
    }
    let Some((host, port)) = split_host_port(authority, Some(80)) else {
        return respond(&mut client, 400, "malformed URL");
    };
    let req = Request {
        host,
        port,
        kind: "http",
    };
    let mut upstream = match open(shared, &req) {
        Ok(upstream) => upstream,
        Err(why) => return refuse(&mut client, &why),
    };
    // One request per connection: a second request on a kept-alive client
    // connection would otherwise skip the judgement.
    // The server is told the host that was judged, not the client's own
    // `Host` header: an allowed address must not serve a virtual host the
    // policy never allowed.
    let mut out = format!("{method} {path} {version}\r\nHost: {authority}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim();
        if ["host", "proxy-authorization", "connection", "keep-alive"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    if upstream.write_all(out.as_bytes()).is_err() || upstream.write_all(&rest).is_err() {
        return;
    }
    let _ = client.set_read_timeout(None);
    super::relay::pump(client, upstream, slot);
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `host:port`, `[v6]:port`, or a bare host with `default_port`.
fn split_host_port(text: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port?,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (text.to_string(), default_port?),
        }
    };
    if host.is_empty() || port == 0 {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            split_host_port("a.test:443", None),
            Some(("a.test".into(), 443))
        );
        assert_eq!(
            split_host_port("[fd00::1]:80", None),
            Some(("fd00::1".into(), 80))
        );
        assert_eq!(
            split_host_port("A.test", Some(80)),
            Some(("a.test".into(), 80))
        );
        assert_eq!(split_host_port("a.test", None), None);
        assert_eq!(split_host_port("a.test:0", None), None);
        assert_eq!(split_host_port("a.test:x", None), None);
    }

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
            log: Some(Arc::new(DecisionLog::new(file, "native:test"))),
            hosts: None,
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
