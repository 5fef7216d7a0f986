//! A host that refuses namespaces (as Docker's default seccomp profile does):
//! cordon must fall back to Landlock-only confinement, say so, and still
//! enforce the policy. Every attack is attempted from inside, as root and as
//! an unprivileged user.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

fn locked() -> Vec<Identity> {
    identities_and_locked_host()
        .into_iter()
        .filter(|i| i.backend == Some(LOCKED_HOST))
        .collect()
}

#[test]
fn falls_back_to_landlock_only_and_says_so() {
    for who in locked() {
        let run = cordon(who, &["run", "--json", "--debug", "--", "true"], None);
        assert_eq!(run.code, 0, "{run}");
        let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(doc["backend"], "landlock-only", "{run}");
        assert!(
            run.stderr.contains("landlock-only"),
            "--debug names the backend used\n{run}"
        );
        // Forcing a namespace backend fails clearly instead of falling back.
        let run = cordon(
            who,
            &["run", "--backend", "bubblewrap", "--", "echo", "RAN"],
            None,
        );
        assert_ne!(run.code, 0, "{run}");
        assert!(!run.stdout.contains("RAN"), "{run}");
        // probe tells why namespaces are unusable.
        let run = cordon(who, &["probe", "--json"], None);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["features"]["userNamespaces"]["usable"], false, "{run}");
        assert_eq!(doc["isSupported"], true, "{run}");
    }
}

/// Host root's sandbox is uid 0 here too, without a mount namespace to
/// idmap the baseline in: rules must keep root-only files out at any depth.
#[test]
#[ignore = "needs root"]
fn root_only_files_below_etc_stay_unreadable() {
    assert_eq!(
        current_uid(),
        0,
        "run as root (scripts/test.sh passes --include-ignored then)"
    );
    let etc = EtcFixture::new();
    let nested = std::path::Path::new(&etc.secret).parent().unwrap();
    let script = [
        probe("deep", &format!("cat {}", etc.secret)),
        probe("public", &format!("grep -q PUBLIC {}", etc.public)),
        probe("list", &format!("ls {}", nested.display())),
        probe("shadow", "cat /etc/shadow"),
        probe("passwd", "grep -q root /etc/passwd"),
    ]
    .concat();
    for who in locked().into_iter().filter(|w| w.is_root()) {
        let run = run_config(who, &json!({"process": {"commandLine": script}}));
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&[
            "deep=fail",
            "public=ok",
            "list=ok",
            "shadow=fail",
            "passwd=ok",
        ]);
    }
}

#[test]
fn filesystem_policy_holds_with_landlock_alone() {
    for who in locked() {
        let fx = Fixture::new(who);
        let rw = fx.dir("rw");
        let work = fx.dir("rw/work");
        fx.file("rw/visible.txt", "VISIBLE");
        let secret = fx.file("rw/secret.txt", "SECRET");
        let secret_dir = fx.dir("rw/secrets");
        let files_only = fx.dir("rw/files_only");
        let token = fx.file("rw/files_only/token", "TOKEN");
        fx.file("rw/files_only/public", "PUBLIC");
        fx.file("rw/secrets/key", "KEY");
        let ro_in_rw = fx.dir("rw/ro");
        let ro = fx.dir("ro");
        fx.file("ro/data", "RO");
        let rw_in_ro = fx.dir("ro/rw");
        let denied = fx.dir("denied");
        fx.file("denied/x", "X");
        let allowed_in_denied = fx.dir("denied/ok");
        let unlisted = fx.file("unlisted.txt", "UNLISTED");
        let linked = fx.p("rw/innocent");
        std::fs::hard_link(&secret, &linked).unwrap();
        let home = who.home();
        let script = [
            probe("visible", &format!("grep -q VISIBLE {rw}/visible.txt")),
            probe("write", &format!("touch {work}/new.txt")),
            probe("edit", &format!("sh -c 'echo more >> {rw}/visible.txt'")),
            // Documented limit of Landlock-only mode: a directory holding a more
            // restrictive path gets no new entries at its own top level.
            probe("top_level_create", &format!("touch {rw}/new.txt")),
            probe("secret_read", &format!("cat {secret}")),
            probe("secret_write", &format!("sh -c 'echo x > {secret}'")),
            probe("secret_link", &format!("cat {linked}")),
            probe("secret_dir_list", &format!("ls {secret_dir}")),
            probe("secret_dir_read", &format!("cat {secret_dir}/key")),
            // A directory holding a denied file (and no denied directory) lists.
            probe("files_only_list", &format!("ls {files_only}")),
            probe(
                "files_only_public",
                &format!("grep -q PUBLIC {files_only}/public"),
            ),
            probe("token_read", &format!("cat {token}")),
            probe("ro_in_rw_write", &format!("touch {ro_in_rw}/x")),
            probe("ro_read", &format!("grep -q RO {ro}/data")),
            probe("ro_write", &format!("touch {ro}/x")),
            probe("rw_in_ro_write", &format!("touch {rw_in_ro}/x")),
            probe("denied_read", &format!("cat {denied}/x")),
            probe("allowed_in_denied", &format!("touch {allowed_in_denied}/x")),
            probe("unlisted", &format!("cat {unlisted}")),
            probe("home", &format!("ls {}", home.display())),
            probe("shadow", "cat /etc/shadow"),
            probe("passwd", "cat /etc/passwd"),
            probe("usr_write", "touch /usr/x"),
            probe("tmpdir", "touch $TMPDIR/x"),
            probe("host_tmp", "touch /tmp/cordon-locked-x"),
            probe("proc_write", "sh -c 'echo 1 > /proc/sys/kernel/sysrq'"),
        ]
        .concat();
        let run = run_config(
            who,
            &json!({
                "process": {"commandLine": script},
                "filesystem": {
                    "readwritePaths": [rw, rw_in_ro, allowed_in_denied],
                    "readonlyPaths": [ro, ro_in_rw],
                    "deniedPaths": [secret, secret_dir, denied, token],
                    // Protected paths are tested in holes.rs; here they would
                    // keep new entries out of the top of every writable tree.
                    "unprotect": ["all"]
                }
            }),
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&[
            "visible=ok",
            "write=ok",
            "edit=ok",
            "top_level_create=fail",
            "secret_read=fail",
            "secret_write=fail",
            "secret_link=fail",
            "secret_dir_list=fail",
            "secret_dir_read=fail",
            "files_only_list=ok",
            "files_only_public=ok",
            "token_read=fail",
            "ro_in_rw_write=fail",
            "ro_read=ok",
            "ro_write=fail",
            "rw_in_ro_write=ok",
            "denied_read=fail",
            "allowed_in_denied=ok",
            "unlisted=fail",
            "home=fail",
            "shadow=fail",
            "passwd=ok",
            "usr_write=fail",
            "tmpdir=ok",
            "host_tmp=fail",
            "proc_write=fail",
        ]);
        assert!(!std::path::Path::new("/tmp/cordon-locked-x").exists());
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "SECRET");
    }
}

#[test]
fn network_and_host_ipc_are_out_of_reach() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let abstract_name = format!("cordon-it-abstract-{}", std::process::id());
    let abs = {
        use std::os::linux::net::SocketAddrExt;
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap();
        std::os::unix::net::UnixListener::bind_addr(&addr).unwrap()
    };
    let code = format!(
        r#"
import socket
def attempt(label, fn):
    try:
        fn(); print(label + "=ok")
    except OSError:
        print(label + "=fail")
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {tcp_port}), timeout=2))
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"leak", ("127.0.0.1", {udp_port}))
attempt("udp", udp)
def abstract():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect("\0{abstract_name}")
attempt("abstract", abstract)
def pair():
    a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"
attempt("socketpair", pair)
# listen on an unbound socket binds an ephemeral port on every address
attempt("listen", lambda: socket.socket().listen())
"#
    );
    // Control: on the host every probe works.
    let host = Run::from(
        std::process::Command::new("python3")
            .args(["-c", &code])
            .output()
            .unwrap(),
    );
    host.expect(&[
        "tcp=ok",
        "udp=ok",
        "abstract=ok",
        "socketpair=ok",
        "listen=ok",
    ]);
    let mut buf = [0u8; 8];
    let _ = udp.recv(&mut buf);
    for who in locked() {
        let run = run_config(
            who,
            &json!({"process": {"commandLine": format!("python3 -c '{code}'")}}),
        );
        assert_eq!(run.code, 0, "{run}");
        run.expect(&[
            "tcp=fail",
            "udp=fail",
            "abstract=fail",
            "socketpair=ok",
            "listen=fail",
        ]);
        let mut buf = [0u8; 8];
        assert!(
            udp.recv(&mut buf).is_err(),
            "a UDP datagram left the sandbox"
        );
    }
    drop((tcp, abs));
}

#[test]
fn host_processes_cannot_be_signalled_and_no_capabilities_remain() {
    for who in locked() {
        let mut victim = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = victim.id();
        let run = run_config(
            who,
            &json!({"process": {"commandLine": format!(
                "{}{}grep -E '^Cap(Prm|Eff|Bnd|Amb)' /proc/self/status; grep NoNewPrivs /proc/self/status",
                probe("signal", &format!("kill -9 {pid}")),
                probe("unshare", "unshare -Ur true")
            )}}),
        );
        let alive = victim.try_wait().unwrap().is_none();
        let _ = victim.kill();
        let _ = victim.wait();
        assert!(alive, "host process killed from inside\n{run}");
        run.expect(&["signal=fail", "unshare=fail"]);
        for line in run.stdout.lines().filter(|l| {
            l.starts_with("CapPrm") || l.starts_with("CapEff") || l.starts_with("CapAmb")
        }) {
            assert!(line.ends_with("0000000000000000"), "{line}");
        }
        assert!(run.stdout.contains("NoNewPrivs:\t1"), "{run}");
    }
}

#[test]
fn whole_tree_dies_on_timeout_exit_and_runner_death() {
    for who in locked() {
        let m = marker();
        let start = Instant::now();
        let run = run_config(
            who,
            &json!({"process": {"commandLine": format!("setsid sleep {m} & (sleep {m} &) & sleep {m}"), "timeout": 300}}),
        );
        assert_eq!(run.code, 124, "{run}");
        assert!(start.elapsed() < Duration::from_secs(3));
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "survivors after timeout"
        );

        let m = marker();
        let run = run_config(
            who,
            &json!({"process": {"commandLine": format!("setsid sleep {m} & (sleep {m} &) & exit 3")}}),
        );
        assert_eq!(run.code, 3, "{run}");
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "survivors after exit"
        );

        let m = marker();
        let mut cmd = command(who);
        cmd.args([
            "run",
            "--",
            "sh",
            "-c",
            &format!("setsid sleep {m} & (sleep {m} &) & sleep {m}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        wait_until(|| sleepers(&m) >= 3, 5);
        assert_eq!(processes_with(&format!("sleep {m}")).len(), 3);
        // SAFETY: kill(2) of our own child (the wrapper execs into cordon).
        unsafe { libc::kill(pid_of(&child), libc::SIGKILL) };
        let _ = child.wait();
        wait_until(|| sleepers(&m) == 0, 3);
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "survivors after SIGKILL of cordon"
        );
    }
}

#[test]
fn per_run_tmp_is_removed() {
    for who in locked() {
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "echo $TMPDIR; touch $TMPDIR/f"}}),
        );
        assert_eq!(run.code, 0, "{run}");
        let tmp = run.stdout.trim();
        assert!(tmp.starts_with("/tmp/cordon-tmp-"), "{run}");
        assert!(!std::path::Path::new(tmp).exists(), "{tmp} left behind");
    }
}

/// Run cordon under the lock script with extra lock flags.
fn locked_with(flags: &[&str], args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = std::process::Command::new("/usr/bin/python3");
    cmd.arg(lock_script())
        .args(flags)
        .arg(cordon_bin())
        .args(args)
        .current_dir("/");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn no_namespaces_and_no_landlock_means_nothing_runs() {
    let run = locked_with(&["--no-landlock"], &["run", "--", "echo", "RAN"], &[]);
    assert_eq!(run.code, 125, "{run}");
    assert!(!run.stdout.contains("RAN"), "ran unsandboxed\n{run}");
    assert!(
        run.stderr.contains("no process sandbox is available"),
        "{run}"
    );
}

#[test]
fn missing_landlock_is_reported_and_host_network_refused() {
    let run = locked_with(
        &["--no-landlock", "--allow-namespaces"],
        &["run", "--debug", "--", "echo", "RAN"],
        &[],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("RAN"));
    assert!(
        run.stderr
            .contains("landlock filesystem layer: not available"),
        "{run}"
    );
    // Without Landlock scoping, sharing the host network would expose its abstract sockets.
    let run = locked_with(
        &["--no-landlock", "--allow-namespaces"],
        &["run", "--net", "host", "--", "echo", "RAN"],
        &[],
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(!run.stdout.contains("RAN"));
    assert!(run.stderr.contains("abstract sockets"), "{run}");
}

#[test]
fn missing_bwrap_is_reported_and_process_still_runs() {
    let env = [("PATH", "/nonexistent")];
    let run = locked_with(
        &["--allow-namespaces"],
        &["run", "--backend", "bubblewrap", "--", "echo", "RAN"],
        &env,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("bwrap is not installed"), "{run}");
    assert!(!run.stdout.contains("RAN"));
    let run = locked_with(
        &["--allow-namespaces"],
        &["run", "--json", "--", "echo", "RAN"],
        &env,
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("\"backend\":\"native\""), "{run}");
    let run = locked_with(&["--allow-namespaces"], &["probe", "--json"], &env);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let bwrap = doc["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "bubblewrap")
        .unwrap();
    assert_eq!(bwrap["available"], false, "{run}");
}

#[test]
fn network_models_that_need_namespaces_are_refused_not_dropped() {
    for who in locked() {
        for network in [
            json!({"egress": {"default": "allow"}}),
            json!({"egress": {"allow": [{"to": [{"cidr": "10.0.0.0/8"}]}]}}),
            json!({"egress": {"allow": [{"to": [{"host": "a.test"}]}]}}),
        ] {
            let cfg = json!({"version": "0.8.0", "process": {"commandLine": "echo RAN"}, "network": network});
            let run = run_config(who, &cfg);
            assert_eq!(run.code, 125, "{network}\n{run}");
            assert!(!run.stdout.contains("RAN"), "{run}");
            assert!(
                run.stderr.contains("Landlock-only mode"),
                "{network}\n{run}"
            );
        }
    }
}

/// Landlock does not judge metadata changes, so the reaper makes them for
/// the workload: inside writable trees they work as they would on the host
/// (what `tar`, `cp -a`, `git init` and `chmod +x` need); a read-only path
/// stays unchanged (the attacks are in holes.rs).
#[test]
fn metadata_changes_inside_writable_trees_work() {
    for who in locked() {
        let fx = Fixture::new(who);
        let rw = fx.dir("rw/work");
        let ro = fx.file("ro-file", "x");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o644)).unwrap();
        let script = format!(
            r#"cd {rw} && echo x > f
{chmod}{touch}{xattr}{chown}mkdir -p t/d && echo y > t/d/g && chmod 750 t/d && tar cf a.tar t && rm -r t && tar xf a.tar && stat -c tar=%a t/d
{cpa}{git}{ro_chmod}"#,
            chmod = probe("chmod", "chmod 751 f && [ $(stat -c %a f) = 751 ]"),
            touch = probe("touch", "touch -d @1000000000 f && [ $(stat -c %Y f) = 1000000000 ]"),
            xattr = probe(
                "xattr",
                "python3 -c 'import os; os.setxattr(\"f\", \"user.k\", b\"v\"); assert os.getxattr(\"f\", \"user.k\") == b\"v\"; os.removexattr(\"f\", \"user.k\")'"
            ),
            chown = probe("chown", "chown $(id -u):$(id -g) f"),
            cpa = probe("cpa", "cp -a t c && [ $(stat -c %a c/d) = 750 ] && [ $(stat -c %Y c/d) = $(stat -c %Y t/d) ]"),
            git = probe("git", "git init -q repo"),
            ro_chmod = probe("ro_chmod", &format!("chmod 600 {ro}")),
        );
        let run = cordon(
            who,
            &[
                "run",
                "--rw",
                &fx.p("rw"),
                "--ro",
                &ro,
                "--",
                "sh",
                "-c",
                &script,
            ],
            None,
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&[
            "chmod=ok",
            "touch=ok",
            "xattr=ok",
            "chown=ok",
            "tar=750",
            "cpa=ok",
            "git=ok",
            "ro_chmod=fail",
        ]);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&ro).unwrap().permissions().mode() & 0o7777,
            0o644,
            "{who:?}: the read-only file changed"
        );
    }
}
