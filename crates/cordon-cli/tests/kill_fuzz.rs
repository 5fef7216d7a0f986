//! cordon SIGKILLed at a random moment of a sandbox's start-up (0–300 ms),
//! with the CPU loaded, on every backend, as the caller and as an
//! unprivileged user, its own pid or its whole process group: afterwards no
//! process of the sandbox runs and nothing of it is left on the host
//! (placeholders, cgroups, temporary directories, mounts).
//!
//! `CORDON_KILL_FUZZ_RUNS` sets the runs per target (default 30 for the
//! caller, half that for the unprivileged user; the full version is 200).

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

/// Two busy loops beside the test, stopped on drop.
struct Load(Vec<Child>);

impl Load {
    fn start() -> Self {
        Load(
            (0..2)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "exec yes > /dev/null"])
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether every process whose command line holds `needle` is gone within
/// 10 s. One that was sent SIGKILL (pending, so it runs no more user code)
/// but is still inside a slow kernel call (a namespace being built on a
/// loaded machine) is given up to 60 s more to finish dying: it is on its
/// way out, and still must go. On failure, what is left, described.
fn processes_gone(needle: &str) -> Result<(), Vec<String>> {
    let gone = || pids_containing(needle).is_empty();
    if wait_until(gone, 10) {
        return Ok(());
    }
    let left = pids_containing(needle);
    if left.iter().all(|pid| sigkill_pending(*pid)) && wait_until(gone, 60) {
        return Ok(());
    }
    let left = pids_containing(needle);
    if left.is_empty() {
        return Ok(());
    }
    Err(left.into_iter().map(describe).collect())
}

fn pids_containing(needle: &str) -> Vec<u32> {
    command_lines()
        .into_iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(pid, _)| pid)
        .collect()
}

/// Whether `pid` has SIGKILL pending (for it or its whole thread group).
fn sigkill_pending(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true;
    };
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SigPnd:")
                .or_else(|| l.strip_prefix("ShdPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & (1 << (libc::SIGKILL - 1)) != 0)
}

/// "PID (state S, parent P, in WCHAN, SIGKILL pending: yes): COMMAND LINE".
fn describe(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or("?".to_string(), |v| v.trim().to_string())
    };
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let cmdline: String = cmdline.chars().take(300).collect();
    format!(
        "{pid} (state {}, parent {}, in {wchan}, SIGKILL pending: {}): {cmdline}",
        field("State:"),
        field("PPid:"),
        if sigkill_pending(pid) { "yes" } else { "no" }
    )
}

/// cgroup directories cordon made for process `pid` (`cordon-PID-*`).
fn cgroups_of(pid: u32) -> Vec<PathBuf> {
    cgroups_named(&format!("cordon-{pid}-"))
}

/// cgroup directories whose name starts with `prefix`.
fn cgroups_named(prefix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, prefix: &str, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if e.file_name().to_string_lossy().starts_with(prefix) {
                out.push(e.path());
            } else if depth < 5 {
                walk(&e.path(), prefix, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), prefix, 0, &mut out);
    out
}

fn temp_dirs() -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("cordon-tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A small deterministic generator: the moments differ run to run, and a
/// failure names the run that can be replayed.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % (max + 1)
    }
}

#[test]
fn sigkill_at_any_moment_of_start_up_leaves_nothing() {
    let configured: Option<usize> = std::env::var("CORDON_KILL_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok());
    let _load = Load::start();
    let before_tmp = temp_dirs();
    let mut moments = Moments(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            .to_le_bytes()[..8]
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b)),
    );
    let targets = identities_and_locked_host();
    for who in targets {
        let runs = configured.unwrap_or(match who.user {
            User::Caller => 30,
            User::Unprivileged => 15,
        });
        let fx = Fixture::new(who);
        let work = fx.dir("work");
        fx.dir("work/.git/hooks");
        fx.file("work/.git/config", "");
        fx.dir("work/sub");
        let expected = listing(Path::new(&work));
        for run in 0..runs {
            let m = format!("cordon-kill-fuzz-{}", marker());
            let sleeper = format!("import time; time.sleep(1000) # {m}");
            let script =
                format!("(setsid python3 -c '{sleeper}' &); python3 -c '{sleeper}' & wait");
            let mut config = json!({
                "process": {"commandLine": script},
                "filesystem": {
                    "readwritePaths": [work],
                    "deniedPaths": [fx.p("work/sub/gone"), fx.p("work/missing/deeper")]
                }
            });
            // Every other run has a cgroup, where cgroups work.
            if cgroup_limits_work(who) && run % 2 == 0 {
                config["resources"] = json!({"memoryMb": 512, "maxProcesses": 200});
            }
            let file = ConfigFile::new(&for_backend(who, &config));
            let mut cmd = command(who);
            cmd.args(["--config", file.path.to_str().unwrap()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0);
            let mut child = cmd.spawn().unwrap();
            let after = moments.next_ms(300);
            std::thread::sleep(Duration::from_millis(after));
            let whole_group = run % 2 == 1;
            let target = match whole_group {
                true => -pid_of(&child),
                false => pid_of(&child),
            };
            // SAFETY: kill(2) of the process (group) this test started.
            unsafe { libc::kill(target, libc::SIGKILL) };
            let _ = child.wait();
            let cordon_pid = child.id();
            let what = format!(
                "{who:?} run {run}: SIGKILL {} {after} ms into start-up",
                if whole_group {
                    "of the process group"
                } else {
                    "of cordon"
                }
            );
            if let Err(left) = processes_gone(&m) {
                panic!("{what}: survivors {left:?}");
            }
            if let Err(left) = processes_gone(&fx.p("work")) {
                panic!("{what}: sandbox processes left {left:?}");
            }
            assert!(
                wait_until(|| listing(Path::new(&work)) == expected, 10),
                "{what}: placeholders left: {:?}",
                listing(Path::new(&work))
            );
            assert!(
                wait_until(|| cgroups_of(cordon_pid).is_empty(), 10),
                "{what}: cgroups left {:?}",
                cgroups_of(cordon_pid)
            );
            assert!(
                wait_until(|| temp_dirs().iter().all(|t| before_tmp.contains(t)), 10),
                "{what}: temporary directories left"
            );
            let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
            assert!(!mounts.contains(&fx.p("work")), "{what}: host mounts left");
        }
    }
}

/// `cordon start` SIGKILLed at a random moment: the sandbox either came up
/// (and is recorded as running) or nothing of it runs; after `stop` and
/// `deprovision`, nothing of it is left either way.
#[test]
fn sigkill_of_start_leaves_a_sandbox_that_runs_or_nothing() {
    let configured: Option<usize> = std::env::var("CORDON_KILL_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok());
    let _load = Load::start();
    let mut moments = Moments(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            .to_le_bytes()[..8]
            .iter()
            .rev()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b))
            ^ 0x5eed,
    );
    for who in identities() {
        let runs = configured.map_or(10, |n| n / 3);
        let fx = Fixture::new(who);
        let work = fx.dir("work");
        let expected = listing(Path::new(&work));
        let state = Fixture::private(who);
        let phase = |args: &[&str]| {
            Run::from(
                command(who)
                    .env("CORDON_STATE_DIR", &state.root)
                    .args(args)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap(),
            )
        };
        let mut config = json!({"containment": who.backend,
            "filesystem": {"readwritePaths": [work], "deniedPaths": [fx.p("work/gone")]}});
        if who.is_root() {
            config["resources"] = json!({"maxProcesses": 100});
        }
        let file = ConfigFile::new(&config);
        for run in 0..runs {
            let doc = phase(&["provision", "--config", file.path.to_str().unwrap()]);
            let doc: serde_json::Value =
                serde_json::from_str(doc.stdout.trim()).unwrap_or_else(|_| panic!("{doc}"));
            let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
            let mut child = command(who)
                .env("CORDON_STATE_DIR", &state.root)
                .args(["start", &id])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap();
            let after = moments.next_ms(150);
            std::thread::sleep(Duration::from_millis(after));
            // SAFETY: kill(2) of the process group this test started.
            unsafe { libc::kill(-pid_of(&child), libc::SIGKILL) };
            let _ = child.wait();
            let what = format!("{who:?} run {run}: start killed {after} ms in");
            let token = id.split_once(':').unwrap().1.to_string();
            // Whatever state it is in, it either runs commands or has no process.
            let listed = phase(&["ls", "--json"]);
            let running = listed.stdout.contains(&format!("\"{id}\""))
                && phase(&["exec", &id, "--", "true"]).code == 0;
            if !running {
                if let Err(left) = processes_gone(&token) {
                    panic!("{what}: not running, yet its processes remain: {left:?}");
                }
            }
            let _ = phase(&["stop", &id]);
            let run_out = phase(&["deprovision", &id]);
            assert_eq!(run_out.code, 0, "{what}\n{run_out}");
            if let Err(left) = processes_gone(&token) {
                panic!("{what}: processes left after deprovision: {left:?}");
            }
            assert!(
                wait_until(|| listing(Path::new(&work)) == expected, 10),
                "{what}: placeholders left: {:?}",
                listing(Path::new(&work))
            );
            assert!(
                std::fs::symlink_metadata(state.path(&token)).is_err(),
                "{what}: state left"
            );
            assert!(
                cgroups_named(&format!("cordon-{token}")).is_empty(),
                "{what}: cgroups left"
            );
        }
    }
}
