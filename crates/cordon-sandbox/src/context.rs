//! What every backend checks and owns around its own build-and-spawn step.

use std::os::fd::OwnedFd;
use std::path::Path;

use cordon_policy::plan::Plan;

use crate::cgroups::SandboxCgroup;
use crate::error::SandboxError;
use crate::janitor::Janitor;
use crate::{host, net};

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
    match host::landlock_abi() {
        Some(abi) if abi >= host::LANDLOCK_SCOPING_ABI => Ok(()),
        found => Err(SandboxError::setup(format!(
            "network: sharing the host's network needs Landlock ABI 6 to keep the host session's \
             abstract sockets (X11, D-Bus) out of the sandbox; this kernel has {}",
            found.map_or("no Landlock".to_string(), |v| format!("ABI {v}"))
        ))),
    }
}
