//! MXC's generated contracts (schema 0.9.0-alpha, 1.0.0, 1.1.0-alpha): the
//! exact field set of each request kind, checked on the raw JSON before the
//! typed parse. The typed [`Config`](crate::config::Config) is a superset of
//! every version; this file says which part of it a declared version allows.
//!
//! Versions 0.6–0.8 predate the contracts; for them only the fields added
//! later are refused here (`telemetry`, `inheritDefaultEnv`, ...).

use serde_json::{Map, Value};

use crate::error::{ErrorCode, PolicyError, Result};
use crate::version::SchemaVersion;

/// What a request does, by its `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    OneShot,
    Provision,
    Exec,
    /// `start`, `stop`, `deprovision`: a sandbox id and nothing else.
    Phase,
}

impl RequestKind {
    fn of(map: &Map<String, Value>) -> Option<RequestKind> {
        match map.get("phase").map(Value::as_str) {
            None => Some(RequestKind::OneShot),
            Some(Some("provision")) => Some(RequestKind::Provision),
            Some(Some("exec")) => Some(RequestKind::Exec),
            Some(Some("start" | "stop" | "deprovision")) => Some(RequestKind::Phase),
            // An unknown phase is the lifecycle's to refuse (unsupported_phase).
            Some(_) => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RequestKind::OneShot => "a one-shot",
            RequestKind::Provision => "a provision",
            RequestKind::Exec => "an exec",
            RequestKind::Phase => "a start/stop/deprovision",
        }
    }
}

/// Sections of backends that run on Windows or in VMs only, with the
/// platform each needs. Refused as `unsupported_containment` wherever they
/// appear, never as unknown fields.
pub const FOREIGN_SECTIONS: &[(&str, &str)] = &[
    ("wslc", "Windows (WSL containers)"),
    ("isolationSession", "Windows (isolation sessions)"),
    ("windowsSandbox", "Windows (Windows Sandbox)"),
    ("hyperlight", "Hyperlight micro-VMs (not built into cordon)"),
];

/// cordon's own fields (SPEC §1.1), accepted at every version.
const EXTENSIONS: &[&str] = &["resources", "presets"];

/// The top-level fields `kind` may carry at `version` (0.9 on), foreign
/// sections and cordon's extensions included.
fn allowed(kind: RequestKind, version: SchemaVersion) -> Vec<&'static str> {
    let mut fields = vec!["$schema", "_comment", "version", "telemetry"];
    match kind {
        RequestKind::OneShot => {
            fields.extend([
                "containerId",
                "containment",
                "fallback",
                "filesystem",
                "lifecycle",
                "lxc",
                "network",
                "process",
                "processContainer",
                "runtimeConfig",
                "seatbelt",
                "ui",
                "wslc",
            ]);
            if version < SchemaVersion::V1_0 {
                fields.extend(["appContainer", "macos_sandbox"]);
            }
            if version >= SchemaVersion::V1_1 {
                fields.extend(["hyperlight", "test", "windowsSandbox"]);
            }
            fields.extend(EXTENSIONS);
        }
        RequestKind::Provision => {
            // MXC defines provision for its Windows backends only; cordon
            // provisions its own with the one-shot policy sections.
            fields.extend([
                "phase",
                "containment",
                "containerId",
                "filesystem",
                "network",
                "runtimeConfig",
                "ui",
                "lifecycle",
                "lxc",
                "wslc",
                "isolationSession",
            ]);
            if version >= SchemaVersion::V1_1 {
                fields.push("windowsSandbox");
            }
            fields.extend(EXTENSIONS);
        }
        RequestKind::Exec => {
            fields.extend(["phase", "sandboxId", "process", "network", "runtimeConfig"]);
        }
        RequestKind::Phase => fields.extend(["phase", "sandboxId"]),
    }
    fields
}

/// How to move a field that an older schema had and this one dropped.
fn migration(field: &str) -> Option<&'static str> {
    Some(match field {
        "experimental" => {
            "schema 0.9 and later have no experimental section: `telemetry` and `wslc` moved \
             to the top level"
        }
        "appContainer" => "schema 1.0 dropped the alias; use \"processContainer\"",
        "macos_sandbox" => "schema 1.0 dropped the alias; use \"seatbelt\"",
        "test" => "the top-level test feature needs schema 1.1.0-alpha",
        "sandboxId" => "only start, exec, stop and deprovision requests name a sandbox",
        _ => return None,
    })
}

/// Legacy network fields and their directional replacement.
const LEGACY_NETWORK: &[(&str, &str)] = &[
    (
        "defaultPolicy",
        "use network.egress.default (\"allow\" or \"deny\")",
    ),
    (
        "enforcementMode",
        "rules are always enforced; drop it and use network.egress rules",
    ),
    (
        "allowedHosts",
        "use network.egress.allow rules ({\"to\": [{\"cidr\": ...}]})",
    ),
    (
        "blockedHosts",
        "use network.egress.deny rules ({\"to\": [{\"cidr\": ...}]})",
    ),
    (
        "allowLocalNetwork",
        "use network.egress rules for the local networks the sandbox may reach",
    ),
    (
        "proxy",
        "use runtimeConfig.networkProxy with network.egress.default \"deny\"",
    ),
];

/// Check `map` (a whole request) against what `version` defines.
pub fn check(map: &Map<String, Value>, version: SchemaVersion) -> Result<()> {
    for (section, platform) in FOREIGN_SECTIONS {
        if map.contains_key(*section) {
            return Err(PolicyError::new(
                ErrorCode::UnsupportedContainment,
                format!(
                    "{section}: this backend section needs {platform}; cordon runs Linux \
                     backends only (remove the section and choose a Linux containment)"
                ),
            ));
        }
    }
    if !version.is_contract() {
        return check_pre_contract(map, version);
    }
    let Some(kind) = RequestKind::of(map) else {
        return Ok(());
    };
    let fields = allowed(kind, version);
    let marker = version.marker();
    for key in map.keys() {
        if fields.contains(&key.as_str()) {
            continue;
        }
        let hint = migration(key).map(|h| format!("; {h}")).unwrap_or_default();
        return Err(PolicyError::malformed(format!(
            "{key}: unknown field in {} request at schema {marker}{hint} (expected one of {})",
            kind.name(),
            fields.join(", ")
        )));
    }
    if let Some(Value::Object(network)) = map.get("network") {
        for (field, hint) in LEGACY_NETWORK {
            if network.contains_key(*field) {
                return Err(PolicyError::malformed(format!(
                    "network.{field}: the legacy network shape was removed in schema 0.9 \
                     (config declares {marker}); {hint}"
                )));
            }
        }
    }
    if let Some(Value::Object(lxc)) = map.get("lxc") {
        for field in ["distribution", "release"] {
            if !lxc.contains_key(field) {
                return Err(PolicyError::malformed(format!(
                    "lxc.{field}: required (the lxc section needs both distribution and release)"
                )));
            }
        }
    }
    if kind == RequestKind::Provision && !map.contains_key("containment") {
        return Err(PolicyError::malformed(format!(
            "containment: required in a provision request at schema {marker} (e.g. \"process\")"
        )));
    }
    Ok(())
}

/// 0.6–0.8: refuse what only the contracts define.
fn check_pre_contract(map: &Map<String, Value>, version: SchemaVersion) -> Result<()> {
    for (field, since) in [("telemetry", "0.9.0-alpha"), ("test", "1.1.0-alpha")] {
        if map.contains_key(field) {
            return Err(PolicyError::malformed(format!(
                "{field}: a top-level {field} section needs schema {since} or later, config \
                 declares {version} (before 0.9 it lives in experimental.{field})"
            )));
        }
    }
    if let Some(Value::Object(process)) = map.get("process") {
        if process.contains_key("inheritDefaultEnv") {
            return Err(PolicyError::malformed(format!(
                "process.inheritDefaultEnv: needs schema 0.9.0-alpha or later, config declares \
                 {version}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_json(value: Value) -> Result<()> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        let version = SchemaVersion::parse(map["version"].as_str().unwrap()).unwrap();
        check(&map, version)
    }

    #[test]
    fn one_shot_fields_per_version() {
        let ok = json!({"version": "1.0.0", "process": {"commandLine": "true"},
            "telemetry": {"enabled": true}, "processContainer": {}, "seatbelt": {}});
        assert!(check_json(ok).is_ok());
        let alias = json!({"version": "1.0.0", "appContainer": {}});
        let msg = check_json(alias).unwrap_err().message;
        assert!(msg.contains("dropped the alias"), "{msg}");
        assert!(check_json(json!({"version": "0.9.0-alpha", "appContainer": {}})).is_ok());
        let test = json!({"version": "1.0.0", "test": {}});
        assert!(check_json(test)
            .unwrap_err()
            .message
            .contains("1.1.0-alpha"));
        assert!(check_json(json!({"version": "1.1.0-alpha", "test": {}})).is_ok());
        let exp = json!({"version": "0.9.0-alpha", "experimental": {}});
        assert!(check_json(exp)
            .unwrap_err()
            .message
            .contains("no experimental"));
    }

    #[test]
    fn legacy_network_is_refused_with_its_replacement() {
        let legacy = json!({"version": "1.0.0", "network": {"defaultPolicy": "block"}});
        let msg = check_json(legacy).unwrap_err().message;
        assert!(msg.starts_with("network.defaultPolicy:") && msg.contains("egress.default"));
        let proxy = json!({"version": "0.9.0-alpha", "network": {"proxy": {"localhost": 1}}});
        assert!(check_json(proxy)
            .unwrap_err()
            .message
            .contains("networkProxy"));
    }

    #[test]
    fn foreign_sections_are_unsupported_containment() {
        for section in ["wslc", "isolationSession", "windowsSandbox", "hyperlight"] {
            let err = check_json(json!({"version": "1.1.0-alpha", section: {}})).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedContainment, "{section}");
            let err = check_json(json!({"version": "0.8.0", section: {}})).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedContainment, "{section}");
        }
    }

    #[test]
    fn phase_requests_carry_only_their_fields() {
        let start = json!({"version": "1.0.0", "phase": "start", "sandboxId": "n:x"});
        assert!(check_json(start).is_ok());
        let extra = json!({"version": "1.0.0", "phase": "stop", "sandboxId": "n:x", "process": {}});
        assert!(check_json(extra)
            .unwrap_err()
            .message
            .starts_with("process:"));
        let exec = json!({"version": "1.0.0", "phase": "exec", "sandboxId": "n:x",
            "process": {"commandLine": "true", "inheritDefaultEnv": true}, "telemetry": {}});
        assert!(check_json(exec).is_ok());
        let provision = json!({"version": "1.0.0", "phase": "provision"});
        assert!(check_json(provision)
            .unwrap_err()
            .message
            .contains("containment"));
    }

    #[test]
    fn later_fields_are_refused_on_older_versions() {
        let inherit = json!({"version": "0.9.0-alpha", "process": {"inheritDefaultEnv": true}});
        assert!(check_json(inherit).is_ok());
        let inherit = json!({"version": "0.8.0", "process": {"inheritDefaultEnv": true}});
        assert!(check_json(inherit)
            .unwrap_err()
            .message
            .contains("0.9.0-alpha"));
        let telemetry = json!({"version": "0.8.0", "telemetry": {}});
        assert!(check_json(telemetry)
            .unwrap_err()
            .message
            .contains("experimental.telemetry"));
        let lxc = json!({"version": "1.0.0", "lxc": {"distribution": "debian"}});
        assert!(check_json(lxc)
            .unwrap_err()
            .message
            .starts_with("lxc.release"));
    }
}
