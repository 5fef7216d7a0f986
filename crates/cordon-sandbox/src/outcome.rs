//! What a run is given besides its plan, and how it ended.

use std::time::Duration;

use crate::backend::Backend;
use crate::error::{EXIT_CORDON_FAILED, EXIT_TIMEOUT};
use crate::supervisor::{ChildReport, ChildStatus};
use crate::{cgroups, net};

/// Options of a run that are not policy.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub debug: bool,
    /// Give the command a terminal (native backend).
    pub pty: bool,
    /// Read the packet rules' hit counts at exit (costs a netlink dump; only
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
    pub backend: Backend,
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
            // The kernel killed the workload with SIGKILL; a shell between
            // it and cordon reports that as exit 137, not as a signal.
            if self.signal.is_none() && self.exit_code == 128 + libc::SIGKILL {
                self.signal = Some(libc::SIGKILL);
            }
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
    pub(crate) fn from_report(report: ChildReport, duration: Duration, backend: Backend) -> Self {
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
            ChildStatus::SetupFailed(_)
            | ChildStatus::NamespacesUnusable(_)
            | ChildStatus::Killed => {
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
