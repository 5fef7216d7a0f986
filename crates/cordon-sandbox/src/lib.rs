//! cordon's sandbox layer: a resolved [`Plan`](cordon_policy::Plan) in, a
//! contained, supervised process out.
//!
//! Data flows one way: `seam` picks a [`Backend`] from the plan's containment
//! (`backend` names them, `host` says what this host offers); each backend
//! module (`native`, `bubblewrap`, `landlock_only`) builds its sandbox from
//! `layout`'s mount operations and `confine`'s in-process confinement, then
//! `supervisor` waits, enforces the deadline and kills the whole sandbox,
//! and the run ends as an [`Outcome`]. `context` holds what every backend
//! checks and is given; `janitor` removes what a killed cordon left. See
//! ARCHITECTURE.md at the repository's root.
//!
//! This file only declares modules and re-exports the public surface; no
//! module imports from it.

pub mod backend;
pub mod bubblewrap;
pub mod cgroups;
pub mod confine;
pub mod context;
pub mod error;
#[cfg(test)]
mod golden;
pub mod host;
pub mod init_report;
pub mod janitor;
pub mod landlock_only;
pub mod layout;
pub mod leftover;
pub mod lifecycle;
mod metadata_broker;
pub mod native;
pub mod net;
pub mod outcome;
mod owner_less;
mod placeholders;
pub mod probe;
mod pty_relay;
pub mod remove;
pub mod seam;
pub mod seccomp;
pub mod shell;
pub mod supervisor;
mod sys;
pub mod timing;
mod tty_relay;

pub use backend::Backend;
pub use error::{SandboxError, EXIT_CORDON_FAILED, EXIT_TIMEOUT};
pub use outcome::{Outcome, RunOptions};
pub use seam::{planned as planned_backend, run, select as select_backend};
