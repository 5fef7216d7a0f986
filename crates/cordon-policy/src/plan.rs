//! The resolved plan: what a backend must enforce, with every decision already made.
//!
//! A plan holds canonical paths, final environment, chosen network model and
//! backend intent. Backends translate it into kernel objects; they do not
//! interpret the config again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::netrules::NetRules;
use crate::version::SchemaVersion;

/// What the config asked for in `containment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containment {
    /// `process` or absent: the strongest available process-level backend.
    Process,
    Native,
    Bubblewrap,
    Lxc {
        distribution: String,
        release: String,
    },
    /// `microvm` or `vm`: hardware-virtualised isolation.
    MicroVm,
}

impl Containment {
    pub fn name(&self) -> &'static str {
        match self {
            Containment::Process => "process",
            Containment::Native => "native",
            Containment::Bubblewrap => "bubblewrap",
            Containment::Lxc { .. } => "lxc",
            Containment::MicroVm => "microvm",
        }
    }
}

/// Access of a path, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    ReadWrite,
    ReadOnly,
    Denied,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::ReadWrite => "rw",
            Access::ReadOnly => "ro",
            Access::Denied => "deny",
        }
    }
}

/// What is at a path on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// Anything that is not a directory (regular file, device, socket, fifo).
    File,
    /// A denied path that does not exist (yet).
    Missing,
}

/// Why an entry is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Listed in the config.
    Listed,
    /// Part of the fixed read-only baseline (SPEC §2.1).
    Baseline,
    /// Another path to an object the config denies (bind mount or hard link).
    Alias,
    /// A root-only file of the baseline, hidden so host root's sandbox cannot read it.
    RootSecret,
    /// A socket of the host's session or services (display, session bus,
    /// service manager, container engine, credential agent) hidden inside a
    /// granted tree (see [`crate::host_sockets`]).
    HostSocket,
    /// A file cordon itself writes during the run (the operator's audit log),
    /// which the workload must not read or rewrite.
    Protected,
    /// A file the host runs later (git hooks and config, shell start-up
    /// files, editor and agent settings) inside a writable tree: read-only,
    /// or uncreatable where missing (see [`crate::protected`]).
    HostExecuted,
    /// Denied by the operator's ceiling (see [`crate::ceiling`]).
    Ceiling,
}

/// The mode that marks a placeholder directory (see the sandbox crate's
/// `placeholders`): owner read only, which no user gives an empty directory
/// by hand, so that its owner can open and lock it.
pub const PLACEHOLDER_MODE: u32 = 0o400;

/// Whether `path` is a placeholder another run holds (or left): an empty
/// directory of mode [`PLACEHOLDER_MODE`], not a symlink. Resolution treats
/// it as the missing path it stands for.
pub fn is_placeholder(path: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    meta.is_dir()
        && meta.permissions().mode() & 0o7777 == PLACEHOLDER_MODE
        && meta.nlink() == 2
        && std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

/// One path the sandbox sees, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsEntry {
    /// Canonical absolute path, identical inside and outside the sandbox.
    pub path: PathBuf,
    pub access: Access,
    pub kind: Kind,
    pub origin: Origin,
}

impl FsEntry {
    pub fn depth(&self) -> usize {
        path_depth(&self.path)
    }
}

/// Number of normal components (`/` is 0, `/a/b` is 2).
pub fn path_depth(path: &Path) -> usize {
    path.components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count()
}

/// The whole filesystem view: entries sorted shallow to deep, so that applying
/// them in order makes the most specific path win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsPlan {
    pub entries: Vec<FsEntry>,
    /// The sandbox gets a private, empty `/tmp` (unless the config lists `/tmp`).
    pub private_tmp: bool,
    /// Denied paths that do not exist but lie in a writable tree: the backend must
    /// hold a placeholder there for the run so the path cannot be created. Each is
    /// the first missing component of such a path.
    pub placeholders: Vec<PathBuf>,
    /// The caller is host root. Its sandbox runs as uid 0 without capabilities,
    /// so owner permission bits would still let it read root-only files of the
    /// read-only baseline: the backend must hide them, either by presenting the
    /// baseline with its owners unmapped (native) or with the masks of
    /// [`crate::resolve::mask_root_only_files`] (which clears this flag).
    pub hide_root_only_files: bool,
}

impl FsPlan {
    /// The access the sandbox has at `path` (the deepest entry that is an
    /// ancestor or the path itself), or `None` when the path is not visible.
    pub fn access_at(&self, path: &Path) -> Option<Access> {
        self.entries
            .iter()
            .filter(|e| path.starts_with(&e.path))
            .max_by_key(|e| e.depth())
            .map(|e| e.access)
    }

    /// Whether the sandbox can see `path` (read-only or read-write).
    pub fn shows(&self, path: &Path) -> bool {
        self.access_at(path).is_some_and(|a| a != Access::Denied)
    }

    /// Shallow entries first (the order mounts are applied in), then by path.
    pub fn sort_entries(&mut self) {
        self.entries
            .sort_by(|a, b| a.depth().cmp(&b.depth()).then_with(|| a.path.cmp(&b.path)));
    }
}

/// How the sandbox reaches the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkPlan {
    /// Model 3: a private network stack with only its own loopback.
    Isolated,
    /// Model 2: a private network stack whose only way out is the caller's
    /// proxy, relayed from `endpoint` inside the sandbox (the proxy's own
    /// address when it is on the host's loopback, else 127.0.0.1 and its port).
    ProxyOnly {
        endpoint: std::net::SocketAddr,
        /// `host:port` the relay connects to on the host's side (a name is
        /// resolved at each connection).
        upstream: String,
        /// What the proxy variables are set to.
        url: String,
    },
    /// Model 1: a private network stack with an uplink to the outside and a
    /// packet filter in the sandbox's own namespace (`default` allow and no
    /// rules is the plain NAT'd stack).
    Filtered(NetRules),
    /// Model 2 through cordon's own filtering proxy: the policy names hosts.
    /// No direct route out; the proxy judges each request by these rules.
    FilteringProxy(NetRules),
    /// The host's network namespace is shared (legacy MXC meaning).
    HostShared {
        /// Proxy URL exported to the sandbox (legacy `proxy` on 0.6/0.7).
        proxy: Option<String>,
    },
}

/// Where cordon's filtering proxy listens inside the sandbox's own network
/// namespace (model 2 with domain rules).
/// A sandbox port reachable from the host (`network.ingress.publish`): TCP
/// connections to `host` (a host loopback address) are carried to `port`
/// on the sandbox's own loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedPort {
    pub host: std::net::SocketAddr,
    pub port: u16,
}

/// What a command's environment gets unless it sets it: kept with a
/// long-lived sandbox so that each exec gets the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnvDefaults {
    /// `HOME`: [`PRIVATE_HOME`] when the sandbox has a private `/tmp`, else
    /// the cwd (SPEC §2.4).
    pub home: PathBuf,
    /// Directories the presets put in front of `PATH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_prefix: Vec<PathBuf>,
    /// Variables the presets set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vars: Vec<(String, String)>,
}

/// The sandbox's own home directory: empty, writable, private to it (inside
/// its private `/tmp`, so it lives and dies with the sandbox, and a
/// long-lived sandbox keeps it across execs).
pub const PRIVATE_HOME: &str = "/tmp/home";

pub const FILTERING_PROXY_ENDPOINT: ([u8; 4], u16) = ([127, 0, 0, 1], 3128);

impl NetworkPlan {
    /// The proxy URL the sandbox's proxy variables are set to, if any.
    pub fn proxy_url(&self) -> Option<String> {
        match self {
            NetworkPlan::HostShared { proxy } => proxy.clone(),
            NetworkPlan::ProxyOnly { url, .. } => Some(url.clone()),
            NetworkPlan::FilteringProxy(_) => {
                let (ip, port) = FILTERING_PROXY_ENDPOINT;
                Some(format!("http://{}:{port}", std::net::Ipv4Addr::from(ip)))
            }
            NetworkPlan::Isolated | NetworkPlan::Filtered(_) => None,
        }
    }

    /// Whether the sandbox gets a network namespace of its own.
    pub fn private_stack(&self) -> bool {
        !matches!(self, NetworkPlan::HostShared { .. })
    }
}

/// Limits enforced on the sandbox as a whole or per process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePlan {
    pub max_file_size_bytes: Option<u64>,
    pub max_open_files: Option<u64>,
    /// Memory of the whole sandbox (cgroup).
    pub memory_bytes: Option<u64>,
    /// Processes and threads of the whole sandbox (cgroup).
    pub max_processes: Option<u64>,
    /// CPU share, 100 = one core (cgroup).
    pub cpu_percent: Option<u64>,
}

/// Everything a backend needs for one sandboxed command.
#[derive(Debug, Clone)]
pub struct Plan {
    pub container_id: Option<String>,
    pub version: SchemaVersion,
    pub containment: Containment,
    /// Run as `/bin/sh -c <command_line>`.
    pub command_line: String,
    /// The same command as the words the caller gave (`cordon run -- CMD
    /// ARGS`), whose shell-quoted join `command_line` is. A backend may exec
    /// them without the shell where the shell would do exactly that.
    pub command_words: Option<Vec<String>>,
    /// The working directory inside the sandbox.
    pub cwd: PathBuf,
    /// True when `cwd` was chosen by cordon rather than given in `process.cwd`.
    pub cwd_defaulted: bool,
    /// What the environment of every command gets unless it sets it.
    pub defaults: EnvDefaults,
    /// The complete environment of the command (SPEC §2.4).
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub filesystem: FsPlan,
    pub network: NetworkPlan,
    /// Sandbox ports published on the host's loopback.
    pub published: Vec<PublishedPort>,
    pub resources: ResourcePlan,
    /// Things the user must be told on stderr (e.g. the host network is shared).
    pub notices: Vec<String>,
    /// Stable hash of the normalised config, for audit records.
    pub policy_hash: String,
    /// The backends the operator's ceiling lets this sandbox run on (`None`:
    /// any of its containment's).
    pub allowed_backends: Option<Vec<String>>,
    /// The operator's ceiling the plan is held under, if any.
    pub ceiling: Option<PathBuf>,
}

impl Plan {
    /// argv of the sandboxed process.
    pub fn argv(&self) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), self.command_line.clone()]
    }
}
