//! What one observed run shows: each access the policy did not grant,
//! judged against the run's own plan and the host, in the order the
//! command made them. Pure judgement; the driver decides what to grant.

use std::path::{Path, PathBuf};

use cordon_policy::{Access, Plan};

/// One line of the observer's report.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Observation {
    pub op: String,
    pub target: String,
}

/// What an access means for the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Read (or run, or looked at) an existing path the policy does not show.
    Read(PathBuf),
    /// Wrote, created or removed where the policy gives no write access:
    /// the path to grant (an existing file, or the directory to create in).
    Write(PathBuf),
    /// Only looked at (stat, access, readlink) an existing path the policy
    /// does not show: granted only if the command fails without it.
    Looked(PathBuf),
    /// Looked for a path that does not exist on the host either: nothing
    /// to grant (programs probe for optional files).
    Probed(PathBuf),
    /// A path the policy denies on purpose (deniedPaths, the operator's
    /// ceiling, cordon's protections): never suggested.
    Denied(PathBuf),
    /// Would need write access to a top-level directory: not suggested.
    TooBroad(PathBuf),
    /// A connection to an address outside the sandbox (not through the proxy).
    Connect(String),
    /// A host the filtering proxy refused.
    Host(String),
}

impl Finding {
    /// One line for the user.
    pub fn describe(&self) -> String {
        match self {
            Finding::Read(p) => format!("read {} (not granted) -> --ro {0}", p.display()),
            Finding::Write(p) => format!("wrote in {} (not writable) -> --rw {0}", p.display()),
            Finding::Looked(p) => format!(
                "looked at {} (exists; not opened) -> granted only if needed",
                p.display()
            ),
            Finding::Probed(p) => format!(
                "looked for {} (absent on the host too; not granted)",
                p.display()
            ),
            Finding::Denied(p) => format!(
                "reached for {} (denied by the policy; kept denied)",
                p.display()
            ),
            Finding::TooBroad(p) => format!(
                "wrote in {} (a top-level directory; not suggested — choose a narrower path)",
                p.display()
            ),
            Finding::Connect(a) => format!(
                "connected to {a} directly (not suggested: name the host with --allow-host)"
            ),
            Finding::Host(h) => format!("reached {h} (refused by the proxy) -> --allow-host {h}"),
        }
    }
}

/// Paths that are the sandbox's own, whatever the policy: not findings.
/// Below a private `/tmp`, what the host does not have is the sandbox's
/// own scratch; what the host has there is a host path like any other.
fn sandbox_own(path: &Path, plan: &Plan) -> bool {
    if ["/proc", "/dev", "/sys"]
        .iter()
        .any(|d| path.starts_with(d))
    {
        return true;
    }
    plan.filesystem.private_tmp
        && path.starts_with("/tmp")
        && plan.filesystem.access_at(path).is_none()
        && (path == Path::new("/tmp") || std::fs::symlink_metadata(path).is_err())
}

/// The host's canonical form of `path`: its deepest existing ancestor with
/// links resolved, plus the rest; and whether all of it exists.
fn on_host(path: &Path) -> (PathBuf, bool) {
    if let Ok(real) = std::fs::canonicalize(path) {
        return (real, true);
    }
    let mut rest = Vec::new();
    let mut at = path.to_path_buf();
    while let Some(parent) = at.parent().map(Path::to_path_buf) {
        if let Some(name) = at.file_name() {
            rest.push(name.to_os_string());
        }
        if let Ok(real) = std::fs::canonicalize(&parent) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return (out, false);
        }
        at = parent;
    }
    (path.to_path_buf(), false)
}

/// The deepest existing directory at or above `path`.
fn existing_dir(path: &Path) -> PathBuf {
    let mut at = path.to_path_buf();
    loop {
        if at.is_dir() {
            return at;
        }
        if !at.pop() {
            return PathBuf::from("/");
        }
    }
}

/// Judge `observed` against `plan`; `ignore`: the observer's own paths.
pub fn classify(plan: &Plan, observed: &[Observation], ignore: &[PathBuf]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |f: Finding| {
        if !out.contains(&f) {
            out.push(f);
        }
    };
    for o in observed {
        if o.op == "connect" {
            let loopback = o.target.starts_with("127.")
                || o.target.starts_with("[::1]")
                || o.target.starts_with("unix:");
            if !loopback {
                push(Finding::Connect(o.target.clone()));
            }
            continue;
        }
        let raw = Path::new(&o.target);
        if sandbox_own(raw, plan) || ignore.iter().any(|i| raw.starts_with(i)) {
            continue;
        }
        let (path, exists) = on_host(raw);
        if ignore.iter().any(|i| path.starts_with(i)) {
            continue;
        }
        let access = plan.filesystem.access_at(&path);
        if access == Some(Access::Denied) {
            push(Finding::Denied(path));
            continue;
        }
        match o.op.as_str() {
            "write" | "mkdir" => {
                // `mkdir -p` of a directory that exists needs no grant.
                if access == Some(Access::ReadWrite) || (o.op == "mkdir" && exists && path.is_dir())
                {
                    continue;
                }
                let grant = if exists && path.is_file() {
                    path
                } else {
                    existing_dir(path.parent().unwrap_or(Path::new("/")))
                };
                if plan.filesystem.access_at(&grant) == Some(Access::Denied) {
                    push(Finding::Denied(grant));
                } else if cordon_policy::plan::path_depth(&grant) <= 1 {
                    push(Finding::TooBroad(grant));
                } else {
                    push(Finding::Write(grant));
                }
            }
            _ => {
                if access.is_some() {
                    continue;
                }
                if exists && o.op == "stat" {
                    push(Finding::Looked(path));
                } else if exists {
                    push(Finding::Read(path));
                } else {
                    push(Finding::Probed(path));
                }
            }
        }
    }
    out
}
