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
//! Implemented so far: `mxc_version`, `mxc_run_json` (with
//! `mxc_run_result_free`), `mxc_spawn_json` and the `mxc_sandbox_*` handle
//! calls (`sandbox`: live runs with their stdio as pipes),
//! `mxc_available_backends_json`, `mxc_string_free`, `mxc_error_detail_free`.
//! Not yet: terminals (`mxc_spawn_pty_json`) and the state-aware calls
//! (`mxc_exec_state_aware_json` refuses with `unsupported_phase`; the others
//! are absent, so the SDK reports their symbols missing).

pub mod abi;
pub mod locate;
pub mod runner;
pub mod sandbox;
