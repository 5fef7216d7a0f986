//! The escape corpus: every program in `tests/escape/` is a real attempt to
//! get out (privileges, mount view, host processes and network, kernel attack
//! surface). Each runs inside a sandbox on every backend and on a locked host
//! (Landlock-only mode), as root and as an unprivileged user, and must fail.

mod common;

use std::net::TcpListener;
use std::path::Path;

use common::*;
use serde_json::json;

#[test]
fn every_attack_in_the_corpus_fails_everywhere() {
    let corpus_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/escape");
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

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let abstract_name = format!("cordon-corpus-{}", std::process::id());
    let _abstract = {
        use std::os::linux::net::SocketAddrExt;
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        std::os::unix::net::UnixListener::bind_addr(&addr).unwrap()
    };
    let mut victim = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();

    let targets = identities_and_locked_host();
    for who in targets {
        let fx = Fixture::new(who);
        let corpus = fx.dir("corpus");
        for name in &names {
            let body = std::fs::read_to_string(corpus_src.join(name)).unwrap();
            fx.file(&format!("corpus/{name}"), &body);
        }
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
        let audit_log = fx.p("rw/audit.jsonl");
        let script = format!(
            "for f in {corpus}/*.sh; do if timeout 10 sh \"$f\" >/dev/null 2>&1; then echo \"$(basename $f) ESCAPED\"; else echo \"$(basename $f) BLOCKED\"; fi; done"
        );
        let env = [
            format!("HOME_DIR={}", who.home().display()),
            format!("OUTSIDE={outside}"),
            format!("RO={ro}"),
            format!("RW={rw}"),
            format!("SECRET={secret}"),
            format!("DENIED_DIR={denied_dir}"),
            format!("HOSTPID={}", victim.id()),
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
        let escaped: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.ends_with("ESCAPED"))
            .collect();
        assert!(escaped.is_empty(), "{who:?} escaped: {escaped:?}\n{run}");
        assert_eq!(
            run.stdout
                .lines()
                .filter(|l| l.ends_with("BLOCKED"))
                .count(),
            names.len(),
            "{who:?}: every program ran\n{run}"
        );
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "SECRET");
        let log = std::fs::read_to_string(&audit_log).unwrap();
        assert!(
            log.lines().next().is_some_and(|l| l.contains("\"spawn\"")),
            "{who:?}: the audit log lost its records\n{log}"
        );
    }
    assert!(
        victim.try_wait().unwrap().is_none(),
        "the host process was killed"
    );
    let _ = victim.kill();
    let _ = victim.wait();
}
