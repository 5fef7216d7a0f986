//! The schema version and the backend sections: which containment a config
//! asks for, and what it says to backends cordon does not run.

use serde_json::Value;

use crate::config::Config;
use crate::error::{ErrorCode, PolicyError, Result};
use crate::plan::Containment;
use crate::version::SchemaVersion;

/// Backends that exist on other platforms only, with the platform they need.
const FOREIGN_BACKENDS: &[(&str, &str)] = &[
    ("processcontainer", "Windows"),
    ("appcontainer", "Windows"),
    ("windows_sandbox", "Windows"),
    ("wslc", "Windows"),
    ("isolation_session", "Windows"),
    ("hyperlight", "Windows"),
    ("seatbelt", "macOS"),
    ("macos_sandbox", "macOS"),
];

const LINUX_BACKENDS: &[&str] = &["process", "native", "bubblewrap", "lxc", "microvm", "vm"];

/// Keys of `experimental` that are settings, not backend sections.
const EXPERIMENTAL_SETTINGS: &[&str] = &["telemetry", "test"];
/// Keys of `experimental` that configure a backend.
const EXPERIMENTAL_BACKENDS: &[&str] = &[
    "wslc",
    "microvm",
    "hyperlight",
    "windows_sandbox",
    "isolation_session",
    "lxc",
    "bubblewrap",
    "native",
    "seatbelt",
];

/// Declared schema version (absent: current).
pub fn schema_version(config: &Config) -> Result<SchemaVersion> {
    match &config.version {
        None => Ok(SchemaVersion::CURRENT),
        Some(raw) => SchemaVersion::parse(raw),
    }
}

/// Resolve `containment` and check that only the selected backend's section is present.
pub fn containment(config: &Config, version: SchemaVersion) -> Result<Containment> {
    let requested = config.containment.as_deref().unwrap_or("process");
    let selected = requested.to_ascii_lowercase();
    if let Some((_, platform)) = FOREIGN_BACKENDS.iter().find(|(n, _)| *n == selected) {
        return Err(PolicyError::new(
            ErrorCode::UnsupportedContainment,
            format!("containment: {requested:?} needs {platform}; cordon runs Linux backends only"),
        ));
    }
    if !LINUX_BACKENDS.contains(&selected.as_str()) {
        return Err(PolicyError::malformed(format!(
            "containment: unknown backend {requested:?}; valid values on Linux: {}",
            LINUX_BACKENDS.join(", ")
        )));
    }

    for section in [&config.process_container, &config.app_container] {
        let Some(Value::Object(pc)) = section else {
            continue;
        };
        if pc.contains_key("captureDenials") {
            return Err(PolicyError::policy(
                "processContainer.captureDenials: a Windows AppContainer trace (ETL) that has no \
                 Linux form; remove captureDenials, and run the command under `cordon learn` to get \
                 what the policy refused (paths read and written, hosts) as a config to review",
            ));
        }
    }
    // Every backend section present in the config, by the backend it configures.
    let mut sections: Vec<(&str, &str)> = Vec::new();
    if config.lxc.is_some() {
        sections.push(("lxc", "lxc"));
    }
    match (&config.process_container, &config.app_container) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::malformed(
                "processContainer and appContainer are the same section under two names; keep one",
            ))
        }
        (Some(_), None) => sections.push(("processContainer", "processcontainer")),
        (None, Some(_)) => sections.push(("appContainer", "processcontainer")),
        (None, None) => {}
    }
    match (&config.seatbelt, &config.macos_sandbox) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::malformed(
                "seatbelt and macos_sandbox are the same section under two names; keep one",
            ))
        }
        (Some(_), None) => sections.push(("seatbelt", "seatbelt")),
        (None, Some(_)) => sections.push(("macos_sandbox", "seatbelt")),
        (None, None) => {}
    }
    if let Some(experimental) = &config.experimental {
        for key in experimental.keys() {
            if key == "seatbelt" {
                return Err(PolicyError::malformed(
                    "experimental.seatbelt: the seatbelt section moved to the top level (\"seatbelt\")",
                ));
            }
            if key == "test" && version < SchemaVersion::V0_8 {
                return Err(PolicyError::malformed(format!(
                    "experimental.test: needs schema 0.8 or later, config declares {version}"
                )));
            }
            if EXPERIMENTAL_SETTINGS.contains(&key.as_str()) {
                continue;
            }
            if !EXPERIMENTAL_BACKENDS.contains(&key.as_str()) {
                let mut valid: Vec<&str> = EXPERIMENTAL_SETTINGS.to_vec();
                valid.extend(EXPERIMENTAL_BACKENDS.iter().filter(|k| **k != "seatbelt"));
                return Err(PolicyError::malformed(format!(
                    "experimental: unknown field {key:?}, expected one of {}",
                    valid.join(", ")
                )));
            }
            sections.push(("experimental", key));
        }
    }
    let selected_concrete = match selected.as_str() {
        "process" => "native",
        "vm" => "microvm",
        other => other,
    };
    let foreign: Vec<String> = sections
        .iter()
        .filter(|(_, backend)| {
            *backend != selected_concrete && !(selected == "process" && *backend == "bubblewrap")
        })
        .map(|(field, backend)| {
            if *field == "experimental" {
                format!("experimental.{backend}")
            } else {
                field.to_string()
            }
        })
        .collect();
    if !foreign.is_empty() {
        return Err(PolicyError::malformed(format!(
            "multiple containment backends configured: containment is {selected:?} but the config \
             also carries {}; a config may carry only the selected backend's section",
            foreign.join(", ")
        )));
    }

    Ok(match selected.as_str() {
        "process" => Containment::Process,
        "native" => Containment::Native,
        "bubblewrap" => Containment::Bubblewrap,
        "microvm" | "vm" => Containment::MicroVm,
        "lxc" => {
            let lxc = config.lxc.clone().unwrap_or_default();
            let distribution = lxc.distribution.filter(|s| !s.is_empty());
            let release = lxc.release.filter(|s| !s.is_empty());
            match (distribution, release) {
                (Some(distribution), Some(release)) => Containment::Lxc {
                    distribution,
                    release,
                },
                _ => {
                    return Err(PolicyError::malformed(
                        "lxc: containment \"lxc\" needs both lxc.distribution and lxc.release",
                    ))
                }
            }
        }
        _ => unreachable!("checked against LINUX_BACKENDS above"),
    })
}
