//! Process confinement applied by the sandbox init before the command starts:
//! resource limits, `no_new_privs`, Landlock, and dropping every capability.

use std::path::PathBuf;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

pub use crate::init_report::LandlockEnforced;
use crate::sys;

/// The newest Landlock ABI cordon knows; older kernels get a best-effort subset.
const LANDLOCK_ABI: ABI = ABI::V7;

/// What a Landlock rule grants beneath a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// List directories only (the synthetic root).
    ListOnly,
    /// Read and execute.
    ReadExec,
    /// Everything.
    Full,
    /// Read and write existing files, no execution, no creation (/proc).
    ReadWriteFiles,
    /// Device nodes: read, write, truncate, ioctl.
    Devices,
}

impl Grant {
    fn access(self) -> BitFlags<AccessFs> {
        let abi = LANDLOCK_ABI;
        match self {
            Grant::ListOnly => AccessFs::ReadDir.into(),
            Grant::ReadExec => AccessFs::from_read(abi),
            Grant::Full => AccessFs::from_all(abi),
            Grant::ReadWriteFiles => AccessFs::ReadFile | AccessFs::ReadDir | AccessFs::WriteFile,
            Grant::Devices => {
                AccessFs::ReadFile
                    | AccessFs::ReadDir
                    | AccessFs::WriteFile
                    | AccessFs::Truncate
                    | AccessFs::IoctlDev
            }
        }
    }
}

/// One Landlock rule: a path of the sandbox and what it grants beneath it.
#[derive(Debug, Clone)]
pub struct LandlockRule {
    pub path: PathBuf,
    pub grant: Grant,
}

/// Apply the Landlock allow-list to the calling process (and its future
/// children). `scope_ipc` confines signals and abstract unix sockets to the
/// sandbox; `deny_tcp` refuses every TCP bind and connect.
pub fn apply_landlock(
    rules: &[LandlockRule],
    scope_ipc: bool,
    deny_tcp: bool,
) -> Result<LandlockEnforced, String> {
    let handled = AccessNet::BindTcp | AccessNet::ConnectTcp;
    let tcp = if deny_tcp { handled } else { BitFlags::empty() };
    let status = ruleset(rules, scope_ipc, tcp)?
        .restrict_self()
        .map_err(|e| format!("landlock: {e}"))?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => LandlockEnforced::Fully,
        RulesetStatus::PartiallyEnforced => LandlockEnforced::Partially,
        RulesetStatus::NotEnforced => LandlockEnforced::NotAvailable,
    })
}

/// The Landlock allow-list as a ruleset not yet applied (for a process
/// about to be started: see `net::uplink`). Every file system access is
/// handled (best effort on older kernels); the TCP accesses in `deny_tcp`
/// are refused outright and required.
pub fn ruleset(
    rules: &[LandlockRule],
    scope_ipc: bool,
    deny_tcp: BitFlags<AccessNet>,
) -> Result<RulesetCreated, String> {
    let handled = AccessFs::from_all(LANDLOCK_ABI);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(handled)
        .map_err(|e| format!("landlock: {e}"))?;
    if !deny_tcp.is_empty() {
        // Handled with no rule: nothing is allowed. Required, not best effort.
        ruleset = ruleset
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(deny_tcp)
            .map_err(|e| format!("landlock TCP restriction: {e}"))?
            .set_compatibility(CompatLevel::BestEffort);
    }
    if scope_ipc {
        ruleset = ruleset
            .scope(Scope::AbstractUnixSocket | Scope::Signal)
            .map_err(|e| format!("landlock: {e}"))?;
    }
    let mut created = ruleset.create().map_err(|e| format!("landlock: {e}"))?;
    for rule in rules {
        let Ok(fd) = PathFd::new(&rule.path) else {
            // A path that is not in the sandbox needs no rule.
            continue;
        };
        let mut access = rule.grant.access();
        let is_dir = std::fs::metadata(&rule.path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        if !is_dir {
            access &= AccessFs::from_file(LANDLOCK_ABI);
        }
        created = created
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|e| format!("landlock rule for {}: {e}", rule.path.display()))?;
    }
    Ok(created)
}

/// A ruleset that only scopes abstract unix sockets and signals.
pub fn apply_scope_only() -> Result<(), String> {
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(|e| format!("landlock: {e}"))?
        .create()
        .map_err(|e| format!("landlock: {e}"))?
        .restrict_self()
        .map_err(|e| format!("landlock: {e}"))?;
    let _ = status;
    Ok(())
}

/// Set a resource limit (soft and hard) for this process and its children.
pub fn set_rlimit(resource: nix::sys::resource::Resource, value: u64) -> Result<(), String> {
    nix::sys::resource::setrlimit(resource, value, value)
        .map_err(|e| format!("setting {resource:?} to {value}: {e}"))
}

/// Drop every capability for good: bounding set, ambient set, the three
/// process sets, and lock the securebits so uid 0 regains nothing on exec.
pub fn drop_capabilities(last_cap: u32) -> Result<(), String> {
    sys::drop_all_capabilities(last_cap).map_err(|e| format!("dropping capabilities: {e}"))
}

/// Leave the caller's session keyring for a new, empty, anonymous one, so that
/// no key of the caller's session is possessed by the sandbox (it cannot use
/// keyrings anyway: seccomp refuses `keyctl`; this also drops what a later
/// exec of a keyring-aware program would find).
pub fn leave_caller_keyrings() -> Result<(), String> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no memory of ours: a
    // null name asks for a new anonymous keyring.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    match rc {
        // Kernels without keyrings have nothing to leave.
        -1 if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) => Ok(()),
        -1 => Err(format!(
            "leaving the caller's session keyring: {}",
            std::io::Error::last_os_error()
        )),
        _ => Ok(()),
    }
}

/// `no_new_privs`: setuid binaries and file capabilities grant nothing.
pub fn no_new_privs() -> Result<(), String> {
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|e| format!("no_new_privs: {e}"))
}

/// Confine the calling process's abstract unix sockets and signals to its own
/// Landlock domain, without restricting the filesystem (so mounts still work).
pub fn landlock_scope_only() -> Result<(), String> {
    apply_scope_only()
}
