//! The operator's ceiling (`/etc/cordon/ceiling.json`): every entry point of
//! every user is held under it, each bypass attempt fails, and a broken
//! ceiling stops every run. Each refusal has a control: the same request
//! within the ceiling runs.
//!
//! The ceiling is put in place for one command at a time: the command runs
//! in a private mount namespace (made by root) where a test directory is
//! bound over `/etc/cordon`, so other tests and the host never see it and
//! cordon reads it from its real, fixed location.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

/// A root-owned directory holding `ceiling.json`, bound over /etc/cordon.
struct CeilingDir {
    dir: PathBuf,
}

impl CeilingDir {
    fn new(doc: &Value) -> Self {
        Self::raw(&doc.to_string(), 0o644)
    }

    fn raw(text: &str, mode: u32) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = PathBuf::from(format!("/tmp/cordon-it-{}-ceiling-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("ceiling.json");
        std::fs::write(&file, text).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        CeilingDir { dir }
    }

    fn file(&self) -> String {
        self.dir.join("ceiling.json").display().to_string()
    }
}

impl Drop for CeilingDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn root_only() {
    assert_eq!(
        current_uid(),
        0,
        "run as root (scripts/test.sh passes --include-ignored then): only root can put a \
         ceiling in place"
    );
    // The mount point the tests bind over; an empty directory is no ceiling.
    // Made once, and removed when this test binary exits if it made it.
    static MOUNT_POINT: std::sync::Once = std::sync::Once::new();
    MOUNT_POINT.call_once(|| {
        extern "C" fn remove_mount_point() {
            let _ = std::fs::remove_dir("/etc/cordon");
        }
        if std::fs::create_dir("/etc/cordon").is_ok() {
            // SAFETY: registers a handler that only removes an empty directory.
            unsafe { libc::atexit(remove_mount_point) };
        }
    });
    assert!(
        std::path::Path::new("/etc/cordon").is_dir(),
        "/etc/cordon is not a directory"
    );
}

/// `inner` run in a private mount namespace where `ceiling` is at /etc/cordon.
fn held(ceiling: Option<&CeilingDir>, inner: Command) -> Command {
    let Some(ceiling) = ceiling else {
        return inner;
    };
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        "mount --bind \"$1\" /etc/cordon && shift && exec \"$@\"",
        "sh",
    ])
    .arg(&ceiling.dir)
    .arg(inner.get_program())
    .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.current_dir("/");
    cmd
}

fn output(mut cmd: Command, stdin: Option<&str>) -> Run {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Run cordon as `who` under `ceiling` with a private state directory.
fn cordon_under(
    who: Identity,
    ceiling: Option<&CeilingDir>,
    state: &Fixture,
    args: &[&str],
    stdin: Option<&str>,
) -> Run {
    let mut inner = command(who);
    inner
        .env("CORDON_STATE_DIR", &state.root)
        .args(with_backend(who, args));
    output(held(ceiling, inner), stdin)
}

fn refused(run: &Run, words: &[&str]) {
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("operator's ceiling"), "{run}");
    for w in words {
        assert!(run.stderr.contains(w), "{w:?} missing\n{run}");
    }
}

fn ran(run: &Run, out: &str) {
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains(out), "{out:?} missing\n{run}");
}

/// What the tests' ceiling allows: `allowed` read, `allowed/rw` written,
/// `allowed/rw/secret` denied, hosts below example.test, 256 MiB, 20 s.
struct Setup {
    fx: Fixture,
    state: Fixture,
    log: PathBuf,
    ceiling: CeilingDir,
}

fn setup(who: Identity) -> Setup {
    let fx = Fixture::new(who);
    fx.file("allowed/readme", "readable-inside");
    fx.file("allowed/rw/file", "writable-inside");
    fx.file("allowed/rw/secret/key", "ceiling-secret");
    fx.file("outside/file", "outside-content");
    let log = fx.path("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o622)).unwrap();
    std::os::unix::fs::chown(&log, Some(0), Some(0)).unwrap();
    // Memory caps only where the identity can have them (cgroup v2 or
    // root): a ceiling whose cap cannot be enforced stops every run.
    let limits = if cgroup_limits_work(who) {
        json!({"memoryMb": 256, "maxOpenFiles": 512, "timeoutMs": 20000})
    } else {
        json!({"maxOpenFiles": 512, "timeoutMs": 20000})
    };
    let ceiling = CeilingDir::new(&json!({
        "version": 1,
        "filesystem": {
            "readonly": [fx.p("allowed")],
            "readwrite": [fx.p("allowed/rw")],
            "denied": [fx.p("allowed/rw/secret")],
        },
        "network": {"allow": ["*.example.test", "192.0.2.0/24"]},
        "limits": limits,
        "backends": ["native", "bubblewrap", "landlock-only"],
        "audit": {"log": log},
    }));
    Setup {
        state: Fixture::private(who),
        fx,
        log,
        ceiling,
    }
}

#[test]
#[ignore = "needs root"]
fn every_entry_point_is_held_under_the_ceiling() {
    root_only();
    for who in identities() {
        let s = setup(who);
        let c = Some(&s.ceiling);
        let run = |args: &[&str]| cordon_under(who, c, &s.state, args, None);
        let inside = s.fx.p("allowed/readme");
        let outside = s.fx.p("outside/file");

        // One-shot flags: a path outside is refused, naming flag, path and rule.
        refused(
            &run(&["run", "--ro", &s.fx.p("outside"), "--", "cat", &outside]),
            &["--ro", "outside", "filesystem.readonly"],
        );
        ran(
            &run(&["run", "--ro", &s.fx.p("allowed"), "--", "cat", &inside]),
            "readable-inside",
        );
        // Write access only where the ceiling allows writing.
        refused(
            &run(&["run", "--rw", &s.fx.p("allowed"), "--", "true"]),
            &["--rw", "filesystem.readwrite"],
        );
        let writes = format!("echo w > {0}/new && cat {0}/new", s.fx.p("allowed/rw"));
        ran(
            &run(&[
                "run",
                "--rw",
                &s.fx.p("allowed/rw"),
                "--",
                "sh",
                "-c",
                &writes,
            ]),
            "w",
        );
        // The ceiling's denied path stays denied inside a granted tree; the
        // control reads its sibling.
        let key = s.fx.p("allowed/rw/secret/key");
        let r = run(&[
            "run",
            "--rw",
            &s.fx.p("allowed/rw"),
            "--",
            "sh",
            "-c",
            &format!(
                "{}{}",
                probe("secret", &format!("cat {key}")),
                probe("sibling", &format!("cat {}", s.fx.p("allowed/rw/file")))
            ),
        ]);
        r.expect(&["secret=fail", "sibling=ok"]);
        // Granting the denied path itself is refused.
        refused(
            &run(&["run", "--ro", &s.fx.p("allowed/rw/secret"), "--", "true"]),
            &["filesystem.denied[0]"],
        );

        // A config file, --config-base64 and a config on stdin.
        let wide = for_backend(
            who,
            &json!({"process": {"commandLine": format!("cat {outside}")},
                    "filesystem": {"readonlyPaths": [s.fx.p("outside")]}}),
        );
        let narrow = for_backend(
            who,
            &json!({"process": {"commandLine": format!("cat {inside}")},
                    "filesystem": {"readonlyPaths": [s.fx.p("allowed")]}}),
        );
        let (wide_file, narrow_file) = (ConfigFile::new(&wide), ConfigFile::new(&narrow));
        refused(
            &run(&["--config", wide_file.path.to_str().unwrap()]),
            &["filesystem.readonlyPaths"],
        );
        ran(
            &run(&["--config", narrow_file.path.to_str().unwrap()]),
            "readable-inside",
        );
        let b64 = |v: &Value| {
            use std::io::Write;
            let mut child = Command::new("base64")
                .arg("-w0")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(v.to_string().as_bytes())
                .unwrap();
            String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
        };
        refused(&run(&["--config-base64", &b64(&wide)]), &["filesystem"]);
        ran(&run(&["--config-base64", &b64(&narrow)]), "readable-inside");
        refused(
            &cordon_under(
                who,
                c,
                &s.state,
                &["--config", "-"],
                Some(&wide.to_string()),
            ),
            &["filesystem"],
        );

        // Network: a host outside the ceiling, and the default-allow stack.
        refused(
            &run(&[
                "run",
                "--allow-host",
                "evil.test",
                "--dry-run",
                "--",
                "true",
            ]),
            &["--allow-host", "evil.test", "network.allow"],
        );
        let allowed = run(&[
            "run",
            "--allow-host",
            "a.example.test",
            "--dry-run",
            "--",
            "true",
        ]);
        assert_eq!(allowed.code, 0, "{allowed}");
        let open = for_backend(
            who,
            &json!({"version": "0.8.0", "process": {"commandLine": "true"},
                    "network": {"egress": {"default": "allow"}}}),
        );
        let open_file = ConfigFile::new(&open);
        refused(
            &run(&["--config", open_file.path.to_str().unwrap()]),
            &["network.egress.default"],
        );

        // Limits: above the cap refused; unset gets the cap (shown).
        if cgroup_limits_work(who) {
            refused(
                &run(&["run", "--memory", "1G", "--", "true"]),
                &["--memory", "limits.memoryMb: 256"],
            );
        }
        refused(
            &run(&["run", "--timeout", "60s", "--", "true"]),
            &["--timeout", "limits.timeoutMs: 20000"],
        );
        let dry = run(&["run", "--dry-run", "--", "true"]);
        assert_eq!(dry.code, 0, "{dry}");
        let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
        assert_eq!(plan["resources"]["maxOpenFiles"], 512, "{dry}");
        if cgroup_limits_work(who) {
            assert_eq!(plan["resources"]["memoryBytes"], 256 * 1024 * 1024, "{dry}");
        }
        assert_eq!(plan["timeoutMs"], 20000, "{dry}");
        assert_eq!(plan["ceiling"]["path"], "/etc/cordon/ceiling.json", "{dry}");

        // The forced audit log recorded this user's runs, though no one
        // asked for a log.
        let log = std::fs::read_to_string(&s.log).unwrap();
        assert!(
            log.contains(&format!("\"uid\":{}", who.uid())) && log.contains("\"event\":\"spawn\""),
            "{who:?} audit log:\n{log}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn lifecycle_and_exec_are_held_and_a_narrowed_ceiling_revokes() {
    root_only();
    for who in identities() {
        let s = setup(who);
        let c = Some(&s.ceiling);
        let run = |args: &[&str]| cordon_under(who, c, &s.state, args, None);
        // The wire form: a provision request wider than the ceiling.
        let wide = for_backend(
            who,
            &json!({"version": "0.8.0", "phase": "provision",
                    "filesystem": {"readonlyPaths": [s.fx.p("outside")]}}),
        );
        let wide_file = ConfigFile::new(&wide);
        let r = run(&["--config", wide_file.path.to_str().unwrap()]);
        assert_eq!(r.code, 125, "{r}");
        assert!(r.stdout.contains("operator's ceiling"), "{r}");
        refused(
            &run(&["provision", "--ro", &s.fx.p("outside")]),
            &["outside", "filesystem.readonly"],
        );
        // Control: within the ceiling it provisions, starts and execs.
        let p = run(&["provision", "--rw", &s.fx.p("allowed/rw")]);
        assert_eq!(p.code, 0, "{p}");
        let doc: Value = serde_json::from_str(&p.stdout).unwrap();
        let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
        assert_eq!(run(&["start", &id]).code, 0);
        let file = s.fx.p("allowed/rw/file");
        ran(&run(&["exec", &id, "--", "cat", &file]), "writable-inside");
        // exec's own timeout is capped.
        refused(
            &run(&["exec", &id, "--timeout", "60s", "--", "true"]),
            &["limits.timeoutMs"],
        );
        // The operator narrows the ceiling: the running sandbox's execs are
        // refused (revocation); the old ceiling still lets it run (control).
        let narrower = CeilingDir::new(&json!({
            "version": 1,
            "filesystem": {"readonly": [s.fx.p("allowed")], "readwrite": []},
        }));
        let r = cordon_under(
            who,
            Some(&narrower),
            &s.state,
            &["exec", &id, "--", "true"],
            None,
        );
        refused(&r, &["no longer fits", "write access"]);
        ran(&run(&["exec", &id, "--", "cat", &file]), "writable-inside");
        assert_eq!(run(&["stop", &id]).code, 0);
        assert_eq!(run(&["deprovision", &id]).code, 0);
    }
}

#[test]
#[ignore = "needs root"]
fn an_unprivileged_user_cannot_step_out_from_under_the_ceiling() {
    root_only();
    let who = Identity {
        user: User::Unprivileged,
        backend: Some("native"),
    };
    let s = setup(who);
    let c = Some(&s.ceiling);
    let outside = s.fx.p("outside");
    let wide = ["run", "--ro", outside.as_str(), "--", "true"];
    // Control: without the ceiling, the same request runs.
    let free = cordon_under(who, None, &s.state, &wide, None);
    assert_eq!(free.code, 0, "{free}");

    // A permissive ceiling of the user's own, named in the environment.
    let own = s.fx.file("own-ceiling.json", r#"{"version":1}"#);
    let mut inner = command(who);
    inner
        .env("CORDON_CEILING", &own)
        .env("CORDON_STATE_DIR", &s.state.root)
        .args(with_backend(who, &wide));
    let r = output(held(c, inner), None);
    refused(&r, &["--ro"]);
    assert!(r.stderr.contains("CORDON_CEILING"), "the notice: {r}");

    // Another state directory.
    let other_state = Fixture::private(who);
    refused(
        &cordon_under(who, c, &other_state, &["provision", "--ro", &outside], None),
        &["outside"],
    );

    // A copy of the binary in a directory of the user's own.
    let copy = s.fx.path("bin-copy/cordon");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(shared_bin(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut inner = as_user(who, copy.to_str().unwrap());
    inner.args(with_backend(who, &wide));
    refused(&output(held(c, inner), None), &["--ro"]);

    // A user namespace of its own, where it is uid 0 and names its own
    // ceiling: not host root, so the variable is ignored, and the real
    // ceiling (owned by a root it cannot see) stops the run.
    let mut inner = as_user(who, "unshare");
    inner
        .args(["--user", "--map-root-user", "--"])
        .arg(shared_bin())
        .args(with_backend(who, &wide))
        .env("CORDON_CEILING", &own);
    let r = output(held(c, inner), None);
    assert_eq!(r.code, 125, "{r}");
    assert!(
        r.stderr.contains("operator ceiling") || r.stderr.contains("operator's ceiling"),
        "{r}"
    );
}

#[test]
#[ignore = "needs root"]
fn a_broken_ceiling_stops_every_run() {
    root_only();
    let who = Identity {
        user: User::Unprivileged,
        backend: Some("native"),
    };
    let state = Fixture::private(who);
    let args = ["run", "--", "true"];
    let good = CeilingDir::new(&json!({"version": 1}));
    let r = cordon_under(who, Some(&good), &state, &args, None);
    assert_eq!(r.code, 0, "control: a valid ceiling runs\n{r}");
    let cases: [(CeilingDir, &str); 5] = [
        (CeilingDir::raw("{not json", 0o644), "not JSON"),
        (
            CeilingDir::raw(r#"{"version":1,"filesystem":{"readOnly":[]}}"#, 0o644),
            "readOnly",
        ),
        (CeilingDir::raw(r#"{"version":7}"#, 0o644), "version: 7"),
        (CeilingDir::raw(r#"{"version":1}"#, 0o666), "owned by root"),
        (CeilingDir::raw(r#"{"version":1}"#, 0o600), "cannot be read"),
    ];
    for (ceiling, why) in &cases {
        for args in [&args[..], &["provision"][..]] {
            let r = cordon_under(who, Some(ceiling), &state, args, None);
            assert_eq!(r.code, 125, "{why}: {r}");
            assert!(
                r.stderr
                    .contains("operator ceiling /etc/cordon/ceiling.json")
                    && r.stderr.contains(why),
                "{why}: {r}"
            );
        }
    }
}

#[test]
#[ignore = "needs root"]
fn validate_and_probe_show_the_ceiling_in_force() {
    root_only();
    let who = Identity::UNPRIVILEGED;
    let s = setup(who);
    let c = Some(&s.ceiling);
    let cfg = ConfigFile::new(&json!({"process": {"commandLine": "true"}}));
    let r = cordon_under(
        who,
        c,
        &s.state,
        &["validate", cfg.path.to_str().unwrap()],
        None,
    );
    assert_eq!(r.code, 0, "{r}");
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["ceiling"]["path"], "/etc/cordon/ceiling.json", "{r}");
    let r = cordon_under(who, c, &s.state, &["probe", "--json"], None);
    assert_eq!(r.code, 0, "{r}");
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["ceiling"]["policy"]["limits"]["maxOpenFiles"], 512,
        "{r}"
    );
    // Control: without one, both say there is none.
    let r = cordon_under(who, None, &s.state, &["probe", "--json"], None);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["ceiling"], Value::Null, "{r}");
    // Host root may name another ceiling (staging, tests); it is in force.
    let mut inner = command(Identity::CALLER);
    inner.env("CORDON_CEILING", s.ceiling.file()).args([
        "run",
        "--ro",
        &s.fx.p("outside"),
        "--",
        "true",
    ]);
    refused(&output(inner, None), &["--ro"]);
}
