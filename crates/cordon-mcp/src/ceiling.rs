//! The server's own policy, given by the human who starts `cordon mcp`: a
//! ceiling an agent's `sandbox_create` can only narrow. Anything wider is
//! refused with a message naming the limit — never silently narrowed.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// What the human allowed.
#[derive(Debug, Clone, Default)]
pub struct Ceiling {
    /// Paths an agent may ask to read.
    pub readonly: Vec<PathBuf>,
    /// Paths an agent may ask to read and write (and read).
    pub readwrite: Vec<PathBuf>,
    /// Hosts (names, addresses, CIDRs) an agent may ask to reach, verbatim.
    pub allow_hosts: Vec<String>,
    /// Presets an agent may ask for.
    pub presets: Vec<String>,
    /// Caps: an agent may ask for less, never more; unset asks get these.
    pub memory_mb: Option<u64>,
    pub max_processes: Option<u64>,
}

/// An agent's request that the ceiling does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeilingError(pub String);

impl std::fmt::Display for CeilingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CeilingError {}

/// What an agent asks a sandbox to have: a grant the ceiling must cover.
pub use cordon_policy::Grant as Ask;

/// The real path of `path` (symlinks resolved), which must exist: a link
/// inside an allowed tree must not reach outside it.
fn real(field: &str, path: &str) -> Result<PathBuf, CeilingError> {
    if !Path::new(path).is_absolute() {
        return Err(CeilingError(format!(
            "{field}: {path:?} must be an absolute path"
        )));
    }
    std::fs::canonicalize(path)
        .map_err(|e| CeilingError(format!("{field}: {path}: {e} (a granted path must exist)")))
}

fn within(path: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        path.starts_with(root)
    })
}

fn names(roots: &[PathBuf]) -> String {
    if roots.is_empty() {
        return "none".into();
    }
    roots
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Ceiling {
    /// The config of the ceiling itself (for runs that ask for nothing).
    pub fn config(&self) -> Value {
        let paths = |roots: &[PathBuf]| roots.iter().map(|p| p.display().to_string()).collect();
        Ask {
            readonly: paths(&self.readonly),
            readwrite: paths(&self.readwrite),
            denied: Vec::new(),
            allow_hosts: self.allow_hosts.clone(),
            presets: self.presets.clone(),
            memory_mb: self.memory_mb,
            max_processes: self.max_processes,
        }
        .document()
    }

    /// The config of `ask` if the ceiling allows all of it; else the first
    /// field that asks for more, with the limit it hit.
    pub fn narrow(&self, ask: &Ask) -> Result<Value, CeilingError> {
        let mut granted = ask.clone();
        granted.readonly.clear();
        granted.readwrite.clear();
        let readable: Vec<PathBuf> = self
            .readonly
            .iter()
            .chain(&self.readwrite)
            .cloned()
            .collect();
        for path in &ask.readonly {
            let p = real("readonly", path)?;
            if !within(&p, &readable) {
                return Err(CeilingError(format!(
                    "readonly: {} is outside what this server may grant (readable: {})",
                    p.display(),
                    names(&readable)
                )));
            }
            granted.readonly.push(p.display().to_string());
        }
        for path in &ask.readwrite {
            let p = real("readwrite", path)?;
            if !within(&p, &self.readwrite) {
                return Err(CeilingError(format!(
                    "readwrite: {} is outside what this server may grant writable (writable: {})",
                    p.display(),
                    names(&self.readwrite)
                )));
            }
            granted.readwrite.push(p.display().to_string());
        }
        for host in &ask.allow_hosts {
            if !self
                .allow_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
            {
                return Err(CeilingError(format!(
                    "allow_hosts: {host} is not one this server may allow (allowed: {})",
                    if self.allow_hosts.is_empty() {
                        "none".into()
                    } else {
                        self.allow_hosts.join(", ")
                    }
                )));
            }
        }
        for preset in &ask.presets {
            if !self.presets.contains(preset) {
                return Err(CeilingError(format!(
                    "presets: {preset} is not one this server may grant (allowed: {})",
                    if self.presets.is_empty() {
                        "none".into()
                    } else {
                        self.presets.join(", ")
                    }
                )));
            }
        }
        granted.memory_mb = cap("memory_mb", ask.memory_mb, self.memory_mb)?;
        granted.max_processes = cap("max_processes", ask.max_processes, self.max_processes)?;
        Ok(granted.document())
    }
}

fn cap(field: &str, asked: Option<u64>, limit: Option<u64>) -> Result<Option<u64>, CeilingError> {
    match (asked, limit) {
        (Some(a), Some(l)) if a > l => Err(CeilingError(format!(
            "{field}: {a} is above this server's limit {l}"
        ))),
        (Some(a), _) => Ok(Some(a)),
        (None, l) => Ok(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ceiling() -> Ceiling {
        Ceiling {
            readonly: vec!["/usr".into()],
            readwrite: vec!["/tmp".into()],
            allow_hosts: vec!["pypi.org".into()],
            memory_mb: Some(512),
            ..Ceiling::default()
        }
    }

    #[test]
    fn narrower_asks_pass_and_take_the_caps() {
        let c = ceiling();
        let ask = Ask {
            readonly: vec!["/usr/bin".into(), "/tmp".into()],
            allow_hosts: vec!["PyPI.org".into()],
            ..Ask::default()
        };
        let config = c.narrow(&ask).unwrap();
        assert_eq!(config["resources"]["memoryMb"], 512);
        assert_eq!(
            config["network"]["egress"]["allow"][0]["to"][0]["host"],
            "PyPI.org"
        );
    }

    #[test]
    fn wider_asks_are_refused_naming_the_limit() {
        let c = ceiling();
        for (ask, needle) in [
            (
                Ask {
                    readonly: vec!["/etc".into()],
                    ..Ask::default()
                },
                "readonly: /etc is outside",
            ),
            (
                Ask {
                    readwrite: vec!["/usr".into()],
                    ..Ask::default()
                },
                "readwrite: /usr is outside",
            ),
            (
                Ask {
                    allow_hosts: vec!["evil.test".into()],
                    ..Ask::default()
                },
                "allow_hosts: evil.test",
            ),
            (
                Ask {
                    presets: vec!["git".into()],
                    ..Ask::default()
                },
                "presets: git",
            ),
            (
                Ask {
                    memory_mb: Some(4096),
                    ..Ask::default()
                },
                "memory_mb: 4096 is above",
            ),
            (
                Ask {
                    readonly: vec!["relative".into()],
                    ..Ask::default()
                },
                "must be an absolute path",
            ),
        ] {
            let e = c.narrow(&ask).unwrap_err();
            assert!(e.0.contains(needle), "{e}");
        }
    }

    #[test]
    fn a_symlink_inside_the_ceiling_cannot_reach_outside() {
        let dir = std::env::temp_dir().join(format!("cordon-mcp-ceiling-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("etc");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        let c = Ceiling {
            readwrite: vec![dir.clone()],
            ..Ceiling::default()
        };
        let e = c
            .narrow(&Ask {
                readonly: vec![link.display().to_string()],
                ..Ask::default()
            })
            .unwrap_err();
        assert!(e.0.contains("readonly: /etc is outside"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
