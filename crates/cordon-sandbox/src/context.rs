//! What every backend checks and owns around its own build-and-spawn step.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Instant;

use cordon_policy::plan::Plan;

use crate::backend::Backend;
use crate::cgroups::SandboxCgroup;
use crate::error::SandboxError;
use crate::janitor::Janitor;
use crate::outcome::Outcome;
use crate::placeholders::Placeholders;
use crate::supervisor::{ChildReport, SignalWatch};
use crate::{host, net};

/// What a one-shot backend needs made for it.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// A janitor even when the plan makes nothing on the host (the backend
    /// starts processes the janitor must know: tagged or awaited ones).
    pub janitor_always: bool,
    /// The plan's placeholders (not Landlock-only mode, which grants around
    /// missing protected paths instead of covering them).
    pub placeholders: bool,
}

/// What every one-shot run makes and owns around the backend's own build
/// and spawn: the janitor (first, before anything exists on the host), the
/// cgroup, the placeholders and the watch on cordon's terminating signals.
/// Dropping it restores the signal mask and lets go of the placeholders; a
/// run that ends normally turns it into the outcome with [`RunContext::finish`].
pub struct RunContext {
    // Dropped in this order: the janitor last, once the run's own cleanup
    // (the cgroup's removal) is done.
    cgroup: Option<SandboxCgroup>,
    placeholders: Option<Placeholders>,
    signals: SignalWatch,
    started: Instant,
    janitor: Option<Janitor>,
}

impl RunContext {
    pub fn open(plan: &Plan, needs: Needs) -> Result<Self, SandboxError> {
        let janitor = Self::janitor_for(plan, needs)?;
        Self::open_with(plan, needs, janitor)
    }

    /// The janitor `plan` and `needs` call for, forked now: a backend that
    /// prepares before [`RunContext::open_with`] starts it first, so that it
    /// reaches its own session while the backend prepares.
    pub fn janitor_for(plan: &Plan, needs: Needs) -> Result<Option<Janitor>, SandboxError> {
        match needs.janitor_always {
            true => Janitor::spawn().map(Some),
            false => Janitor::spawn_if_needed(plan),
        }
    }

    /// [`RunContext::open`] with the janitor from [`RunContext::janitor_for`].
    /// Every host object is told to it before it is made: whatever happens
    /// to this process, what it makes is removed.
    pub fn open_with(
        plan: &Plan,
        needs: Needs,
        janitor: Option<Janitor>,
    ) -> Result<Self, SandboxError> {
        let cgroup = SandboxCgroup::create(
            &plan.resources,
            &SandboxCgroup::unique_name(),
            janitor.as_ref(),
        )?;
        let placeholders = match needs.placeholders {
            true => Some(Placeholders::create(
                &plan.filesystem.placeholders,
                janitor.as_ref(),
            )?),
            false => None,
        };
        if placeholders.as_ref().is_some_and(|p| !p.is_empty()) {
            crate::timing::phase("placeholders-made");
        }
        let signals = SignalWatch::install()?;
        Ok(RunContext {
            cgroup,
            placeholders,
            signals,
            started: Instant::now(),
            janitor,
        })
    }

    pub fn janitor(&self) -> Option<&Janitor> {
        self.janitor.as_ref()
    }

    pub fn cgroup(&self) -> Option<&SandboxCgroup> {
        self.cgroup.as_ref()
    }

    pub fn signals(&self) -> &SignalWatch {
        &self.signals
    }

    /// When the sandbox is about to be started (its run time counts from here).
    pub fn start_clock(&mut self) -> Instant {
        self.started = Instant::now();
        self.started
    }

    /// The sandbox is gone: the outcome of `report`, with what the cgroup's
    /// limits did, the network's report and what enforced the policy.
    pub fn finish(
        self,
        report: ChildReport,
        backend: Backend,
        network: Option<net::NetworkReport>,
        mechanisms: Vec<String>,
    ) -> Outcome {
        let mut outcome = Outcome::from_report(report, self.started.elapsed(), backend);
        outcome.mechanisms = mechanisms;
        outcome.note_limits(self.cgroup.as_ref());
        outcome.network = network;
        outcome
    }
}

impl Drop for RunContext {
    fn drop(&mut self) {
        self.signals.restore();
        // Let go of the placeholders before the cgroup and the janitor go.
        let Some(placeholders) = self.placeholders.take().filter(|p| !p.is_empty()) else {
            return;
        };
        let removed = placeholders.remove();
        // The janitor closes the removed directories' last descriptors,
        // which frees their inodes, after cordon has answered.
        match &self.janitor {
            Some(janitor) => janitor.dispose(removed),
            None => drop(removed),
        }
        crate::timing::phase("placeholders-gone");
    }
}

/// What a long-lived sandbox's backend gets besides its plan: everything the
/// lifecycle made for it on the host before the backend builds and spawns.
pub struct LongLived<'a> {
    /// The bound, listening exec socket the init serves on.
    pub listener: OwnedFd,
    /// The sandbox's host directory behind its /tmp (kept across restarts).
    pub persistent_tmp: &'a Path,
    /// The sandbox's cgroup, which the backend moves its init into before
    /// anything runs inside.
    pub cgroup: Option<&'a SandboxCgroup>,
    /// Where its filtering proxy writes decisions while it lives.
    pub log: Option<net::DecisionLog>,
    /// The janitor that cleans up when the init is gone.
    pub janitor: &'a Janitor,
}

/// Packet rules, the private NAT'd stack and both proxy models are set up by
/// the supervisor of a one-shot native run; backends without that refuse
/// them rather than run without them.
pub(crate) fn refuse_supervised_network(plan: &Plan, context: &str) -> Result<(), SandboxError> {
    if net::needs_supervisor(plan) {
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
    match host::landlock_abi() {
        Some(abi) if abi >= host::LANDLOCK_SCOPING_ABI => Ok(()),
        found => Err(SandboxError::setup(format!(
            "network: sharing the host's network needs Landlock ABI 6 to keep the host session's \
             abstract sockets (X11, D-Bus) out of the sandbox; this kernel has {}",
            found.map_or("no Landlock".to_string(), |v| format!("ABI {v}"))
        ))),
    }
}
