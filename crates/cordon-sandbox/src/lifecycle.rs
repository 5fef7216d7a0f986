//! State-aware sandboxes (SPEC §4): provision → start → exec → stop → deprovision.
//!
//! There is no central daemon. A sandbox is a directory under the state root
//! (`CORDON_STATE_DIR`, else `$XDG_RUNTIME_DIR/cordon`, else `/run/cordon` for
//! root), private to the user, holding its record, its persistent `/tmp`, a
//! lock that serialises phase calls, and, while it runs, the socket of its
//! long-lived init (which is its supervisor; see `native::server`).

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use cordon_policy::{Caller, Config, ErrorCode, ProcessPlan};
use nix::sys::socket::{
    bind, connect, listen, recv, sendmsg, socket, AddressFamily, Backlog, ControlMessage, MsgFlags,
    SockFlag, SockType, UnixAddr,
};
use serde_json::{json, Value};

/// A refused or failed phase, with MXC's error code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LifecycleError {
    pub code: ErrorCode,
    pub message: String,
}

impl LifecycleError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        LifecycleError {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::SandboxError> for LifecycleError {
    fn from(e: crate::SandboxError) -> Self {
        LifecycleError::new(e.code(), e.to_string())
    }
}

impl From<cordon_policy::PolicyError> for LifecycleError {
    fn from(e: cordon_policy::PolicyError) -> Self {
        LifecycleError::new(e.code, e.message)
    }
}

type Result<T> = std::result::Result<T, LifecycleError>;

fn io_err(what: &str, e: std::io::Error) -> LifecycleError {
    LifecycleError::new(ErrorCode::BackendError, format!("{what}: {e}"))
}

/// Where sandboxes live.
pub struct Store {
    root: PathBuf,
}

/// The state of a sandbox as `ls` reports it.
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

/// One sandbox, as listed.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: String,
    pub state: State,
    pub backend: String,
    pub created_ms: u64,
    pub container_id: Option<String>,
    pub policy: String,
}

/// Backends a state-aware sandbox can run on; each names its ids' prefix.
const BACKENDS: &[&str] = &["native", "bubblewrap"];

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// `<backend>:` followed by 32 lowercase hex digits (128 random bits).
fn parse_id(id: &str) -> Result<&str> {
    let malformed = || {
        LifecycleError::new(
            ErrorCode::MalformedId,
            format!("sandboxId {id:?} is not a cordon sandbox id (native:|bubblewrap: and 32 hex digits)"),
        )
    };
    let (backend, token) = id.split_once(':').ok_or_else(malformed)?;
    if !BACKENDS.contains(&backend)
        || token.len() != 32
        || !token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(malformed());
    }
    Ok(token)
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        return Err(io_err("random id", std::io::Error::last_os_error()));
    }
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Start time of a process (clock ticks since boot), to tell a pid apart from
/// a later process that reused it.
/// A dead process that was not reaped yet (a zombie) counts as gone.
pub(crate) fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    if matches!(fields.next(), Some("Z") | Some("X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// A held phase lock; released on drop.
struct Lock {
    _file: File,
}

/// How long `stop` waits for another phase call's lock before it kills the
/// sandbox anyway: a hung call must never disable the kill switch.
const STOP_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Lock {
    fn open(dir: &Path) -> Result<File> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join("lock"))
            .map_err(|e| io_err("opening the sandbox lock", e))
    }

    fn take(dir: &Path) -> Result<Self> {
        let file = Self::open(dir)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io_err(
                "locking the sandbox",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(Lock { _file: file })
    }

    /// The lock, or `None` if another holder keeps it past `wait`.
    fn take_within(dir: &Path, wait: std::time::Duration) -> Result<Option<Self>> {
        let file = Self::open(dir)?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Some(Lock { _file: file }));
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io_err("locking the sandbox", e));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// The state root for the invoking user in this environment.
fn state_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CORDON_STATE_DIR") {
        PathBuf::from(dir)
    } else if Caller::current().is_root() {
        PathBuf::from("/run/cordon")
    } else if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        PathBuf::from(dir).join("cordon")
    } else {
        std::env::temp_dir().join(format!("cordon-{}", Caller::current().uid))
    }
}

/// Every place this user's state root may be, whatever the environment of
/// the cordon invocation that made it (`su`, `sudo -u`, cron and CI often
/// lack `XDG_RUNTIME_DIR`; root may have it).
fn state_roots() -> Vec<PathBuf> {
    let uid = Caller::current().uid;
    let mut roots = vec![state_root()];
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        roots.push(PathBuf::from(dir).join("cordon"));
    }
    roots.push(PathBuf::from(format!("/run/user/{uid}/cordon")));
    roots.push(std::env::temp_dir().join(format!("cordon-{uid}")));
    if uid == 0 {
        roots.push(PathBuf::from("/run/cordon"));
    }
    roots.sort();
    roots.dedup();
    roots
}

/// Keep cordon's own files out of a sandbox about to be built from `fs`: the
/// user's lifecycle state roots (another sandbox's exec socket, records and
/// locks) and the operator's audit log, also inside granted trees. A state
/// root the sandbox could create (its parent is writable there) is created
/// now, private, so that the sandbox cannot plant one of its own.
pub fn protect_cordon_files(
    fs: &mut cordon_policy::FsPlan,
    audit_log: Option<&Path>,
) -> std::result::Result<(), cordon_policy::PolicyError> {
    use cordon_policy::resolve::{protect_path, Protected};
    for root in state_roots() {
        let creatable = root
            .parent()
            .is_some_and(|p| fs.access_at(p) == Some(cordon_policy::Access::ReadWrite));
        if creatable && std::fs::symlink_metadata(&root).is_err() {
            // Failure to create it means the caller cannot, nor can its sandbox.
            let _ = std::fs::DirBuilder::new().mode(0o700).create(&root);
        }
        protect_path(fs, &root, Protected::StateRoot)?;
    }
    if let Some(log) = audit_log {
        protect_path(fs, log, Protected::AuditLog)?;
    }
    Ok(())
}

impl Store {
    /// The state root for the invoking user, created private (0700).
    pub fn open() -> Result<Self> {
        let root = state_root();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .map_err(|e| io_err(&format!("creating {}", root.display()), e))?;
        use std::os::unix::fs::MetadataExt;
        // Not followed: a symlink planted at a shared path (e.g. under /tmp)
        // must not redirect the state into another directory.
        let meta = std::fs::symlink_metadata(&root).map_err(|e| io_err("state root", e))?;
        if !meta.is_dir() || meta.uid() != Caller::current().uid || meta.mode() & 0o077 != 0 {
            return Err(LifecycleError::new(
                ErrorCode::BackendError,
                format!(
                    "state directory {} must be a directory (not a symlink) owned by you and private \
                     (mode 0700)",
                    root.display()
                ),
            ));
        }
        Ok(Store { root })
    }

    fn dir(&self, id: &str) -> Result<PathBuf> {
        let token = parse_id(id)?;
        let dir = self.root.join(token);
        if !dir.join("record.json").exists() {
            return Err(LifecycleError::new(
                ErrorCode::StaleId,
                format!("sandbox {id} does not exist (never provisioned, or deprovisioned)"),
            ));
        }
        Ok(dir)
    }

    fn read(&self, dir: &Path) -> Result<Value> {
        let text =
            std::fs::read(dir.join("record.json")).map_err(|e| io_err("reading the record", e))?;
        serde_json::from_slice(&text).map_err(|e| {
            LifecycleError::new(
                ErrorCode::BackendError,
                format!("corrupt sandbox record: {e}"),
            )
        })
    }

    fn write(&self, dir: &Path, record: &Value) -> Result<()> {
        let tmp = dir.join("record.json.new");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io_err("writing the record", e))?;
        file.write_all(record.to_string().as_bytes())
            .map_err(|e| io_err("writing the record", e))?;
        std::fs::rename(&tmp, dir.join("record.json")).map_err(|e| io_err("writing the record", e))
    }

    /// The recorded state, checked against reality.
    fn state(record: &Value) -> State {
        if record["state"] != "running" {
            return State::Provisioned;
        }
        let pid = record["initPid"].as_i64().unwrap_or(0) as libc::pid_t;
        let alive = pid > 0 && start_time(pid) == record["initStart"].as_u64();
        if alive {
            State::Running
        } else {
            State::Crashed
        }
    }

    /// Validate a config and record a new sandbox. Returns its id.
    pub fn provision(&self, config: &Value) -> Result<String> {
        let parsed: Config = cordon_policy::config_from_value(config.clone())?;
        if parsed.sandbox_id.is_some() {
            return Err(LifecycleError::new(
                ErrorCode::MalformedRequest,
                "sandboxId: provision creates a sandbox; it does not take an id",
            ));
        }
        let plan = cordon_policy::resolve_sandbox(&parsed, Caller::current())?;
        let backend = match plan.containment {
            cordon_policy::Containment::Process | cordon_policy::Containment::Native => "native",
            cordon_policy::Containment::Bubblewrap => "bubblewrap",
            ref other => {
                return Err(LifecycleError::new(
                    ErrorCode::UnsupportedContainment,
                    format!(
                        "containment {:?}: state-aware sandboxes run on the native or bubblewrap backend",
                        other.name()
                    ),
                ))
            }
        };
        let token = random_token()?;
        let dir = self.root.join(&token);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_err("creating the sandbox directory", e))?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.join("tmp"))
            .map_err(|e| io_err("creating the sandbox /tmp", e))?;
        // Like any /tmp: world-writable and sticky (the mode is not left to the umask).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777))
            .map_err(|e| io_err("creating the sandbox /tmp", e))?;
        let mut stored = config.clone();
        if let Some(obj) = stored.as_object_mut() {
            obj.remove("phase");
            obj.remove("sandboxId");
        }
        let id = format!("{backend}:{token}");
        self.write(
            &dir,
            &json!({
                "sandboxId": id,
                "backend": backend,
                "state": "provisioned",
                "createdMs": now_ms(),
                "containerId": plan.container_id,
                "policyHash": plan.policy_hash,
                "config": stored,
            }),
        )?;
        Ok(id)
    }

    /// Build the sandbox's namespaces and start its init. Its filtering
    /// proxy, if it has one, writes its decisions to `log` while it runs;
    /// `audit_log` (the file behind it) is kept out of the sandbox.
    pub fn start(
        &self,
        id: &str,
        log: Option<crate::net::DecisionLog>,
        audit_log: Option<&Path>,
    ) -> Result<()> {
        let dir = self.dir(id)?;
        let _lock = Lock::take(&dir)?;
        let mut record = self.read(&dir)?;
        if Self::state(&record) == State::Running {
            return Err(LifecycleError::new(
                ErrorCode::AlreadyStarted,
                format!("sandbox {id} is already running"),
            ));
        }
        let config: Config = cordon_policy::config_from_value(record["config"].clone())?;
        let mut plan = cordon_policy::resolve_sandbox(&config, Caller::current())?;
        protect_cordon_files(&mut plan.filesystem, audit_log)?;
        let socket_path = dir.join("sock");
        let _ = std::fs::remove_file(&socket_path);
        let listener = socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| io_err("creating the exec socket", e.into()))?;
        let (_dir, addr) = socket_address(&socket_path)?;
        bind(listener.as_raw_fd(), &addr)
            .map_err(|e| io_err("binding the exec socket", e.into()))?;
        listen(&listener, Backlog::new(64).unwrap_or(Backlog::MAXCONN))
            .map_err(|e| io_err("listening on the exec socket", e.into()))?;
        // Forked before anything is made on the host: if this process dies
        // before the sandbox is recorded as running, the janitor kills what
        // was started and removes what was made; afterwards it stays with
        // the sandbox and cleans up when its init exits.
        let janitor = crate::janitor::Janitor::spawn()?;
        let placeholders = crate::placeholders::Placeholders::create(
            &plan.filesystem.placeholders,
            Some(&janitor),
        )?;
        // Limits cover the whole sandbox for its lifetime: the cgroup is made
        // here and removed by stop.
        let cgroup = crate::cgroups::SandboxCgroup::create(
            &plan.resources,
            &format!(
                "cordon-{}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            ),
            Some(&janitor),
        )?;
        let started = if record["backend"] == "bubblewrap" {
            let procs = cgroup.as_ref().map(|c| c.procs_files()).unwrap_or_default();
            crate::bubblewrap::start_server(
                &plan,
                listener,
                &dir.join("tmp"),
                &procs,
                log,
                &janitor,
            )
        } else {
            crate::native::start_server(&plan, listener, &dir.join("tmp"), log, &janitor)
        };
        // The native init has not started anything yet: moving it moves all to come.
        if let (Ok(pid), Some(cg), false) = (&started, &cgroup, record["backend"] == "bubblewrap") {
            if let Err(e) = cg.add(*pid) {
                kill_pid(*pid);
                return Err(e.into());
            }
        }
        let pid = match started {
            Ok(pid) => pid,
            Err(e) => {
                drop(placeholders);
                let _ = std::fs::remove_file(&socket_path);
                return Err(e.into());
            }
        };
        let held: Vec<PathBuf> = plan.filesystem.placeholders.clone();
        record["state"] = json!("running");
        record["initPid"] = json!(pid);
        record["initStart"] = json!(start_time(pid));
        record["janitorPid"] = json!(janitor.pid());
        record["janitorStart"] = json!(start_time(janitor.pid()));
        record["startedMs"] = json!(now_ms());
        record["defaultCwd"] = json!(plan.cwd);
        record["proxyUrl"] = json!(plan.network.proxy_url());
        record["placeholders"] = json!(held);
        // What the sandbox sees, so that an exec can tell whether its audit
        // log lies inside (the mounts are fixed now).
        record["granted"] = json!(plan
            .filesystem
            .entries
            .iter()
            .map(|e| json!([e.path, e.access != cordon_policy::Access::Denied]))
            .collect::<Vec<_>>());
        record["cgroups"] = json!(cgroup.map(|c| c.persist()).unwrap_or_default());
        self.write(&dir, &record)?;
        // The janitor holds the placeholders from now on, and cleans up
        // when the init exits; then this run lets go of its own hold.
        if let Err(e) = janitor.watch(pid) {
            kill_init(&record);
            return Err(e.into());
        }
        let _ = placeholders.keep();
        Ok(())
    }

    /// Kill every process of the sandbox; keep its files.
    pub fn stop(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let Some(_lock) = Lock::take_within(&dir, STOP_LOCK_WAIT)? else {
            // Another phase call holds the sandbox (hung, or slow): kill it
            // anyway, by the init's recorded identity, and say what was not done.
            let record = self.read(&dir)?;
            let killed = Self::state(&record) == State::Running;
            kill_init(&record);
            return Err(LifecycleError::new(
                ErrorCode::BackendError,
                format!(
                    "sandbox {id} is locked by another cordon call still running after {} s; \
                     {} its record was not updated: run `cordon stop {id}` again once that \
                     call has ended",
                    STOP_LOCK_WAIT.as_secs(),
                    if killed {
                        "every process of the sandbox was killed anyway;"
                    } else {
                        "the sandbox was not running;"
                    }
                ),
            ));
        };
        let mut record = self.read(&dir)?;
        match Self::state(&record) {
            State::Provisioned => {
                return Err(LifecycleError::new(
                    ErrorCode::AlreadyStopped,
                    format!("sandbox {id} is not running"),
                ))
            }
            State::Running => kill_init(&record),
            State::Crashed => {}
        }
        wait_for_janitor(&record);
        release_running_state(&dir, &mut record);
        self.write(&dir, &record)
    }

    /// Remove a stopped sandbox and everything it kept.
    pub fn deprovision(&self, id: &str) -> Result<()> {
        let dir = self.dir(id)?;
        let lock = Lock::take(&dir)?;
        let mut record = self.read(&dir)?;
        match Self::state(&record) {
            State::Running => {
                return Err(LifecycleError::new(
                    ErrorCode::AlreadyStarted,
                    format!("sandbox {id} is running; stop it before deprovisioning"),
                ))
            }
            // A crashed sandbox is cleaned up too: anything left of it is killed.
            State::Crashed => {
                kill_init(&record);
                wait_for_janitor(&record);
                release_running_state(&dir, &mut record);
            }
            State::Provisioned => {}
        }
        drop(lock);
        crate::remove::remove_tree(&dir).map_err(|e| io_err("removing the sandbox", e))
    }

    /// Every sandbox of this user.
    pub fn list(&self) -> Vec<Summary> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return out;
        };
        for entry in entries.flatten() {
            let Ok(record) = self.read(&entry.path()) else {
                continue;
            };
            let config = &record["config"];
            let fs = &config["filesystem"];
            let count = |k: &str| fs[k].as_array().map_or(0, |a| a.len());
            out.push(Summary {
                id: record["sandboxId"].as_str().unwrap_or_default().to_string(),
                state: Self::state(&record),
                backend: record["backend"].as_str().unwrap_or("native").to_string(),
                created_ms: record["createdMs"].as_u64().unwrap_or(0),
                container_id: record["containerId"].as_str().map(str::to_string),
                policy: format!(
                    "{} ro, {} rw, {} denied; network {}",
                    count("readonlyPaths"),
                    count("readwritePaths"),
                    count("deniedPaths"),
                    if config["network"].is_null() {
                        "none"
                    } else {
                        "configured"
                    }
                ),
            });
        }
        out.sort_by_key(|s| s.created_ms);
        out
    }

    /// Resolve an exec request's process fields against a running sandbox.
    /// `audit_log`: the log this exec is recorded in, which must not be one
    /// the sandbox can see (the log it was started with is kept out of it).
    pub fn prepare_exec(
        &self,
        id: &str,
        process: &cordon_policy::config::Process,
        audit_log: Option<&Path>,
    ) -> Result<(PathBuf, ProcessPlan)> {
        let dir = self.dir(id)?;
        let record = self.read(&dir)?;
        match Self::state(&record) {
            State::Running => {}
            State::Provisioned => {
                return Err(LifecycleError::new(
                    ErrorCode::NotStarted,
                    format!("sandbox {id} is not running; start it first"),
                ))
            }
            State::Crashed => {
                return Err(LifecycleError::new(
                    ErrorCode::BackendError,
                    format!("sandbox {id} crashed (its init is gone); stop or deprovision it"),
                ))
            }
        }
        if let Some(log) = audit_log.and_then(|p| std::fs::canonicalize(p).ok()) {
            if sees(&record["granted"], &log) {
                return Err(LifecycleError::new(
                    ErrorCode::PolicyValidation,
                    format!(
                        "sandbox {id} can reach the audit log {} (it lies inside a path the \
                         sandbox was started with); start it with this --audit-log to keep \
                         the log out of it, or log elsewhere",
                        log.display()
                    ),
                ));
            }
        }
        let default_cwd = PathBuf::from(record["defaultCwd"].as_str().unwrap_or("/tmp"));
        // Commands see the proxy variables the sandbox's network plan sets.
        let proxy_url = record["proxyUrl"].as_str();
        let plan = cordon_policy::resolve_process(process, proxy_url, &default_cwd)?;
        Ok((dir.join("sock"), plan))
    }
}

/// Whether a running sandbox's view (`granted`: its filesystem entries as
/// `[path, visible]`, most specific wins) shows `path`.
fn sees(granted: &Value, path: &Path) -> bool {
    granted
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((PathBuf::from(e.get(0)?.as_str()?), e.get(1)?.as_bool()?)))
        .filter(|(entry, _)| path.starts_with(entry))
        .max_by_key(|(entry, _)| entry.components().count())
        .is_some_and(|(_, visible)| visible)
}

/// The address of a sandbox's exec socket, short enough for `sun_path` (108
/// bytes) wherever the state root is: it goes through a descriptor of the
/// sandbox's directory, which must stay open while the address is used.
fn socket_address(socket_path: &Path) -> Result<(OwnedFd, UnixAddr)> {
    let dir = socket_path.parent().unwrap_or(Path::new("/"));
    let name = socket_path.file_name().unwrap_or_default();
    let fd = nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| io_err(&format!("opening {}", dir.display()), e.into()))?;
    // SAFETY: `open` just returned this descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let short = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())).join(name);
    let addr = UnixAddr::new(&short).map_err(|e| io_err("exec socket path", e.into()))?;
    Ok((fd, addr))
}

/// Kill a just-started init that cannot be used.
fn kill_pid(pid: libc::pid_t) {
    // SAFETY: kill(2) of the init this process just started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// A pidfd of the process a record names under `pid_key`, if it is still
/// the one that started at the time under `start_key` (a reused pid is not).
fn pin_recorded(record: &Value, pid_key: &str, start_key: &str) -> Option<(libc::pid_t, OwnedFd)> {
    let pid = record[pid_key].as_i64().unwrap_or(0) as libc::pid_t;
    let start = record[start_key].as_u64()?;
    crate::janitor::pin(pid, start).map(|pidfd| (pid, pidfd))
}

fn kill_init(record: &Value) {
    let Some((pid, pidfd)) = pin_recorded(record, "initPid", "initStart") else {
        return;
    };
    crate::supervisor::kill(&pidfd);
    crate::supervisor::wait_exit(&pidfd);
    // The init may be our child (when this process started it).
    // SAFETY: non-blocking waitpid of a possible child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
}

/// How long `stop` waits for a sandbox's janitor to clean up after its init.
const JANITOR_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Wait until the janitor of a sandbox whose init is gone has finished
/// (it removes the placeholders and cgroups); bounded, as `stop` then
/// removes what is left itself.
fn wait_for_janitor(record: &Value) {
    let Some((pid, pidfd)) = pin_recorded(record, "janitorPid", "janitorStart") else {
        return;
    };
    crate::supervisor::wait_exit_within(&pidfd, JANITOR_WAIT);
    // It may be our child (when this process started the sandbox).
    // SAFETY: non-blocking waitpid of a possible child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
}

fn release_running_state(dir: &Path, record: &mut Value) {
    let _ = std::fs::remove_file(dir.join("sock"));
    if let Some(paths) = record["placeholders"].as_array() {
        for p in paths.iter().filter_map(|p| p.as_str()) {
            crate::placeholders::remove_if_unused(Path::new(p), std::time::Duration::ZERO);
        }
    }
    if let Some(dirs) = record["cgroups"].as_array() {
        let dirs: Vec<PathBuf> = dirs
            .iter()
            .filter_map(|d| d.as_str())
            .map(PathBuf::from)
            .collect();
        crate::cgroups::remove_dirs(&dirs);
    }
    if let Some(obj) = record.as_object_mut() {
        for key in [
            "initPid",
            "initStart",
            "janitorPid",
            "janitorStart",
            "startedMs",
            "placeholders",
            "cgroups",
        ] {
            obj.remove(key);
        }
        obj.insert("state".into(), json!("provisioned"));
    }
}

/// How an exec ended.
#[derive(Debug, Clone)]
pub struct ExecOutcome {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub exec_error: Option<String>,
}

/// Run one command in a running sandbox with this process's stdin, stdout and
/// stderr (or, with `pty`, through a new terminal of the sandbox that this
/// process relays and resizes). Output streams live. If this process dies,
/// the command is killed.
pub fn exec(socket_path: &Path, plan: &ProcessPlan, pty: bool) -> Result<ExecOutcome> {
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| io_err("exec socket", e.into()))?;
    let (_dir, addr) = socket_address(socket_path)?;
    connect(sock.as_raw_fd(), &addr).map_err(|e| {
        LifecycleError::new(
            ErrorCode::BackendError,
            format!("the sandbox does not answer ({e}); it may have crashed"),
        )
    })?;
    let mut request = json!({
        "argv": plan.argv,
        "words": plan.words,
        "env": plan.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "cwd": plan.cwd,
        "timeoutMs": plan.timeout.map(|t| t.as_millis() as u64),
    });
    if pty {
        let (rows, cols) = crate::sys::window_size(1).unwrap_or((24, 80));
        request["pty"] = json!({"rows": rows, "cols": cols});
    }
    let request = request.to_string();
    // Without --pty, a terminal among the caller's descriptors is relayed
    // through a pipe, never handed over (see `tty_relay`).
    let mut relay = match pty {
        true => None,
        false => Some(crate::tty_relay::TtyRelay::new().map_err(|e| io_err("terminal relay", e))?),
    };
    let fds = relay.as_ref().map_or([0, 1, 2], |r| r.passed());
    let iov = [IoSlice::new(request.as_bytes())];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::MSG_NOSIGNAL, None)
        .map_err(|e| io_err("sending the exec request", e.into()))?;
    if let Some(relay) = relay.as_mut() {
        relay.sent();
    }
    let reply = match relay {
        _ if pty => terminal::relay(&sock)?,
        Some(relay) if relay.active() => {
            relay.run_until(sock.as_raw_fd());
            receive(&sock)?
        }
        _ => receive(&sock)?,
    };
    if let Some(err) = reply["error"].as_str() {
        return Err(LifecycleError::new(
            ErrorCode::PolicyValidation,
            err.to_string(),
        ));
    }
    Ok(ExecOutcome {
        exit_code: reply["exitCode"].as_i64().unwrap_or(125) as i32,
        signal: reply["signal"].as_i64().map(|s| s as i32),
        timed_out: reply["timedOut"] == true,
        exec_error: reply["execError"].as_str().map(str::to_string),
    })
}

/// One message from the sandbox.
fn receive(sock: &OwnedFd) -> Result<Value> {
    let mut buf = vec![0u8; 64 * 1024];
    let n = loop {
        match recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io_err("waiting for the command", e.into())),
            Ok(n) => break n,
        }
    };
    if n == 0 {
        return Err(LifecycleError::new(
            ErrorCode::BackendError,
            "the sandbox went away while the command ran (stopped or crashed)",
        ));
    }
    serde_json::from_slice(&buf[..n]).map_err(|e| {
        LifecycleError::new(
            ErrorCode::BackendError,
            format!("bad answer from the sandbox: {e}"),
        )
    })
}

/// The client side of `exec --pty`.
mod terminal {
    use std::os::fd::{AsRawFd, OwnedFd};

    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use serde_json::Value;

    use super::{io_err, receive, LifecycleError, Result};
    use crate::sys;
    use cordon_policy::ErrorCode;

    /// Receive the terminal's master side, then relay until the command ends.
    pub fn relay(sock: &OwnedFd) -> Result<Value> {
        let mut buf = [0u8; 4096];
        let (n, master) = sys::recv_fd(sock.as_raw_fd(), &mut buf)
            .map_err(|e| io_err("waiting for the terminal", e))?;
        let Some(master) = master else {
            // No terminal: the sandbox answered with an error or a status.
            return serde_json::from_slice(&buf[..n]).map_err(|e| {
                LifecycleError::new(
                    ErrorCode::BackendError,
                    format!("bad answer from the sandbox: {e}"),
                )
            });
        };
        let mut winch = SigSet::empty();
        winch.add(Signal::SIGWINCH);
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&winch), None);
        let resize = SignalFd::with_flags(&winch, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|e| io_err("signalfd", e.into()))?;
        let _raw = sys::RawMode::enter();
        let mut stdin_open = true;
        let mut master_open = true;
        let mut status: Option<Value> = None;
        let mut data = [0u8; 16384];
        while master_open || status.is_none() {
            let mut fds = vec![
                libc::pollfd {
                    fd: master.as_raw_fd(),
                    events: if master_open { libc::POLLIN } else { 0 },
                    revents: 0,
                },
                libc::pollfd {
                    fd: sock.as_raw_fd(),
                    events: if status.is_none() { libc::POLLIN } else { 0 },
                    revents: 0,
                },
                libc::pollfd {
                    fd: resize.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: if stdin_open { 0 } else { -1 },
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // Once the command has ended, only drain what is left on the terminal.
            let timeout = if status.is_some() { 200 } else { -1 };
            // SAFETY: a valid pollfd array.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n == 0 && status.is_some() {
                break;
            }
            if n < 0 {
                continue;
            }
            if fds[0].revents != 0 {
                // SAFETY: reading into a valid buffer.
                let got =
                    unsafe { libc::read(master.as_raw_fd(), data.as_mut_ptr().cast(), data.len()) };
                if got <= 0 {
                    master_open = false;
                } else {
                    sys::write_all(1, &data[..got as usize]);
                }
            }
            if fds[1].revents != 0 && status.is_none() {
                status = Some(receive(sock)?);
            }
            if fds[2].revents != 0 {
                while let Ok(Some(_)) = resize.read_signal() {}
                if let Some((rows, cols)) = sys::window_size(1).or_else(|| sys::window_size(0)) {
                    sys::set_window_size(master.as_raw_fd(), rows, cols);
                }
            }
            if stdin_open && fds[3].revents != 0 {
                // SAFETY: reading into a valid buffer.
                let got = unsafe { libc::read(0, data.as_mut_ptr().cast(), data.len()) };
                if got <= 0 {
                    stdin_open = false;
                    // End of input: the terminal's end-of-file character.
                    sys::write_all(master.as_raw_fd(), &[4]);
                } else {
                    sys::write_all(master.as_raw_fd(), &data[..got as usize]);
                }
            }
        }
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&winch), None);
        status.ok_or_else(|| LifecycleError::new(ErrorCode::BackendError, "the sandbox went away"))
    }
}
