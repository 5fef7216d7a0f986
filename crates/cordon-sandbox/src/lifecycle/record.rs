//! A sandbox's record (`record.json`), its id and its state, typed. The JSON
//! field names are the record's on-disk format; fields that only a running
//! sandbox has are absent (or null, as older cordon wrote them) otherwise.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cordon_policy::ErrorCode;
use serde::{Deserialize, Serialize};

use super::error::{io_err, LifecycleError, Result};
use crate::backend::Backend;
use crate::sys;

/// What the record says the sandbox is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recorded {
    Provisioned,
    Running,
}

/// The state of a sandbox as `ls` reports it: the record checked against
/// reality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Provisioned,
    Running,
    /// Recorded as running, but its init is gone.
    Crashed,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Provisioned => "provisioned",
            State::Running => "running",
            State::Crashed => "crashed",
        }
    }
}

/// One sandbox's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub sandbox_id: String,
    pub backend: Backend,
    pub state: Recorded,
    pub created_ms: u64,
    pub container_id: Option<String>,
    pub policy_hash: Option<String>,
    /// The config it was provisioned with (without `phase` and `sandboxId`).
    pub config: serde_json::Value,
    // What only a started sandbox has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_pid: Option<libc::pid_t>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub janitor_pid: Option<libc::pid_t>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub janitor_start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<u64>,
    /// When it was last stopped (a provisioned sandbox that ran before is
    /// "stopped" to people; the wire form keeps MXC's "provisioned").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_ms: Option<u64>,
    /// The cwd of an exec that names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cwd: Option<PathBuf>,
    /// What an exec's environment gets unless it sets it (absent in records
    /// of older versions: HOME is the default cwd).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_defaults: Option<cordon_policy::plan::EnvDefaults>,
    /// The proxy its execs' proxy variables point at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Placeholders the sandbox's janitor holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholders: Option<Vec<PathBuf>>,
    /// What the sandbox sees: its filesystem entries as `[path, visible]`
    /// (fixed once its mounts are made), so an exec can tell whether its
    /// audit log lies inside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<Vec<(PathBuf, bool)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups: Option<Vec<PathBuf>>,
}

impl Record {
    /// The recorded state, checked against reality.
    pub fn state(&self) -> State {
        if self.state != Recorded::Running {
            return State::Provisioned;
        }
        let pid = self.init_pid.unwrap_or(0);
        let alive = pid > 0 && sys::start_time(pid) == self.init_start;
        if alive {
            State::Running
        } else {
            State::Crashed
        }
    }

    /// Whether the sandbox's view shows `path` (most specific entry wins).
    pub fn sees(&self, path: &Path) -> bool {
        self.granted
            .iter()
            .flatten()
            .filter(|(entry, _)| path.starts_with(entry))
            .max_by_key(|(entry, _)| entry.components().count())
            .is_some_and(|(_, visible)| *visible)
    }

    /// Forget what only a running sandbox has; it is provisioned again.
    pub fn release(&mut self) {
        self.state = Recorded::Provisioned;
        self.init_pid = None;
        self.init_start = None;
        self.janitor_pid = None;
        self.janitor_start = None;
        self.started_ms = None;
        self.stopped_ms = Some(now_ms());
        self.placeholders = None;
        self.cgroups = None;
    }

    /// A pidfd of the recorded init, if it is still the process that
    /// started at the recorded time (a reused pid is not).
    pub fn pin_init(&self) -> Option<(libc::pid_t, OwnedFd)> {
        pin(self.init_pid, self.init_start)
    }

    /// A pidfd of the recorded janitor, likewise.
    pub fn pin_janitor(&self) -> Option<(libc::pid_t, OwnedFd)> {
        pin(self.janitor_pid, self.janitor_start)
    }
}

fn pin(pid: Option<libc::pid_t>, start: Option<u64>) -> Option<(libc::pid_t, OwnedFd)> {
    let (pid, start) = (pid?, start?);
    crate::janitor::pin(pid, start).map(|pidfd| (pid, pidfd))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// A sandbox id: `<backend>:` followed by 32 lowercase hex digits (128
/// random bits, the name of its directory).
pub struct SandboxId<'a> {
    pub backend: Backend,
    pub token: &'a str,
}

impl<'a> SandboxId<'a> {
    pub fn parse(id: &'a str) -> Result<Self> {
        let malformed = || {
            LifecycleError::new(
                ErrorCode::MalformedId,
                format!(
                    "sandboxId {id:?} is not a cordon sandbox id (native:|bubblewrap: and 32 hex \
                     digits)"
                ),
            )
        };
        let (name, token) = id.split_once(':').ok_or_else(malformed)?;
        let backend = Backend::from_name(name)
            .filter(|b| b.long_lived())
            .ok_or_else(malformed)?;
        if token.len() != 32
            || !token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(malformed());
        }
        Ok(SandboxId { backend, token })
    }
}

/// 128 random bits as 32 lowercase hex digits.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if usize::try_from(n).ok() != Some(bytes.len()) {
        return Err(io_err("random id", std::io::Error::last_os_error()));
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_keeps_its_field_names() {
        let text = r#"{"sandboxId":"native:0123456789abcdef0123456789abcdef","backend":"native",
            "state":"running","createdMs":5,"containerId":null,"policyHash":"h","config":{},
            "initPid":42,"initStart":7,"granted":[["/a",true],["/a/b",false]],"proxyUrl":null}"#;
        let record: Record = serde_json::from_str(text).unwrap();
        assert_eq!(record.backend, Backend::Native);
        assert_eq!(record.init_pid, Some(42));
        assert!(record.sees(Path::new("/a/x")));
        assert!(!record.sees(Path::new("/a/b/c")));
        assert!(!record.sees(Path::new("/elsewhere")));
        let back = serde_json::to_value(&record).unwrap();
        assert_eq!(back["initPid"], 42);
        assert_eq!(back["sandboxId"], "native:0123456789abcdef0123456789abcdef");
        let mut released = record;
        released.release();
        let back = serde_json::to_value(&released).unwrap();
        assert_eq!(back["state"], "provisioned");
        assert!(back.get("initPid").is_none());
        assert_eq!(back["granted"][0][0], "/a", "what it saw stays");
    }

    #[test]
    fn ids_name_a_long_lived_backend_and_32_hex_digits() {
        let ok = "bubblewrap:0123456789abcdef0123456789abcdef";
        assert_eq!(SandboxId::parse(ok).unwrap().backend, Backend::Bubblewrap);
        for bad in [
            "landlock-only:0123456789abcdef0123456789abcdef",
            "native:0123456789ABCDEF0123456789abcdef",
            "native:0123",
            "native",
            "lxc:0123456789abcdef0123456789abcdef",
        ] {
            assert!(SandboxId::parse(bad).is_err(), "{bad}");
        }
    }
}
