//! `cordon learn [policy flags] -- CMD`: run CMD under the given policy in
//! an observing sandbox, and suggest the policy it needs — the paths it
//! read or wrote that the policy did not grant, the hosts it tried to reach
//! — as an MXC config to review, never applied by itself.
//!
//! Each round runs CMD under the policy so far plus what observation needs:
//! a read-only copy of cordon (the observer, `__observe`), a private report
//! directory, and cordon's filtering proxy refusing every host (so that host
//! names show). The observer watches through seccomp user notification,
//! which works without privilege and lets every call continue as the
//! policy decides. What a round was refused is granted in the next (read
//! vs write, at the narrowest path that serves), until CMD passes, nothing
//! new shows, or `--rounds` runs out. Each refusal is reported once, in order.

mod observe;
mod suggest;

use std::path::{Path, PathBuf};

use clap::Args;
use cordon_policy::PolicyError;
use serde_json::{json, Value};

use crate::flags::{self, PolicyArgs};
pub use observe::observe;
use suggest::{Finding, Observation};

/// The host the observing proxy is given so that it runs (it never
/// resolves: `.invalid` is reserved).
const OBSERVING_HOST: &str = "cordon-learn.invalid";

/// `cordon learn`.
#[derive(Args, Debug)]
pub struct LearnArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Write the suggested config to this file (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Run the command at most this many times.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub rounds: u32,
    /// The command and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// What the rounds have granted so far, and what they saw.
#[derive(Default)]
struct Learned {
    readonly: Vec<PathBuf>,
    readwrite: Vec<PathBuf>,
    hosts: Vec<String>,
    /// Looked at only: granted when nothing else is left to try.
    looked: Vec<PathBuf>,
    /// Probed (absent), denied on purpose, too broad, direct connections.
    noted: Vec<String>,
    executables: Vec<String>,
    /// Every finding already reported.
    reported: Vec<Finding>,
}

impl Learned {
    fn covers(&self, path: &Path, write: bool) -> bool {
        let rw = self.readwrite.iter().any(|g| path.starts_with(g));
        rw || !write && self.readonly.iter().any(|g| path.starts_with(g))
    }

    /// Grant `path` (write or read), at `cwd` when it lies there.
    fn grant(&mut self, path: &Path, write: bool, cwd: &Path) -> bool {
        let path = if path.starts_with(cwd) && cwd != Path::new("/") {
            cwd.to_path_buf()
        } else {
            path.to_path_buf()
        };
        if self.covers(&path, write) {
            return false;
        }
        if write {
            self.readonly.retain(|g| !g.starts_with(&path));
            self.readwrite.retain(|g| !g.starts_with(&path));
            self.readwrite.push(path);
        } else {
            self.readonly.retain(|g| !g.starts_with(&path));
            self.readonly.push(path);
        }
        true
    }

    /// Many files of one directory (not a top-level one): the directory.
    fn collapse(&mut self) {
        let mut parents: Vec<PathBuf> = self
            .readonly
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        parents.sort();
        parents.dedup();
        for parent in parents {
            let children = self
                .readonly
                .iter()
                .filter(|p| p.parent() == Some(&parent))
                .count();
            if children >= 4 && cordon_policy::plan::path_depth(&parent) >= 2 {
                self.readonly.retain(|p| p.parent() != Some(&parent));
                self.readonly.push(parent);
            }
        }
    }

    fn policy(&self, base: &PolicyArgs) -> PolicyArgs {
        let mut args = base.clone();
        let words = |list: &[PathBuf]| {
            list.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        };
        args.readonly.extend(words(&self.readonly));
        args.readwrite.extend(words(&self.readwrite));
        args.allow_host.extend(self.hosts.iter().cloned());
        args
    }
}

/// The observer's files: a copy of cordon (read-only in the sandbox) and
/// the reports (writable), in a private directory removed afterwards.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn create() -> std::io::Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let mut bytes = [0u8; 8];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let root = std::env::temp_dir().join(format!("cordon-learn-{name}"));
        std::fs::DirBuilder::new().mode(0o700).create(&root)?;
        let ws = Workspace { root };
        for dir in ["bin", "report"] {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(ws.root.join(dir))?;
        }
        std::fs::copy("/proc/self/exe", ws.observer())?;
        std::fs::set_permissions(ws.observer(), std::fs::Permissions::from_mode(0o500))?;
        Ok(ws)
    }
    fn observer(&self) -> PathBuf {
        self.root.join("bin/cordon")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn say(line: &str) {
    eprintln!("cordon learn: {line}");
}

/// How `cordon learn` runs one round and reports a refusal: `cordon run`'s
/// own path (audit log, ceiling, backends), handed in by the caller.
pub struct Runner<R, F> {
    /// Run a one-shot config with the command as words: its plan and
    /// outcome, or cordon's exit code when it did not run.
    pub run: R,
    /// Report a refusal as every command does; the exit code.
    pub fail: F,
}

/// Run `cordon learn`; cordon's exit code (the command's last one, or 125).
pub fn learn<R, F>(args: &LearnArgs, mut runner: Runner<R, F>) -> i32
where
    R: FnMut(
        cordon_policy::Config,
        &[String],
    ) -> Result<(cordon_policy::Plan, cordon_sandbox::Outcome), i32>,
    F: Fn(&PolicyError) -> i32,
{
    match drive(args, &mut runner.run) {
        Ok(code) => code,
        Err(e) => (runner.fail)(&e),
    }
}

fn drive<R>(args: &LearnArgs, run: &mut R) -> Result<i32, PolicyError>
where
    R: FnMut(
        cordon_policy::Config,
        &[String],
    ) -> Result<(cordon_policy::Plan, cordon_sandbox::Outcome), i32>,
{
    if args.command.is_empty() {
        return Err(PolicyError::malformed(
            "no command given: cordon learn [FLAGS] -- CMD [ARGS...]",
        ));
    }
    let cwd = match &args.policy.cwd {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .map_err(|e| {
                PolicyError::malformed(format!("the current directory is unknown ({e})"))
            })?,
    };
    let ws = Workspace::create()
        .map_err(|e| PolicyError::malformed(format!("cannot prepare the observer: {e}")))?;
    let ignore = vec![ws.root.clone()];
    let mut learned = Learned::default();
    let mut passed = None;
    let mut last = 125;
    for round in 1..=args.rounds.max(1) {
        let mut policy = learned.policy(&args.policy);
        policy.cwd = Some(cwd.display().to_string());
        policy
            .readonly
            .push(ws.root.join("bin").display().to_string());
        policy
            .readwrite
            .push(ws.root.join("report").display().to_string());
        let proxy = policy.allow_host.is_empty()
            && policy.net.is_none()
            && !configures_network(&args.policy)?;
        if proxy {
            policy.allow_host.push(OBSERVING_HOST.into());
        }
        let report = ws.root.join(format!("report/round-{round}.jsonl"));
        let mut words = vec![
            ws.observer().display().to_string(),
            "__observe".into(),
            report.display().to_string(),
            "--".into(),
        ];
        words.extend(args.command.iter().cloned());
        let config = cordon_policy::config_from_value(flags::document(&policy, &words)?)?;
        // The working directory must be visible for the command to start.
        if let Err(e) = cordon_policy::resolve_one_shot(&config, cordon_policy::Caller::current()) {
            if e.message.contains("process.cwd") && learned.grant(&cwd, false, &cwd) {
                say(&format!(
                    "the command works in {} -> --ro {0}",
                    cwd.display()
                ));
                continue;
            }
            return Err(e);
        }
        say(&format!("round {round}: running under the policy so far"));
        let (plan, outcome) = match run(config, &words) {
            Ok(done) => done,
            Err(code) => return Ok(code),
        };
        last = outcome.exit_code;
        let observed: Vec<Observation> = std::fs::read_to_string(&report)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        // What it ran (PATH lookups of names that are not there are not).
        for o in observed
            .iter()
            .filter(|o| o.op == "exec" && Path::new(&o.target).is_file())
        {
            if !learned.executables.contains(&o.target) {
                learned.executables.push(o.target.clone());
            }
        }
        let mut findings = suggest::classify(&plan, &observed, &ignore);
        if let Some(net) = &outcome.network {
            for d in net.decisions.iter().filter(|d| !d.allowed) {
                if d.destination != OBSERVING_HOST {
                    findings.push(Finding::Host(d.destination.clone()));
                }
            }
        }
        let mut progress = false;
        for f in findings {
            if learned.reported.contains(&f) {
                continue;
            }
            let mut line = f.describe();
            let granted = match &f {
                Finding::Read(p) | Finding::Looked(p) if too_wide(p, &cwd) => {
                    line = format!(
                        "looked at {} (the working directory's ancestor or a top-level \
                         directory; not granted)",
                        p.display()
                    );
                    learned.noted.push(line.clone());
                    false
                }
                Finding::Read(p) => learned.grant(p, false, &cwd),
                Finding::Write(p) => learned.grant(p, true, &cwd),
                Finding::Host(h) => {
                    let new = !learned.hosts.contains(h);
                    if new {
                        learned.hosts.push(h.clone());
                    }
                    new
                }
                Finding::Looked(p) => {
                    if !learned.covers(p, false) && !learned.looked.contains(p) {
                        learned.looked.push(p.clone());
                    }
                    false
                }
                other => {
                    learned.noted.push(other.describe());
                    false
                }
            };
            if let (Finding::Read(p) | Finding::Write(p), true) = (&f, granted) {
                if p.starts_with(&cwd) && p != &cwd {
                    line = format!("{line} (as the working directory {})", cwd.display());
                }
            }
            say(&format!("round {round}: {line}"));
            progress |= granted;
            learned.reported.push(f);
        }
        learned.collapse();
        if outcome.exit_code == 0 {
            passed = Some(round);
            break;
        }
        if !progress {
            // Last resort: what it only looked at.
            let looked = std::mem::take(&mut learned.looked);
            for p in &looked {
                if learned.grant(p, false, &cwd) {
                    say(&format!(
                        "round {round}: granting {} it only looked at (marked probed)",
                        p.display()
                    ));
                    learned.noted.push(format!(
                        "{} granted read-only although the command only looked at it",
                        p.display()
                    ));
                    progress = true;
                }
            }
        }
        if !progress {
            say(&format!(
                "round {round}: the command failed (exit {last}) and asked for nothing more; \
                 what it needs is not a path or host (see its output)"
            ));
            break;
        }
    }
    let mut doc = flags::document(&learned.policy(&args.policy), &args.command)?;
    if let Some(dir) = &args.policy.cwd {
        doc["process"]["cwd"] = json!(dir);
    } else {
        doc["process"]["cwd"] = json!(cwd);
    }
    doc["_comment"] = json!({
        "suggestedBy": "cordon learn: review before use",
        "passed": passed.is_some(),
        "executables": learned.executables,
        "notGranted": learned.noted,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    match &args.output {
        Some(path) => std::fs::write(path, format!("{text}\n")).map_err(|e| {
            PolicyError::malformed(format!("--output {}: cannot write: {e}", path.display()))
        })?,
        None => println!("{text}"),
    }
    match passed {
        Some(round) => {
            say(&format!("the command passed in round {round}; the suggested policy is the one it passed under"));
            Ok(0)
        }
        None => {
            say(&format!(
                "the command still fails (exit {last}); the suggestion is what was learned"
            ));
            Ok(if last == 0 { 125 } else { last })
        }
    }
}

/// A path whose grant would show far more than the command needs: `/`, a
/// top-level directory, or a directory above the working directory (tools
/// walk up from it looking for their configuration).
fn too_wide(path: &Path, cwd: &Path) -> bool {
    cordon_policy::plan::path_depth(path) <= 1 || cwd.starts_with(path) && path != cwd
}

/// Whether `--config` already says something about the network.
fn configures_network(args: &PolicyArgs) -> Result<bool, PolicyError> {
    let Some(path) = &args.config else {
        return Ok(false);
    };
    let bytes = flags::read_config(path).map_err(|e| {
        PolicyError::malformed(format!("cannot read config {}: {e}", path.display()))
    })?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| PolicyError::malformed(format!("config is not valid JSON: {e}")))?;
    Ok(doc.get("network").is_some())
}
