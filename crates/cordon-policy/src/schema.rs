//! The JSON Schema of the config, for editors: the superset of every
//! version (`schema/cordon-config.schema.json`), or one version's, cut from
//! it by the same rules the parser applies (`contract`, `validate`).

use serde_json::{json, Map, Value};

use crate::version::SchemaVersion;

/// Every supported version at once.
const SUPERSET: &str = include_str!("../../../schema/cordon-config.schema.json");

/// Fields of the legacy network shape (0.6–0.8).
const LEGACY_NETWORK: &[&str] = &[
    "defaultPolicy",
    "enforcementMode",
    "allowedHosts",
    "blockedHosts",
    "allowLocalNetwork",
    "proxy",
];

/// The schema of `version`, or of every version when `None`.
pub fn document(version: Option<SchemaVersion>) -> Value {
    let mut doc: Value = serde_json::from_str(SUPERSET).expect("the bundled schema is JSON");
    let Some(version) = version else {
        return doc;
    };
    let marker = version.marker();
    doc["title"] = json!(format!("cordon configuration, schema {marker}"));
    doc["$id"] = json!(format!(
        "https://cordon.invalid/schema/cordon-config-{marker}.schema.json"
    ));
    let Some(props) = doc["properties"].as_object_mut() else {
        return doc;
    };
    // Sections that are refused at every version stay out of a version's schema.
    for section in ["wslc", "isolationSession", "windowsSandbox", "hyperlight"] {
        props.remove(section);
    }
    if version.is_contract() {
        props.insert(
            "version".into(),
            match version {
                SchemaVersion::V0_9 => {
                    json!({"type": "string", "pattern": "^0\\.9\\.[0-9]+(-[0-9A-Za-z.-]+)?$",
                    "description": "0.9.x; MXC registers exactly \"0.9.0-alpha\"."})
                }
                _ => json!({"const": marker}),
            },
        );
        props.remove("experimental");
        if let Some(net) = props
            .get_mut("network")
            .and_then(|n| n["properties"].as_object_mut())
        {
            for field in LEGACY_NETWORK {
                net.remove(*field);
            }
        }
        if version >= SchemaVersion::V1_0 {
            props.remove("appContainer");
            props.remove("macos_sandbox");
        }
        if version < SchemaVersion::V1_1 {
            props.remove("test");
        }
    } else {
        let minor = version.minor;
        props.insert(
            "version".into(),
            json!({"type": ["string", "null"],
                "pattern": format!("^0\\.{minor}\\.[0-9]+([-+][0-9A-Za-z.+-]+)?$"),
                "description": "Full semver; a pre-release or build label is ignored. Absent: 0.8."}),
        );
        props.remove("telemetry");
        props.remove("test");
        if version < SchemaVersion::V0_8 {
            props.remove("runtimeConfig");
            if let Some(net) = props
                .get_mut("network")
                .and_then(|n| n["properties"].as_object_mut())
            {
                net.remove("egress");
                net.remove("ingress");
            }
        }
    }
    if !version.is_contract() {
        if let Some(process) = props
            .get_mut("process")
            .and_then(|p| p["properties"].as_object_mut())
        {
            process.remove("inheritDefaultEnv");
        }
    }
    if version.is_contract() {
        doc["required"] = json!(["version"]);
    }
    doc
}

/// The top-level field names of a schema document.
pub fn fields(doc: &Value) -> Vec<String> {
    doc["properties"]
        .as_object()
        .map(Map::keys)
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::config_from_value;

    /// Each version's schema names exactly the top-level fields the parser
    /// accepts at that version (a one-shot request; `phase` and `sandboxId`
    /// belong to the state-aware kinds).
    #[test]
    fn each_version_schema_matches_the_parser() {
        for version in SchemaVersion::ALL {
            let doc = document(Some(*version));
            let marker = version.marker();
            for field in fields(&doc) {
                if ["version", "phase", "sandboxId"].contains(&field.as_str()) {
                    continue;
                }
                let cfg = json!({"version": marker, field.as_str(): null});
                let result = config_from_value(cfg);
                assert!(
                    result.is_ok(),
                    "{marker}: schema lists {field} but the parser refuses it: {:?}",
                    result.err()
                );
            }
            let superset = document(None);
            for field in fields(&superset) {
                if fields(&doc).contains(&field) {
                    continue;
                }
                let cfg = json!({"version": marker, field.as_str(): {}});
                let refused = config_from_value(cfg)
                    .and_then(|c| crate::validate::network(&c, *version))
                    .is_err();
                assert!(
                    refused,
                    "{marker}: the parser accepts {field} but the schema lacks it"
                );
            }
        }
    }
}
