//! Network model 1 (egress rules) on hosts without a default route: an
//! offline laptop, air-gapped CI, a network namespace holding only local
//! services. cordon runs inside network namespaces these tests create:
//!
//! - `cordon-lonly`: only the loopback device, with lab addresses on it
//!   (10.204.0.1/32, fd04::1/128) and listeners on TCP 9001 and 9003;
//! - `cordon-bridge`: loopback plus a veth pair to `cordon-bpeer` (host side
//!   10.204.1.1/24 and fd04:1::1/64, peer .2 and ::2, listeners on TCP 9001,
//!   9002 and 9005 on both ends); no default route anywhere;
//! - `cordon-v4` / `cordon-v6` (peers `cordon-v4peer`, `cordon-v6peer`):
//!   single-family hosts (10.204.4.0/24, fd04:6::/64), run once without and
//!   once with a default route through the peer.
//!
//! The sandbox must start there and reach what the host's routing reaches
//! under the rules, and nothing else. Each blocked probe has a control: the
//! same probe under a policy that allows it (or, for the host's own address,
//! from the namespace itself) must succeed.

mod common;

use std::process::Command;
use std::sync::OnceLock;

use common::netns::{net_identities, serve_in, sh, verdicts};
use common::*;
use serde_json::{json, Value};

const LONLY: &str = "cordon-lonly";
const BRIDGE: &str = "cordon-bridge";
const PEER: &str = "cordon-bpeer";
/// Single-family hosts: (namespace, peer, host address, peer address, prefix).
const SINGLE: [(&str, &str, &str, &str, &str); 2] = [
    (
        "cordon-v4",
        "cordon-v4peer",
        "10.204.4.1",
        "10.204.4.2",
        "24",
    ),
    ("cordon-v6", "cordon-v6peer", "fd04:6::1", "fd04:6::2", "64"),
];

extern "C" fn remove_namespaces() {
    let _ = Command::new("sh")
        .args([
            "-c",
            &format!(
                "for ns in {LONLY} {BRIDGE} {PEER} cordon-v4 cordon-v4peer cordon-v6 \
                 cordon-v6peer; do ip netns del $ns; done; rm -rf {}",
                support_dir().display()
            ),
        ])
        .output();
}

fn support_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("cordon-offline-{}", std::process::id()))
}

/// The namespaces, made once per test process and removed at exit.
fn lab() -> &'static std::path::Path {
    static LAB: OnceLock<std::path::PathBuf> = OnceLock::new();
    LAB.get_or_init(|| {
        assert_eq!(
            current_uid(),
            0,
            "the offline network tests create network namespaces: run them as root"
        );
        remove_namespaces();
        sh(&format!(
            "ip netns add {LONLY}
             ip -n {LONLY} link set lo up
             ip -n {LONLY} addr add 10.204.0.1/32 dev lo
             ip -n {LONLY} -6 addr add fd04::1/128 dev lo
             ip netns add {BRIDGE}
             ip netns add {PEER}
             ip -n {BRIDGE} link set lo up
             ip -n {PEER} link set lo up
             ip -n {BRIDGE} link add co-host type veth peer name co-peer netns {PEER}
             ip -n {BRIDGE} addr add 10.204.1.1/24 dev co-host
             ip -n {BRIDGE} -6 addr add fd04:1::1/64 dev co-host nodad
             ip -n {BRIDGE} link set co-host up
             ip -n {PEER} addr add 10.204.1.2/24 dev co-peer
             ip -n {PEER} -6 addr add fd04:1::2/64 dev co-peer nodad
             ip -n {PEER} link set co-peer up"
        ));
        for (ns, peer, host, remote, prefix) in SINGLE {
            let (family, nodad) = if host.contains(':') {
                ("-6", "nodad")
            } else {
                ("-4", "")
            };
            sh(&format!(
                "ip netns add {ns}
                 ip netns add {peer}
                 ip -n {ns} link set lo up
                 ip -n {peer} link set lo up
                 ip -n {ns} link add eth9 type veth peer name eth9 netns {peer}
                 ip -n {ns} {family} addr add {host}/{prefix} dev eth9 {nodad}
                 ip -n {peer} {family} addr add {remote}/{prefix} dev eth9 {nodad}
                 ip -n {ns} link set eth9 up
                 ip -n {peer} link set eth9 up"
            ));
        }
        // SAFETY: registering a plain extern "C" function to run at exit.
        unsafe { libc::atexit(remove_namespaces) };
        let support = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support");
        let server = format!("{support}/remote_server.py");
        for (ns, ports) in [
            (LONLY, &["tcp:9001", "tcp:9003"][..]),
            (BRIDGE, &["tcp:9001"][..]),
            (PEER, &["tcp:9002", "tcp:9005"][..]),
            ("cordon-v4peer", &["tcp:9002"][..]),
            ("cordon-v6peer", &["tcp:9002"][..]),
        ] {
            let mut args = vec![server.clone()];
            args.extend(ports.iter().map(|p| p.to_string()));
            serve_in(ns, args);
        }
        // The veths' IPv6 link-local addresses are in place (neighbour
        // discovery between host and peer uses them).
        for (ns, dev) in [(BRIDGE, "co-host"), ("cordon-v6", "eth9")] {
            sh(&format!(
                "for i in $(seq 50); do ip -n {ns} -6 addr show dev {dev} scope link \
                 | grep -q 'fe80' && ! ip -n {ns} -6 addr show dev {dev} | grep -q tentative \
                 && exit 0; sleep 0.1; done; exit 1"
            ));
        }
        let dir = support_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            format!("{support}/net_client.py"),
            dir.join("net_client.py"),
        )
        .unwrap();
        sh(&format!("chmod -R a+rX {}", dir.display()));
        dir
    })
}

/// `cordon` as `who`, inside namespace `ns`.
fn in_namespace(ns: &str, who: Identity) -> Command {
    let inner = command(who);
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns])
        .arg(inner.get_program())
        .current_dir("/");
    cmd.args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

/// Run the probe client in a sandbox in `ns` under `egress` rules.
fn probe(ns: &str, who: Identity, egress: Value, probes: &[&str]) -> Run {
    let dir = lab();
    let cfg = json!({
        "version": "1.0.0",
        "process": {"commandLine": format!("python3 {}/net_client.py {}", dir.display(), probes.join(" "))},
        "filesystem": {"readonlyPaths": [dir]},
        "network": {"egress": egress},
    });
    let file = ConfigFile::new(&for_backend(who, &cfg));
    let run = Run::from(
        in_namespace(ns, who)
            .args(["--config", file.path.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{who:?} in {ns}\n{run}");
    run
}

#[test]
#[ignore = "needs root"]
fn rules_start_and_hold_with_only_loopback_lab_addresses() {
    for who in net_identities() {
        let narrow = json!({"default": "deny", "allow": [
            {"to": [{"cidr": "10.204.0.1/32"}, {"cidr": "fd04::1/128"}],
             "ports": [{"protocol": "tcp", "port": 9001}]}]});
        let run = probe(
            LONLY,
            who,
            narrow,
            &[
                "lab=tcp:10.204.0.1:9001",
                "port=tcp:10.204.0.1:9003",
                "lab6=tcp:[fd04::1]:9001",
                "port6=tcp:[fd04::1]:9003",
            ],
        );
        verdicts(
            &run,
            &[
                ("lab", true),
                ("port", false),
                ("lab6", true),
                ("port6", false),
            ],
        );
        // Control: the refused port answers when a rule allows it.
        let wide = json!({"default": "deny", "allow": [
            {"to": [{"cidr": "10.204.0.0/24"}, {"cidr": "fd04::/64"}]}]});
        let run = probe(
            LONLY,
            who,
            wide,
            &["port=tcp:10.204.0.1:9003", "port6=tcp:[fd04::1]:9003"],
        );
        verdicts(&run, &[("port", true), ("port6", true)]);
        // A rule allowing everything does not open the host's lab addresses:
        // only a rule naming them does.
        let everything = json!({"default": "allow"});
        let run = probe(
            LONLY,
            who,
            everything,
            &["lab=tcp:10.204.0.1:9001", "lab6=tcp:[fd04::1]:9001"],
        );
        verdicts(&run, &[("lab", false), ("lab6", false)]);
    }
}

#[test]
#[ignore = "needs root"]
fn rules_start_and_hold_behind_a_local_bridge_for_both_families() {
    let rules = json!({"default": "deny", "allow": [
        {"to": [{"cidr": "10.204.1.0/24"}, {"cidr": "fd04:1::/64"}],
         "ports": [{"protocol": "tcp", "port": 9001, "endPort": 9002}]}]});
    for who in net_identities() {
        let run = probe(
            BRIDGE,
            who,
            rules.clone(),
            &[
                "peer4=tcp:10.204.1.2:9002",
                "peer6=tcp:[fd04:1::2]:9002",
                "port=tcp:10.204.1.2:9005",
                "host=tcp:10.204.1.1:9001",
            ],
        );
        verdicts(
            &run,
            &[
                ("peer4", true),
                ("peer6", true),
                ("port", false),
                ("host", false),
            ],
        );
        let wide = json!({"default": "allow"});
        let run = probe(BRIDGE, who, wide, &["port=tcp:10.204.1.2:9005"]);
        verdicts(&run, &[("port", true)]);
    }
    // Control for the host's own address: it answers from the namespace itself.
    let dir = lab();
    let out = Command::new("ip")
        .args(["netns", "exec", BRIDGE, "python3"])
        .arg(dir.join("net_client.py"))
        .arg("host=tcp:10.204.1.1:9001")
        .output()
        .unwrap();
    let run = Run::from(out);
    verdicts(&run, &[("host", true)]);
}

#[test]
#[ignore = "needs root"]
fn single_family_hosts_with_and_without_a_default_route() {
    lab();
    for (ns, _, _, remote, prefix) in SINGLE {
        let target = if remote.contains(':') {
            format!("peer=tcp:[{remote}]:9002")
        } else {
            format!("peer=tcp:{remote}:9002")
        };
        let net = format!("{remote}/{prefix}");
        for default_route in [false, true] {
            if default_route {
                sh(&format!("ip -n {ns} route add default via {remote}"));
            }
            for who in net_identities() {
                let allow = json!({"default": "deny", "allow": [
                    {"to": [{"cidr": net}], "ports": [{"protocol": "tcp", "port": 9002}]}]});
                let run = probe(ns, who, allow, &[&target]);
                verdicts(&run, &[("peer", true)]);
                // Control of the rule: refused when not allowed.
                let deny = json!({"default": "deny", "allow": [
                    {"to": [{"cidr": net}], "ports": [{"protocol": "tcp", "port": 9003}]}]});
                let run = probe(ns, who, deny, &[&target]);
                verdicts(&run, &[("peer", false)]);
            }
        }
    }
}

/// The same boundary for a long-lived sandbox started in the namespace with
/// only loopback: commands run through lifecycle `exec` (the wire form, schema
/// 1.0.0) reach the lab address on the allowed port and nothing else.
#[test]
#[ignore = "needs root"]
fn a_long_lived_sandbox_keeps_its_rules_offline() {
    let dir = lab();
    for who in net_identities() {
        let state = Fixture::private(who);
        let send = |request: Value| -> Run {
            let file = ConfigFile::new(&request);
            Run::from(
                in_namespace(LONLY, who)
                    .env("CORDON_STATE_DIR", &state.root)
                    .args(["--config", file.path.to_str().unwrap()])
                    .output()
                    .unwrap(),
            )
        };
        let provision = for_backend(
            who,
            &json!({"version": "1.0.0", "phase": "provision", "containment": "process",
                "filesystem": {"readonlyPaths": [dir]},
                "network": {"egress": {"default": "deny", "allow": [
                    {"to": [{"cidr": "10.204.0.1/32"}], "ports": [{"protocol": "tcp", "port": 9001}]}]}}}),
        );
        let run = send(provision);
        let doc: Value =
            serde_json::from_str(run.stdout.trim()).unwrap_or_else(|_| panic!("{run}"));
        let id = doc["result"]["sandboxId"]
            .as_str()
            .unwrap_or_else(|| panic!("{run}"))
            .to_string();
        let started = send(json!({"version": "1.0.0", "phase": "start", "sandboxId": id}));
        let probes = format!(
            "python3 {}/net_client.py lab=tcp:10.204.0.1:9001 port=tcp:10.204.0.1:9003",
            dir.display()
        );
        let exec = send(json!({"version": "1.0.0", "phase": "exec", "sandboxId": id,
            "process": {"commandLine": probes}}));
        send(json!({"version": "1.0.0", "phase": "stop", "sandboxId": id}));
        let gone = send(json!({"version": "1.0.0", "phase": "deprovision", "sandboxId": id}));
        assert_eq!(started.code, 0, "{who:?}\n{started}");
        assert_eq!(exec.code, 0, "{who:?}\n{exec}");
        verdicts(&exec, &[("lab", true), ("port", false)]);
        assert_eq!(gone.code, 0, "{who:?}\n{gone}");
    }
}
