//! The machine-readable outcome of a run or an exec, and where it goes:
//! `--json` (the last line on stdout, always on a line of its own),
//! `--outcome-fd N` and `--outcome-file PATH` (never mixed with the
//! workload's bytes). One document shape for `run` and `exec`.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cordon_policy::netrules::{NetRules, Verdict};
use cordon_policy::PolicyError;
use cordon_sandbox::net::{NetEvent, NetworkReport};
use cordon_sandbox::Outcome;
use serde_json::{json, Value};

/// The sinks of this process, opened once before anything runs.
static SINKS: OnceLock<Mutex<Sinks>> = OnceLock::new();

/// Open the sinks the flags name (once per process).
pub fn open(json: bool, fd: Option<RawFd>, file: Option<&Path>) -> Result<(), PolicyError> {
    let sinks = Sinks::open(json, fd, file)?;
    let _ = SINKS.set(Mutex::new(sinks));
    Ok(())
}

/// Whether anyone reads an outcome document.
pub fn wanted() -> bool {
    with(|s| s.wanted()).unwrap_or(false)
}

/// Whether an outcome document is read beside the workload's output (a
/// descriptor or a file) and nothing of it goes to stdout: MXC's wire
/// `exec` keeps stdout for the workload and its envelope.
pub fn wanted_aside() -> bool {
    with(|s| !s.json && (s.fd.is_some() || s.file.is_some())).unwrap_or(false)
}

/// The outcome file, to keep out of the sandbox.
pub fn outcome_file() -> Option<PathBuf> {
    with(|s| s.file_path().map(Path::to_path_buf)).flatten()
}

/// Write `doc` to every sink.
pub fn emit(doc: &Value) {
    with(|s| s.emit(doc));
}

fn with<R>(f: impl FnOnce(&mut Sinks) -> R) -> Option<R> {
    let sinks = SINKS.get()?;
    let mut guard = sinks.lock().unwrap_or_else(|e| e.into_inner());
    Some(f(&mut guard))
}

/// Where the outcome document goes, opened before anything runs.
#[derive(Debug, Default)]
struct Sinks {
    json: bool,
    fd: Option<File>,
    file: Option<(PathBuf, File)>,
}

impl Sinks {
    /// Take over `--outcome-fd` (close-on-exec from now on: no sandbox ever
    /// inherits it) and create `--outcome-file`.
    fn open(json: bool, fd: Option<RawFd>, file: Option<&Path>) -> Result<Sinks, PolicyError> {
        let fd = match fd {
            None => None,
            Some(raw) => Some(take_fd(raw)?),
        };
        let file = match file {
            None => None,
            Some(path) => {
                let opened = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(path)
                    .map_err(|e| {
                        PolicyError::malformed(format!(
                            "--outcome-file {}: {e} (a path cordon can create or overwrite, not \
                             a symlink)",
                            path.display()
                        ))
                    })?;
                Some((path.to_path_buf(), opened))
            }
        };
        Ok(Sinks { json, fd, file })
    }

    fn file_path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    fn wanted(&self) -> bool {
        self.json || self.fd.is_some() || self.file.is_some()
    }

    fn emit(&mut self, doc: &Value) {
        let line = format!("{doc}\n");
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(own_line_prefix().as_bytes());
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if let Some(fd) = &mut self.fd {
            if let Err(e) = fd.write_all(line.as_bytes()) {
                eprintln!("cordon: --outcome-fd: {e}");
            }
        }
        if let Some((path, file)) = &mut self.file {
            // The workload may have written to the file meanwhile (when it
            // could reach it): what is left is cordon's document only.
            let written = file
                .set_len(0)
                .and_then(|()| file.seek(SeekFrom::Start(0)))
                .and_then(|_| file.write_all(line.as_bytes()));
            if let Err(e) = written {
                eprintln!("cordon: --outcome-file {}: {e}", path.display());
            }
        }
    }
}

fn take_fd(raw: RawFd) -> Result<File, PolicyError> {
    let owned = crate::fd::inherited(
        raw,
        "--outcome-fd",
        "pass a descriptor open for writing, e.g. `3>outcome.json`",
        crate::fd::Direction::Write,
    )?;
    debug_assert_eq!(owned.as_raw_fd(), raw);
    Ok(File::from(owned))
}

/// A newline before the `--json` line unless stdout is a file whose last
/// byte already is one: the workload's output may end without one, and
/// cordon never sees it (stdout is passed through, not relayed).
fn own_line_prefix() -> &'static str {
    let stdout = std::io::stdout();
    let fd = stdout.as_raw_fd();
    // SAFETY: fstat into a zeroed struct of the right type.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat(2) on stdout with a valid out pointer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return "\n";
    }
    // SAFETY: lseek(2) on stdout: where the next write goes.
    let at = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    if at <= 0 {
        return "";
    }
    let mut last = [0u8; 1];
    // SAFETY: pread(2) of one byte into a one-byte buffer.
    let read = unsafe { libc::pread(fd, last.as_mut_ptr().cast(), 1, at - 1) };
    if read == 1 && last[0] == b'\n' {
        ""
    } else {
        "\n"
    }
}

/// The outcome of a one-shot run.
pub fn run_document(outcome: &Outcome, container_id: Option<&str>, policy_hash: &str) -> Value {
    json!({
        "exitCode": outcome.exit_code,
        "signal": outcome.signal,
        "timedOut": outcome.timed_out,
        "interruptedBy": outcome.interrupted,
        "durationMs": millis(outcome.duration),
        "backend": outcome.backend.name(),
        "limitsHit": outcome.limits_hit,
        "denials": outcome.network.as_ref().map(denials).unwrap_or_default(),
        "ruleHits": outcome.network.as_ref().map(crate::audit::rule_hits_json).unwrap_or(json!([])),
        "network": outcome.network.as_ref().map(|n| json!({
            "decisions": n.decisions.iter().map(NetEvent::to_json).collect::<Vec<_>>(),
            "decisionsNotKept": n.decisions_not_kept,
            "ruleHitsError": n.counters_unread,
        })),
        "containerId": container_id,
        "policyHash": policy_hash,
    })
}

/// The outcome of one `exec` in a long-lived sandbox (same field names).
pub fn exec_document(
    sandbox_id: &str,
    outcome: &cordon_sandbox::lifecycle::ExecOutcome,
    duration: std::time::Duration,
) -> Value {
    json!({
        "exitCode": outcome.exit_code,
        "signal": outcome.signal,
        "timedOut": outcome.timed_out,
        "durationMs": millis(duration),
        "sandboxId": sandbox_id,
    })
}

/// Proxy decisions that refused a connection.
fn denials(report: &NetworkReport) -> Vec<Value> {
    report
        .decisions
        .iter()
        .filter(|d| !d.allowed)
        .map(|d| {
            json!({"destination": d.destination, "port": d.port, "rule": d.rule, "detail": d.detail})
        })
        .collect()
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One line for stderr when the proxy refused connections during the run
/// ("denied pypi.test:443 (default) ×3, ..."), so a workload that retried
/// quietly is explained without `--debug`. `None` when nothing was denied.
pub fn denial_summary(report: &NetworkReport, rules: Option<&NetRules>) -> Option<String> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for d in report.decisions.iter().filter(|d| !d.allowed) {
        let key = if d.destination.is_empty() {
            format!("a connection ({})", d.rule)
        } else {
            format!("{}:{} ({})", d.destination, d.port, d.rule)
        };
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    // Packet rules (model 1): the counters of the rules that deny, when
    // they were read (a run that did not end well, or --json/--debug).
    if let Some(rules) = rules {
        for (rule, packets) in report.rule_hits.iter().filter(|(_, p)| *p > 0) {
            let denies = if rule == "default" {
                rules.default == Verdict::Deny
            } else {
                rule == cordon_sandbox::net::nft::HOST_ADDRESSES
                    || rules
                        .rules
                        .iter()
                        .any(|r| &r.name == rule && r.verdict == Verdict::Deny)
            };
            if denies {
                let what = if rule == "default" {
                    "not allowed by any rule".to_string()
                } else {
                    rule.clone()
                };
                let noun = if *packets == 1 { "packet" } else { "packets" };
                counts.push((format!("{packets} {noun} ({what})"), 1));
            }
        }
    }
    if counts.is_empty() {
        return None;
    }
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = counts
        .iter()
        .take(SHOWN)
        .map(|(k, n)| {
            if *n > 1 {
                format!("{k} ×{n}")
            } else {
                k.clone()
            }
        })
        .collect();
    if counts.len() > SHOWN {
        parts.push(format!("and {} more", counts.len() - SHOWN));
    }
    Some(format!(
        "denied {}; see --debug or the audit log",
        parts.join(", ")
    ))
}
