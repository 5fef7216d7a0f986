//! Checks that need no filesystem: versions, backend sections, strings, network
//! shapes, UI. Produces the parts of the plan that do not depend on the host.
//!
//! `backend` (version, containment), `fields` (strings, paths, environment,
//! UI, resources), `network` (the network section).

mod backend;
mod fields;
mod network;

pub use backend::{containment, schema_version};
pub use fields::{check_path, check_text, environment, resources, ui};
pub use network::{check_proxy_url, network, published};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, Result};
    use crate::netrules::{Peers, Verdict};
    use crate::parse::parse_config;
    use crate::plan::{Containment, NetworkPlan};

    fn net(json: &str) -> Result<NetworkPlan> {
        let cfg = parse_config(json.as_bytes()).unwrap();
        let v = schema_version(&cfg).unwrap();
        network(&cfg, v).map(|(p, _)| p)
    }

    #[test]
    fn no_network_section_is_isolated() {
        assert_eq!(net("{}").unwrap(), NetworkPlan::Isolated);
        assert_eq!(
            net(r#"{"network":{"egress":{"default":"deny"}}}"#).unwrap(),
            NetworkPlan::Isolated
        );
        assert_eq!(
            net(r#"{"network":{"defaultPolicy":"block"}}"#).unwrap(),
            NetworkPlan::Isolated
        );
    }

    #[test]
    fn legacy_allow_shares_host_only_where_spec_says() {
        let v07 = r#"{"version":"0.7.0","network":{"defaultPolicy":"allow"}}"#;
        assert!(matches!(net(v07).unwrap(), NetworkPlan::HostShared { .. }));
        let v08 =
            r#"{"version":"0.8.0","network":{"defaultPolicy":"allow","allowLocalNetwork":true}}"#;
        assert!(matches!(net(v08).unwrap(), NetworkPlan::HostShared { .. }));
        let nat = r#"{"version":"0.8.0","network":{"defaultPolicy":"allow"}}"#;
        let NetworkPlan::Filtered(rules) = net(nat).unwrap() else {
            panic!("a private NAT'd stack expected")
        };
        assert_eq!((rules.default, rules.rules.len()), (Verdict::Allow, 0));
    }

    #[test]
    fn legacy_lists_become_packet_rules_or_proxy_rules() {
        let cidrs = r#"{"network":{"defaultPolicy":"block","allowedHosts":["10.0.0.0/8"],"blockedHosts":["10.1.2.3"]}}"#;
        let NetworkPlan::Filtered(rules) = net(cidrs).unwrap() else {
            panic!("packet rules expected")
        };
        assert_eq!(rules.default, Verdict::Deny);
        assert_eq!(rules.rules[1].name, "network.blockedHosts[0]");
        assert_eq!(rules.rules[1].verdict, Verdict::Deny);
        let names =
            r#"{"network":{"defaultPolicy":"block","allowedHosts":["*.pypi.org","10.0.0.0/8"]}}"#;
        let NetworkPlan::FilteringProxy(rules) = net(names).unwrap() else {
            panic!("the filtering proxy expected")
        };
        assert!(matches!(&rules.rules[0].peers, Peers::Hosts(h) if h[0].as_str() == "*.pypi.org"));
    }

    #[test]
    fn directional_rules_map_to_models() {
        let nat = r#"{"network":{"egress":{"default":"allow"}}}"#;
        assert!(matches!(net(nat).unwrap(), NetworkPlan::Filtered(_)));
        let mixed = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8"},{"host":"a.test"}],"ports":[{"protocol":"tcp","port":443}]}]}}}"#;
        let NetworkPlan::FilteringProxy(rules) = net(mixed).unwrap() else {
            panic!("the filtering proxy expected")
        };
        assert_eq!(rules.rules.len(), 2);
        assert!(rules
            .rules
            .iter()
            .all(|r| r.name == "network.egress.allow[0]"));
        let udp_host = r#"{"network":{"egress":{"allow":[{"to":[{"host":"a.test"}],"ports":[{"protocol":"udp","port":53}]}]}}}"#;
        assert!(net(udp_host).unwrap_err().message.contains("TCP only"));
        let loopback = r#"{"network":{"ingress":{"hostLoopback":"allow"}}}"#;
        assert!(net(loopback).unwrap_err().message.contains("hostLoopback"));
    }

    #[test]
    fn shapes_cannot_mix_and_directional_needs_08() {
        let mixed = r#"{"network":{"defaultPolicy":"block","egress":{"default":"deny"}}}"#;
        assert!(net(mixed).unwrap_err().message.contains("mixes"));
        let old = r#"{"version":"0.7.0","network":{"egress":{"default":"deny"}}}"#;
        assert!(net(old).unwrap_err().message.contains("0.8 or later"));
    }

    #[test]
    fn rules_are_validated_before_being_refused() {
        let bad_cidr = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/33"}]}]}}}"#;
        let msg = net(bad_cidr).unwrap_err().message;
        assert!(msg.contains("network.egress.allow[0].to[0].cidr"), "{msg}");
        let bad_port = r#"{"network":{"egress":{"allow":[{"ports":[{"port":70000}]}]}}}"#;
        assert!(net(bad_port).unwrap_err().message.contains("ports[0].port"));
        let range = r#"{"network":{"egress":{"allow":[{"ports":[{"port":90,"endPort":80}]}]}}}"#;
        assert!(net(range).unwrap_err().message.contains("below port"));
        let except = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8","except":["11.0.0.0/8"]}]}]}}}"#;
        assert!(net(except).unwrap_err().message.contains("not inside"));
        let ok = r#"{"network":{"egress":{"allow":[{"to":[{"cidr":"10.0.0.0/8"}],"ports":[{"protocol":"tcp","port":443}]}]}}}"#;
        assert!(matches!(net(ok).unwrap(), NetworkPlan::Filtered(_)));
    }

    #[test]
    fn proxy_urls_are_strict_and_secrets_not_echoed() {
        let creds = r#"{"network":{"proxy":{"url":"http://user:hunter2@127.0.0.1:8080"}}}"#;
        let msg = net(creds).unwrap_err().message;
        assert!(
            msg.contains("credentials") && !msg.contains("hunter2"),
            "{msg}"
        );
        let no_port = r#"{"network":{"proxy":{"url":"http://127.0.0.1"}}}"#;
        assert!(net(no_port).unwrap_err().message.contains("explicit port"));
        let ftp = r#"{"network":{"proxy":{"url":"ftp://127.0.0.1:21"}}}"#;
        assert!(net(ftp).unwrap_err().message.contains("scheme"));
        let empty = r#"{"network":{"proxy":{}}}"#;
        assert!(net(empty).unwrap_err().message.contains("empty"));
        let remote = r#"{"runtimeConfig":{"networkProxy":"http://10.1.2.3:3128"}}"#;
        assert!(net(remote).unwrap_err().message.contains("loopback"));
    }

    #[test]
    fn firewall_mode_enforces_the_lists_with_cordon_rules() {
        for version in ["0.6.0", "0.8.0"] {
            let block = format!(
                r#"{{"version":"{version}","network":{{"defaultPolicy":"block","enforcementMode":"firewall"}}}}"#
            );
            assert_eq!(net(&block).unwrap(), NetworkPlan::Isolated);
            let lists = format!(
                r#"{{"version":"{version}","network":{{"defaultPolicy":"block","enforcementMode":"both","allowedHosts":["10.1.0.0/16"]}}}}"#
            );
            let NetworkPlan::Filtered(rules) = net(&lists).unwrap() else {
                panic!("packet rules expected")
            };
            assert_eq!((rules.default, rules.rules.len()), (Verdict::Deny, 1));
        }
    }

    #[test]
    fn a_caller_proxy_excludes_block_and_firewall() {
        let block =
            r#"{"version":"0.7.0","network":{"defaultPolicy":"block","proxy":{"localhost":8080}}}"#;
        assert!(net(block).unwrap_err().message.contains("defaultPolicy"));
        let firewall = r#"{"version":"0.7.0","network":{"enforcementMode":"firewall","proxy":{"localhost":8080}}}"#;
        assert!(net(firewall)
            .unwrap_err()
            .message
            .contains("enforcementMode"));
        let allow =
            r#"{"version":"0.7.0","network":{"defaultPolicy":"allow","proxy":{"localhost":8080}}}"#;
        assert!(matches!(
            net(allow).unwrap(),
            NetworkPlan::HostShared { .. }
        ));
    }

    fn containment_of(json: &str) -> Result<Containment> {
        let cfg = parse_config(json.as_bytes()).unwrap();
        containment(&cfg, schema_version(&cfg).unwrap())
    }

    #[test]
    fn foreign_backends_are_unsupported_containment() {
        for name in [
            "processcontainer",
            "windows_sandbox",
            "wslc",
            "seatbelt",
            "hyperlight",
        ] {
            let err = containment_of(&format!(r#"{{"containment":"{name}"}}"#)).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedContainment, "{name}");
            assert!(err.message.contains("Linux backends only"), "{err}");
        }
    }

    #[test]
    fn only_the_selected_backend_section_is_allowed() {
        let err =
            containment_of(r#"{"containment":"native","lxc":{"distribution":"a","release":"1"}}"#)
                .unwrap_err();
        assert!(err
            .message
            .contains("multiple containment backends configured"));
        let err = containment_of(r#"{"processContainer":{},"appContainer":{}}"#).unwrap_err();
        assert!(err.message.contains("same section"));
        let err = containment_of(r#"{"experimental":{"seatbelt":{}}}"#).unwrap_err();
        assert!(err.message.contains("moved to the top level"));
        let err = containment_of(r#"{"experimental":{"wslc":{}}}"#).unwrap_err();
        assert!(err.message.contains("multiple containment backends"));
        assert!(containment_of(r#"{"experimental":{"telemetry":{}}}"#).is_ok());
        let err =
            containment_of(r#"{"containment":"lxc","lxc":{"distribution":"debian"}}"#).unwrap_err();
        assert!(err.message.contains("lxc.release"));
    }

    #[test]
    fn ui_beyond_none_is_refused() {
        for ui in [
            r#"{"ui":{"disable":false}}"#,
            r#"{"ui":{"clipboard":"read"}}"#,
            r#"{"ui":{"injection":true}}"#,
        ] {
            let cfg = parse_config(ui.as_bytes()).unwrap();
            assert!(super::ui(&cfg).is_err(), "{ui}");
        }
        let cfg = parse_config(br#"{"ui":{"disable":true,"clipboard":"none"}}"#).unwrap();
        assert!(super::ui(&cfg).is_ok());
    }

    #[test]
    fn env_entries_are_checked() {
        let (env, warnings) = environment(&["NOEQUALS".into(), "=x".into(), "A=1".into()]).unwrap();
        assert_eq!(env, vec![("A".into(), "1".into())]);
        assert!(warnings[0].contains("process.env[0]"), "{warnings:?}");
        assert!(warnings[1].contains("process.env[1]"), "{warnings:?}");
        assert!(environment(&["A=\0".into()]).is_err());
        let (env, _) = environment(&["A=1".into(), "B=x=y".into(), "A=2".into()]).unwrap();
        assert_eq!(
            env,
            vec![("B".into(), "x=y".into()), ("A".into(), "2".into())]
        );
    }
}
