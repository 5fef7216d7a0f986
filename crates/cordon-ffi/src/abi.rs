//! The C edge: MXC's `libmxc_ffi` symbols and structures, as its SDK binds
//! them (koffi; `dist/bindings/*.js` of `@microsoft/mxc-sdk` 1.0.1). Every
//! string handed out is a `CString` this library allocated; the matching
//! `*_free` function takes it back.

use std::ffi::{c_char, CStr, CString};

use crate::runner::{self, FfiError};
use crate::sandbox::Sandbox;

/// `MxcNodeJsonErrorDetail`: owned strings, null when absent.
#[repr(C)]
pub struct ErrorDetail {
    pub message: *mut c_char,
    pub operation: *mut c_char,
    pub native_code: *mut c_char,
    pub remediation: *mut c_char,
}

/// `MxcNodeJsonRunResult`.
#[repr(C)]
pub struct RunResult {
    pub status: i32,
    pub exit_code: i32,
    pub timed_out: i32,
    pub stdout: *mut c_char,
    pub stderr: *mut c_char,
    pub error: ErrorDetail,
    pub output_metadata: *mut c_char,
    pub warnings: *mut c_char,
}

/// An owned C string of `bytes` (a NUL inside cannot cross the interface:
/// it is dropped).
fn owned(bytes: Vec<u8>) -> *mut c_char {
    let bytes: Vec<u8> = bytes.into_iter().filter(|b| *b != 0).collect();
    CString::new(bytes).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// Take back a string [`owned`] handed out, and null the slot.
fn reclaim(slot: &mut *mut c_char) {
    if !slot.is_null() {
        // SAFETY: non-null slots hold pointers from `CString::into_raw` in
        // `owned`, each reclaimed once (the slot is nulled below).
        drop(unsafe { CString::from_raw(*slot) });
        *slot = std::ptr::null_mut();
    }
}

fn fill_error(detail: &mut ErrorDetail, e: FfiError) {
    detail.message = owned(e.message.into_bytes());
    detail.operation = std::ptr::null_mut();
    detail.native_code = std::ptr::null_mut();
    detail.remediation = e
        .remediation
        .map_or(std::ptr::null_mut(), |r| owned(r.into_bytes()));
}

/// The request a caller passed, as text.
///
/// # Safety
///
/// `request` must be null or a NUL-terminated string valid for the call.
unsafe fn request_text(request: *const c_char) -> Result<String, FfiError> {
    if request.is_null() {
        return Err(FfiError {
            status: runner::status_of("malformed_request"),
            message: "the request is null".into(),
            remediation: None,
        });
    }
    // SAFETY: per this function's contract, a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(request) };
    Ok(text.to_string_lossy().into_owned())
}

/// The library's version: cordon's.
#[no_mangle]
pub extern "C" fn mxc_version() -> *const c_char {
    static VERSION: &CStr = c"cordon-ffi 0.1.0";
    VERSION.as_ptr()
}

/// Run a one-shot request (`request`: MXC's JSON, NUL-terminated) to
/// completion; the result goes to `out`. Returns 0, or MXC's native status.
///
/// # Safety
///
/// `request` must be a NUL-terminated string and `out` a writable
/// `RunResult`, both valid for the call; `out` is later released with
/// [`mxc_run_result_free`].
#[no_mangle]
pub unsafe extern "C" fn mxc_run_json(
    request: *const c_char,
    _experimental: i32,
    out: *mut RunResult,
) -> i32 {
    if out.is_null() {
        return runner::status_of("malformed_request");
    }
    // SAFETY: the caller gives a writable RunResult (checked non-null).
    let out = unsafe { &mut *out };
    *out = RunResult {
        status: 0,
        exit_code: 0,
        timed_out: 0,
        stdout: std::ptr::null_mut(),
        stderr: std::ptr::null_mut(),
        error: ErrorDetail {
            message: std::ptr::null_mut(),
            operation: std::ptr::null_mut(),
            native_code: std::ptr::null_mut(),
            remediation: std::ptr::null_mut(),
        },
        output_metadata: std::ptr::null_mut(),
        warnings: std::ptr::null_mut(),
    };
    // SAFETY: the caller gives a NUL-terminated string valid for the call.
    let result = unsafe { request_text(request) }.and_then(|text| runner::run_json(&text));
    match result {
        Ok(run) => {
            out.exit_code = run.exit_code;
            out.timed_out = i32::from(run.timed_out);
            out.stdout = owned(run.stdout);
            out.stderr = owned(run.stderr);
            out.warnings = owned(b"[]".to_vec());
            0
        }
        Err(e) => {
            out.status = e.status;
            fill_error(&mut out.error, e);
            out.status
        }
    }
}

/// Release what [`mxc_run_json`] put in `result`.
///
/// # Safety
///
/// `result` must be null or a `RunResult` filled by [`mxc_run_json`] and
/// not released before.
#[no_mangle]
pub unsafe extern "C" fn mxc_run_result_free(result: *mut RunResult) {
    if result.is_null() {
        return;
    }
    // SAFETY: a RunResult this library filled (checked non-null).
    let result = unsafe { &mut *result };
    for slot in [
        &mut result.stdout,
        &mut result.stderr,
        &mut result.output_metadata,
        &mut result.warnings,
    ] {
        reclaim(slot);
    }
    free_detail(&mut result.error);
}

fn free_detail(detail: &mut ErrorDetail) {
    for slot in [
        &mut detail.message,
        &mut detail.operation,
        &mut detail.native_code,
        &mut detail.remediation,
    ] {
        reclaim(slot);
    }
}

/// Release an error detail this library filled.
///
/// # Safety
///
/// `detail` must be null or an `ErrorDetail` this library filled and not
/// released before.
#[no_mangle]
pub unsafe extern "C" fn mxc_error_detail_free(detail: *mut ErrorDetail) {
    if detail.is_null() {
        return;
    }
    // SAFETY: an ErrorDetail this library filled (checked non-null).
    free_detail(unsafe { &mut *detail });
}

/// Release a string this library returned.
///
/// # Safety
///
/// `text` must be null or a string this library returned and not released
/// before.
#[no_mangle]
pub unsafe extern "C" fn mxc_string_free(text: *mut c_char) {
    let mut slot = text;
    reclaim(&mut slot);
}

/// MXC's backend discovery JSON (an owned string; null on failure).
#[no_mangle]
pub extern "C" fn mxc_available_backends_json() -> *mut c_char {
    runner::available_backends_json().map_or(std::ptr::null_mut(), |json| owned(json.into_bytes()))
}

/// `MxcNodeNativeStdio`: pipe descriptors handed to the caller (-1: none).
#[repr(C)]
pub struct NativeStdio {
    pub stdin_handle: isize,
    pub stdout_handle: isize,
    pub stderr_handle: isize,
}

/// The sandbox behind a handle the caller holds.
///
/// # Safety
///
/// `sandbox` must be null or a handle from [`mxc_spawn_json`] not yet freed.
unsafe fn sandbox_ref<'a>(sandbox: *const Sandbox) -> Option<&'a Sandbox> {
    // SAFETY: per this function's contract, a live handle or null.
    unsafe { sandbox.as_ref() }
}

/// Write `value` where the caller asked for it, if it asked.
///
/// # Safety
///
/// `slot` must be null or writable for a `T`.
unsafe fn put<T>(slot: *mut T, value: T) {
    if !slot.is_null() {
        // SAFETY: per this function's contract, writable (checked non-null).
        unsafe { slot.write(value) };
    }
}

/// Start a one-shot request and return a live handle in `out_handle`.
/// Returns 0, or MXC's native status with `error` filled.
///
/// # Safety
///
/// `request` must be a NUL-terminated string; `out_handle` and `error` null
/// or writable. The handle is released with [`mxc_sandbox_free`].
#[no_mangle]
pub unsafe extern "C" fn mxc_spawn_json(
    request: *const c_char,
    _experimental: i32,
    out_handle: *mut *mut Sandbox,
    error: *mut ErrorDetail,
) -> i32 {
    // SAFETY: the same contract, passed on.
    unsafe { start(request, out_handle, error, Sandbox::spawn) }
}

/// Read `request`, start it with `start`, hand the handle out or report.
///
/// # Safety
///
/// As [`mxc_spawn_json`].
unsafe fn start(
    request: *const c_char,
    out_handle: *mut *mut Sandbox,
    error: *mut ErrorDetail,
    start: impl FnOnce(&str) -> Result<Sandbox, FfiError>,
) -> i32 {
    // SAFETY: the caller gives a NUL-terminated string valid for the call.
    let spawned = unsafe { request_text(request) }.and_then(|text| start(&text));
    match spawned {
        Ok(sandbox) => {
            // SAFETY: the caller's out slot (null or writable).
            unsafe { put(out_handle, Box::into_raw(Box::new(sandbox))) };
            0
        }
        Err(e) => report(error, e),
    }
}

/// Fill `error` (if given) with `e`; MXC's native status.
fn report(error: *mut ErrorDetail, e: FfiError) -> i32 {
    let status = e.status;
    let mut detail = ErrorDetail {
        message: std::ptr::null_mut(),
        operation: std::ptr::null_mut(),
        native_code: std::ptr::null_mut(),
        remediation: std::ptr::null_mut(),
    };
    fill_error(&mut detail, e);
    if error.is_null() {
        free_detail(&mut detail);
    } else {
        // SAFETY: the caller's error slot, writable (checked non-null).
        unsafe { error.write(detail) };
    }
    status
}

/// State-aware execs through this library are not built yet: refused with
/// MXC's `unsupported_phase` (the cordon CLI runs them: `cordon exec`).
///
/// # Safety
///
/// `error` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_exec_state_aware_json(
    _request: *const c_char,
    _experimental: i32,
    _out_handle: *mut *mut Sandbox,
    error: *mut ErrorDetail,
) -> i32 {
    report(
        error,
        FfiError {
            status: runner::status_of("unsupported_phase"),
            message: "state-aware execs are not run through cordon's libmxc_ffi yet; use \
                      `cordon exec ID -- CMD`"
                .into(),
            remediation: None,
        },
    )
}

/// The host pid of the run's cordon process (0 for a null handle).
///
/// # Safety
///
/// `sandbox` must be null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_id(sandbox: *const Sandbox) -> u32 {
    // SAFETY: per this function's contract.
    unsafe { sandbox_ref(sandbox) }.map_or(0, Sandbox::id)
}

/// Hand the run's stdin, stdout and stderr pipes to the caller, once.
///
/// # Safety
///
/// `sandbox` must be null or a live handle; `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_take_native_stdio(
    sandbox: *const Sandbox,
    out: *mut NativeStdio,
) -> i32 {
    // SAFETY: per this function's contract.
    let Some(sandbox) = (unsafe { sandbox_ref(sandbox) }) else {
        return runner::status_of("malformed_request");
    };
    let [stdin, stdout, stderr] = sandbox.take_stdio();
    let stdio = NativeStdio {
        stdin_handle: isize::try_from(stdin).unwrap_or(-1),
        stdout_handle: isize::try_from(stdout).unwrap_or(-1),
        stderr_handle: isize::try_from(stderr).unwrap_or(-1),
    };
    // SAFETY: the caller's out slot (null or writable).
    unsafe { put(out, stdio) };
    0
}

/// Close a pipe descriptor the caller did not take over.
#[no_mangle]
pub extern "C" fn mxc_native_pipe_close(handle: isize) {
    if let Ok(fd) = i32::try_from(handle) {
        if fd >= 0 {
            // SAFETY: closing a descriptor this library handed out and the
            // caller gave back unused.
            unsafe { libc::close(fd) };
        }
    }
}

/// Whether the run still goes; its exit code and timeout once it ended.
///
/// # Safety
///
/// `sandbox` must be null or a live handle; the out slots null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_try_wait(
    sandbox: *const Sandbox,
    exit_code: *mut i32,
    running: *mut i32,
    timed_out: *mut i32,
) -> i32 {
    // SAFETY: per this function's contract.
    let Some(sandbox) = (unsafe { sandbox_ref(sandbox) }) else {
        return runner::status_of("malformed_request");
    };
    match sandbox.try_wait() {
        Ok(None) => {
            // SAFETY: the caller's out slot (null or writable).
            unsafe { put(running, 1) };
            0
        }
        Ok(Some((code, timed))) => {
            // SAFETY: the caller's out slot (null or writable).
            unsafe { put(running, 0) };
            // SAFETY: as above.
            unsafe { put(exit_code, code) };
            // SAFETY: as above.
            unsafe { put(timed_out, i32::from(timed)) };
            0
        }
        Err(e) => e.status,
    }
}

/// Block until the run ends (the SDK calls it from a worker thread).
///
/// # Safety
///
/// `sandbox` must be null or a live handle; the out slots null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_wait(
    sandbox: *const Sandbox,
    exit_code: *mut i32,
    timed_out: *mut i32,
) -> i32 {
    // SAFETY: per this function's contract.
    let Some(sandbox) = (unsafe { sandbox_ref(sandbox) }) else {
        return runner::status_of("malformed_request");
    };
    match sandbox.wait() {
        Ok((code, timed)) => {
            // SAFETY: the caller's out slot (null or writable).
            unsafe { put(exit_code, code) };
            // SAFETY: as above.
            unsafe { put(timed_out, i32::from(timed)) };
            0
        }
        Err(e) => e.status,
    }
}

/// Kill the whole run.
///
/// # Safety
///
/// `sandbox` must be null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_kill(sandbox: *const Sandbox) -> i32 {
    // SAFETY: per this function's contract.
    match unsafe { sandbox_ref(sandbox) } {
        Some(sandbox) => {
            sandbox.kill(false);
            0
        }
        None => runner::status_of("malformed_request"),
    }
}

/// Kill the whole run because the caller's deadline passed.
///
/// # Safety
///
/// `sandbox` must be null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_kill_for_timeout(sandbox: *const Sandbox) -> i32 {
    // SAFETY: per this function's contract.
    match unsafe { sandbox_ref(sandbox) } {
        Some(sandbox) => {
            sandbox.kill(true);
            0
        }
        None => runner::status_of("malformed_request"),
    }
}

/// The run's warnings as a JSON array: none (null, which the SDK reads as
/// an empty list); cordon says what it has to say on the run's stderr.
/// Null also because the SDK binds the matching free with a `char *`
/// parameter, which would hand back a copy of the string, not this
/// library's allocation.
///
/// # Safety
///
/// `out` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_warnings_json(
    _sandbox: *const Sandbox,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's out slot (null or writable).
    unsafe { put(out, std::ptr::null_mut()) };
    0
}

/// Output metadata (Windows denial capture): none on cordon.
///
/// # Safety
///
/// `out` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_output_metadata_json(
    _sandbox: *const Sandbox,
    out: *mut *mut c_char,
) -> i32 {
    // SAFETY: the caller's out slot (null or writable).
    unsafe { put(out, std::ptr::null_mut()) };
    0
}

/// Release a handle; a run still going is killed and reaped first.
///
/// # Safety
///
/// `sandbox` must be null or a handle from [`mxc_spawn_json`], freed once.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_free(sandbox: *mut Sandbox) {
    if !sandbox.is_null() {
        // SAFETY: a handle from Box::into_raw in mxc_spawn_json, freed once.
        drop(unsafe { Box::from_raw(sandbox) });
    }
}

/// Start a one-shot request on a terminal of `rows` × `columns`
/// (`spawnWithPty`): one merged output stream, no separate stderr.
///
/// # Safety
///
/// As [`mxc_spawn_json`].
#[no_mangle]
pub unsafe extern "C" fn mxc_spawn_pty_json(
    request: *const c_char,
    _experimental: i32,
    rows: u16,
    columns: u16,
    out_handle: *mut *mut Sandbox,
    error: *mut ErrorDetail,
) -> i32 {
    // SAFETY: the same contract, passed on.
    unsafe {
        start(request, out_handle, error, |text| {
            Sandbox::spawn_pty(text, rows, columns)
        })
    }
}

/// State-aware execs on a terminal are not run through this library yet.
///
/// # Safety
///
/// `error` must be null or writable.
#[no_mangle]
pub unsafe extern "C" fn mxc_state_aware_exec_pty(
    request: *const c_char,
    experimental: i32,
    _rows: u16,
    _columns: u16,
    out_handle: *mut *mut Sandbox,
    error: *mut ErrorDetail,
) -> i32 {
    // SAFETY: the same contract, passed on.
    unsafe { mxc_exec_state_aware_json(request, experimental, out_handle, error) }
}

/// Resize a run's terminal.
///
/// # Safety
///
/// `sandbox` must be null or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mxc_sandbox_pty_resize(
    sandbox: *const Sandbox,
    rows: u16,
    columns: u16,
) -> i32 {
    // SAFETY: per this function's contract.
    let Some(sandbox) = (unsafe { sandbox_ref(sandbox) }) else {
        return runner::status_of("malformed_request");
    };
    match sandbox.resize(rows, columns) {
        Ok(()) => 0,
        Err(e) => e.status,
    }
}
