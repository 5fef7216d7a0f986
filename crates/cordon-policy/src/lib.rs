//! cordon's policy layer: MXC-compatible configuration in, a resolved,
//! backend-neutral [`Plan`] out.
//!
//! The flow is `parse` (bytes → typed [`Config`], strict) → `validate` (checks
//! that need no filesystem) → `resolve` (canonical paths, delegation, aliases)
//! → [`Plan`]. Nothing here creates namespaces or runs anything.

pub mod aliases;
pub mod caller;
pub mod ceiling;
pub mod config;
pub mod contract;
pub mod error;
pub mod grant;
pub mod host_sockets;
pub mod netrules;
pub mod parse;
pub mod plan;
pub mod presets;
pub mod protected;
pub mod resolve;
pub mod schema;
pub mod validate;
pub mod version;

pub use ceiling::Ceiling;
pub use config::Config;
pub use error::{ErrorCode, PolicyError, Result};
pub use grant::Grant;
pub use parse::{config_from_value, parse_config};
pub use plan::{Access, Containment, FsEntry, FsPlan, Kind, NetworkPlan, Origin, Plan};
pub use resolve::{
    resolve_one_shot, resolve_one_shot_under, resolve_process, resolve_sandbox,
    resolve_sandbox_under, Caller, ProcessPlan,
};
pub use version::SchemaVersion;
