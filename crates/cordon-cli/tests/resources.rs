//! Resource limits (`resources`): hitting one is reported as such; the host
//! stays responsive; a limit that cannot be enforced is an error, never a
//! warning; no cgroup is left behind.

mod common;

use common::*;
use serde_json::{json, Value};

fn cgroups_left() -> Vec<String> {
    let mut found = Vec::new();
    for root in [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/cpu",
    ] {
        let Ok(out) = std::process::Command::new("find")
            .args([
                root,
                "-maxdepth",
                "3",
                "-type",
                "d",
                "-name",
                &format!("cordon-{}*", std::process::id()),
            ])
            .output()
        else {
            continue;
        };
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string),
        );
    }
    found
}

/// A run with limits `who` cannot have here is refused, never run unlimited.
fn assert_limits_refused(who: Identity) {
    let run = run_config(
        who,
        &json!({"process": {"commandLine": "echo RAN"}, "resources": {"memoryMb": 64}}),
    );
    assert_eq!(run.code, 125, "{who:?}\n{run}");
    assert!(!run.stdout.contains("RAN"), "{run}");
    assert!(run.stderr.contains("cannot be enforced"), "{run}");
}

/// Identities able to use cgroups here, on every backend, plus the locked
/// host (Landlock-only mode). Where none can (cgroup v1 and the suite not
/// run as root), the limits must be refused for every identity instead:
/// checked here, so that no test using this passes having checked nothing.
fn cgroup_capable() -> Vec<Identity> {
    let mut out: Vec<Identity> = identities()
        .into_iter()
        .filter(|i| cgroup_limits_work(*i))
        .collect();
    if out.is_empty() {
        for who in identities() {
            assert_limits_refused(who);
        }
    }
    if let Some(first) = out.first() {
        out.push(Identity {
            user: first.user,
            backend: Some(LOCKED_HOST),
        });
    }
    out
}

#[test]
fn memory_bomb_is_killed_and_reported() {
    for who in cgroup_capable() {
        let cfg = json!({
            "process": {"commandLine": "python3 -c 'x = bytearray(400*1024*1024); print(\"survived\")'"},
            "resources": {"memoryMb": 64}
        });
        let file = ConfigFile::new(&for_backend(who, &cfg));
        let run = cordon(
            who,
            &["--json", "--config", file.path.to_str().unwrap()],
            None,
        );
        assert_eq!(run.code, 137, "{who:?}\n{run}");
        assert!(!run.stdout.contains("survived"), "{run}");
        assert!(run.stderr.contains("killed: memory limit 64 MiB"), "{run}");
        let doc: Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
        assert_eq!(doc["limitsHit"][0], "killed: memory limit 64 MiB", "{run}");
        // A small allocation under the same limit works.
        let ok = run_config(
            who,
            &json!({"process": {"commandLine": "python3 -c 'x = bytearray(8*1024*1024); print(\"fine\")'"}, "resources": {"memoryMb": 64}}),
        );
        assert_eq!(ok.stdout.trim(), "fine", "{ok}");
    }
    assert!(cgroups_left().is_empty(), "{:?}", cgroups_left());
}

#[test]
fn fork_bomb_is_bounded_by_max_processes() {
    for who in cgroup_capable() {
        // Only shell builtins: once the limit is reached, even `$(...)` cannot fork.
        let run = run_config(
            who,
            &json!({
                "process": {"commandLine": "i=0; ok=0; while [ $i -lt 60 ]; do if sleep 2 2>/dev/null & then ok=$((ok+1)); fi; i=$((i+1)); done; echo started; kill 0"},
                "resources": {"maxProcesses": 16}
            }),
        );
        assert!(
            run.stderr.contains("process limit 16 reached"),
            "{who:?}\n{run}"
        );
    }
    assert!(cgroups_left().is_empty());
}

#[test]
fn cpu_share_is_capped() {
    for who in cgroup_capable() {
        // Busy for one second of wall time at 20% of one core: about 0.2 s of CPU.
        let run = run_config(
            who,
            &json!({
                "process": {"commandLine": "python3 -c 'import time,os; t=time.time()\nwhile time.time()-t<1: pass\nprint(os.times().user+os.times().system)'"},
                "resources": {"cpuPercent": 20}
            }),
        );
        let used: f64 = run
            .stdout
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{run}"));
        assert!(
            used < 0.45,
            "{who:?}: used {used} s of CPU in 1 s at 20%\n{run}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn limits_that_cannot_be_enforced_are_refused() {
    assert_eq!(
        current_uid(),
        0,
        "run as root (scripts/test.sh passes --include-ignored then)"
    );
    let refused: Vec<Identity> = identities()
        .into_iter()
        .filter(|i| !cgroup_limits_work(*i))
        .collect();
    assert!(
        !refused.is_empty(),
        "every identity can use cgroups on this host: this test needs one that cannot"
    );
    for who in refused {
        assert_limits_refused(who);
    }
}

#[test]
fn rlimits_apply_everywhere() {
    for who in identities() {
        let run = run_config(
            who,
            &json!({
                "process": {"commandLine": "ulimit -n; head -c 3000000 /dev/zero > /tmp/big; echo rc=$?; wc -c < /tmp/big"},
                "resources": {"maxOpenFiles": 64, "maxFileSizeMb": 1}
            }),
        );
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.first(), Some(&"64"), "{who:?}\n{run}");
        assert!(
            run.stdout.contains("1048576"),
            "file capped at 1 MiB\n{run}"
        );
    }
}

#[test]
fn filling_the_private_tmp_hits_its_cap() {
    for who in identities() {
        let start = std::time::Instant::now();
        let run = run_config(
            who,
            &json!({"process": {"commandLine": "dd if=/dev/zero of=/tmp/fill bs=1M count=1200 2>&1 | grep -q 'No space left' && echo full=yes; df -k /tmp | tail -1"}}),
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(
            run.stdout.contains("full=yes"),
            "{who:?}: /tmp is not capped\n{run}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}
