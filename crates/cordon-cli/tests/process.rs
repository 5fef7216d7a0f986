//! Process, time, environment and isolation (SPEC §2.2 model 3, §2.4), attacked
//! from inside: capabilities, host processes, host loopback, escaping the
//! deadline with setsid and double forks, outliving a killed runner.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn sh(who: Identity, cmd: &str) -> Run {
    run_config(who, &json!({"process": {"commandLine": cmd}}))
}

#[test]
fn exit_codes_pass_through_and_signals_become_128_plus_n() {
    for who in identities() {
        assert_eq!(sh(who, "exit 0").code, 0);
        assert_eq!(sh(who, "exit 3").code, 3);
        assert_eq!(sh(who, "exit 255").code, 255);
        assert_eq!(sh(who, "kill -TERM $$").code, 128 + 15);
        assert_eq!(sh(who, "kill -KILL $$").code, 128 + 9);
        let missing = sh(who, "no-such-command-cordon");
        assert_eq!(missing.code, 127, "{missing}");
        let not_exec = sh(who, "/etc/passwd");
        assert_eq!(not_exec.code, 126, "{not_exec}");
    }
}

#[test]
fn run_words_behave_as_through_the_shell() {
    // `cordon run -- CMD ARGS` may exec CMD without /bin/sh in between (the
    // native init, or bwrap itself); whatever path it takes, the result is
    // what `sh -c` with the quoted words gives.
    for who in identities() {
        let fx = Fixture::new(who);
        let dir = fx.dir("bin");
        let script = fx.executable("bin/no-shebang", "echo SCRIPT \"$@\"\n");
        let run = |words: &[&str]| {
            let mut args = vec!["run", "--ro", dir.as_str(), "--"];
            args.extend_from_slice(words);
            cordon(who, &args, None)
        };
        words_behave_as_through_the_shell(who, &script, run);

        // A PATH entry the sandbox cannot use comes first: a denied directory
        // holding its own `env`, then a masked file of that name. Either way
        // the command is the `env` the shell finds further on.
        let hidden = fx.dir("hidden");
        fx.executable("hidden/env", "#!/bin/sh\necho WRONG\n");
        let masked = fx.dir("masked");
        let masked_env = fx.executable("masked/env", "#!/bin/sh\necho WRONG\n");
        let root = fx.root.display().to_string();
        for (deny, dir) in [(&hidden, &hidden), (&masked_env, &masked)] {
            let path_var = format!("--env=PATH={dir}:/usr/bin:/bin");
            let args = ["run", "--ro", &root, "--deny", deny, &path_var, "--", "env"];
            let run = cordon(who, &args, None);
            assert_eq!(run.code, 0, "{who:?} {run}");
            assert!(
                run.stdout.contains("PATH=") && !run.stdout.contains("WRONG"),
                "{who:?} {run}"
            );
        }
    }
}

#[test]
fn descriptors_the_caller_leaves_open_do_not_reach_the_sandbox() {
    // An agent framework may hold sockets or files without close-on-exec;
    // the sandbox must get stdin, stdout and stderr only (was: the bubblewrap
    // backend passed them on through bwrap).
    for who in identities() {
        let args = with_backend(who, &["run", "--", "/usr/bin/ls", "/proc/self/fd"]);
        let cmd = command(who);
        let program = cmd.get_program().to_owned();
        let prefix: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        // Python leaves two inheritable descriptors open and execs cordon.
        let mut shell = Command::new("python3");
        shell
            .arg("-c")
            .arg(
                "import os, sys\n\
                 for fd in (os.open('/dev/null', os.O_RDONLY), os.dup(2)):\n    \
                 os.set_inheritable(fd, True)\n\
                 os.execvp(sys.argv[1], sys.argv[1:])",
            )
            .arg(program)
            .args(prefix)
            .args(&args)
            .current_dir("/")
            .stdin(Stdio::null());
        let run = Run::from(shell.output().unwrap());
        assert_eq!(run.code, 0, "{who:?} {run}");
        assert_eq!(run.stdout, "0\n1\n2\n3\n", "{who:?} {run}");
    }
}

#[test]
fn stdin_passes_through_and_streams_stay_separate() {
    for who in identities() {
        let run = cordon(
            who,
            &[
                "run",
                "--",
                "sh",
                "-c",
                "read line; echo \"got:$line\"; echo err >&2",
            ],
            Some("hello\n"),
        );
        assert_eq!(run.code, 0, "{run}");
        assert_eq!(run.stdout, "got:hello\n", "{run}");
        assert_eq!(run.stderr, "err\n", "{run}");
    }
}

#[test]
fn environment_is_cleared_and_set_exactly() {
    for who in identities() {
        let mut cmd = command(who);
        cmd.env("CORDON_HOST_SECRET", "leak")
            .args(["run", "--env", "FOO=bar", "--", "env"])
            .stdin(Stdio::null());
        let out = cmd.output().unwrap();
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{env}");
        assert!(
            !env.contains("CORDON_HOST_SECRET"),
            "host env leaked: {env}"
        );
        assert!(env.lines().any(|l| l == "FOO=bar"), "{env}");
        assert!(env.lines().any(|l| l == "LANG=C.UTF-8"), "{env}");
        assert!(env.lines().any(|l| l == "HOME=/tmp/home"), "{env}");
        assert!(
            env.lines().any(|l| l.starts_with("PATH=/usr/local/sbin")),
            "{env}"
        );
        // process.env may override the defaults.
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "echo $HOME $LANG", "env": ["HOME=/h", "LANG=C"]}}),
        );
        assert_eq!(run.stdout.trim(), "/h C", "{run}");
    }
}

#[test]
fn cwd_is_used_verbatim_or_defaulted() {
    for who in identities() {
        let fx = Fixture::new(who);
        let rw = fx.dir("work");
        let ro = fx.dir("tools");
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "pwd"}, "filesystem": {"readonlyPaths": [ro], "readwritePaths": [rw]}}),
        );
        assert_eq!(
            run.stdout.trim(),
            rw,
            "first readwrite dir is the default\n{run}"
        );
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "pwd"}, "filesystem": {"readonlyPaths": [ro]}}),
        );
        assert_eq!(run.stdout.trim(), ro, "then the first readonly dir\n{run}");
        let run = sh(who, "pwd");
        assert_eq!(run.stdout.trim(), "/tmp", "then the private /tmp\n{run}");
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "pwd", "cwd": ro}, "filesystem": {"readonlyPaths": [ro], "readwritePaths": [rw]}}),
        );
        assert_eq!(run.stdout.trim(), ro, "{run}");
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "pwd", "cwd": "/var/lib"}}),
        );
        assert_eq!(run.code, 125, "an unusable cwd is an error\n{run}");
        assert!(run.stderr.contains("process.cwd"), "{run}");
    }
}

#[test]
fn no_capabilities_even_when_run_by_root() {
    for who in identities() {
        let run = sh(who, "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; grep NoNewPrivs /proc/self/status");
        assert_eq!(run.code, 0, "{run}");
        for line in run.stdout.lines().filter(|l| l.starts_with("Cap")) {
            assert!(
                line.ends_with("0000000000000000"),
                "{who:?} holds a capability: {line}"
            );
        }
        assert!(run.stdout.contains("NoNewPrivs:\t1"), "{run}");
        // Privileged operations fail even for uid 0 inside.
        let run = sh(who, "if mount -t tmpfs x /tmp 2>/dev/null; then echo mount=ok; else echo mount=fail; fi; if chroot / true 2>/dev/null; then echo chroot=ok; else echo chroot=fail; fi");
        run.expect(&["mount=fail", "chroot=fail"]);
    }
}

#[test]
fn host_processes_are_invisible_and_unsignalable() {
    for who in identities() {
        let mut victim = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = victim.id();
        let run = sh(
            who,
            &format!(
                "if [ -e /proc/{pid} ]; then echo see=yes; else echo see=no; fi; \
                 if kill -0 {pid} 2>/dev/null; then echo signal=ok; else echo signal=fail; fi; \
                 if kill -9 1 2>/dev/null; then echo init=killed; else echo init=safe; fi; \
                 echo procs=$(ls /proc | grep -c '^[0-9]')"
            ),
        );
        let alive = victim.try_wait().unwrap().is_none();
        let _ = victim.kill();
        let _ = victim.wait();
        assert!(alive, "the host process was killed from inside");
        assert_eq!(run.code, 0, "{run}");
        run.expect(&["see=no", "signal=fail"]);
        let procs: usize = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("procs="))
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(procs <= 5, "sandbox sees {procs} processes\n{run}");
    }
}

#[test]
fn host_loopback_is_unreachable_and_own_loopback_works() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for who in identities() {
        let run = sh(
            who,
            &format!(
                "if timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null; then echo host=reached; else echo host=blocked; fi; \
                 if timeout 3 bash -c 'exec 3<>/dev/tcp/10.255.255.1/80' 2>/dev/null; then echo out=reached; else echo out=blocked; fi; \
                 ip -o link 2>/dev/null | awk '{{print $2}}' | tr -d : | sort | tr '\\n' ' ' | sed 's/^/links=/'; echo; \
                 python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); s.listen(); c=socket.create_connection(s.getsockname()); print(\"own=ok\")' 2>/dev/null || echo own=fail"
            ),
        );
        assert_eq!(run.code, 0, "{run}");
        run.expect(&["host=blocked", "out=blocked", "own=ok"]);
        assert!(
            run.stdout.contains("links=lo \n") || run.stdout.contains("links=lo"),
            "{run}"
        );
    }
    drop(listener);
}

#[test]
fn host_network_is_shared_only_where_mxc_said_so() {
    let host_ns = std::fs::read_link("/proc/self/ns/net").unwrap();
    let host_ns = host_ns.to_string_lossy();
    for who in identities() {
        let legacy = run_config(
            who,
            &json!({"version": "0.7.0", "process": {"commandLine": "readlink /proc/self/ns/net"}, "network": {"defaultPolicy": "allow"}}),
        );
        assert_eq!(legacy.code, 0, "{legacy}");
        assert_eq!(legacy.stdout.trim(), host_ns, "{legacy}");
        assert!(
            legacy.stderr.contains("shares the host's network"),
            "{legacy}"
        );
        let isolated = run_config(
            who,
            &json!({"version": "0.9.0", "process": {"commandLine": "readlink /proc/self/ns/net"}, "network": {"egress": {"default": "deny"}}}),
        );
        assert_eq!(isolated.code, 0, "{isolated}");
        assert_ne!(isolated.stdout.trim(), host_ns, "{isolated}");
    }
}

#[test]
fn timeout_kills_the_whole_tree_including_setsid_and_double_forks() {
    for who in identities() {
        let m = marker();
        let script = format!(
            "setsid sleep {m} & (sleep {m} &) & nohup sh -c 'trap \"\" TERM HUP; sleep {m}' >/dev/null 2>&1 & sleep {m}"
        );
        let start = Instant::now();
        let run = run_config(
            who,
            &json!({"process": {"commandLine": script, "timeout": 300}}),
        );
        let took = start.elapsed();
        assert_eq!(run.code, 124, "{run}");
        assert!(took < Duration::from_secs(3), "took {took:?}");
        assert!(
            processes_with(&format!("sleep {m}")).is_empty(),
            "survivors after timeout"
        );
    }
}

#[test]
fn timeout_kill_lands_promptly_after_the_deadline() {
    for who in identities() {
        let run = cordon(
            who,
            &[
                "run",
                "--debug",
                "--timeout",
                "200ms",
                "--",
                "sh",
                "-c",
                "while :; do :; done",
            ],
            None,
        );
        assert_eq!(run.code, 124, "{run}");
        let late_ms: f64 = run
            .stderr
            .lines()
            .find_map(|l| l.split("sandbox gone ").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no kill latency reported\n{run}"));
        assert!(
            late_ms < 50.0,
            "sandbox died {late_ms} ms past the deadline"
        );
    }
}

fn spawn_cordon_with_daemons(who: Identity, m: &str) -> std::process::Child {
    let mut cmd = command(who);
    cmd.args([
        "run",
        "--",
        "sh",
        "-c",
        &format!("setsid sleep {m} & (sleep {m} &) & echo started; sleep {m}"),
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Wait until the workload is up.
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 8];
    use std::io::Read;
    let _ = out.read(&mut buf);
    wait_until(|| sleepers(m) >= 3, 5);
    child
}

fn wait_gone(m: &str) -> bool {
    wait_until(|| sleepers(m) == 0, 3)
}

#[test]
fn sigterm_to_cordon_kills_the_sandbox() {
    for who in identities() {
        let m = marker();
        let child = spawn_cordon_with_daemons(who, &m);
        assert_eq!(processes_with(&format!("sleep {m}")).len(), 3);
        // setpriv execs cordon, so the child pid is cordon's.
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(pid_of(&child), libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(128 + 15));
        assert!(wait_gone(&m), "sandbox survived SIGTERM of cordon");
    }
}

#[test]
fn sigkill_of_cordon_kills_the_sandbox() {
    for who in identities() {
        let m = marker();
        let mut child = spawn_cordon_with_daemons(who, &m);
        assert_eq!(processes_with(&format!("sleep {m}")).len(), 3);
        child.kill().unwrap();
        let _ = child.wait();
        assert!(wait_gone(&m), "sandbox survived SIGKILL of cordon");
    }
}

#[test]
fn daemons_left_behind_at_normal_exit_are_killed() {
    for who in identities() {
        let m = marker();
        let run = sh(who, &format!("setsid sleep {m} & (sleep {m} &) & exit 7"));
        assert_eq!(run.code, 7, "{run}");
        assert!(wait_gone(&m), "daemon survived the run");
    }
}

#[test]
fn sandbox_has_its_own_hostname_ipc_and_session() {
    for who in identities() {
        let run = sh(
            who,
            "hostname; ps -o sid= -p $$ 2>/dev/null || true; echo pid=$$",
        );
        assert_eq!(run.code, 0, "{run}");
        assert!(run.stdout.starts_with("cordon\n"), "{run}");
    }
}

#[test]
fn sigpipe_has_its_default_disposition_inside() {
    for who in identities() {
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "yes | head -c 10 >/dev/null; echo pipe=${PIPESTATUS:-ok}; grep SigIgn /proc/self/status"}}),
        );
        assert_eq!(run.code, 0, "{run}");
        let ignored = run
            .stdout
            .lines()
            .find(|l| l.starts_with("SigIgn"))
            .unwrap();
        let mask = u64::from_str_radix(ignored.split_whitespace().nth(1).unwrap(), 16).unwrap();
        assert_eq!(
            mask & (1 << (13 - 1)),
            0,
            "SIGPIPE ignored inside: {ignored}"
        );
    }
}

#[test]
fn run_with_a_terminal_relays_input_output_and_resizes() {
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let text = run_in_terminal(
            who,
            &["run", "--pty", "--", "sh", "-c", "test -t 0 && echo tty=yes; stty size; sleep 1; stty size; read x; echo got=$x; exit 4"],
            Some("hello\n"),
            &[],
        );
        assert_eq!(
            text, "tty=yes\n30 100\n40 120\nhello\ngot=hello\nrc=4\n",
            "{who:?}"
        );
    }
    // The terminal's type comes along (less, clear and colours need it);
    // without a terminal there is none to describe.
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let term = std::path::Path::new("xterm-256color");
        let text = run_in_terminal(
            who,
            &["run", "--pty", "--", "sh", "-c", "echo term=$TERM"],
            None,
            &[("TERM", term)],
        );
        assert!(text.starts_with("term=xterm-256color\n"), "{who:?}: {text}");
        let mut cmd = command(who);
        cmd.env("TERM", term)
            .args(["run", "--", "sh", "-c", "echo term=${TERM-unset}"]);
        let run = Run::from(cmd.output().unwrap());
        assert_eq!(run.stdout, "term=unset\n", "{who:?}\n{run}");
    }
    // Backends that cannot give a terminal say so instead of running without one.
    let run = cordon(
        Identity::CALLER,
        &[
            "run",
            "--pty",
            "--backend",
            "bubblewrap",
            "--",
            "echo",
            "RAN",
        ],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(!run.stdout.contains("RAN"));
}

/// `(parent pid, session id, scheduling policy)` of `pid` from
/// /proc/PID/stat (fields 4, 6 and 41).
fn stat_of(pid: u32) -> Option<(u32, u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (name, rest) = stat.rsplit_once(')')?;
    if !name.ends_with("(cordon") {
        return None;
    }
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the command name start at 3 (state).
    let field = |n: usize| fields.get(n - 3)?.parse::<u32>().ok();
    Some((field(4)?, field(6)?, field(41)?))
}

/// The janitor (a fork of cordon in a session of its own, which removes
/// what a killed run leaves) runs under SCHED_BATCH: cordon closes its
/// channel at the end of every run, and a janitor woken on cordon's CPU with
/// the normal policy preempted it to clean up and exit first (≈ 1.4 ms in a
/// quarter of bubblewrap runs, bench/phases.py). It switches before it
/// makes its session, so a session leader seen here has switched already.
/// The control: cordon itself, found the same way, keeps the normal policy.
#[test]
fn the_janitor_does_not_preempt_cordon() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    for who in [Identity::CALLER, Identity::UNPRIVILEGED] {
        // A writable tree with missing protected paths: placeholders, so a
        // janitor, on the default backend.
        let fx = Fixture::new(who);
        let work = fx.dir("work");
        let cordon = command(who)
            .args(["run", "--cwd", "/", "--rw", &work, "--", "sleep", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // With setpriv in front, cordon is the child's exec'd image: same pid.
        let cordon_pid = cordon.id();
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut janitor = None;
        let mut own = None;
        while janitor.is_none() && Instant::now() < deadline {
            own = own.or_else(|| stat_of(cordon_pid));
            janitor = command_lines().into_iter().find_map(|(pid, _)| {
                let (parent, session, policy) = stat_of(pid)?;
                (parent == cordon_pid && session == pid).then_some(policy)
            });
            std::thread::sleep(Duration::from_millis(5));
        }
        let out = cordon.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{who:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, _, own_policy) = own.expect("cordon's own /proc/PID/stat");
        assert_eq!(
            own_policy, SCHED_OTHER,
            "{who:?}: the control, cordon itself"
        );
        assert_eq!(janitor, Some(SCHED_BATCH), "{who:?}: the janitor");
    }
}
