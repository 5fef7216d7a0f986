//! cordon's sandbox layer: a resolved [`Plan`] in, a contained, supervised
//! process out.
//!
//! `layout` turns the plan's filesystem into ordered mount operations (shared
//! by all namespace backends); `native` builds the sandbox with the kernel
//! interfaces directly; `supervisor` waits, enforces the deadline and kills the
//! whole sandbox on cordon's own termination.

pub mod bubblewrap;
pub mod cgroups;
pub mod janitor;
pub mod layout;
pub mod lifecycle;
pub mod native;
pub mod net;
mod owner_less;
mod placeholders;
pub mod probe;
pub mod remove;
pub mod seccomp;
pub mod supervisor;
mod sys;
mod tty_relay;

use std::time::Duration;

use cordon_policy::plan::{Containment, Plan};
use supervisor::{ChildReport, ChildStatus};

/// Exit code of a run that hit its timeout.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code when cordon itself failed (config, policy, backend).
pub const EXIT_CORDON_FAILED: i32 = 125;

/// Why cordon could not run the command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SandboxError {
    /// The selected backend cannot run on this host.
    #[error("{0}")]
    Unavailable(String),
    /// The backend is available but building the sandbox failed.
    #[error("{0}")]
    Setup(String),
}

impl SandboxError {
    pub fn unavailable(msg: impl Into<String>) -> Self {
        SandboxError::Unavailable(msg.into())
    }
    pub fn setup(msg: impl Into<String>) -> Self {
        SandboxError::Setup(msg.into())
    }
    /// MXC error code for this failure.
    pub fn code(&self) -> cordon_policy::ErrorCode {
        match self {
            SandboxError::Unavailable(_) => cordon_policy::ErrorCode::BackendUnavailable,
            SandboxError::Setup(_) => cordon_policy::ErrorCode::BackendError,
        }
    }
}

/// Options of a run that are not policy.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub debug: bool,
    /// Give the command a terminal (native backend).
    pub pty: bool,
    /// Read the packet rules' hit counts at exit (costs an `nft` run; only
    /// worth it when someone reads the report: `--debug`, `--json`, audit).
    pub rule_hits: bool,
    /// Append each proxy decision to the operator's audit log as it is made.
    pub decision_log: Option<std::sync::Arc<net::DecisionLog>>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit code cordon should return (SPEC §5).
    pub exit_code: i32,
    /// The workload's own exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that killed the workload, when one did.
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// cordon received this signal and killed the sandbox.
    pub interrupted: Option<i32>,
    /// `/bin/sh` could not be started inside the sandbox.
    pub exec_error: Option<String>,
    pub duration: Duration,
    /// From the deadline to the sandbox being gone (timeouts only).
    pub kill_latency: Option<Duration>,
    pub backend: &'static str,
    /// What enforced the policy, for `--debug` and audit records.
    pub mechanisms: Vec<String>,
    /// Proxy decisions and packet-rule hits, when the sandbox had a network.
    pub network: Option<net::NetworkReport>,
    /// Resource limits the run ran into, e.g. "killed: memory limit 256 MiB".
    pub limits_hit: Vec<String>,
}

impl Outcome {
    /// Record what the sandbox's cgroup limits did.
    pub(crate) fn note_limits(&mut self, cgroup: Option<&cgroups::SandboxCgroup>) {
        let Some(cg) = cgroup else { return };
        let hits = cg.hits();
        let limits = cg.limits();
        if hits.memory_oom_kills > 0 {
            let mib = limits.memory_bytes.unwrap_or(0) / (1024 * 1024);
            self.limits_hit
                .push(format!("killed: memory limit {mib} MiB"));
        }
        if hits.process_limit_hits > 0 {
            self.limits_hit.push(format!(
                "process limit {} reached ({} refused forks)",
                limits.max_processes.unwrap_or(0),
                hits.process_limit_hits
            ));
        }
        if let Some(p) = limits.cpu_percent {
            self.mechanisms.push(format!("cpu share {p}% (cgroup)"));
        }
    }
}

impl Outcome {
    fn from_report(
        report: ChildReport,
        duration: Duration,
        backend: &'static str,
        _opts: &RunOptions,
    ) -> Self {
        let mut outcome = Outcome {
            exit_code: 0,
            code: None,
            signal: None,
            timed_out: report.timed_out,
            interrupted: report.interrupted,
            exec_error: None,
            duration,
            kill_latency: report.kill_latency,
            backend,
            mechanisms: Vec::new(),
            network: None,
            limits_hit: Vec::new(),
        };
        match report.status {
            ChildStatus::Exited(code) => {
                outcome.code = Some(code);
                outcome.exit_code = code;
            }
            ChildStatus::Signaled(sig) => {
                outcome.signal = Some(sig);
                outcome.exit_code = 128 + sig;
            }
            ChildStatus::ExecFailed(code, msg) => {
                outcome.exec_error = Some(msg);
                outcome.exit_code = code;
            }
            ChildStatus::SetupFailed(_) | ChildStatus::Killed => {
                outcome.exit_code = EXIT_CORDON_FAILED;
            }
        }
        if report.timed_out {
            outcome.exit_code = EXIT_TIMEOUT;
        } else if let Some(sig) = report.interrupted {
            outcome.exit_code = 128 + sig;
        }
        outcome
    }
}

/// The concrete backend a plan's containment resolves to on this host, without
/// running anything (for `validate`, `--debug` and `probe`). At run time a
/// backend that turns out unusable falls back the same way (see [`run`]).
pub fn select_backend(containment: &Containment) -> Result<&'static str, SandboxError> {
    let native = || {
        native::availability()
            .map(|()| "native")
            .map_err(|why| SandboxError::unavailable(format!("native backend unavailable: {why}")))
    };
    let bwrap = || {
        bubblewrap::bwrap().map(|_| "bubblewrap").map_err(|why| {
            SandboxError::unavailable(format!("bubblewrap backend unavailable: {why}"))
        })
    };
    let landlock = || {
        native::landlock_only::availability()
            .map(|()| "landlock-only")
            .map_err(|why| {
                SandboxError::unavailable(format!("Landlock-only mode unavailable: {why}"))
            })
    };
    match containment {
        Containment::Process => native().or_else(|e| {
            if bubblewrap::setuid() {
                Ok("bubblewrap")
            } else {
                landlock().map_err(|l| SandboxError::unavailable(format!("{e}; {l}")))
            }
        }),
        Containment::Native => native().or_else(|_| landlock()),
        Containment::Bubblewrap => bwrap(),
        Containment::Lxc { .. } => Err(SandboxError::unavailable(
            "containment \"lxc\": the lxc backend is not built yet; use \"process\" or \"native\"",
        )),
        Containment::MicroVm => Err(SandboxError::unavailable(
            "containment \"microvm\": no micro-VM backend is available on this host yet; use \
             \"process\" or \"native\"",
        )),
    }
}

/// Packet rules, the private NAT'd stack and both proxy models are set up by
/// the supervisor of a one-shot native run; backends without that refuse
/// them rather than run without them.
pub(crate) fn refuse_supervised_network(plan: &Plan, context: &str) -> Result<(), SandboxError> {
    if net::needs_supervisor(&plan.network) {
        return Err(SandboxError::unavailable(format!(
            "network: {} is not supported {context} yet; it needs a one-shot run (cordon run) \
             with namespaces",
            net::describe(&plan.network)
        )));
    }
    Ok(())
}

/// Sharing the host's network namespace also shares its abstract unix sockets
/// (X11, D-Bus, ...); only Landlock scoping (ABI 6) keeps them out of reach.
pub(crate) fn check_host_network_scoping(plan: &Plan) -> Result<(), SandboxError> {
    if plan.network.private_stack() {
        return Ok(());
    }
    match probe::landlock_abi() {
        Some(abi) if abi >= 6 => Ok(()),
        found => Err(SandboxError::setup(format!(
            "network: sharing the host's network needs Landlock ABI 6 to keep the host session's \
             abstract sockets (X11, D-Bus) out of the sandbox; this kernel has {}",
            found.map_or("no Landlock".to_string(), |v| format!("ABI {v}"))
        ))),
    }
}

/// Run a plan to completion on the strongest backend its containment allows.
/// `process`: native namespaces, else bubblewrap (only a setuid bwrap can work
/// where cordon's own namespaces cannot), else native's Landlock-only mode.
/// `native`: namespaces, else Landlock-only. `bubblewrap`: bwrap or an error.
/// Never runs a command unsandboxed.
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
    check_host_network_scoping(plan)?;
    if opts.pty && !matches!(plan.containment, Containment::Process | Containment::Native) {
        return Err(SandboxError::unavailable(
            "--pty is supported on the native backend only so far",
        ));
    }
    let landlock_fallback = |why: String| {
        native::landlock_only::run(plan, opts).map_err(|e| match e {
            SandboxError::Unavailable(ll) => {
                SandboxError::unavailable(format!("no process sandbox is available: {why}; {ll}"))
            }
            other => other,
        })
    };
    match &plan.containment {
        Containment::Process => match native::run(plan, opts) {
            Err(SandboxError::Unavailable(native_why)) if bubblewrap::setuid() => {
                match bubblewrap::run(plan, opts) {
                    Err(SandboxError::Unavailable(bw)) => {
                        landlock_fallback(format!("{native_why}; {bw}"))
                    }
                    other => other,
                }
            }
            Err(SandboxError::Unavailable(native_why)) => landlock_fallback(native_why),
            other => other,
        },
        Containment::Native => match native::run(plan, opts) {
            Err(SandboxError::Unavailable(why)) => landlock_fallback(why),
            other => other,
        },
        Containment::Bubblewrap => bubblewrap::run(plan, opts),
        Containment::Lxc { .. } | Containment::MicroVm => {
            Err(select_backend(&plan.containment).unwrap_err())
        }
    }
}
