//! A grant in plain terms — paths, hosts, presets, caps — and the MXC 1.0
//! config document that says it. The one mapping for every front end that
//! builds configs from such terms: the CLI's `--allow-host` and the MCP
//! server's `sandbox_create` (the SDKs send configs or flags to the binary).

use serde_json::{json, Map, Value};

/// The contract version a grant's document declares.
pub const CONTRACT_VERSION: &str = "1.0.0";

/// What a sandbox is given; everything else is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Host paths readable.
    pub readonly: Vec<String>,
    /// Host paths readable and writable.
    pub readwrite: Vec<String>,
    /// Host paths hidden, even inside granted trees.
    pub denied: Vec<String>,
    /// Names, addresses or CIDRs the sandbox may connect to (every other
    /// destination denied); none: no network beyond its own loopback.
    pub allow_hosts: Vec<String>,
    /// Presets (toolchains, git identity), read-only.
    pub presets: Vec<String>,
    /// Memory cap, MiB.
    pub memory_mb: Option<u64>,
    /// Process cap.
    pub max_processes: Option<u64>,
}

/// The egress allow rule for one host, address or CIDR (MXC's directional
/// shape): an address or CIDR is a `cidr` peer, anything else a `host`.
pub fn egress_rule(host: &str) -> Value {
    let address = host.split('/').next().unwrap_or(host);
    if address.parse::<std::net::IpAddr>().is_ok() {
        json!({"to": [{"cidr": host}]})
    } else {
        json!({"to": [{"host": host}]})
    }
}

impl Grant {
    /// The MXC 1.0 config of this grant (no `process` section).
    pub fn document(&self) -> Value {
        let mut config = Map::new();
        config.insert("version".into(), json!(CONTRACT_VERSION));
        config.insert(
            "filesystem".into(),
            json!({
                "readonlyPaths": self.readonly,
                "readwritePaths": self.readwrite,
                "deniedPaths": self.denied,
            }),
        );
        if !self.allow_hosts.is_empty() {
            let rules: Vec<Value> = self.allow_hosts.iter().map(|h| egress_rule(h)).collect();
            config.insert(
                "network".into(),
                json!({"egress": {"default": "deny", "allow": rules}}),
            );
        }
        if !self.presets.is_empty() {
            config.insert("presets".into(), json!(self.presets));
        }
        let mut resources = Map::new();
        if let Some(m) = self.memory_mb {
            resources.insert("memoryMb".into(), json!(m));
        }
        if let Some(p) = self.max_processes {
            resources.insert("maxProcesses".into(), json!(p));
        }
        if !resources.is_empty() {
            config.insert("resources".into(), Value::Object(resources));
        }
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_cidr_peers_and_names_hosts() {
        assert_eq!(
            egress_rule("192.0.2.7"),
            json!({"to": [{"cidr": "192.0.2.7"}]})
        );
        assert_eq!(
            egress_rule("2001:db8::/32"),
            json!({"to": [{"cidr": "2001:db8::/32"}]})
        );
        assert_eq!(
            egress_rule("pkg.test"),
            json!({"to": [{"host": "pkg.test"}]})
        );
    }

    /// The document is a config cordon accepts, and says no more than the
    /// grant: nothing granted is no network, no presets, no caps.
    #[test]
    fn the_document_parses_and_grants_only_what_it_lists() {
        let empty = Grant::default().document();
        assert!(empty.get("network").is_none() && empty.get("resources").is_none());
        crate::config_from_value(empty).unwrap();
        let grant = Grant {
            readonly: vec!["/usr".into()],
            allow_hosts: vec!["pkg.test".into(), "10.0.0.0/8".into()],
            presets: vec!["git".into()],
            memory_mb: Some(256),
            ..Grant::default()
        };
        let doc = grant.document();
        assert_eq!(doc["network"]["egress"]["default"], "deny");
        assert_eq!(
            doc["network"]["egress"]["allow"][1]["to"][0]["cidr"],
            "10.0.0.0/8"
        );
        assert_eq!(doc["resources"], json!({"memoryMb": 256}));
        let config = crate::config_from_value(doc).unwrap();
        assert_eq!(config.presets.unwrap(), vec!["git".to_string()]);
    }
}
