//! Strings, paths, the environment, UI and resource limits.

use crate::config::Config;
use crate::error::{PolicyError, Result};
use crate::plan::ResourcePlan;

/// A non-empty string without NUL.
pub fn check_text(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(PolicyError::malformed(format!(
            "{field}: must not be empty"
        )));
    }
    if value.contains('\0') {
        return Err(PolicyError::malformed(format!(
            "{field}: must not contain a NUL character"
        )));
    }
    Ok(())
}

/// An absolute filesystem path as MXC's contract allows it.
pub fn check_path(field: &str, value: &str) -> Result<()> {
    check_text(field, value)?;
    if value.contains('"') {
        return Err(PolicyError::malformed(format!(
            "{field}: {value:?} must not contain a double quote"
        )));
    }
    if !value.starts_with('/') {
        return Err(PolicyError::malformed(format!(
            "{field}: {value:?} must be an absolute path"
        )));
    }
    Ok(())
}

/// Environment variables as (name, value), in order.
pub type EnvPairs = Vec<(String, String)>;

/// `process.env` entries as (key, value), and a warning for each entry that
/// is skipped. Like MXC's runners, an entry that is not `KEY=VALUE` (no `=`,
/// empty name) is skipped with a warning rather than failing the run; a NUL
/// cannot be passed in an environment at all and is refused.
pub fn environment(entries: &[String]) -> Result<(EnvPairs, Vec<String>)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(entries.len());
    let mut warnings = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("process.env[{i}]");
        if entry.contains('\0') {
            return Err(PolicyError::malformed(format!(
                "{field}: must not contain a NUL character"
            )));
        }
        let pair = entry.split_once('=').filter(|(key, _)| !key.is_empty());
        let Some((key, value)) = pair else {
            warnings.push(format!(
                "warning: {field}: {entry:?} is not of the form KEY=VALUE; skipped"
            ));
            continue;
        };
        // A later entry for the same key replaces the earlier one.
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    Ok((out, warnings))
}

/// Linux never gives the sandbox a display; asking for one is refused (SPEC §2.3).
pub fn ui(config: &Config) -> Result<()> {
    let Some(ui) = &config.ui else { return Ok(()) };
    if ui.disable == Some(false) {
        return Err(PolicyError::policy(
            "ui.disable: false asks for display access; cordon on Linux never gives the sandbox \
             a display (no X11, Wayland or D-Bus session)",
        ));
    }
    if let Some(clipboard) = ui.clipboard {
        if clipboard != crate::config::Clipboard::None {
            return Err(PolicyError::policy(
                format!(
                    "ui.clipboard: {clipboard:?} cannot be granted on Linux; the sandbox has no \
                 access to the host session's clipboard (use \"none\")"
                )
                .to_lowercase(),
            ));
        }
    }
    if ui.injection == Some(true) {
        return Err(PolicyError::policy(
            "ui.injection: true cannot be granted on Linux; the sandbox has no input devices",
        ));
    }
    Ok(())
}

/// `resources` (cordon extension): what can be enforced now, refused otherwise.
pub fn resources(config: &Config) -> Result<ResourcePlan> {
    let Some(res) = &config.resources else {
        return Ok(ResourcePlan::default());
    };
    const MIB: u64 = 1024 * 1024;
    let positive = |field: &str, v: Option<u64>| -> Result<Option<u64>> {
        match v {
            Some(0) => Err(PolicyError::malformed(format!(
                "resources.{field}: must be at least 1"
            ))),
            other => Ok(other),
        }
    };
    let max_file_size_bytes = positive("maxFileSizeMb", res.max_file_size_mb)?
        .map(|mb| mb.checked_mul(MIB))
        .map(|b| b.ok_or_else(|| PolicyError::malformed("resources.maxFileSizeMb: too large")))
        .transpose()?;
    let memory_bytes = positive("memoryMb", res.memory_mb)?
        .map(|mb| {
            mb.checked_mul(MIB)
                .ok_or_else(|| PolicyError::malformed("resources.memoryMb: too large"))
        })
        .transpose()?;
    Ok(ResourcePlan {
        max_file_size_bytes,
        max_open_files: positive("maxOpenFiles", res.max_open_files)?,
        memory_bytes,
        max_processes: positive("maxProcesses", res.max_processes)?,
        cpu_percent: positive("cpuPercent", res.cpu_percent)?,
    })
}
