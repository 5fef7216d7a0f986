//! What a run tells its janitor before it makes it (write-ahead), and the
//! one method the makers of host objects need for that. A leaf: `cgroups`
//! and `placeholders` note through [`Notebook`] without knowing the janitor.

use std::path::PathBuf;

use crate::error::SandboxError;

/// Something on the host the janitor removes or kills if cordon cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A placeholder directory for a denied path (see `placeholders`).
    Placeholder(PathBuf),
    /// A cgroup directory of the sandbox (its processes are killed first).
    Cgroup(PathBuf),
    /// A directory tree cordon made for the run (Landlock-only `TMPDIR`).
    Tree(PathBuf),
    /// A process of the sandbox: pid and start time (clock ticks since boot).
    /// Killed, then waited for.
    Process(libc::pid_t, u64),
    /// Processes whose command line holds this token (bwrap's, tagged with
    /// a no-op `--unsetenv` of a unique name): bwrap's own child in the
    /// sandbox's namespaces may not yet have armed its parent-death signal
    /// when bwrap dies, and cordon may die before it learns its pid.
    Tagged(String),
    /// A process that ends by itself once cordon is gone and must finish
    /// first (Landlock-only mode's reaper kills the tree it reaps): only
    /// waited for, up to ten seconds.
    Awaited(libc::pid_t, u64),
}

/// Where a maker of host objects writes them down before making them.
pub trait Notebook {
    /// Record `what` before it is created or started.
    fn note(&self, what: Leftover) -> Result<(), SandboxError>;
}
