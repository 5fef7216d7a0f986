//! Sandbox-wide resource limits with cgroups (`resources.memoryMb`,
//! `maxProcesses`, `cpuPercent`).
//!
//! cgroup v2 is used where the caller may create a child of its own cgroup
//! (systemd user delegation: the controllers are enabled in its
//! `cgroup.subtree_control` and the directory is writable); cgroup v1 where
//! the caller is root on a v1 or hybrid host. Otherwise the limits cannot be
//! enforced and the run is refused: a limit is never silently dropped.
//!
//! The cgroup is created before the sandbox, the sandbox's first process is
//! moved in before it runs anything, and the cgroup is emptied and removed
//! when the run ends.

use std::path::{Path, PathBuf};

use cordon_policy::plan::ResourcePlan;

use crate::error::SandboxError;
use crate::leftover::{Leftover, Notebook};

const V1_ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug)]
enum Layout {
    /// One directory in the unified hierarchy.
    V2(PathBuf),
    /// One directory per v1 controller that is limited.
    V1(Vec<(&'static str, PathBuf)>),
}

/// The cgroup(s) of one sandbox; removed on drop.
#[derive(Debug)]
pub struct SandboxCgroup {
    layout: Layout,
    limits: ResourcePlan,
}

/// What the limits did to a run, for the outcome report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LimitHits {
    pub memory_oom_kills: u64,
    pub process_limit_hits: u64,
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("{}: {e}", path.display()))
}

/// The caller's cgroup path in a hierarchy (`0::/a/b` or `4:memory:/a`).
fn own_cgroup(controller: Option<&str>) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let matches = match controller {
            None => controllers.is_empty(),
            Some(c) => controllers.split(',').any(|x| x == c),
        };
        matches.then(|| path.to_string())
    })
}

fn is_cgroup2(path: &str) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

impl ResourcePlanExt for ResourcePlan {
    fn needs_cgroup(&self) -> bool {
        self.memory_bytes.is_some() || self.max_processes.is_some() || self.cpu_percent.is_some()
    }
}

/// Whether a resource plan asks for anything only a cgroup can enforce.
pub trait ResourcePlanExt {
    fn needs_cgroup(&self) -> bool;
}

impl SandboxCgroup {
    /// Create the cgroup for a sandbox, or `None` when no cgroup limit is
    /// asked for. `janitor` hears of each directory before it is made.
    pub fn create(
        limits: &ResourcePlan,
        name: &str,
        janitor: Option<&impl Notebook>,
    ) -> Result<Option<Self>, SandboxError> {
        let note = |dir: &Path| match janitor {
            Some(j) => j.note(Leftover::Cgroup(dir.to_path_buf())),
            None => Ok(()),
        };
        if !limits.needs_cgroup() {
            return Ok(None);
        }
        let refuse = |why: String| {
            SandboxError::setup(format!(
                "resources: memoryMb/maxProcesses/cpuPercent cannot be enforced here: {why}"
            ))
        };
        // cgroup v2 with delegation.
        if is_cgroup2(V1_ROOT) {
            let own = own_cgroup(None).ok_or_else(|| refuse("no cgroup v2 membership".into()))?;
            let parent = Path::new(V1_ROOT).join(own.trim_start_matches('/'));
            let enabled =
                std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
            for (wanted, controller) in [
                (limits.memory_bytes.is_some(), "memory"),
                (limits.max_processes.is_some(), "pids"),
                (limits.cpu_percent.is_some(), "cpu"),
            ] {
                if wanted && !enabled.split_whitespace().any(|c| c == controller) {
                    return Err(refuse(format!(
                        "the {controller} controller is not delegated to {} (systemd: Delegate=yes)",
                        parent.display()
                    )));
                }
            }
            let dir = parent.join(name);
            note(&dir)?;
            std::fs::create_dir(&dir)
                .map_err(|e| refuse(format!("cannot create {}: {e}", dir.display())))?;
            let cg = SandboxCgroup {
                layout: Layout::V2(dir.clone()),
                limits: limits.clone(),
            };
            cg.apply().map_err(refuse)?;
            return Ok(Some(cg));
        }
        // cgroup v1 (or hybrid) as root.
        if cordon_policy::Caller::current().uid != 0 {
            return Err(refuse(
                "this host has cgroup v1 controllers, which only root may use (no v2 delegation)"
                    .into(),
            ));
        }
        let mut dirs = Vec::new();
        let wanted = [
            (limits.memory_bytes.is_some(), "memory"),
            (limits.max_processes.is_some(), "pids"),
            (limits.cpu_percent.is_some(), "cpu"),
        ];
        for (needed, controller) in wanted {
            if !needed {
                continue;
            }
            let own = own_cgroup(Some(controller))
                .ok_or_else(|| refuse(format!("no {controller} controller is mounted")))?;
            let dir = Path::new(V1_ROOT)
                .join(controller)
                .join(own.trim_start_matches('/'))
                .join(name);
            note(&dir)?;
            if let Err(e) = std::fs::create_dir(&dir) {
                let partial = SandboxCgroup {
                    layout: Layout::V1(dirs),
                    limits: limits.clone(),
                };
                drop(partial);
                return Err(refuse(format!("cannot create {}: {e}", dir.display())));
            }
            dirs.push((controller, dir));
        }
        let cg = SandboxCgroup {
            layout: Layout::V1(dirs),
            limits: limits.clone(),
        };
        cg.apply().map_err(refuse)?;
        Ok(Some(cg))
    }

    fn dir(&self, controller: &str) -> Option<&Path> {
        match &self.layout {
            Layout::V2(dir) => Some(dir),
            Layout::V1(dirs) => dirs
                .iter()
                .find(|(c, _)| *c == controller)
                .map(|(_, d)| d.as_path()),
        }
    }

    fn apply(&self) -> Result<(), String> {
        let v2 = matches!(self.layout, Layout::V2(_));
        if let (Some(bytes), Some(dir)) = (self.limits.memory_bytes, self.dir("memory")) {
            if v2 {
                write(&dir.join("memory.max"), &bytes.to_string())?;
                // No escape into swap.
                let _ = write(&dir.join("memory.swap.max"), "0");
            } else {
                write(&dir.join("memory.limit_in_bytes"), &bytes.to_string())?;
                let memsw = dir.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    write(&memsw, &bytes.to_string())?;
                }
            }
        }
        if let (Some(n), Some(dir)) = (self.limits.max_processes, self.dir("pids")) {
            write(&dir.join("pids.max"), &n.to_string())?;
        }
        if let (Some(percent), Some(dir)) = (self.limits.cpu_percent, self.dir("cpu")) {
            let period = 100_000u64;
            let quota = (percent * period / 100).max(1_000);
            if v2 {
                write(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
            } else {
                write(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
                write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            }
        }
        Ok(())
    }

    /// Move a process (and so its future children) into the sandbox's cgroup(s).
    pub fn add(&self, pid: libc::pid_t) -> Result<(), SandboxError> {
        let dirs: Vec<&Path> = match &self.layout {
            Layout::V2(dir) => vec![dir.as_path()],
            Layout::V1(dirs) => dirs.iter().map(|(_, d)| d.as_path()).collect(),
        };
        for dir in dirs {
            write(&dir.join("cgroup.procs"), &pid.to_string()).map_err(SandboxError::setup)?;
        }
        Ok(())
    }

    /// The `cgroup.procs` files a process writes "0" to in order to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        match &self.layout {
            Layout::V2(dir) => vec![dir.join("cgroup.procs")],
            Layout::V1(dirs) => dirs.iter().map(|(_, d)| d.join("cgroup.procs")).collect(),
        }
    }

    /// Keep the cgroup beyond this value (a long-lived sandbox removes it when
    /// it stops, with [`remove_dirs`]). Returns its directories.
    pub fn persist(self) -> Vec<PathBuf> {
        let dirs = match &self.layout {
            Layout::V2(dir) => vec![dir.clone()],
            Layout::V1(dirs) => dirs.iter().map(|(_, d)| d.clone()).collect(),
        };
        std::mem::forget(self);
        dirs
    }

    /// A unique name for a sandbox's cgroup.
    pub fn unique_name() -> String {
        let mut bytes = [0u8; 6];
        // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
        unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("cordon-{}-{hex}", std::process::id())
    }

    /// What the limits did during the run.
    pub fn hits(&self) -> LimitHits {
        let read = |dir: Option<&Path>, file: &str, key: &str| -> u64 {
            dir.and_then(|d| std::fs::read_to_string(d.join(file)).ok())
                .and_then(|text| {
                    text.lines().find_map(|l| {
                        let mut parts = l.split_whitespace();
                        (parts.next() == Some(key))
                            .then(|| parts.next()?.parse().ok())
                            .flatten()
                    })
                })
                .unwrap_or(0)
        };
        let v2 = matches!(self.layout, Layout::V2(_));
        LimitHits {
            memory_oom_kills: if v2 {
                read(self.dir("memory"), "memory.events", "oom_kill")
            } else {
                read(self.dir("memory"), "memory.oom_control", "oom_kill")
            },
            process_limit_hits: read(self.dir("pids"), "pids.events", "max"),
        }
    }

    /// The limits, for messages.
    pub fn limits(&self) -> &ResourcePlan {
        &self.limits
    }
}

impl Drop for SandboxCgroup {
    fn drop(&mut self) {
        let dirs: Vec<PathBuf> = match &self.layout {
            Layout::V2(dir) => vec![dir.clone()],
            Layout::V1(dirs) => dirs.iter().map(|(_, d)| d.clone()).collect(),
        };
        remove_dirs(&dirs);
    }
}

/// Empty (killing what is left) and remove cgroup directories.
pub fn remove_dirs(dirs: &[PathBuf]) {
    for dir in dirs {
        // Normally empty by now; anything left is killed first. A cgroup
        // whose last process is still on its way out cannot be removed yet
        // (EBUSY, though `cgroup.procs` may list nothing): tried again for
        // a bounded time. A single attempt left cgroups behind on a loaded
        // host (the kill-at-start-up test, bubblewrap, 2026-12-03).
        let deadline = std::time::Instant::now() + REMOVE_PATIENCE;
        loop {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            for pid in procs.lines().filter_map(|l| l.parse::<libc::pid_t>().ok()) {
                // SAFETY: kill(2) of a process inside the sandbox's cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            match std::fs::remove_dir(dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(_) => break,
            }
        }
    }
}

/// How long [`remove_dirs`] keeps trying one cgroup.
const REMOVE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
