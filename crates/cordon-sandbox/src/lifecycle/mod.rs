//! State-aware sandboxes (SPEC §4): provision → start → exec → stop → deprovision.
//!
//! There is no central daemon. A sandbox is a directory under the state root
//! (`CORDON_STATE_DIR`, else `$XDG_RUNTIME_DIR/cordon`, else `/run/cordon` for
//! root), private to the user, holding its record, its persistent `/tmp`, a
//! lock that serialises phase calls, and, while it runs, the socket of its
//! long-lived init (which is its supervisor; see `server`).
//!
//! `store` keeps the records (`record`) under the state roots (`roots`) and
//! serialises phase calls (`lock`); `phases` starts and stops sandboxes
//! through the backend seam; `client` sends an exec request (`protocol`) to
//! the sandbox's `server`.

mod client;
mod error;
mod lock;
mod phases;
pub mod protocol;
pub mod record;
mod roots;
pub mod server;
mod store;

pub use client::{exec, ExecOutcome};
pub use error::{LifecycleError, Result};
pub use record::State;
pub use roots::protect_cordon_files;
pub use store::{Store, Summary};
