//! Network model 2 with the caller's proxy (SPEC §2.2): the sandbox's only way
//! out is one proxy endpoint on the host's loopback; every other host port and
//! every direct connection fails; the proxy variables name that endpoint only.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::netns::{net_identities, proxy_lines};
use common::*;
use serde_json::json;

/// A stand-in for the caller's proxy: answers every request with PROXIED.
fn stub_proxy() -> u16 {
    stub_proxy_on("127.0.0.1")
}

fn stub_proxy_on(ip: &str) -> u16 {
    proxy_stand_in(ip, |stream| {
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nPROXIED");
    })
}

/// A listener on `ip` that reads each request and then lets `answer` reply.
fn proxy_stand_in(ip: &str, answer: fn(&mut std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                answer(&mut stream);
            });
        }
    });
    port
}

const CLIENT: &str = r#"python3 -c 'import urllib.request as u; print(u.urlopen("http://example.invalid/").read().decode())'"#;

#[test]
fn only_the_callers_proxy_is_reachable() {
    let proxy = stub_proxy();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    for who in net_identities() {
        let script = format!(
            "{CLIENT}; \
             timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{other_port}' 2>/dev/null && echo other=reached || echo other=blocked; \
             timeout 2 bash -c 'exec 3<>/dev/tcp/192.0.2.1/80' 2>/dev/null && echo direct=reached || echo direct=blocked; \
             env | grep -i _proxy | sort"
        );
        for network in [
            json!({"runtimeConfig": {"networkProxy": format!("http://127.0.0.1:{proxy}")}, "network": {"egress": {"default": "deny"}}}),
            json!({"runtimeConfig": {"networkProxy": format!("http://localhost:{proxy}")}}),
            json!({"network": {"proxy": {"localhost": proxy}}}),
        ] {
            let mut cfg = json!({"version": "0.8.0", "process": {"commandLine": script}});
            for (k, v) in network.as_object().unwrap() {
                cfg[k] = v.clone();
            }
            let run = run_config(who, &cfg);
            assert_eq!(run.code, 0, "{who:?} {network}\n{run}");
            run.expect(&["PROXIED", "other=blocked", "direct=blocked"]);
            // NO_PROXY names only the sandbox's own loopback.
            let proxies = proxy_lines(&run);
            assert_eq!(
                proxies.len(),
                6,
                "HTTP(S)_PROXY and ALL_PROXY in both cases\n{run}"
            );
            assert!(
                proxies.iter().all(|l| l.ends_with(&format!(":{proxy}"))),
                "{run}"
            );
        }
    }
    drop(other);
}

#[test]
fn inherited_proxy_variables_are_replaced() {
    let proxy = stub_proxy();
    for who in net_identities() {
        let run = run_config(
            who,
            &json!({
                "version": "0.8.0",
                "runtimeConfig": {"networkProxy": format!("http://127.0.0.1:{proxy}")},
                "process": {"commandLine": "echo $HTTP_PROXY $NO_PROXY $no_proxy", "env": ["HTTP_PROXY=http://evil:1", "NO_PROXY=*,127.0.0.1:8080,[::1],example.com"]}
            }),
        );
        // The caller's loopback entries stay, the rest is dropped and said.
        let loopback = "localhost,127.0.0.1,::1,127.0.0.1:8080,[::1]";
        assert_eq!(
            run.stdout.trim(),
            format!("http://127.0.0.1:{proxy} {loopback} {loopback}"),
            "{run}"
        );
        assert!(
            run.stderr
                .contains("NO_PROXY entries *, example.com dropped"),
            "{run}"
        );
    }
}

#[test]
fn what_cannot_be_relayed_is_refused() {
    let proxy = stub_proxy();
    for (cfg, needle) in [
        (
            json!({"version": "0.8.0", "network": {"proxy": {"url": "https://proxy.example:3128"}}, "process": {"commandLine": "echo RAN"}}),
            "use an http:// proxy URL",
        ),
        (
            json!({"version": "0.8.0", "runtimeConfig": {"networkProxy": format!("http://127.0.0.1:{proxy}")}, "network": {"egress": {"default": "allow"}}, "process": {"commandLine": "echo RAN"}}),
            "requires network.egress.default",
        ),
    ] {
        let run = run_config(Identity::CALLER, &cfg);
        assert_eq!(run.code, 125, "{cfg}\n{run}");
        assert!(!run.stdout.contains("RAN"));
        assert!(run.stderr.contains(needle), "{cfg}\n{run}");
    }
}

/// This host's address on its default route (not loopback).
fn host_address() -> String {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    // No packet is sent: connecting a datagram socket only picks a route.
    probe.connect("198.51.100.1:9").unwrap();
    probe.local_addr().unwrap().ip().to_string()
}

#[test]
fn a_proxy_off_the_hosts_loopback_is_relayed_at_127_0_0_1() {
    let ip = host_address();
    let proxy = stub_proxy_on(&ip);
    let other = TcpListener::bind((ip.as_str(), 0)).unwrap();
    let other_port = other.local_addr().unwrap().port();
    for who in net_identities() {
        let script = format!(
            "{CLIENT}; \
             timeout 2 bash -c 'exec 3<>/dev/tcp/{ip}/{other_port}' 2>/dev/null && echo other=reached || echo other=blocked; \
             timeout 2 bash -c 'exec 3<>/dev/tcp/{ip}/{proxy}' 2>/dev/null && echo direct=reached || echo direct=blocked; \
             echo HTTPS_PROXY=$HTTPS_PROXY"
        );
        let cfg = json!({"version": "0.8.0", "process": {"commandLine": script},
            "network": {"proxy": {"url": format!("http://{ip}:{proxy}")}}});
        let run = run_config(who, &cfg);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&[
            "PROXIED",
            "other=blocked",
            "direct=blocked",
            &format!("HTTPS_PROXY=http://127.0.0.1:{proxy}"),
        ]);
    }
    drop(other);
}

/// A proxy stand-in that streams without end once asked.
fn streaming_proxy() -> u16 {
    proxy_stand_in("127.0.0.1", |stream| {
        let chunk = vec![b'x'; 65536];
        while stream.write_all(&chunk).is_ok() {}
    })
}

#[test]
fn a_client_leaving_mid_transfer_does_not_take_the_supervisor_down() {
    let proxy = streaming_proxy();
    let client = format!(
        r#"python3 -c 'import socket,time; c=socket.create_connection(("127.0.0.1",{proxy})); c.sendall(b"GET / HTTP/1.0\r\n\r\n"); c.recv(10); c.close(); time.sleep(0.5); print("alive")'"#
    );
    for who in net_identities() {
        let cfg = json!({"version": "0.8.0", "process": {"commandLine": client},
            "runtimeConfig": {"networkProxy": format!("http://127.0.0.1:{proxy}")}});
        let run = run_config(who, &cfg);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&["alive"]);
    }
}
