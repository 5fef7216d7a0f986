//! State-aware lifecycle (SPEC §4): round trips, persistence, every wrong
//! transition, ids, concurrency, crashes, and the policy holding inside a
//! long-lived sandbox exactly as in one-shot. Root and unprivileged.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A private state root per test, owned by the identity.
struct Env {
    who: Identity,
    state: Fixture,
    /// Every sandbox provisioned here, stopped and removed on drop, so that a
    /// failing test leaves no running sandbox behind its deleted store.
    provisioned: std::cell::RefCell<Vec<String>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for id in self.provisioned.take() {
            let _ = self.run(&["stop", &id]);
            let _ = self.run(&["deprovision", &id]);
        }
    }
}

impl Env {
    fn new(who: Identity) -> Self {
        Env {
            who,
            state: Fixture::private(who),
            provisioned: Default::default(),
        }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = command(self.who);
        cmd.env("CORDON_STATE_DIR", &self.state.root).args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd(args).stdin(Stdio::null()).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn envelope(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        serde_json::from_str(run.stdout.lines().last().unwrap_or("null"))
            .unwrap_or_else(|_| panic!("{run}"))
    }

    fn provision(&self, config: &Value) -> String {
        let file = ConfigFile::new(&for_backend(self.who, config));
        let doc = self.envelope(&["provision", "--config", file.path.to_str().unwrap()]);
        let id = doc["result"]["sandboxId"]
            .as_str()
            .unwrap_or_else(|| panic!("{doc}"))
            .to_string();
        self.provisioned.borrow_mut().push(id.clone());
        id
    }

    fn error_code(&self, args: &[&str]) -> String {
        let doc = self.envelope(args);
        let code = doc["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error: {doc}"));
        code.to_string()
    }

    fn exec(&self, id: &str, cmd: &str) -> Run {
        self.run(&["exec", id, "--", "sh", "-c", cmd])
    }
}

fn users() -> Vec<Identity> {
    identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
        .collect()
}

#[test]
fn round_trip_with_state_kept_across_execs_and_restarts() {
    for who in users() {
        let env = Env::new(who);
        let fx = Fixture::new(who);
        let rw = fx.dir("work");
        let id =
            env.provision(&json!({"containerId": "rt", "filesystem": {"readwritePaths": [rw]}}));
        let backend = who.backend.unwrap();
        assert!(
            id.starts_with(&format!("{backend}:")) && id.len() == backend.len() + 33,
            "{id}"
        );
        assert_eq!(env.envelope(&["start", &id])["result"]["state"], "running");
        let run = env.exec(&id, "echo one > /tmp/kept; echo two > out.txt; pwd");
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(
            run.stdout.trim(),
            rw,
            "default cwd is the first readwrite dir"
        );
        assert_eq!(
            std::fs::read_to_string(fx.path("work/out.txt")).unwrap(),
            "two\n"
        );
        assert_eq!(env.exec(&id, "cat /tmp/kept").stdout, "one\n");
        assert_eq!(env.exec(&id, "exit 7").code, 7);
        assert_eq!(
            env.run(&[
                "exec",
                &id,
                "--env",
                "A=b",
                "--cwd",
                "/tmp",
                "--",
                "sh",
                "-c",
                "echo $A $PWD"
            ])
            .stdout,
            "b /tmp\n"
        );
        // stop keeps /tmp; start brings it back.
        assert_eq!(
            env.envelope(&["stop", &id])["result"]["state"],
            "provisioned"
        );
        assert_eq!(env.envelope(&["start", &id])["result"]["state"], "running");
        assert_eq!(env.exec(&id, "cat /tmp/kept").stdout, "one\n");
        let ls: Value = serde_json::from_str(&env.run(&["ls", "--json"]).stdout).unwrap();
        let entry = &ls["sandboxes"][0];
        assert_eq!(entry["sandboxId"], id.as_str());
        assert_eq!(entry["state"], "running");
        assert_eq!(entry["containerId"], "rt");
        env.envelope(&["stop", &id]);
        assert_eq!(
            env.envelope(&["deprovision", &id])["result"]["state"],
            "deprovisioned"
        );
        let ls: Value = serde_json::from_str(&env.run(&["ls", "--json"]).stdout).unwrap();
        assert_eq!(ls["sandboxes"].as_array().unwrap().len(), 0);
        assert_eq!(
            std::fs::read_dir(&env.state.root).unwrap().count(),
            0,
            "state left behind"
        );
    }
}

#[test]
fn wrong_transitions_and_bad_ids_have_their_codes() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        assert_eq!(env.error_code(&["stop", &id]), "already_stopped");
        let run = env.exec(&id, "true");
        assert_eq!(run.code, 125, "{run}");
        assert!(run.stderr.contains("not running"), "{run}");
        env.envelope(&["start", &id]);
        assert_eq!(env.error_code(&["start", &id]), "already_started");
        assert_eq!(env.error_code(&["deprovision", &id]), "already_started");
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
        assert_eq!(env.error_code(&["start", &id]), "stale_id");
        assert_eq!(env.error_code(&["stop", &id]), "stale_id");
        assert_eq!(env.error_code(&["deprovision", &id]), "stale_id");
        assert_eq!(
            env.error_code(&["start", "native:00000000000000000000000000000000"]),
            "stale_id"
        );
        for bad in [
            "nope",
            "native:xyz",
            "native:../../etc",
            "bubblewrap:0123",
            "native:0123456789abcdef0123456789ABCDEF",
        ] {
            assert_eq!(env.error_code(&["start", bad]), "malformed_id", "{bad}");
        }
    }
}

/// The audit log a sandbox is started with stays out of it for its whole life,
/// also inside a path the sandbox may write.
#[test]
fn a_long_lived_sandbox_cannot_touch_the_audit_log() {
    for who in users() {
        let env = Env::new(who);
        // Outside the state root: no sandbox may be given a path inside it.
        let files = Fixture::new(who);
        let rw = files.dir("rw");
        let log = files.p("rw/audit.jsonl");
        let flag = format!("--audit-log={log}");
        let id = env.provision(&json!({"filesystem": {"readwritePaths": [rw]}}));
        env.envelope(&[&flag, "start", &id]);
        let script = [
            probe("read", &format!("cat {log}")),
            probe("append", &format!("sh -c 'echo FORGED >> {log}'")),
            probe("rw_works", &format!("touch {rw}/other")),
        ]
        .concat();
        let run = env.run(&[&flag, "exec", &id, "--", "sh", "-c", &script]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&["read=fail", "append=fail", "rw_works=ok"]);
        // Another log, which the running sandbox can reach, is refused.
        let other = files.p("rw/other-audit.jsonl");
        let other_flag = format!("--audit-log={other}");
        let run = env.run(&[&other_flag, "exec", &id, "--", "echo", "RAN"]);
        assert_eq!(run.code, 125, "{who:?}\n{run}");
        assert!(!run.stdout.contains("RAN"), "{run}");
        assert!(run.stderr.contains("can reach the audit log"), "{run}");
        // One outside its paths is fine.
        let outside = env.state.p("outside-audit.jsonl");
        let run = env.run(&[
            &format!("--audit-log={outside}"),
            "exec",
            &id,
            "--",
            "echo",
            "RAN",
        ]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<Value>(l).is_ok()),
            "{who:?}\n{text}"
        );
    }
}

/// The state directory is where a sandbox's control socket lives: a shared
/// or redirected one would let someone else drive the caller's sandboxes.
#[test]
fn an_unsafe_state_directory_is_refused() {
    for who in users() {
        let env = Env::new(who);
        let private = env.state.dir("private");
        std::fs::set_permissions(
            &private,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let link = env.state.p("link");
        std::os::unix::fs::symlink(&private, &link).unwrap();
        let open = env.state.dir("open");
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let config = ConfigFile::new(&json!({}));
        for dir in [&link, &open] {
            let out = env
                .cmd(&["provision", "--config", config.path.to_str().unwrap()])
                .env("CORDON_STATE_DIR", dir)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let run = Run::from(out);
            assert_eq!(run.code, 125, "{who:?} {dir}\n{run}");
            assert!(run.stdout.contains("backend_error"), "{run}");
            assert!(run.stdout.contains("not a symlink"), "{run}");
        }
        // Nothing was created through the link.
        assert_eq!(std::fs::read_dir(&private).unwrap().count(), 0);
    }
}

#[test]
fn mxc_wire_form_drives_every_phase() {
    for who in users() {
        let env = Env::new(who);
        let send = |req: Value| -> Run {
            let file = ConfigFile::new(&req);
            env.run(&["--config", file.path.to_str().unwrap()])
        };
        let doc: Value =
            serde_json::from_str(&send(json!({"version": "0.8.0", "phase": "provision"})).stdout)
                .unwrap();
        let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
        let doc: Value =
            serde_json::from_str(&send(json!({"phase": "start", "sandboxId": id})).stdout).unwrap();
        assert_eq!(doc["result"]["state"], "running");
        let run = send(
            json!({"phase": "exec", "sandboxId": id, "process": {"commandLine": "echo wire; exit 3"}}),
        );
        assert_eq!(run.code, 3, "{run}");
        assert_eq!(run.stdout, "wire\n");
        let doc: Value = serde_json::from_str(&send(json!({"phase": "start"})).stdout).unwrap();
        assert_eq!(doc["error"]["code"], "malformed_request");
        let doc: Value =
            serde_json::from_str(&send(json!({"phase": "reboot", "sandboxId": id})).stdout)
                .unwrap();
        assert_eq!(doc["error"]["code"], "unsupported_phase");
        let doc: Value =
            serde_json::from_str(&send(json!({"phase": "provision", "sandboxId": id})).stdout)
                .unwrap();
        assert_eq!(doc["error"]["code"], "malformed_request");
        let doc: Value = serde_json::from_str(
            &send(json!({"phase": "provision", "containment": "wslc"})).stdout,
        )
        .unwrap();
        assert_eq!(doc["error"]["code"], "unsupported_containment");
        send(json!({"phase": "stop", "sandboxId": id}));
        let doc: Value =
            serde_json::from_str(&send(json!({"phase": "deprovision", "sandboxId": id})).stdout)
                .unwrap();
        assert_eq!(doc["result"]["state"], "deprovisioned");
    }
}

/// Schema 1.0.0's state-aware requests (MXC's exact field sets) on cordon's
/// backends: provision with a policy, exec with inheritDefaultEnv and a
/// verbatim env, and the per-kind field checks.
#[test]
fn schema_1_0_requests_drive_every_phase() {
    for who in users() {
        let env = Env::new(who);
        let fx = Fixture::new(who);
        let rw = fx.dir("rw");
        let send = |req: Value| -> Run {
            let file = ConfigFile::new(&req);
            env.run(&["--config", file.path.to_str().unwrap()])
        };
        let envelope = |run: &Run| -> Value {
            serde_json::from_str(run.stdout.lines().last().unwrap_or("null"))
                .unwrap_or_else(|_| panic!("{run}"))
        };
        let provision = for_backend(
            who,
            &json!({"version": "1.0.0", "phase": "provision", "containment": "process",
                "filesystem": {"readwritePaths": [rw]}, "telemetry": {"enabled": false}}),
        );
        let doc = envelope(&send(provision));
        let id = doc["result"]["sandboxId"]
            .as_str()
            .unwrap_or_else(|| panic!("{doc}"))
            .to_string();
        env.provisioned.borrow_mut().push(id.clone());
        let doc = envelope(&send(
            json!({"version": "1.0.0", "phase": "start", "sandboxId": id}),
        ));
        assert_eq!(doc["result"]["state"], "running", "{doc}");
        let run = send(json!({"version": "1.0.0", "phase": "exec", "sandboxId": id,
            "process": {"commandLine": format!("echo \"$A:${{HOME-unset}}\" > {rw}/out; cat {rw}/out"), "env": ["A=1"]}}));
        assert_eq!((run.code, run.stdout.as_str()), (0, "1:unset\n"), "{run}");
        let run = send(json!({"version": "1.0.0", "phase": "exec", "sandboxId": id,
            "process": {"commandLine": "echo \"$A:$LANG\"", "env": ["A=2"], "inheritDefaultEnv": true}}));
        assert_eq!((run.code, run.stdout.as_str()), (0, "2:C.UTF-8\n"), "{run}");
        // Fields an exec request does not have, and a per-exec network.
        for (extra, code) in [
            (json!({"filesystem": {}}), "malformed_request"),
            (
                json!({"network": {"egress": {"default": "allow"}}}),
                "policy_validation",
            ),
        ] {
            let mut req = json!({"version": "1.0.0", "phase": "exec", "sandboxId": id,
                "process": {"commandLine": "echo ran"}});
            for (k, v) in extra.as_object().unwrap() {
                req[k] = v.clone();
            }
            let run = send(req);
            assert_eq!(run.code, 125, "{run}");
            assert_eq!(envelope(&run)["error"]["code"], code, "{run}");
            assert!(!run.stdout.contains("ran"), "{run}");
        }
        let doc = envelope(&send(
            json!({"version": "1.0.0", "phase": "stop", "sandboxId": id, "process": {}}),
        ));
        assert_eq!(doc["error"]["code"], "malformed_request", "{doc}");
        let doc = envelope(&send(
            json!({"version": "1.0.1", "phase": "stop", "sandboxId": id}),
        ));
        assert_eq!(doc["error"]["code"], "malformed_request", "{doc}");
        let doc = envelope(&send(
            json!({"version": "1.0.0", "phase": "stop", "sandboxId": id}),
        ));
        assert_eq!(doc["result"]["state"], "provisioned", "{doc}");
        let doc = envelope(&send(
            json!({"version": "1.0.0", "phase": "deprovision", "sandboxId": id}),
        ));
        assert_eq!(doc["result"]["state"], "deprovisioned", "{doc}");
        env.provisioned.borrow_mut().clear();
        // MXC's provision for a Windows backend is refused as such.
        let doc = envelope(&send(
            json!({"version": "1.0.0", "phase": "provision", "containment": "wslc"}),
        ));
        assert_eq!(doc["error"]["code"], "unsupported_containment", "{doc}");
        let doc = envelope(&send(json!({"version": "1.0.0", "phase": "provision"})));
        assert_eq!(doc["error"]["code"], "malformed_request", "{doc}");
    }
}

/// `exec --json` reports like `run --json`: a line of its own after the
/// command's output, one exit-code field, integer milliseconds.
#[test]
fn exec_reports_its_outcome_with_json() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        assert_eq!(env.envelope(&["start", &id])["result"]["state"], "running");
        let run = env.run(&[
            "exec",
            &id,
            "--json",
            "--",
            "sh",
            "-c",
            "printf partial; exit 6",
        ]);
        assert_eq!(run.code, 6, "{run}");
        assert!(run.stdout.starts_with("partial\n"), "{run}");
        let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(doc["exitCode"], 6, "{run}");
        assert_eq!(doc["sandboxId"], id.as_str(), "{run}");
        assert!(doc["durationMs"].is_u64(), "{run}");
    }
}

#[test]
fn twenty_concurrent_execs() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        env.envelope(&["start", &id]);
        let children: Vec<_> = (0..20)
            .map(|i| {
                env.cmd(&[
                    "exec",
                    &id,
                    "--",
                    "sh",
                    "-c",
                    &format!("sleep 0.2; echo job{i}; exit {}", i % 5),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), format!("job{i}\n"));
            assert_eq!(out.status.code(), Some(i32::try_from(i % 5).unwrap()));
        }
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn output_streams_live_and_stdin_works() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        env.envelope(&["start", &id]);
        let mut child = env
            .cmd(&[
                "exec",
                &id,
                "--",
                "sh",
                "-c",
                "echo first; sleep 2; echo second",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "first");
        // Buffered output would bring both lines at once, at the end; a slow
        // start of the exec (a loaded machine) must not count against it.
        let first = Instant::now();
        assert_eq!(lines.next().unwrap().unwrap(), "second");
        assert!(
            first.elapsed() > Duration::from_millis(1000),
            "output was buffered"
        );
        child.wait().unwrap();
        let mut child = env
            .cmd(&["exec", &id, "--", "sh", "-c", "read x; echo got:$x"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
        assert_eq!(
            String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout),
            "got:hello\n"
        );
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn stop_kills_daemons_and_exec_timeouts_kill_the_session() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        env.envelope(&["start", &id]);
        let m = marker();
        // Daemons let go of the client's stdio, as they would under any shell.
        let run = env.exec(
            &id,
            &format!("exec >/dev/null 2>&1; setsid sleep {m} & (sleep {m} &) & true"),
        );
        assert_eq!(run.code, 0);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            processes_with(&format!("sleep {m}")).len(),
            2,
            "daemons keep running between execs"
        );
        env.envelope(&["stop", &id]);
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "stop left daemons"
        );

        env.envelope(&["start", &id]);
        let m = marker();
        let start = Instant::now();
        let run = env.run(&[
            "exec",
            &id,
            "--timeout",
            "300ms",
            "--",
            "sh",
            "-c",
            &format!("sleep {m} & sleep {m}"),
        ]);
        assert_eq!(run.code, 124, "{run}");
        assert!(start.elapsed() < Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "timeout left the session's processes"
        );

        // A killed client takes its command with it.
        let m = marker();
        let mut child = env.cmd(&["exec", &id, "--", "sleep", &m]).spawn().unwrap();
        wait_until(|| sleepers(&m) > 0, 3);
        child.kill().unwrap();
        child.wait().unwrap();
        wait_until(|| sleepers(&m) == 0, 3);
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "command outlived its client"
        );
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn a_killed_supervisor_is_reported_and_deprovision_cleans_up() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        env.envelope(&["start", &id]);
        let m = marker();
        env.exec(&id, &format!("setsid sleep {m} >/dev/null 2>&1 &"));
        let record: Value = serde_json::from_slice(
            &std::fs::read(
                env.state
                    .root
                    .join(id.trim_start_matches("native:"))
                    .join("record.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let pid = i32::try_from(record["initPid"].as_i64().unwrap()).unwrap();
        // SAFETY: kill(2) of the sandbox init this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        std::thread::sleep(Duration::from_millis(100));
        let ls: Value = serde_json::from_str(&env.run(&["ls", "--json"]).stdout).unwrap();
        assert_eq!(ls["sandboxes"][0]["state"], "crashed", "{ls}");
        let run = env.exec(&id, "true");
        assert_eq!(run.code, 125);
        assert!(run.stderr.contains("crashed"), "{run}");
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "sandbox processes survived their init"
        );
        assert_eq!(
            env.envelope(&["deprovision", &id])["result"]["state"],
            "deprovisioned"
        );
        assert_eq!(std::fs::read_dir(&env.state.root).unwrap().count(), 0);
    }
}

#[test]
fn policy_holds_inside_a_long_lived_sandbox() {
    for who in users() {
        let env = Env::new(who);
        let fx = Fixture::new(who);
        let rw = fx.dir("rw");
        let secret = fx.file("rw/secret", "SECRET");
        let ro = fx.dir("ro");
        // Root: a root-only file deep below /etc (the baseline is owner-less).
        let etc = (current_uid() == 0).then(EtcFixture::new);
        let deep = etc.as_ref().map_or("/etc/shadow", |e| e.secret.as_str());
        let id = env.provision(&json!({"filesystem": {"readwritePaths": [rw], "readonlyPaths": [ro], "deniedPaths": [secret]}}));
        env.envelope(&["start", &id]);
        let mut victim = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let home = who.home();
        let run = env.exec(
            &id,
            &format!(
                "cat {secret} >/dev/null 2>&1 && echo secret=ok || echo secret=fail; \
                 touch {ro}/x 2>/dev/null && echo ro=ok || echo ro=fail; \
                 ls {home} >/dev/null 2>&1 && echo home=ok || echo home=fail; \
                 cat /etc/shadow >/dev/null 2>&1 && echo shadow=ok || echo shadow=fail; \
                 cat {deep} >/dev/null 2>&1 && echo deep=ok || echo deep=fail; \
                 kill -0 {pid} 2>/dev/null && echo signal=ok || echo signal=fail; \
                 unshare -Ur true 2>/dev/null && echo userns=ok || echo userns=fail; \
                 grep CapEff /proc/self/status",
                home = home.display(),
                pid = victim.id()
            ),
        );
        let _ = victim.kill();
        let _ = victim.wait();
        run.expect(&[
            "secret=fail",
            "ro=fail",
            "home=fail",
            "shadow=fail",
            "deep=fail",
            "signal=fail",
            "userns=fail",
        ]);
        assert!(run.stdout.contains("CapEff:\t0000000000000000"), "{run}");
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn exec_with_a_terminal_follows_window_size_changes() {
    for who in users() {
        let env = Env::new(who);
        let id = env.provision(&json!({}));
        env.envelope(&["start", &id]);
        let text = run_in_terminal(
            who,
            &[
                "exec",
                &id,
                "--pty",
                "--",
                "sh",
                "-c",
                "test -t 0 && echo tty=yes; stty size; sleep 1; stty size; exit 4",
            ],
            None,
            &[("CORDON_STATE_DIR", &env.state.root)],
        );
        assert_eq!(text, "tty=yes\n30 100\n40 120\nrc=4\n", "{who:?}");
        env.envelope(&["stop", &id]);
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn limits_hold_for_the_whole_life_of_a_sandbox() {
    let users: Vec<Identity> = users()
        .into_iter()
        .filter(|w| cgroup_limits_work(*w))
        .collect();
    if users.is_empty() {
        // No identity can have limits here (cgroup v1, not root): starting
        // a sandbox with limits is refused, never started unlimited.
        for who in self::users() {
            let env = Env::new(who);
            let id = env.provision(&json!({"resources": {"memoryMb": 64}}));
            let run = env.run(&["start", &id]);
            assert_ne!(run.code, 0, "{run}");
            assert!(run.stdout.contains("cannot be enforced"), "{run}");
            env.envelope(&["deprovision", &id]);
        }
    }
    for who in users {
        let env = Env::new(who);
        let id = env.provision(&json!({"resources": {"memoryMb": 64, "maxProcesses": 32}}));
        env.envelope(&["start", &id]);
        let token = id.split_once(':').unwrap().1.to_string();
        let record: Value = serde_json::from_slice(
            &std::fs::read(env.state.root.join(&token).join("record.json")).unwrap(),
        )
        .unwrap();
        let dirs: Vec<String> = record["cgroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert_eq!(dirs.len(), 2, "{record}");
        let run = env.exec(
            &id,
            "python3 -c 'x = bytearray(300*1024*1024); print(\"survived\")'",
        );
        assert_eq!(run.code, 137, "{who:?}\n{run}");
        assert!(!run.stdout.contains("survived"));
        assert_eq!(
            env.exec(&id, "echo still-alive").stdout,
            "still-alive\n",
            "the sandbox outlives one killed command"
        );
        env.envelope(&["stop", &id]);
        for dir in &dirs {
            assert!(!std::path::Path::new(dir).exists(), "{dir} left after stop");
        }
        env.envelope(&["deprovision", &id]);
    }
}

#[test]
fn exec_words_behave_as_through_the_shell() {
    // `cordon exec ID -- CMD ARGS` may exec CMD without /bin/sh in between;
    // the result is what `sh -c` with the quoted words gives.
    for who in identities()
        .into_iter()
        .filter(|i| matches!(i.backend, Some("native" | "bubblewrap")))
    {
        let env = Env::new(who);
        let fx = Fixture::new(who);
        fx.dir("bin");
        let script = fx.executable("bin/no-shebang", "echo SCRIPT \"$@\"\n");
        let id = env.provision(&json!({"filesystem": {"readonlyPaths": [fx.p("bin")]}}));
        assert_eq!(env.envelope(&["start", &id])["result"]["state"], "running");
        let exec = |words: &[&str]| {
            let mut args = vec!["exec", id.as_str(), "--"];
            args.extend_from_slice(words);
            env.run(&args)
        };
        words_behave_as_through_the_shell(who, &script, exec);
        assert_eq!(
            env.envelope(&["stop", &id])["result"]["state"],
            "provisioned"
        );
        env.run(&["deprovision", &id]);
    }
}
