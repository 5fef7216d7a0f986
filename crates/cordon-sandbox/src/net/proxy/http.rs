//! The HTTP side of the filtering proxy: reading a request head (hostile
//! bytes from the sandbox) with `httparse`, and the head sent upstream for a
//! plain `http://` request. Pure functions: no I/O, fuzzed by
//! `fuzz/fuzz_targets/proxy_http.rs`.

/// Largest request head accepted.
pub const HEAD_LIMIT: usize = 64 * 1024;

/// Most header lines accepted in one head.
const MAX_HEADERS: usize = 128;

/// What a complete head asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `CONNECT host:port`: a tunnel.
    Connect { host: String, port: u16 },
    /// `METHOD http://authority/path`: one request, forwarded with `head`.
    Plain {
        host: String,
        port: u16,
        /// The head to send upstream: the judged host, one request, no
        /// proxy credentials.
        head: Vec<u8>,
    },
}

/// A head the proxy answers itself, with this status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub message: &'static str,
}

fn refused(status: u16, message: &'static str) -> Refused {
    Refused { status, message }
}

/// Read a request head from the start of `buf`: `Ok(None)` while it is
/// incomplete; else what it asks for and where the head ends (bytes after it
/// belong to the body or the tunnel).
pub fn parse(buf: &[u8]) -> Result<Option<(Target, usize)>, Refused> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let end = match request.parse(buf) {
        Ok(httparse::Status::Complete(end)) => end,
        Ok(httparse::Status::Partial) if buf.len() > HEAD_LIMIT => {
            return Err(refused(431, "request head too large"))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(refused(431, "request head too large")),
        Err(_) => return Err(refused(400, "malformed request line")),
    };
    if end > HEAD_LIMIT {
        return Err(refused(431, "request head too large"));
    }
    let (Some(method), Some(target), Some(version)) =
        (request.method, request.path, request.version)
    else {
        return Err(refused(400, "malformed request line"));
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_host_port(target, None) else {
            return Err(refused(400, "CONNECT needs host:port"));
        };
        return Ok(Some((Target::Connect { host, port }, end)));
    }
    // Plain HTTP through a proxy: an absolute URI.
    let Some(after_scheme) = target.strip_prefix("http://") else {
        return Err(refused(
            400,
            "cordon's proxy takes http:// URLs and CONNECT (use CONNECT for https)",
        ));
    };
    let (authority, path) = match after_scheme.find('/') {
        Some(i) => (&after_scheme[..i], &after_scheme[i..]),
        None => (after_scheme, "/"),
    };
    // Userinfo (`http://allowed@other/`) would make the judged host and the
    // one a reader sees differ.
    if authority.contains('@') {
        return Err(refused(
            400,
            "credentials in a proxied URL are not accepted",
        ));
    }
    let Some((host, port)) = split_host_port(authority, Some(80)) else {
        return Err(refused(400, "malformed URL"));
    };
    let head = upstream_head(method, path, version, authority, request.headers);
    Ok(Some((Target::Plain { host, port, head }, end)))
}

/// The head sent upstream for a plain request: one request per connection
/// (a second request on a kept-alive client connection would otherwise skip
/// the judgement), and the server is told the host that was judged, not the
/// client's own `Host` header (an allowed address must not serve a virtual
/// host the policy never allowed).
fn upstream_head(
    method: &str,
    path: &str,
    version: u8,
    authority: &str,
    headers: &[httparse::Header<'_>],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.{version}\r\nHost: {authority}\r\n").into_bytes();
    for h in headers {
        if ["host", "proxy-authorization", "connection", "keep-alive"]
            .iter()
            .any(|n| h.name.eq_ignore_ascii_case(n))
        {
            continue;
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// `host:port`, `[v6]:port`, or a bare host with `default_port`; the host
/// lowercased.
pub fn split_host_port(text: &str, default_port: Option<u16>) -> Option<(String, u16)> {
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
    fn a_connect_head_names_its_tunnel_and_where_the_tunnel_starts() {
        let buf = b"CONNECT A.test:443 HTTP/1.1\r\nHost: x\r\n\r\nTLS";
        let (target, end) = parse(buf).unwrap().unwrap();
        assert_eq!(
            target,
            Target::Connect {
                host: "a.test".into(),
                port: 443
            }
        );
        assert_eq!(&buf[end..], b"TLS");
        assert_eq!(parse(&buf[..20]), Ok(None), "incomplete");
    }

    #[test]
    fn a_plain_request_is_rewritten_for_the_judged_host() {
        let buf = b"GET http://a.test:8080/p?q HTTP/1.1\r\nHost: evil.test\r\n\
                    Proxy-Authorization: x\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n";
        let (target, _) = parse(buf).unwrap().unwrap();
        let Target::Plain { host, port, head } = target else {
            panic!("not plain");
        };
        assert_eq!((host.as_str(), port), ("a.test", 8080));
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "GET /p?q HTTP/1.1\r\nHost: a.test:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn bad_heads_are_answered_by_the_proxy() {
        for (buf, status) in [
            (&b"GET  http://a.test/ HTTP/1.1\r\n\r\n"[..], 400),
            (b"GET https://a.test/ HTTP/1.1\r\n\r\n", 400),
            (b"GET http://u@a.test/ HTTP/1.1\r\n\r\n", 400),
            (b"CONNECT a.test HTTP/1.1\r\n\r\n", 400),
            (b"GET http://a.test:0/ HTTP/1.1\r\n\r\n", 400),
        ] {
            assert_eq!(parse(buf).unwrap_err().status, status, "{buf:?}");
        }
        let long = vec![b'a'; HEAD_LIMIT + 1];
        let mut buf = b"GET http://a.test/ HTTP/1.1\r\nX: ".to_vec();
        buf.extend_from_slice(&long);
        assert_eq!(parse(&buf).unwrap_err().status, 431);
    }
}
