//! From bytes to a typed [`Config`], with errors that name the JSON path.

use serde_json::Value;

use crate::config::Config;
use crate::contract;
use crate::error::{PolicyError, Result};
use crate::version::SchemaVersion;

/// Fields that the runtime sets and a caller must not.
const RUNTIME_ONLY_FIELDS: &[&str] = &["correlationVector"];

/// Parse a configuration document. Errors name the JSON path and, for unknown
/// fields, list the valid names.
pub fn parse_config(bytes: &[u8]) -> Result<Config> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| PolicyError::malformed(format!("config is not valid JSON: {e}")))?;
    config_from_value(value)
}

/// Same as [`parse_config`], from an already decoded JSON value.
pub fn config_from_value(value: Value) -> Result<Config> {
    let Value::Object(map) = &value else {
        return Err(PolicyError::malformed(format!(
            "config must be a JSON object, found {}",
            json_kind(&value)
        )));
    };
    for field in RUNTIME_ONLY_FIELDS {
        if map.contains_key(*field) {
            return Err(PolicyError::malformed(format!(
                "{field}: set by the runtime, not by the caller; remove it from the config"
            )));
        }
    }
    // The version first: it decides which fields the rest may carry.
    let version = match map.get("version") {
        Some(Value::String(raw)) => SchemaVersion::parse(raw)?,
        _ => SchemaVersion::CURRENT,
    };
    contract::check(map, version)?;
    let mut config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = plain_words(&e.into_inner().to_string());
        if path == "." {
            PolicyError::malformed(format!("config: {inner}"))
        } else {
            PolicyError::malformed(format!("{path}: {inner}"))
        }
    })?;
    // Before MXC's contracts (0.9), `process.env` always added to the
    // default environment; from 0.9 on it replaces it unless
    // `inheritDefaultEnv` says otherwise.
    if !version.is_contract() {
        if let Some(process) = &mut config.process {
            process.inherit_default_env = Some(true);
        }
    }
    Ok(config)
}

/// serde's type names in the words of a JSON document: "expected u32"
/// becomes "expected a whole number from 0 to 4294967295", "a sequence" "a
/// list", "map" and "struct Process" "an object".
fn plain_words(message: &str) -> String {
    const WORDS: &[(&str, &str)] = &[
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u64", "expected a whole number of 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list (a JSON array)"),
        ("expected a map", "expected an object"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: an object"),
        (
            "invalid type: floating point",
            "invalid type: a fractional number",
        ),
        ("invalid type: integer", "invalid type: a number"),
        ("invalid type: string", "invalid type: a string"),
        ("invalid value: integer", "invalid value:"),
        ("unknown variant", "unknown value"),
    ];
    let mut out = message.to_string();
    for (from, to) in WORDS {
        out = out.replace(from, to);
    }
    // "expected struct Process" and the like.
    if let Some(at) = out.find("expected struct ") {
        out.replace_range(at.., "expected an object");
    }
    out
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        parse_config(json.as_bytes()).unwrap_err().message
    }

    #[test]
    fn unknown_field_names_path_and_valid_names() {
        let msg = err(r#"{"network":{"egress":{"defualt":"deny"}}}"#);
        assert!(msg.starts_with("network.egress.defualt:"), "{msg}");
        assert!(
            msg.contains("defualt") && msg.contains("`default`"),
            "{msg}"
        );
        let top = err(r#"{"proces":{}}"#);
        assert!(top.contains("proces") && top.contains("`process`"), "{top}");
    }

    #[test]
    fn non_objects_and_bad_json_are_refused() {
        assert!(err("[]").contains("must be a JSON object"));
        assert!(err("42").contains("must be a JSON object"));
        assert!(err("{").contains("not valid JSON"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let msg = err(r#"{"process":{"timeout":-1}}"#);
        assert!(msg.starts_with("process.timeout:"), "{msg}");
        let msg = err(r#"{"process":{"env":"A=1"}}"#);
        assert!(msg.starts_with("process.env:"), "{msg}");
        let msg = err(r#"{"filesystem":{"readonlyPaths":[1]}}"#);
        assert!(msg.starts_with("filesystem.readonlyPaths[0]:"), "{msg}");
    }

    #[test]
    fn schema_and_comment_are_ignored_and_nulls_accepted() {
        let cfg = parse_config(
            br#"{"$schema":"x","_comment":["any"],"network":null,"process":{"commandLine":"true","cwd":null}}"#,
        )
        .unwrap();
        assert!(cfg.network.is_none());
    }

    #[test]
    fn type_errors_are_in_plain_words() {
        let msg = err(r#"{"process":{"timeout":"x"}}"#);
        assert_eq!(
            msg,
            "process.timeout: invalid type: a string \"x\", expected a whole number from 0 to \
             4294967295"
        );
        let msg = err(r#"{"process":"x"}"#);
        assert!(msg.ends_with("expected an object"), "{msg}");
        let msg = err(r#"{"network":{"egress":{"allow":{}}}}"#);
        assert!(msg.contains("an object, expected a list"), "{msg}");
        for jargon in ["u32", "u64", "sequence", "struct", "map,"] {
            for config in [
                r#"{"process":{"timeout":-1}}"#,
                r#"{"resources":{"memoryMb":1.5}}"#,
                r#"{"process":{"env":"A=B"}}"#,
            ] {
                let msg = err(config);
                assert!(!msg.contains(jargon), "{jargon} in {msg}");
            }
        }
    }

    #[test]
    fn correlation_vector_is_refused() {
        assert!(err(r#"{"correlationVector":"abc"}"#).contains("correlationVector"));
    }
}
