//! MXC's native C interface on cordon.
//!
//! MXC 1.0's TypeScript SDK does not start a runner: it loads `libmxc_ffi.so`
//! (from `$MXC_FFI_DIR` first) and calls a small C interface, JSON in and
//! out. This crate builds a library of that name whose functions hand each
//! request to the cordon binary (the single source of policy truth) and
//! return what it did, so that `MXC_FFI_DIR=<this library's directory>`
//! makes the published SDK run on cordon's backends, with cordon's boundary.
//!
//! The work happens in a child process, never in the caller's: Node is
//! multi-threaded, and a sandbox's supervisor forks and waits as a process
//! of its own. `locate` finds the binary, `runner` runs a request to
//! completion and reads its outcome, `sandbox` keeps a live one, `abi` is
//! the C edge.
//!
//! Implemented: `mxc_version`, `mxc_run_json` (with `mxc_run_result_free`),
//! `mxc_spawn_json`, `mxc_spawn_pty_json` and the `mxc_sandbox_*` handle
//! calls (`sandbox`: live runs with their stdio as pipes, or on a terminal,
//! `terminal`), `mxc_available_backends_json`, `mxc_string_free`,
//! `mxc_error_detail_free`. Not yet: the state-aware calls
//! (`mxc_exec_state_aware_json` and `mxc_state_aware_exec_pty` refuse with
//! `unsupported_phase`; the others are absent). MXC 1.0.1's SDK cannot
//! address a Linux sandbox through its container API anyway (it takes only
//! Windows backends there; docs/mxc-compat.md).

pub mod abi;
pub mod locate;
pub mod runner;
pub mod sandbox;
pub mod terminal;
