//! The records of this user's sandboxes: provision, list, read and write,
//! and resolving an exec request against a running sandbox.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cordon_policy::{Caller, Config, ErrorCode, ProcessPlan};
use serde_json::Value;

use super::error::{io_err, LifecycleError, Result};
use super::record::{now_ms, random_token, Record, Recorded, SandboxId, State};
use super::roots::state_root;

/// Where sandboxes live.
pub struct Store {
    pub(super) root: PathBuf,
}

/// One sandbox, as listed.
#[derive(Debug, Clone)]
pub struct Summary {
    pub id: String,
    pub state: State,
    pub backend: crate::backend::Backend,
    pub created_ms: u64,
    pub container_id: Option<String>,
    pub policy: String,
    /// Provisioned after having run: stopped.
    pub stopped: bool,
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

    /// The directory of an existing sandbox.
    pub(super) fn dir(&self, id: &str) -> Result<PathBuf> {
        let parsed = SandboxId::parse(id)?;
        let dir = self.root.join(parsed.token);
        if !dir.join("record.json").exists() {
            return Err(LifecycleError::new(
                ErrorCode::StaleId,
                format!("sandbox {id} does not exist (never provisioned, or deprovisioned)"),
            ));
        }
        Ok(dir)
    }

    pub(super) fn read(&self, dir: &Path) -> Result<Record> {
        let text =
            std::fs::read(dir.join("record.json")).map_err(|e| io_err("reading the record", e))?;
        serde_json::from_slice(&text).map_err(|e| {
            LifecycleError::new(
                ErrorCode::BackendError,
                format!("corrupt sandbox record: {e}"),
            )
        })
    }

    pub(super) fn write(&self, dir: &Path, record: &Record) -> Result<()> {
        let text = serde_json::to_vec(record).map_err(|e| {
            LifecycleError::new(ErrorCode::BackendError, format!("writing the record: {e}"))
        })?;
        let tmp = dir.join("record.json.new");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io_err("writing the record", e))?;
        file.write_all(&text)
            .map_err(|e| io_err("writing the record", e))?;
        std::fs::rename(&tmp, dir.join("record.json")).map_err(|e| io_err("writing the record", e))
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
        let backend = crate::seam::long_lived(&plan.containment, plan.allowed_backends.as_deref())
            .map_err(|e| LifecycleError::new(ErrorCode::UnsupportedContainment, e.to_string()))?;
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
        // Its private home, kept across execs and removed with it.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(crate::layout::private_home_in(&dir.join("tmp")))
            .map_err(|e| io_err("creating the sandbox's home", e))?;
        let mut stored = config.clone();
        if let Some(obj) = stored.as_object_mut() {
            obj.remove("phase");
            obj.remove("sandboxId");
        }
        let id = format!("{backend}:{token}");
        self.write(
            &dir,
            &Record {
                sandbox_id: id.clone(),
                backend,
                state: Recorded::Provisioned,
                created_ms: now_ms(),
                container_id: plan.container_id,
                policy_hash: Some(plan.policy_hash),
                config: stored,
                init_pid: None,
                init_start: None,
                janitor_pid: None,
                janitor_start: None,
                started_ms: None,
                stopped_ms: None,
                default_cwd: None,
                env_defaults: None,
                proxy_url: None,
                placeholders: None,
                granted: None,
                cgroups: None,
            },
        )?;
        Ok(id)
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
            let config = &record.config;
            let fs = &config["filesystem"];
            let count = |k: &str| fs[k].as_array().map_or(0, |a| a.len());
            out.push(Summary {
                id: record.sandbox_id.clone(),
                state: record.state(),
                backend: record.backend,
                created_ms: record.created_ms,
                container_id: record.container_id.clone(),
                stopped: record.state() == State::Provisioned && record.stopped_ms.is_some(),
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
    /// `audit_logs`: the logs this exec is recorded in, which must not be ones
    /// the sandbox can see (the log it was started with is kept out of it).
    pub fn prepare_exec(
        &self,
        id: &str,
        process: &cordon_policy::config::Process,
        audit_logs: &[PathBuf],
    ) -> Result<(PathBuf, ProcessPlan)> {
        let dir = self.dir(id)?;
        let record = self.read(&dir)?;
        match record.state() {
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
        let in_force = cordon_policy::ceiling::InForce::load()?;
        if let Some(ceiling) = &in_force.ceiling {
            hold_running(id, &record, ceiling)?;
        }
        for log in audit_logs
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
        {
            if record.sees(&log) {
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
        let default_cwd = record
            .default_cwd
            .clone()
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let defaults =
            record
                .env_defaults
                .clone()
                .unwrap_or_else(|| cordon_policy::plan::EnvDefaults {
                    home: default_cwd.clone(),
                    ..Default::default()
                });
        // Commands see the proxy variables the sandbox's network plan sets.
        let mut plan = cordon_policy::resolve_process(
            process,
            record.proxy_url.as_deref(),
            &default_cwd,
            &defaults,
        )?;
        if let Some(ceiling) = &in_force.ceiling {
            plan.timeout = ceiling.cap_timeout(plan.timeout)?;
        }
        plan.warnings.extend(in_force.notice);
        Ok((dir.join("sock"), plan))
    }
}

/// A running sandbox is held under the ceiling in force now, not only the
/// one it started under: an exec into a sandbox whose policy the operator
/// has since narrowed beyond (a path, a host, a limit, a backend) or whose
/// view reaches a path the ceiling now denies is refused — stop and start it
/// again to apply the ceiling.
fn hold_running(id: &str, record: &Record, ceiling: &cordon_policy::Ceiling) -> Result<()> {
    let revoked = |why: String| {
        LifecycleError::new(
            ErrorCode::PolicyValidation,
            format!(
                "sandbox {id} no longer fits the operator's ceiling: {why}; its commands are \
                 refused until it is deprovisioned (or stopped and started again under the \
                 ceiling)"
            ),
        )
    };
    let config: Config = cordon_policy::config_from_value(record.config.clone())?;
    let plan = cordon_policy::resolve_sandbox_under(&config, Caller::current(), Some(ceiling))
        .map_err(|e| revoked(e.message))?;
    if let Some(entry) = plan
        .filesystem
        .entries
        .iter()
        .find(|e| e.origin == cordon_policy::Origin::Ceiling && record.sees(&e.path))
    {
        return Err(revoked(format!(
            "it can see {}, which the ceiling denies",
            entry.path.display()
        )));
    }
    Ok(())
}
