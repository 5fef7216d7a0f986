//! The operator's ceiling (cordon extension): a root-owned file that every
//! run, exec and sandbox of every user on the host is held under. A config
//! that asks for more than the ceiling is refused, naming the field and the
//! ceiling's rule — never silently narrowed. Limits the config leaves unset
//! get the ceiling's caps, and the ceiling's denied paths are denied in every
//! sandbox that could see them (both shown by `cordon validate`).
//!
//! The file lives at [`PATH`]. Only host root (uid 0 in the host's own user
//! namespace) may point cordon elsewhere, with [`OVERRIDE_ENV`]; for anyone
//! else that variable is ignored with a notice. A ceiling that exists but
//! cannot be read, is not root's, or is malformed stops every run.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{PolicyError, Result};
use crate::netrules::{HostPattern, NetRules, Peers, Verdict};
use crate::plan::{Access, Containment, NetworkPlan, Origin, Plan};

/// Where the operator's ceiling is read from.
pub const PATH: &str = "/etc/cordon/ceiling.json";

/// Host root only: read the ceiling from this path instead (tests, staging).
pub const OVERRIDE_ENV: &str = "CORDON_CEILING";

/// The backends a ceiling may name.
pub const BACKENDS: &[&str] = &["native", "bubblewrap", "landlock-only", "microvm", "lxc"];

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    #[serde(rename = "_comment")]
    _comment: Option<Value>,
    filesystem: Option<FsDoc>,
    network: Option<NetDoc>,
    limits: Option<LimitsDoc>,
    backends: Option<Vec<String>>,
    audit: Option<AuditDoc>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FsDoc {
    #[serde(default)]
    readonly: Vec<String>,
    #[serde(default)]
    readwrite: Vec<String>,
    #[serde(default)]
    denied: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetDoc {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default, rename = "hostNetwork")]
    host_network: bool,
    #[serde(default, rename = "callerProxy")]
    caller_proxy: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsDoc {
    #[serde(rename = "memoryMb")]
    memory_mb: Option<u64>,
    #[serde(rename = "maxProcesses")]
    max_processes: Option<u64>,
    #[serde(rename = "cpuPercent")]
    cpu_percent: Option<u64>,
    #[serde(rename = "maxFileSizeMb")]
    max_file_size_mb: Option<u64>,
    #[serde(rename = "maxOpenFiles")]
    max_open_files: Option<u64>,
    #[serde(rename = "timeoutMs")]
    timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditDoc {
    log: String,
}

/// What the network section allows a policy to reach.
#[derive(Debug, Clone, Default)]
pub struct NetCeiling {
    /// `*`: any destination.
    pub any: bool,
    pub hosts: Vec<HostPattern>,
    pub nets: Vec<IpNet>,
    /// The host's own network may be shared.
    pub host_network: bool,
    /// The caller's proxy may be the way out (it reaches what it likes).
    pub caller_proxy: bool,
}

/// A loaded, checked ceiling.
#[derive(Debug, Clone)]
pub struct Ceiling {
    /// The file it came from.
    pub source: PathBuf,
    /// Paths a policy may grant read access to (`None`: any).
    pub readable: Option<Vec<PathBuf>>,
    /// Paths a policy may grant write access to (`None`: any).
    pub writable: Option<Vec<PathBuf>>,
    /// Paths denied in every sandbox.
    pub denied: Vec<PathBuf>,
    /// `None`: the network is not limited.
    pub network: Option<NetCeiling>,
    /// Caps (a limit above one is refused; an unset one gets it).
    pub memory_mb: Option<u64>,
    pub max_processes: Option<u64>,
    pub cpu_percent: Option<u64>,
    pub max_file_size_mb: Option<u64>,
    pub max_open_files: Option<u64>,
    pub timeout: Option<Duration>,
    /// The backends sandboxes may run on (`None`: any).
    pub backends: Option<Vec<String>>,
    /// The audit log every command is recorded in.
    pub audit_log: Option<PathBuf>,
    /// The original document, for `validate` and `probe`.
    pub document: Value,
}

/// The ceiling in force for this process, and what to tell the user about
/// how it was chosen.
#[derive(Debug, Clone, Default)]
pub struct InForce {
    pub ceiling: Option<Ceiling>,
    pub notice: Option<String>,
}

/// Whether this process is root of the host (uid 0 in the initial user
/// namespace): in a user namespace of its own an unprivileged user is uid 0
/// too, and must not be able to choose its ceiling.
pub fn host_root() -> bool {
    // SAFETY: getuid cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    uid == 0
        && std::fs::read_to_string("/proc/self/uid_map")
            .is_ok_and(|map| map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}

impl InForce {
    /// Find and read the ceiling: [`PATH`], or for host root the file named
    /// by [`OVERRIDE_ENV`]. No file at the path: no ceiling. Anything else
    /// that goes wrong is an error — every run stops (fail closed).
    pub fn load() -> Result<Self> {
        let asked = std::env::var_os(OVERRIDE_ENV).filter(|v| !v.is_empty());
        let mut notice = None;
        let path = match asked {
            Some(path) if host_root() => PathBuf::from(path),
            Some(path) => {
                notice = Some(format!(
                    "{OVERRIDE_ENV}={} is ignored: only host root chooses the ceiling; the one in \
                     force is read from {PATH}",
                    Path::new(&path).display()
                ));
                PathBuf::from(PATH)
            }
            None => PathBuf::from(PATH),
        };
        let ceiling = Ceiling::read(&path)?;
        Ok(InForce { ceiling, notice })
    }
}

impl InForce {
    /// `e` with the notice about how the ceiling was chosen, if there is one
    /// (a refusal is where the user most needs to know which ceiling held).
    pub fn explain(&self, mut e: PolicyError) -> PolicyError {
        if let Some(notice) = &self.notice {
            e.message = format!("{} ({notice})", e.message);
        }
        e
    }
}

fn broken(path: &Path, what: impl std::fmt::Display) -> PolicyError {
    PolicyError::policy(format!(
        "operator ceiling {}: {what}; cordon runs nothing until the operator fixes it",
        path.display()
    ))
}

/// A file only root can change: owned by uid 0 and not writable by group or
/// others.
fn root_only(meta: &std::fs::Metadata) -> bool {
    meta.uid() == 0 && meta.mode() & 0o022 == 0
}

impl Ceiling {
    /// Read the ceiling at `path`; `None` when nothing is there.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link is not "no ceiling": someone meant one.
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(broken(path, "is a link to nothing"));
                }
                return Ok(None);
            }
            Err(e) => return Err(broken(path, format!("cannot be read ({e})"))),
        };
        let meta = file
            .metadata()
            .map_err(|e| broken(path, format!("cannot be read ({e})")))?;
        if !meta.is_file() {
            return Err(broken(path, "is not a regular file"));
        }
        if !root_only(&meta) {
            return Err(broken(
                path,
                format!(
                    "must be owned by root and writable by root only (owner uid {}, mode {:o}); \
                     fix with: chown root: {file} && chmod 0644 {file}",
                    meta.uid(),
                    meta.mode() & 0o7777,
                    file = path.display()
                ),
            ));
        }
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(dir) = real.parent() {
            match std::fs::metadata(dir) {
                Ok(m) if root_only(&m) => {}
                _ => {
                    return Err(broken(
                        path,
                        format!(
                            "its directory {} must be owned by root and writable by root only",
                            dir.display()
                        ),
                    ))
                }
            }
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| broken(path, format!("cannot be read ({e})")))?;
        Self::parse(path, &text).map(Some)
    }

    /// Parse and check a ceiling document.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let document: Value =
            serde_json::from_str(text).map_err(|e| broken(path, format!("not JSON: {e}")))?;
        let mut de = serde_json::Deserializer::from_str(text);
        let doc: Document = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let at = e.path().to_string();
            broken(path, format!("{at}: {}", e.inner()))
        })?;
        if doc.version != 1 {
            return Err(broken(
                path,
                format!(
                    "version: {} is not known (this cordon reads version 1)",
                    doc.version
                ),
            ));
        }
        let paths = |field: &str, list: &[String]| -> Result<Vec<PathBuf>> {
            list.iter()
                .enumerate()
                .map(|(i, p)| {
                    if !p.starts_with('/') {
                        return Err(broken(
                            path,
                            format!("{field}[{i}]: {p:?} must be an absolute path"),
                        ));
                    }
                    Ok(std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p)))
                })
                .collect()
        };
        let (readable, writable, denied) = match &doc.filesystem {
            None => (None, None, Vec::new()),
            Some(fs) => {
                let writable = paths("filesystem.readwrite", &fs.readwrite)?;
                let mut readable = paths("filesystem.readonly", &fs.readonly)?;
                readable.extend(writable.iter().cloned());
                (
                    Some(readable),
                    Some(writable),
                    paths("filesystem.denied", &fs.denied)?,
                )
            }
        };
        let network = match &doc.network {
            None => None,
            Some(net) => {
                let mut ceiling = NetCeiling {
                    host_network: net.host_network,
                    caller_proxy: net.caller_proxy,
                    ..Default::default()
                };
                for (i, entry) in net.allow.iter().enumerate() {
                    let entry = entry.trim();
                    if entry == "*" {
                        ceiling.any = true;
                    } else if let Ok(n) = entry.parse::<IpNet>() {
                        ceiling.nets.push(n);
                    } else if let Ok(a) = entry.parse::<std::net::IpAddr>() {
                        ceiling.nets.push(IpNet::from(a));
                    } else if !entry.is_empty()
                        && entry
                            .trim_start_matches("*.")
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                    {
                        ceiling.hosts.push(HostPattern::new(entry));
                    } else {
                        return Err(broken(
                            path,
                            format!(
                                "network.allow[{i}]: {entry:?} is not a host name, *.domain, \
                                 address, CIDR or \"*\""
                            ),
                        ));
                    }
                }
                Some(ceiling)
            }
        };
        let limits = doc.limits.clone().unwrap_or_default();
        if let Some(list) = &doc.backends {
            for (i, b) in list.iter().enumerate() {
                if !BACKENDS.contains(&b.as_str()) {
                    return Err(broken(
                        path,
                        format!(
                            "backends[{i}]: {b:?} is not a backend (one of {})",
                            BACKENDS.join(", ")
                        ),
                    ));
                }
            }
        }
        let audit_log = match &doc.audit {
            Some(a) if a.log.starts_with('/') => Some(PathBuf::from(&a.log)),
            Some(a) => {
                return Err(broken(
                    path,
                    format!("audit.log: {:?} must be an absolute path", a.log),
                ))
            }
            None => None,
        };
        Ok(Ceiling {
            source: path.to_path_buf(),
            readable,
            writable,
            denied,
            network,
            memory_mb: limits.memory_mb,
            max_processes: limits.max_processes,
            cpu_percent: limits.cpu_percent,
            max_file_size_mb: limits.max_file_size_mb,
            max_open_files: limits.max_open_files,
            timeout: limits.timeout_ms.map(Duration::from_millis),
            backends: doc.backends.clone(),
            audit_log,
            document,
        })
    }

    /// The refusal for `field` asking for `what`, beyond the ceiling's `rule`.
    fn refuse(&self, field: &str, what: impl std::fmt::Display, rule: &str) -> PolicyError {
        PolicyError::policy(format!(
            "{field}: {what} is beyond the operator's ceiling ({} {rule}); ask for less, or ask \
             the operator to raise the ceiling",
            self.source.display()
        ))
    }

    /// Hold `plan` under the ceiling: refuse what it asks beyond it, cap the
    /// limits it leaves unset.
    pub fn hold(&self, plan: &mut Plan) -> Result<()> {
        self.hold_paths(plan)?;
        self.hold_network(&plan.network)?;
        self.hold_backend(&plan.containment)?;
        self.hold_limits(plan)?;
        plan.allowed_backends = self.backends.clone();
        Ok(())
    }

    fn hold_paths(&self, plan: &Plan) -> Result<()> {
        let (Some(readable), Some(writable)) = (&self.readable, &self.writable) else {
            return Ok(());
        };
        let under = |path: &Path, roots: &[PathBuf]| roots.iter().any(|r| path.starts_with(r));
        let list = |roots: &[PathBuf]| {
            if roots.is_empty() {
                "none".to_string()
            } else {
                roots
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let wide = plan
            .filesystem
            .entries
            .iter()
            .filter(|e| e.origin == Origin::Listed && e.access != Access::Denied);
        for entry in wide {
            match entry.access {
                Access::ReadWrite if !under(&entry.path, writable) => {
                    return Err(self.refuse(
                        "filesystem.readwritePaths",
                        format!("write access to {}", entry.path.display()),
                        &format!("filesystem.readwrite: {}", list(writable)),
                    ))
                }
                Access::ReadOnly if !under(&entry.path, readable) => {
                    return Err(self.refuse(
                        "filesystem.readonlyPaths (or a preset)",
                        format!("read access to {}", entry.path.display()),
                        &format!("filesystem.readonly + readwrite: {}", list(readable)),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn hold_network(&self, network: &NetworkPlan) -> Result<()> {
        let Some(net) = &self.network else {
            return Ok(());
        };
        match network {
            NetworkPlan::Isolated => Ok(()),
            NetworkPlan::HostShared { .. } if !net.host_network => Err(self.refuse(
                "network",
                "sharing the host's network",
                "network.hostNetwork: false",
            )),
            NetworkPlan::ProxyOnly { upstream, .. } if !net.caller_proxy => Err(self.refuse(
                "network.proxy",
                format!("going out through the caller's proxy {upstream}"),
                "network.callerProxy: false",
            )),
            NetworkPlan::Filtered(rules) | NetworkPlan::FilteringProxy(rules) => {
                self.hold_rules(net, rules)
            }
            _ => Ok(()),
        }
    }

    fn hold_rules(&self, net: &NetCeiling, rules: &NetRules) -> Result<()> {
        if net.any {
            return Ok(());
        }
        let allowed = || {
            let mut all: Vec<String> = net.hosts.iter().map(|h| h.as_str().to_string()).collect();
            all.extend(net.nets.iter().map(|n| n.to_string()));
            if all.is_empty() {
                "network.allow: none".to_string()
            } else {
                format!("network.allow: {}", all.join(", "))
            }
        };
        if rules.default == Verdict::Allow {
            return Err(self.refuse(
                "network.egress.default",
                "\"allow\" (every destination)",
                &allowed(),
            ));
        }
        for rule in rules.rules.iter().filter(|r| r.verdict == Verdict::Allow) {
            match &rule.peers {
                Peers::Any => return Err(self.refuse(&rule.name, "every destination", &allowed())),
                Peers::Hosts(hosts) => {
                    for host in hosts {
                        if !net.hosts.iter().any(|c| covers(c, host)) {
                            return Err(self.refuse(&rule.name, host.as_str(), &allowed()));
                        }
                    }
                }
                Peers::Nets(nets) => {
                    for n in nets {
                        if !net
                            .nets
                            .iter()
                            .any(|c| c.prefix_len() <= n.net.prefix_len() && c.contains(&n.net))
                        {
                            return Err(self.refuse(&rule.name, n.net, &allowed()));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn hold_backend(&self, containment: &Containment) -> Result<()> {
        let Some(allowed) = &self.backends else {
            return Ok(());
        };
        let asked = match containment {
            Containment::Process => return Ok(()),
            Containment::Native => "native",
            Containment::Bubblewrap => "bubblewrap",
            Containment::Lxc { .. } => "lxc",
            Containment::MicroVm => "microvm",
        };
        // `native` may fall back to Landlock-only; either allowed will do.
        let ok = allowed.iter().any(|b| b == asked)
            || asked == "native" && allowed.iter().any(|b| b == "landlock-only");
        if ok {
            return Ok(());
        }
        Err(self.refuse(
            "containment",
            format!("{asked:?}"),
            &format!("backends: {}", allowed.join(", ")),
        ))
    }

    fn hold_limits(&self, plan: &mut Plan) -> Result<()> {
        const MIB: u64 = 1024 * 1024;
        let res = &mut plan.resources;
        let caps: [(&str, Option<u64>, &mut Option<u64>, u64); 5] = [
            ("memoryMb", self.memory_mb, &mut res.memory_bytes, MIB),
            (
                "maxProcesses",
                self.max_processes,
                &mut res.max_processes,
                1,
            ),
            ("cpuPercent", self.cpu_percent, &mut res.cpu_percent, 1),
            (
                "maxFileSizeMb",
                self.max_file_size_mb,
                &mut res.max_file_size_bytes,
                MIB,
            ),
            (
                "maxOpenFiles",
                self.max_open_files,
                &mut res.max_open_files,
                1,
            ),
        ];
        for (field, cap, value, unit) in caps {
            let Some(cap) = cap else { continue };
            let cap_units = cap.saturating_mul(unit);
            match value {
                Some(v) if *v > cap_units => {
                    return Err(self.refuse(
                        &format!("resources.{field}"),
                        *v / unit,
                        &format!("limits.{field}: {cap}"),
                    ))
                }
                Some(_) => {}
                None => *value = Some(cap_units),
            }
        }
        plan.timeout = self.cap_timeout(plan.timeout)?;
        Ok(())
    }

    /// A command's timeout under the ceiling: refused above its cap, the cap
    /// when unset.
    pub fn cap_timeout(&self, timeout: Option<Duration>) -> Result<Option<Duration>> {
        match (self.timeout, timeout) {
            (Some(cap), Some(t)) if t > cap => Err(self.refuse(
                "process.timeout",
                format!("{} ms", t.as_millis()),
                &format!("limits.timeoutMs: {}", cap.as_millis()),
            )),
            (Some(cap), None) => Ok(Some(cap)),
            (_, t) => Ok(t),
        }
    }
}

/// Whether ceiling pattern `c` allows everything pattern `p` names.
fn covers(c: &HostPattern, p: &HostPattern) -> bool {
    if c == p {
        return true;
    }
    match (c.as_str().strip_prefix("*."), p.as_str().strip_prefix("*.")) {
        // `*.example.com` covers `a.example.com` and `*.a.example.com`.
        (Some(_), None) => c.matches(p.as_str()),
        (Some(_), Some(inner)) => c.matches(inner),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ceiling(text: &str) -> Result<Ceiling> {
        Ceiling::parse(Path::new("/etc/cordon/ceiling.json"), text)
    }

    #[test]
    fn unknown_fields_and_versions_are_refused_naming_them() {
        let e = ceiling(r#"{"version":1,"filesystem":{"readOnly":["/x"]}}"#).unwrap_err();
        assert!(
            e.message.contains("filesystem") && e.message.contains("readOnly"),
            "{e}"
        );
        let e = ceiling(r#"{"version":2}"#).unwrap_err();
        assert!(e.message.contains("version: 2"), "{e}");
        let e = ceiling(r#"{"version":1,"backends":["docker"]}"#).unwrap_err();
        assert!(e.message.contains("backends[0]"), "{e}");
        let e = ceiling(r#"{"version":1,"network":{"allow":["a b"]}}"#).unwrap_err();
        assert!(e.message.contains("network.allow[0]"), "{e}");
        // Control: a well-formed ceiling parses.
        let c = ceiling(
            r#"{"version":1,"filesystem":{"readonly":["/usr"]},"network":{"allow":["*.example.com","10.0.0.0/8"]},
               "limits":{"memoryMb":512,"timeoutMs":1000},"backends":["native"],"audit":{"log":"/var/log/a"}}"#,
        )
        .unwrap();
        assert_eq!(c.memory_mb, Some(512));
        assert_eq!(c.timeout, Some(Duration::from_millis(1000)));
    }

    #[test]
    fn host_patterns_cover_only_what_they_name() {
        let c = HostPattern::new("*.example.com");
        assert!(covers(&c, &HostPattern::new("a.example.com")));
        assert!(covers(&c, &HostPattern::new("*.a.example.com")));
        assert!(covers(&c, &HostPattern::new("*.example.com")));
        assert!(!covers(&c, &HostPattern::new("example.com")));
        assert!(!covers(&c, &HostPattern::new("evil.com")));
        let exact = HostPattern::new("pypi.org");
        assert!(covers(&exact, &HostPattern::new("PyPI.org")));
        assert!(!covers(&exact, &HostPattern::new("*.pypi.org")));
    }

    #[test]
    fn timeouts_are_capped_or_refused() {
        let c = ceiling(r#"{"version":1,"limits":{"timeoutMs":1000}}"#).unwrap();
        assert_eq!(c.cap_timeout(None).unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(
            c.cap_timeout(Some(Duration::from_millis(500))).unwrap(),
            Some(Duration::from_millis(500))
        );
        let e = c.cap_timeout(Some(Duration::from_secs(5))).unwrap_err();
        assert!(e.message.contains("limits.timeoutMs: 1000"), "{e}");
    }
}
