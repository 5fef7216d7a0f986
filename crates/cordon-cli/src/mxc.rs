//! What MXC's SDKs expect of the runner they spawn (`lxc-exec`), so that
//! pointing them at cordon works: `--available-backends` (1.0's
//! `getPlatformSupport()`), the `{"error": {...}}` line on stderr that the
//! 0.8 SDK turns into an `MxcError`, `--log-file`, and the Linux backends a
//! refused Windows/macOS containment should use instead.

use std::io::Write;
use std::path::Path;

use cordon_policy::{ErrorCode, PolicyError};
use cordon_sandbox::probe::{self, BackendReport};
use serde_json::{json, Value};

/// The capabilities MXC's discovery knows that cordon's backends have.
/// `filesystemDeniedPaths`: denied paths are enforced; `proxyEnforcement`:
/// proxy-only egress holds (the sandbox has no other way out).
const CAPABILITIES: &[&str] = &["filesystemDeniedPaths", "proxyEnforcement"];

/// `--available-backends`: MXC's discovery payload, a JSON array of
/// `{"backend", "capabilities"?, "warnings"?}`, one entry per backend that
/// can run here. `bubblewrap` is MXC's name; `native` is cordon's own (MXC's
/// SDK reads names it does not know as "unknown").
pub fn available_backends() -> i32 {
    let report = probe::probe(crate::probe::allowed_backends().as_deref());
    let mut warnings = Vec::new();
    if let Err(why) = &report.network_rules {
        warnings.push(format!(
            "network.egress rules cannot run here ({why}); ruleless policies and proxy-only \
             egress still can"
        ));
    }
    let entries: Vec<Value> = report
        .backends
        .iter()
        .filter(|b| b.available)
        .map(|b| {
            let mut entry = json!({"backend": b.name, "capabilities": CAPABILITIES});
            if !warnings.is_empty() {
                entry["warnings"] = json!(warnings);
            }
            entry
        })
        .collect();
    println!("{}", Value::Array(entries));
    0
}

/// MXC's error envelope as one line on stderr, after the human message.
pub fn error_line(e: &PolicyError) {
    let line = json!({"error": {"code": e.code.as_str(), "message": e.message}});
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// For a refused foreign containment: the Linux backends that run on this
/// host, so the message suggests only what would work.
pub fn with_linux_alternatives(e: &PolicyError) -> PolicyError {
    if e.code != ErrorCode::UnsupportedContainment {
        return e.clone();
    }
    let report = probe::probe(crate::probe::allowed_backends().as_deref());
    let usable: Vec<&BackendReport> = report.backends.iter().filter(|b| b.available).collect();
    let suggestion = if usable.is_empty() {
        "; no Linux backend can run on this host either (see `cordon probe`)".to_string()
    } else {
        let names: Vec<String> = std::iter::once("\"process\" (the best of them)".to_string())
            .chain(usable.iter().map(|b| format!("{:?}", b.name)))
            .collect();
        format!("; on Linux use {}", names.join(" or "))
    };
    PolicyError::new(e.code, format!("{}{suggestion}", e.message))
}

/// `--log-file FILE`: one JSON line per event, appended (MXC's SDK points
/// every run of a session at one file). A log that cannot be written is
/// reported on stderr; it never changes what runs.
pub fn log(path: Option<&Path>, event: &str, detail: Value) {
    let Some(path) = path else { return };
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let line =
        json!({"timeMs": millis, "pid": std::process::id(), "event": event, "detail": detail});
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        eprintln!("cordon: --log-file {}: {e}", path.display());
    }
}
