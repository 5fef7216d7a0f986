//! The escape corpus: every program in `tests/escape/` is a real attempt to
//! get out (privileges, mount view, host processes and network, kernel attack
//! surface). Each exits 0 if its attack worked, 1 if it was refused and 2 if
//! the probe itself is broken (`probe.lib`). Each runs inside a sandbox on
//! every backend and on a locked host (Landlock-only mode), as root and as an
//! unprivileged user, and must exit exactly 1. Its control runs it on the
//! host as root first (in a private mount namespace), where it must work
//! (exit 0): a probe that cannot succeed anywhere proves nothing.

mod common;

use std::net::TcpListener;
use std::path::Path;

use common::*;
use serde_json::json;

/// What the probes attack on the host: a listener on loopback, an abstract
/// unix socket and a process of the host (killed on drop).
struct HostBait {
    listener: TcpListener,
    abstract_name: String,
    _abstract: std::os::unix::net::UnixListener,
    victim: std::process::Child,
}

impl HostBait {
    fn new(tag: &str) -> Self {
        use std::os::linux::net::SocketAddrExt;
        let abstract_name = format!("cordon-{tag}-{}", std::process::id());
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        HostBait {
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
            _abstract: std::os::unix::net::UnixListener::bind_addr(&addr).unwrap(),
            abstract_name,
            victim: std::process::Command::new("sleep")
                .arg("60")
                .spawn()
                .unwrap(),
        }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    fn victim_alive(&mut self) -> bool {
        self.victim.try_wait().unwrap().is_none()
    }
}

impl Drop for HostBait {
    fn drop(&mut self) {
        let _ = self.victim.kill();
        let _ = self.victim.wait();
    }
}

/// The files the probes attack in a fixture: a writable tree with a
/// secret (and a hard link to it), a denied directory, a read-only tree, a
/// file no list names and an agent socket inside the writable tree.
struct Targets {
    rw: String,
    secret: String,
    denied_dir: String,
    ro: String,
    outside: String,
    agent: String,
    _agent: std::os::unix::net::UnixListener,
}

impl Targets {
    fn new(fx: &Fixture) -> Self {
        let rw = fx.dir("rw");
        let secret = fx.file("rw/secret", "SECRET");
        std::fs::hard_link(&secret, fx.path("rw/innocent")).unwrap();
        let denied_dir = fx.dir("rw/secrets");
        fx.file("rw/secrets/key", "KEY");
        let ro = fx.dir("ro");
        fx.file("ro/data", "RO");
        let outside = fx.file("outside.txt", "OUTSIDE");
        let agent = fx.p("rw/agent.sock");
        let _agent = listen(&agent);
        Targets {
            rw,
            secret,
            denied_dir,
            ro,
            outside,
            agent,
            _agent,
        }
    }
}

/// Every probe's file name.
fn corpus_names() -> Vec<String> {
    let corpus_src = corpus_src();
    let mut names: Vec<String> = std::fs::read_dir(&corpus_src)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sh"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 40,
        "the corpus holds {} programs",
        names.len()
    );
    names
}

/// The probes and their shared library, copied into `corpus` of a fixture.
fn install_corpus(fx: &Fixture, names: &[String]) -> String {
    let src = corpus_src();
    let corpus = fx.dir("corpus");
    for name in names.iter().map(String::as_str).chain(["probe.lib"]) {
        let body = std::fs::read_to_string(src.join(name)).unwrap();
        fx.file(&format!("corpus/{name}"), &body);
    }
    corpus
}

fn corpus_src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/escape")
}

/// Whether a probe's header says its attack can be shown to work on the host.
fn has_control(name: &str) -> bool {
    let body = std::fs::read_to_string(corpus_src().join(name)).unwrap();
    let control = body
        .lines()
        .find_map(|l| l.strip_prefix("# control: "))
        .unwrap_or_else(|| panic!("{name} has no `# control:` line"));
    match control {
        "root" => true,
        why if why.starts_with("none (") => false,
        other => panic!("{name}: unknown control {other:?}"),
    }
}

/// Every probe exits `name CODE` lines through this loop; `before` runs
/// before each probe, `wrap` prefixes its command.
fn corpus_loop(corpus: &str, before: &str, wrap: &str) -> String {
    format!("for f in {corpus}/*.sh; do {before} {wrap} timeout 10 sh \"$f\" >/dev/null 2>&1; echo \"$(basename $f) $?\"; done")
}

/// The `name CODE` lines of a corpus run, checked against `expected`.
fn check_codes(stdout: &str, names: &[String], expected: i32, context: &str) {
    let mut seen = 0;
    for line in stdout.lines() {
        let Some((name, code)) = line.rsplit_once(' ') else {
            continue;
        };
        if !names.iter().any(|n| n == name) {
            continue;
        }
        seen += 1;
        let code: i32 = code.parse().unwrap_or(-1);
        assert!(
            code == expected,
            "{context}: {name} exited {code}, expected {expected} ({})\n{stdout}",
            match code {
                0 => "the attack WORKED",
                1 => "the attack was refused",
                2 => "the probe is broken",
                _ => "an exit no probe may use",
            }
        );
    }
    assert_eq!(seen, names.len(), "{context}: every probe ran\n{stdout}");
}

/// The controls: as root on the host (a private mount namespace per probe
/// keeps its mounts off the host), every probe with a control must work. Run as root
/// by scripts/test.sh (`--include-ignored`).
#[test]
#[ignore = "needs root"]
fn every_attack_with_a_control_works_on_the_host() {
    assert_eq!(current_uid(), 0, "run as root");
    let names: Vec<String> = corpus_names()
        .into_iter()
        .filter(|n| has_control(n))
        .collect();
    assert!(names.len() >= 38, "{} probes have a control", names.len());
    let fx = Fixture::new(Identity::CALLER);
    let corpus = install_corpus(&fx, &names);
    // Only the probes with a control.
    for entry in std::fs::read_dir(&corpus).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sh") && !names.contains(&name) {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let Targets {
        rw,
        secret,
        denied_dir,
        ro,
        outside,
        agent,
        _agent,
    } = Targets::new(&fx);
    let audit_log = fx.file("rw/audit.jsonl", "{\"event\":\"spawn\"}\n");
    let bait = HostBait::new("control");
    // On the host the attacks work: a moved secret is put back, and each
    // probe has a mount namespace of its own (a tmpfs over /tmp would hide
    // the corpus from the next one).
    let script = corpus_loop(
        &corpus,
        "printf SECRET > \"$SECRET\";",
        "unshare --mount --propagation private",
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("HOME_DIR", "/root")
        .env("OUTSIDE", &outside)
        .env("RO", &ro)
        .env("RW", &rw)
        .env("SECRET", &secret)
        .env("DENIED_DIR", &denied_dir)
        .env("HOSTPID", bait.victim.id().to_string())
        .env("HOSTPORT", bait.port().to_string())
        .env("ABSTRACT", &bait.abstract_name)
        .env("AGENT_SOCK", &agent)
        .env("AUDIT_LOG", &audit_log)
        .output()
        .unwrap();
    drop(bait);
    let stdout = String::from_utf8_lossy(&out.stdout);
    check_codes(&stdout, &names, 0, "control on the host");
}

#[test]
fn every_attack_in_the_corpus_fails_everywhere() {
    let names = corpus_names();

    let mut bait = HostBait::new("corpus");
    let port = bait.port();
    let abstract_name = bait.abstract_name.clone();

    let targets = identities_and_locked_host();
    for who in targets {
        let fx = Fixture::new(who);
        let corpus = install_corpus(&fx, &names);
        let Targets {
            rw,
            secret,
            denied_dir,
            ro,
            outside,
            agent,
            _agent,
        } = Targets::new(&fx);
        let audit_log = fx.p("rw/audit.jsonl");
        let script = corpus_loop(&corpus, "", "");
        let env = [
            format!("HOME_DIR={}", who.home().display()),
            format!("OUTSIDE={outside}"),
            format!("RO={ro}"),
            format!("RW={rw}"),
            format!("SECRET={secret}"),
            format!("DENIED_DIR={denied_dir}"),
            format!("HOSTPID={}", bait.victim.id()),
            format!("HOSTPORT={port}"),
            format!("ABSTRACT={abstract_name}"),
            format!("AGENT_SOCK={agent}"),
            format!("AUDIT_LOG={audit_log}"),
        ];
        let run = run_config_with_env(
            who,
            &[
                ("SSH_AUTH_SOCK", agent.as_str()),
                ("CORDON_AUDIT_LOG", audit_log.as_str()),
            ],
            &json!({
                "process": {"commandLine": script, "env": env},
                "filesystem": {
                    "readonlyPaths": [corpus, ro],
                    "readwritePaths": [rw],
                    "deniedPaths": [secret, denied_dir]
                }
            }),
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        check_codes(&run.stdout, &names, 1, &format!("{who:?} in the sandbox"));
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "SECRET");
        let log = std::fs::read_to_string(&audit_log).unwrap();
        assert!(
            log.lines().next().is_some_and(|l| l.contains("\"spawn\"")),
            "{who:?}: the audit log lost its records\n{log}"
        );
    }
    assert!(bait.victim_alive(), "the host process was killed");
}
