//! Thin wrappers over the kernel interfaces that neither `nix` nor `landlock`
//! cover, shared by the backends. Not every `unsafe` block lives here: code
//! that runs between fork and exec, or builds one kernel structure in
//! place, keeps its system calls beside it. Every block, here or there,
//! says why it is sound (`// SAFETY:`, enforced by clippy's
//! `undocumented_unsafe_blocks`).
//!
//! One file per topic; callers use the re-exports below.

mod caps;
mod fds;
mod mounts;
mod net;
mod process;
mod procfs;
mod rtnetlink;
mod terminal;

pub use caps::*;
pub use fds::*;
pub use mounts::*;
pub use net::*;
pub use process::*;
pub use procfs::*;
pub use rtnetlink::*;
pub use terminal::*;
