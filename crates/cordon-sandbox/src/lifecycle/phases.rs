//! The phases that change a sandbox's processes: start (through the backend
//! seam), stop and deprovision.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use cordon_policy::{Caller, Config, ErrorCode};
use nix::sys::socket::{bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType};

use super::error::{io_err, LifecycleError, Result};
use super::lock::{Lock, STOP_LOCK_WAIT};
use super::record::{now_ms, Record, Recorded, State};
use super::roots::{protect_cordon_files, socket_address};
use super::store::Store;
use crate::cgroups::SandboxCgroup;
use crate::context::LongLived;
use crate::janitor::Janitor;
use crate::placeholders::Placeholders;
use crate::sys;

impl Store {
    /// Build the sandbox's namespaces and start its init. Its filtering
    /// proxy, if it has one, writes its decisions to `log` while it runs;
    /// `audit_logs` (the files behind it) are kept out of the sandbox.
    pub fn start(
        &self,
        id: &str,
        log: Option<crate::net::DecisionLog>,
        audit_logs: &[PathBuf],
    ) -> Result<()> {
        let dir = self.dir(id)?;
        let _lock = Lock::take(&dir)?;
        let mut record = self.read(&dir)?;
        if record.state() == State::Running {
            return Err(LifecycleError::new(
                ErrorCode::AlreadyStarted,
                format!("sandbox {id} is already running"),
            ));
        }
        let config: Config = cordon_policy::config_from_value(record.config.clone())?;
        let mut plan = cordon_policy::resolve_sandbox(&config, Caller::current())?;
        protect_cordon_files(&mut plan.filesystem, audit_logs, None)?;
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
        let janitor = Janitor::spawn()?;
        let placeholders = Placeholders::create(&plan.filesystem.placeholders, Some(&janitor))?;
        // Limits cover the whole sandbox for its lifetime: the cgroup is made
        // here and removed by stop.
        let cgroup = SandboxCgroup::create(
            &plan.resources,
            &format!(
                "cordon-{}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            ),
            Some(&janitor),
        )?;
        let persistent_tmp = dir.join("tmp");
        let started = record.backend.start(
            &plan,
            LongLived {
                listener,
                persistent_tmp: &persistent_tmp,
                cgroup: cgroup.as_ref(),
                log,
                janitor: &janitor,
            },
        );
        let pid = match started {
            Ok(pid) => pid,
            Err(e) => {
                drop(placeholders);
                let _ = std::fs::remove_file(&socket_path);
                return Err(e.into());
            }
        };
        record.state = Recorded::Running;
        record.init_pid = Some(pid);
        record.init_start = sys::start_time(pid);
        record.janitor_pid = Some(janitor.pid());
        record.janitor_start = sys::start_time(janitor.pid());
        record.started_ms = Some(now_ms());
        record.default_cwd = Some(plan.cwd.clone());
        record.env_defaults = Some(plan.defaults.clone());
        record.proxy_url = plan.network.proxy_url();
        record.placeholders = Some(plan.filesystem.placeholders.clone());
        // What the sandbox sees, so that an exec can tell whether its audit
        // log lies inside (the mounts are fixed now).
        record.granted = Some(
            plan.filesystem
                .entries
                .iter()
                .map(|e| (e.path.clone(), e.access != cordon_policy::Access::Denied))
                .collect(),
        );
        record.cgroups = Some(cgroup.map(|c| c.persist()).unwrap_or_default());
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
            let killed = record.state() == State::Running;
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
        match record.state() {
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
        match record.state() {
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
}

/// Kill every process of the sandbox, by its init's recorded identity.
fn kill_init(record: &Record) {
    let Some((pid, pidfd)) = record.pin_init() else {
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
fn wait_for_janitor(record: &Record) {
    let Some((pid, pidfd)) = record.pin_janitor() else {
        return;
    };
    crate::supervisor::wait_exit_within(&pidfd, JANITOR_WAIT);
    // It may be our child (when this process started the sandbox).
    // SAFETY: non-blocking waitpid of a possible child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
}

/// Remove what a running sandbox had on the host (its janitor normally has
/// already) and record it as provisioned.
fn release_running_state(dir: &Path, record: &mut Record) {
    let _ = std::fs::remove_file(dir.join("sock"));
    for p in record.placeholders.iter().flatten() {
        crate::placeholders::remove_if_unused(p, std::time::Duration::ZERO);
    }
    crate::cgroups::remove_dirs(record.cgroups.as_deref().unwrap_or_default());
    record.release();
}
