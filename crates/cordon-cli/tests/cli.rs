//! The command line (SPEC §5) and config handling as a user meets them: MXC's
//! invocation forms, strict parsing with errors that name the field, exit
//! codes, `validate`, `--json`, the audit log.

mod common;

use common::*;
use serde_json::{json, Value};

fn me() -> Identity {
    Identity::CALLER
}

#[test]
fn mxc_invocation_forms_all_run_the_config() {
    let cfg = json!({"version": "0.8.0-alpha", "process": {"commandLine": "echo via-config"}});
    let file = ConfigFile::new(&cfg);
    let path = file.path.to_str().unwrap();
    for args in [
        vec!["--config", path],
        vec![path],
        vec!["--experimental", "--debug", path],
        vec![
            "--experimental",
            "--allow-testing-features",
            "--config",
            path,
        ],
    ] {
        let run = cordon(me(), &args, None);
        assert_eq!(run.code, 0, "{args:?}\n{run}");
        assert_eq!(run.stdout, "via-config\n", "{args:?}\n{run}");
    }
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&cfg).unwrap());
    let run = cordon(me(), &["--config-base64", &b64], None);
    assert_eq!(run.stdout, "via-config\n", "{run}");
}

#[test]
fn refusals_exit_125_with_a_reason_naming_the_field() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"process": {"commandLine": "true"}, "filesystem": {"readonlyPath": []}}),
            "filesystem.readonlyPath",
        ),
        (
            json!({"process": {"commandLine": "true"}, "network": {"egress": {"defualt": "deny"}}}),
            "`default`",
        ),
        (
            json!({"process": {"commandLine": ""}}),
            "process.commandLine",
        ),
        (json!({"process": {}}), "process.commandLine"),
        (
            json!({"process": {"commandLine": "true", "timeout": -5}}),
            "process.timeout",
        ),
        (
            json!({"process": {"commandLine": "true", "env": "A=B"}}),
            "process.env",
        ),
        (
            json!({"version": "0.5.0", "process": {"commandLine": "true"}}),
            "older than supported",
        ),
        (
            json!({"version": "0.10.0", "process": {"commandLine": "true"}}),
            "newer than supported",
        ),
        (
            json!({"version": "2.0.0", "process": {"commandLine": "true"}}),
            "newer than supported",
        ),
        (
            json!({"version": "1.0.1", "process": {"commandLine": "true"}}),
            "not a registered contract version",
        ),
        (
            json!({"version": "0.8", "process": {"commandLine": "true"}}),
            "not a full semantic version",
        ),
        (
            json!({"version": "1.0.0", "process": {"commandLine": "true"}, "network": {"allowedHosts": ["10.0.0.0/8"]}}),
            "network.allowedHosts: the legacy network shape was removed",
        ),
        (
            json!({"version": "1.0.0", "process": {"commandLine": "true"}, "experimental": {}}),
            "no experimental section",
        ),
        (
            json!({"version": "0.7.0", "process": {"commandLine": "true"}, "network": {"egress": {"default": "deny"}}}),
            "0.8 or later",
        ),
        (
            json!({"process": {"commandLine": "true"}, "network": {"defaultPolicy": "block", "egress": {"default": "deny"}}}),
            "mixes",
        ),
        (
            json!({"process": {"commandLine": "true"}, "sandboxId": "native:abc"}),
            "sandboxId",
        ),
        (
            json!({"process": {"commandLine": "true"}, "correlationVector": "x"}),
            "correlationVector",
        ),
        (
            json!({"process": {"commandLine": "true"}, "filesystem": {"readonlyPaths": ["relative/path"]}}),
            "absolute",
        ),
        (
            json!({"process": {"commandLine": "true"}, "filesystem": {"deniedPaths": ["/a\"b"]}}),
            "double quote",
        ),
        (
            json!({"process": {"commandLine": "true"}, "filesystem": {"readwritePaths": [""]}}),
            "must not be empty",
        ),
        (
            json!({"process": {"commandLine": "true"}, "lxc": {"distribution": "alpine", "release": "3"}}),
            "multiple containment backends configured",
        ),
        (
            json!({"process": {"commandLine": "true"}, "ui": {"clipboard": "all"}}),
            "ui.clipboard",
        ),
        (
            json!({"process": {"commandLine": "true"}, "ui": {"disable": false}}),
            "ui.disable",
        ),
        (
            json!({"process": {"commandLine": "true"}, "network": {"ingress": {"hostLoopback": "allow"}}}),
            "network.ingress.hostLoopback: \"allow\" is not supported",
        ),
        (
            json!({"process": {"commandLine": "true"}, "network": {"egress": {"allow": [{"to": [{"cidr": "300.0.0.0/8"}]}]}}}),
            "network.egress.allow[0].to[0].cidr",
        ),
        (
            json!({"version": "0.7.0", "process": {"commandLine": "true"}, "network": {"defaultPolicy": "block", "proxy": {"localhost": 8080}}}),
            "network.proxy: cannot be combined with defaultPolicy",
        ),
        (
            json!({"process": {"commandLine": "true"}, "runtimeConfig": {"networkProxy": "http://u:p@127.0.0.1:8080"}}),
            "credentials",
        ),
        (
            json!({"process": {"commandLine": "true"}, "resources": {"memoryMb": 0}}),
            "resources.memoryMb",
        ),
    ];
    for (cfg, needle) in cases {
        let run = run_config(me(), &cfg);
        assert_eq!(run.code, 125, "{cfg}\n{run}");
        assert!(
            run.stderr.contains(needle),
            "{cfg}: expected {needle:?}\n{run}"
        );
        assert!(
            run.stdout.is_empty(),
            "nothing ran and nothing on stdout\n{run}"
        );
        // One human line, then MXC's error envelope (which MXC's SDK turns
        // into an MxcError) carrying the same message.
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "one-line reason and the envelope\n{run}");
        let envelope: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(
            Some(lines[0]),
            envelope["error"]["message"]
                .as_str()
                .map(|m| format!("cordon: {m}"))
                .as_deref(),
            "{run}"
        );
        assert!(envelope["error"]["code"].is_string(), "{run}");
    }
}

#[test]
fn malformed_inputs_exit_125() {
    let bad = std::env::temp_dir().join(format!("cordon-bad-{}.json", std::process::id()));
    for content in ["{", "[]", "42", "\"x\""] {
        std::fs::write(&bad, content).unwrap();
        let run = cordon(me(), &["--config", bad.to_str().unwrap()], None);
        assert_eq!(run.code, 125, "{content}\n{run}");
    }
    let _ = std::fs::remove_file(&bad);
    let run = cordon(me(), &["--config", "/nonexistent/cordon.json"], None);
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("cannot read config"), "{run}");
    let run = cordon(me(), &["--config-base64", "%%%not-base64"], None);
    assert_eq!(run.code, 125, "{run}");
}

#[test]
fn foreign_backends_are_unsupported_containment_with_the_alternative() {
    for name in [
        "processcontainer",
        "windows_sandbox",
        "wslc",
        "isolation_session",
        "hyperlight",
        "seatbelt",
    ] {
        let run = cordon(
            me(),
            &["--json", "run", "--backend", name, "--", "true"],
            None,
        );
        assert_eq!(run.code, 125, "{name}\n{run}");
        let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(doc["error"]["code"], "unsupported_containment", "{run}");
        assert!(run.stderr.contains("on Linux use"), "{run}");
        // Only backends this host can run are suggested (cordon's probe
        // reports lxc and microvm unavailable in this version).
        let probe: Value =
            serde_json::from_str(&cordon(me(), &["probe", "--json"], None).stdout).unwrap();
        for backend in probe["backends"].as_array().unwrap() {
            let name = backend["name"].as_str().unwrap();
            let suggested = run.stderr.contains(&format!("\"{name}\""));
            assert_eq!(
                suggested,
                backend["available"].as_bool().unwrap(),
                "{name}: {run}"
            );
        }
    }
}

#[test]
fn the_runner_flags_mxc_sdks_pass() {
    // --available-backends: MXC's discovery shape, one entry per backend
    // that can run here, as `cordon probe` reports them.
    let run = cordon(me(), &["--available-backends"], None);
    assert_eq!(run.code, 0, "{run}");
    let entries: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let probe: Value =
        serde_json::from_str(&cordon(me(), &["probe", "--json"], None).stdout).unwrap();
    let available: Vec<&str> = probe["backends"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["available"] == true)
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    let listed: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["backend"].as_str().unwrap())
        .collect();
    assert_eq!(listed, available, "{run}");
    assert_eq!(
        probe["schemaVersions"],
        json!([
            "0.6.0",
            "0.7.0",
            "0.8.0",
            "0.9.0-alpha",
            "1.0.0",
            "1.1.0-alpha"
        ])
    );
    assert!(entries[0]["capabilities"].is_array(), "{run}");

    // --dry-run: the effective policy on stdout, nothing run.
    let fx = Fixture::new(me());
    let rw = fx.dir("rw");
    let marker = fx.path("rw/ran");
    let cfg = ConfigFile::new(&json!({"version": "1.0.0",
        "process": {"commandLine": format!("touch {}", marker.display())},
        "filesystem": {"readwritePaths": [rw]}}));
    let run = cordon(me(), &["--dry-run", cfg.path.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{run}");
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["schemaVersion"], "1.0", "{run}");
    assert!(!marker.exists(), "a dry run ran the command");
    // Its outcome says it was a dry run (callers reading outcomes tell it
    // from a run); with --json, on the last line, after the plan.
    let run = cordon(
        me(),
        &["--dry-run", "--json", cfg.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
    let (plan, last) = run.stdout.trim_end().rsplit_once('\n').unwrap();
    let plan: Value = serde_json::from_str(plan).unwrap();
    assert_eq!(plan["schemaVersion"], "1.0", "{run}");
    let outcome: Value = serde_json::from_str(last).unwrap();
    assert_eq!(outcome["dryRun"], true, "{run}");
    assert_eq!(outcome["exitCode"], 0, "{run}");
    assert!(!marker.exists(), "a dry run ran the command");
    // A phase request is not dry-run (it would act): refused.
    let phase = ConfigFile::new(
        &json!({"version": "1.0.0", "phase": "provision", "containment": "process"}),
    );
    let run = cordon(me(), &["--dry-run", phase.path.to_str().unwrap()], None);
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("--dry-run"), "{run}");

    // --log-file: JSON lines appended, for runs and for refusals.
    let log = fx.path("diag.log");
    let ok = ConfigFile::new(&json!({"version": "1.0.0", "process": {"commandLine": "true"}}));
    let bad = ConfigFile::new(&json!({"version": "1.0.1", "process": {"commandLine": "true"}}));
    for (file, code) in [(&ok, 0), (&bad, 125)] {
        let run = cordon(
            me(),
            &[
                "--log-file",
                log.to_str().unwrap(),
                "--config",
                file.path.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(run.code, code, "{run}");
    }
    let events: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["policy", "exit", "error"], "{events:?}");
    assert_eq!(events[2]["detail"]["code"], "malformed_request");
}

#[test]
fn schema_describes_each_version() {
    for (version, has, lacks) in [
        ("0.7.0", "experimental", "runtimeConfig"),
        ("0.8.0", "runtimeConfig", "telemetry"),
        ("0.9.0-alpha", "appContainer", "experimental"),
        ("1.0.0", "telemetry", "appContainer"),
        ("1.1.0-alpha", "test", "experimental"),
    ] {
        let run = cordon(me(), &["schema", "--version", version], None);
        assert_eq!(run.code, 0, "{version}\n{run}");
        let schema: Value = serde_json::from_str(&run.stdout).unwrap();
        let props = schema["properties"].as_object().unwrap();
        assert!(props.contains_key(has), "{version} lacks {has}");
        assert!(!props.contains_key(lacks), "{version} has {lacks}");
    }
    let run = cordon(me(), &["schema", "--version", "1.0.1"], None);
    assert_eq!(run.code, 125, "{run}");
}

#[test]
fn process_and_native_containment_run_natively() {
    for containment in [json!("process"), json!("native"), Value::Null] {
        let mut cfg = json!({"process": {"commandLine": "echo ran"}});
        if !containment.is_null() {
            cfg["containment"] = containment.clone();
        }
        let run = run_config(me(), &cfg);
        assert_eq!(run.code, 0, "{containment}\n{run}");
        assert_eq!(run.stdout, "ran\n");
    }
}

#[test]
fn validate_prints_the_effective_policy_and_runs_nothing() {
    let fx = Fixture::new(me());
    let rw = fx.dir("rw");
    let cfg = json!({"process": {"commandLine": format!("touch {rw}/ran")}, "filesystem": {"readwritePaths": [rw]}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(me(), &["validate", file.path.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["backend"], "native");
    assert_eq!(doc["network"]["model"], "none");
    assert!(doc["filesystem"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"] == rw.as_str() && e["access"] == "rw"));
    assert!(!fx.path("rw/ran").exists(), "validate ran the command");
    let bad = ConfigFile::new(&json!({"process": {"commandLine": "true"}, "bogus": 1}));
    let run = cordon(me(), &["validate", bad.path.to_str().unwrap()], None);
    assert_eq!(run.code, 125);
    assert!(run.stderr.contains("bogus"), "{run}");
}

#[test]
fn json_outcome_is_machine_readable() {
    let run = cordon(me(), &["run", "--json", "--", "sh", "-c", "exit 4"], None);
    assert_eq!(run.code, 4);
    let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(doc["exitCode"], 4);
    assert_eq!(doc["timedOut"], false);
    assert_eq!(doc["backend"], "native");
    let run = cordon(
        me(),
        &["run", "--json", "--timeout", "100ms", "--", "sleep", "5"],
        None,
    );
    assert_eq!(run.code, 124);
    let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(doc["timedOut"], true);
}

/// Paths on the command line may be relative to the caller's directory
/// (`cordon run --rw . -- make`); they mean what the shell would.
#[test]
fn relative_paths_on_the_command_line_are_the_callers() {
    for who in identities() {
        let fx = Fixture::new(who);
        fx.dir("sub");
        fx.file("secret.txt", "SECRET");
        let script = [
            "pwd; ",
            &probe("write", "touch new.txt"),
            &probe("secret", "cat secret.txt"),
        ]
        .concat();
        let args = with_backend(
            who,
            &[
                "run",
                "--rw",
                "..",
                "--deny",
                "../secret.txt",
                "--cwd",
                "..",
                "--",
                "sh",
                "-c",
                &script,
            ],
        );
        let run = Run::from(
            command(who)
                .args(&args)
                .current_dir(fx.path("sub"))
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert_eq!(
            run.stdout.lines().next(),
            Some(fx.p("").trim_end_matches('/')),
            "{run}"
        );
        run.expect(&["write=ok", "secret=fail"]);
        assert!(
            fx.path("new.txt").exists(),
            "{who:?}: the write did not land"
        );
    }
}

#[test]
fn audit_log_records_spawn_and_exit() {
    let log = std::env::temp_dir().join(format!("cordon-audit-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let cfg = ConfigFile::new(
        &json!({"containerId": "audit-test", "process": {"commandLine": "exit 2"}}),
    );
    let run = cordon(
        me(),
        &[
            "--audit-log",
            log.to_str().unwrap(),
            "--config",
            cfg.path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, 2, "{run}");
    let mut cmd = command(me());
    cmd.env("CORDON_AUDIT_LOG", &log)
        .args(["run", "--", "true"]);
    assert!(cmd.status().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{text}");
    assert_eq!(records[0]["event"], "spawn");
    assert_eq!(records[0]["containerId"], "audit-test");
    assert_eq!(records[0]["backend"], "native");
    assert!(records[0]["policyHash"]
        .as_str()
        .unwrap()
        .starts_with("fnv1a64:"));
    assert!(records[0]["sandboxId"]
        .as_str()
        .unwrap()
        .starts_with("native:"));
    assert_eq!(records[1]["event"], "exit");
    assert_eq!(records[1]["exitCode"], 2);
    assert_eq!(records[0]["sandboxId"], records[1]["sandboxId"]);
}

/// The audit log is the record of what the workload did: inside a granted
/// tree it stays out of the sandbox (neither readable nor rewritable), and a
/// config that lists it is refused.
#[test]
fn the_sandbox_cannot_touch_the_audit_log() {
    for who in identities() {
        let fx = Fixture::new(who);
        let rw = fx.dir("rw");
        let log = fx.p("rw/audit.jsonl");
        let flag = format!("--audit-log={log}");
        let script = [
            probe("read", &format!("grep -q spawn {log}")),
            probe("truncate", &format!("sh -c ': > {log}'")),
            probe("append", &format!("sh -c 'echo FORGED >> {log}'")),
            probe("replace", &format!("mv {rw}/other {log}")),
            probe("rw_works", &format!("touch {rw}/other")),
        ]
        .concat();
        let run = cordon(
            who,
            &[&flag, "run", "--rw", &rw, "--", "sh", "-c", &script],
            None,
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&[
            "read=fail",
            "truncate=fail",
            "append=fail",
            "replace=fail",
            "rw_works=ok",
        ]);
        // Exactly cordon's two records: nothing appended, nothing cut.
        let text = std::fs::read_to_string(&log).unwrap();
        let events: Vec<String> = text
            .lines()
            .map(|l| match serde_json::from_str::<Value>(l) {
                Ok(record) => record["event"].to_string(),
                Err(_) => format!("not cordon's: {l}"),
            })
            .collect();
        assert_eq!(events, ["\"spawn\"", "\"exit\""], "{who:?}\n{text}");
        let run = cordon(who, &[&flag, "run", "--ro", &log, "--", "true"], None);
        assert_eq!(run.code, 125, "{who:?}\n{run}");
        assert!(run.stderr.contains("audit log"), "{run}");
    }
}

#[test]
fn an_audit_log_that_cannot_be_opened_or_written_stops_the_run() {
    // Fail closed: the operator asked for a trail; nothing runs unrecorded.
    let fx = Fixture::new(me());
    let unwritable = format!("{}/no-such-dir/audit.jsonl", fx.root.display());
    let flag = format!("--audit-log={unwritable}");
    let cfg = ConfigFile::new(&json!({"process": {"commandLine": "echo RAN"}}));
    for args in [
        vec![flag.as_str(), "--config", cfg.path.to_str().unwrap()],
        vec![flag.as_str(), "run", "--", "echo", "RAN"],
    ] {
        let run = cordon(me(), &args, None);
        assert_eq!(run.code, 125, "{args:?}\n{run}");
        assert!(!run.stdout.contains("RAN"), "{run}");
        assert!(
            run.stderr.contains("--audit-log") && run.stderr.contains(&unwritable),
            "{run}"
        );
    }
    // Opened but not writable (a full disk): the spawn record fails first.
    let run = cordon(
        me(),
        &["--audit-log=/dev/full", "run", "--", "echo", "RAN"],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(!run.stdout.contains("RAN"), "{run}");
    assert!(run.stderr.contains("cannot write to /dev/full"), "{run}");
    // The fast path of `cordon run -- CMD` reads the environment variable.
    let mut cmd = command(me());
    cmd.env("CORDON_AUDIT_LOG", &unwritable)
        .args(["run", "--", "echo", "RAN"]);
    let run = Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 125, "{run}");
    assert!(!run.stdout.contains("RAN"), "{run}");
    // Lifecycle phases answer with an envelope and do not start anything.
    let state = Fixture::new(me());
    let lifecycle = |args: &[&str], audit: Option<&str>| {
        let mut cmd = command(me());
        cmd.env("CORDON_STATE_DIR", state.path("store")).args(args);
        if let Some(path) = audit {
            cmd.env("CORDON_AUDIT_LOG", path);
        }
        Run::from(cmd.output().unwrap())
    };
    let provisioned = lifecycle(&["provision", "--config", cfg.path.to_str().unwrap()], None);
    let doc: Value = serde_json::from_str(provisioned.stdout.trim()).unwrap();
    let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
    let started = lifecycle(&["start", &id], Some(&unwritable));
    assert_eq!(started.code, 125, "{started}");
    let doc: Value = serde_json::from_str(started.stdout.trim()).unwrap();
    assert_eq!(doc["error"]["code"], "malformed_request", "{started}");
    let listed = lifecycle(&["ls", "--json"], None);
    assert!(listed.stdout.contains("provisioned"), "{listed}");
    assert!(!listed.stdout.contains("running"), "{listed}");
    assert_eq!(lifecycle(&["deprovision", &id], None).code, 0);
}

#[test]
fn state_aware_phases_answer_with_an_envelope() {
    let state = Fixture::private(me());
    let send = |req: Value| -> Run {
        let cfg = ConfigFile::new(&req);
        let mut cmd = command(me());
        cmd.env("CORDON_STATE_DIR", &state.root)
            .args(["--config", cfg.path.to_str().unwrap()]);
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let run = send(json!({"phase": "teleport"}));
    assert_eq!(run.code, 125);
    let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(doc["error"]["code"], "unsupported_phase", "{run}");
    let run = send(json!({"phase": "provision"}));
    assert_eq!(run.code, 0, "{run}");
    let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
    let run = send(json!({"phase": "deprovision", "sandboxId": id}));
    let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(doc["result"]["state"], "deprovisioned", "{run}");
}

#[test]
fn run_flags_build_the_same_policy_as_a_file() {
    let fx = Fixture::new(me());
    let ro = fx.dir("ro");
    fx.file("ro/f", "RO");
    let rw = fx.dir("rw");
    let denied = fx.file("rw/secret", "S");
    let run = cordon(
        me(),
        &[
            "run",
            "--ro",
            &ro,
            "--rw",
            &rw,
            "--deny",
            &denied,
            "--cwd",
            &rw,
            "--env",
            "A=1",
            "--",
            "sh",
            "-c",
            "cat ../ro/f; echo; echo $A; pwd; cat secret 2>/dev/null || echo denied; echo x > out",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout, format!("RO\n1\n{rw}\ndenied\n"), "{run}");
    assert!(fx.path("rw/out").exists());
    // Arguments are passed as argv, not re-split by a shell.
    let run = cordon(
        me(),
        &["run", "--", "printf", "%s|", "a b", "$HOME", "it's"],
        None,
    );
    assert_eq!(run.stdout, "a b|$HOME|it's|", "{run}");
}

#[test]
fn probe_reports_backends_and_kernel_features() {
    let run = cordon(me(), &["probe", "--json"], None);
    assert_eq!(run.code, 0, "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["isSupported"], true);
    let native = doc["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "native")
        .unwrap();
    assert_eq!(native["available"], true);
    assert!(doc["features"]["landlockAbi"].as_u64().unwrap() >= 1);
    for key in ["userNamespaces", "seccomp", "cgroupMode", "kvm"] {
        assert!(!doc["features"][key].is_null(), "{key}");
    }
    // Only root's sandboxes need hiding root-only files; the report says how.
    let root_only = &doc["features"]["rootOnlyFiles"];
    match current_uid() {
        0 => assert!(
            root_only
                .as_str()
                .is_some_and(|how| how.contains("idmapped") || how.contains("masks")),
            "{root_only}"
        ),
        _ => assert!(root_only.is_null(), "{root_only}"),
    }
}

#[test]
fn schema_lists_exactly_the_fields_the_parser_accepts() {
    let run = cordon(me(), &["schema"], None);
    assert_eq!(run.code, 0);
    let schema: Value = serde_json::from_str(&run.stdout).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for name in props.keys() {
        let cfg = ConfigFile::new(&json!({ name.as_str(): null }));
        let run = cordon(me(), &["validate", cfg.path.to_str().unwrap()], None);
        assert!(
            !run.stderr.contains("unknown field"),
            "schema field {name} rejected by the parser\n{run}"
        );
    }
    let cfg = ConfigFile::new(&json!({"notAField": null}));
    let run = cordon(me(), &["validate", cfg.path.to_str().unwrap()], None);
    assert!(run.stderr.contains("unknown field"), "{run}");
    // Every valid name the parser lists is in the schema.
    let listed = run.stderr.split("expected one of ").nth(1).unwrap();
    for name in listed.split(", ") {
        let name = name.trim().trim_matches('`');
        assert!(
            props.contains_key(name),
            "parser accepts {name} but the schema lacks it"
        );
    }
}

/// `cordon` as `who` with `file` open for writing as descriptor 7.
fn with_fd7(who: Identity, args: &[String], file: &std::path::Path) -> Run {
    with_fd7_open(who, args, std::fs::File::create(file).unwrap())
}

/// `cordon` as `who` with `out` (any open file) as descriptor 7.
fn with_fd7_open(who: Identity, args: &[String], out: std::fs::File) -> Run {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&out);
    let mut cmd = command(who);
    cmd.args(args).stdin(std::process::Stdio::null());
    let hook = move || {
        // The file may already be descriptor 7 (the lowest free one in this
        // many-threaded test process): dup2 onto itself keeps close-on-exec,
        // so clear that instead.
        let done = if fd == 7 {
            // SAFETY: fcntl(2) clearing the flags of a descriptor this
            // process holds, in the child before exec.
            unsafe { libc::fcntl(7, libc::F_SETFD, 0) }
        } else {
            // SAFETY: dup2(2) of a descriptor this process holds, in the
            // child before exec.
            unsafe { libc::dup2(fd, 7) }
        };
        if done < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: `hook` makes raw system calls only, as pre_exec requires.
    unsafe { std::os::unix::process::CommandExt::pre_exec(&mut cmd, hook) };
    let run = Run::from(cmd.output().unwrap());
    drop(out);
    run
}

/// The outcome document never mixes with the workload's bytes: `--json` is
/// always a line of its own, `--outcome-fd` and `--outcome-file` carry it
/// apart (and no sandbox inherits or reaches them), `exec` reports too.
#[test]
fn the_outcome_is_machine_readable_whatever_the_workload_prints() {
    let garbage = "import sys; sys.stdout.buffer.write(bytes(range(256)) + b'{\"exitCode\": 99'); sys.stdout.flush()";
    for who in identities() {
        let fx = Fixture::new(who);
        // --json after output without a final newline.
        let run = cordon(who, &["--json", "run", "--", "printf", "x"], None);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(run.stdout.starts_with('x'), "{run}");
        let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(doc["exitCode"], 0, "{run}");
        assert!(doc["durationMs"].is_u64(), "{run}");
        assert!(doc.get("code").is_none(), "one exit-code field\n{run}");

        // --outcome-fd after binary garbage without a newline; the sandbox
        // does not hold descriptor 7.
        let outcome = fx.path("outcome.json");
        let args = with_backend(
            who,
            &[
                "--outcome-fd",
                "7",
                "run",
                "--",
                "sh",
                "-c",
                &format!(
                    "[ -e /proc/self/fd/7 ] && echo HAS_FD7; python3 -c \"{garbage}\"; exit 5"
                ),
            ],
        );
        let run = with_fd7(who, &args, &outcome);
        assert_eq!(run.code, 5, "{who:?}\n{run}");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&outcome).unwrap()).unwrap();
        assert_eq!(
            (doc["exitCode"].as_i64(), doc["timedOut"].as_bool()),
            (Some(5), Some(false))
        );
        assert!(
            !run.stdout.contains("HAS_FD7"),
            "the sandbox inherited the outcome descriptor\n{run}"
        );
        // Control: the same probe sees a descriptor it was given.
        let probe = "[ -e /proc/self/fd/7 ] && echo HAS_FD7 || echo NO_FD7";
        let control = std::process::Command::new("sh")
            .args(["-c", probe])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&control.stdout).contains("NO_FD7"));
        let control = std::process::Command::new("sh")
            .args(["-c", &format!("exec 7>/dev/null; {probe}")])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&control.stdout).contains("HAS_FD7"));

        // --outcome-file inside a writable tree: the workload cannot write
        // it; what is left is cordon's document.
        let rw = fx.dir("rw");
        let file = format!("{rw}/outcome.json");
        let run = cordon(
            who,
            &[
                "--outcome-file",
                &file,
                "run",
                "--rw",
                &rw,
                "--",
                "sh",
                "-c",
                &format!("echo forged > {file} 2>/dev/null && echo WROTE; echo ok > {rw}/other"),
            ],
            None,
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(!run.stdout.contains("WROTE"), "{run}");
        assert_eq!(
            std::fs::read_to_string(fx.path("rw/other")).unwrap(),
            "ok\n"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(doc["exitCode"], 0);

        // A descriptor that is not open, or one the workload shares, is refused.
        for fd in ["1", "9"] {
            let run = cordon(who, &["--outcome-fd", fd, "run", "--", "true"], None);
            assert_eq!(run.code, 125, "{run}");
            assert!(run.stderr.contains(&format!("--outcome-fd {fd}")), "{run}");
        }

        // --config - reads the config from standard input.
        let run = cordon(
            who,
            &["--config", "-"],
            Some(r#"{"version": "1.0.0", "process": {"commandLine": "echo from-stdin"}}"#),
        );
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, "from-stdin\n"),
            "{run}"
        );
    }
}

/// `--config-fd N` (how the SDKs hand cordon a request: never on the
/// command line or on disk) reads the config from an inherited descriptor,
/// which no sandbox inherits; stdin/stdout/stderr and unopened descriptors
/// are refused by name.
#[test]
fn a_config_comes_through_an_inherited_descriptor() {
    for who in identities() {
        let fx = Fixture::new(who);
        let config = fx.path("config.json");
        std::fs::write(
            &config,
            r#"{"version": "1.0.0", "process": {"commandLine": "[ -e /proc/self/fd/7 ] && echo HAS_FD7; echo via-fd; exit 3"}}"#,
        )
        .unwrap();
        let args = vec!["--config-fd".to_string(), "7".to_string()];
        let run = with_fd7_open(who, &args, std::fs::File::open(&config).unwrap());
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (3, "via-fd\n"),
            "{who:?}\n{run}"
        );
        // Control: the probe sees a descriptor 7 it was given.
        let control = std::process::Command::new("sh")
            .args([
                "-c",
                "exec 7</dev/null; [ -e /proc/self/fd/7 ] && echo HAS_FD7",
            ])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&control.stdout).contains("HAS_FD7"));
        for fd in ["0", "9"] {
            let run = cordon(who, &["--config-fd", fd], None);
            assert_eq!(run.code, 125, "{run}");
            assert!(run.stderr.contains(&format!("--config-fd {fd}")), "{run}");
        }
        let run = cordon(who, &["--config-fd", "7", "--config", "-"], None);
        assert_eq!(run.code, 125, "{run}");
    }
}

/// Usage errors are refusals like any other (125), a command without `--`
/// is pointed at it, and flags that contradict each other are refused.
#[test]
fn flags_never_choose_silently() {
    let run = cordon(me(), &["run", "true"], None);
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("cordon run [FLAGS] -- true"), "{run}");
    for args in [
        &["run", "--bogus", "--", "true"][..],
        &["exec"],
        &["run", "--timeout"],
    ] {
        let run = cordon(me(), args, None);
        assert_eq!(run.code, 125, "{args:?}\n{run}");
    }
    for args in [&["--help"][..], &["run", "--help"], &["--version"]] {
        assert_eq!(cordon(me(), args, None).code, 0, "{args:?}");
    }
    let fx = Fixture::new(me());
    let dir = fx.dir("d");
    for (args, needle) in [
        (
            vec![
                "run",
                "--net",
                "none",
                "--allow-host",
                "a.test",
                "--",
                "true",
            ],
            "contradict",
        ),
        (
            vec!["run", "--ro", &dir, "--rw", &dir, "--", "true"],
            "--ro",
        ),
        (
            vec!["run", "--rw", &dir, "--deny", &dir, "--", "true"],
            "--deny",
        ),
        (vec!["run", "--memory", "lots", "--", "true"], "--memory"),
        (vec!["run", "--cpus", "0", "--", "true"], "--cpus"),
    ] {
        let run = cordon(me(), &args, None);
        assert_eq!(run.code, 125, "{args:?}\n{run}");
        assert!(run.stderr.contains(needle), "{args:?}\n{run}");
    }
    // The resource flags become the config's resources.
    let run = cordon(
        me(),
        &[
            "run",
            "--dry-run",
            "--memory",
            "512M",
            "--cpus",
            "1.5",
            "--pids",
            "64",
            "--",
            "true",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["resources"]["memoryBytes"], 512 * 1024 * 1024, "{run}");
    assert_eq!(plan["resources"]["cpuPercent"], 150, "{run}");
    assert_eq!(plan["resources"]["maxProcesses"], 64, "{run}");
}
