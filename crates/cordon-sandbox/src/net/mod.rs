//! The sandbox's network beyond its own loopback (SPEC §2.2), run by the
//! supervisor inside the sandbox's user and network namespaces:
//!
//! - model 1 (`Filtered`): an nftables table in the sandbox's namespace
//!   (`nft`) and an uplink to the outside (`uplink`, slirp4netns);
//! - model 2 with the caller's proxy (`ProxyOnly`): a relay (`relay`);
//! - model 2 with host rules (`FilteringProxy`): cordon's proxy (`proxy`);
//! - in every model but the host's network: published ports (`publish`).
//!
//! Everything here is in place before the workload starts.

mod active;
mod decisions;
pub mod enter;
mod host_watch;
pub mod keeper;
mod nfnl;
pub mod nft;
mod nft_counters;
mod nft_install;
pub mod proxy;
mod publish;
pub mod relay;
pub mod uplink;
mod uplink_jail;

pub use active::{describe, needs_supervisor, ActiveNetwork};
pub use decisions::{DecisionLog, NetEvent, NetworkReport, KEPT_DECISIONS};
pub use enter::Namespaces;
