//! `cordon probe`: the host report, for people (default) or programs (`--json`).

use cordon_policy::ceiling::InForce as InForceNotice;
use serde_json::json;

pub fn print(as_json: bool) -> i32 {
    let in_force = cordon_policy::ceiling::InForce::load();
    let (ceiling_doc, ceiling_line, code) = match &in_force {
        Ok(f) => match &f.ceiling {
            Some(c) => (
                json!({"path": c.source, "policy": c.document}),
                format!("{} {}", c.source.display(), c.document),
                0,
            ),
            None => (
                serde_json::Value::Null,
                format!("none ({} does not exist)", cordon_policy::ceiling::PATH),
                0,
            ),
        },
        Err(e) => (
            json!({"error": e.message}),
            format!("BROKEN: {e}"),
            cordon_sandbox::EXIT_CORDON_FAILED,
        ),
    };
    if let Ok(InForceNotice {
        notice: Some(n), ..
    }) = &in_force
    {
        eprintln!("cordon: {n}");
    }
    let allowed = in_force
        .as_ref()
        .ok()
        .and_then(|f| f.ceiling.as_ref())
        .and_then(|c| c.backends.clone());
    let report = cordon_sandbox::probe::probe(allowed.as_deref());
    if as_json {
        let backends: Vec<_> = report
            .backends
            .iter()
            .map(|b| {
                json!({"name": b.name, "available": b.available, "detail": b.detail, "version": b.version})
            })
            .collect();
        let doc = json!({
            "isSupported": report.backends.iter().any(|b| b.available),
            "process": report.process_intent,
            "platform": "linux",
            "kernel": report.kernel,
            "features": {
                "userNamespaces": {
                    "usable": report.user_namespaces.is_ok(),
                    "detail": report.user_namespaces.as_ref().err(),
                    "settings": cordon_sandbox::probe::userns_restrictions(),
                },
                "landlockAbi": report.landlock_abi,
                "seccomp": report.seccomp,
                "cgroupMode": report.cgroup_mode,
                "kvm": {"usable": report.kvm.is_ok(), "detail": report.kvm.as_ref().err()},
                "networkRules": {"usable": report.network_rules.is_ok(), "detail": report.network_rules.as_ref().err()},
                "rootOnlyFiles": report.root_only_files,
            },
            "backends": backends,
            // The operator's ceiling every run is held under (cordon extension).
            "ceiling": ceiling_doc,
            // The config versions this binary reads (`cordon schema --version V`).
            "schemaVersions": cordon_policy::SchemaVersion::ALL
                .iter()
                .map(|v| v.marker())
                .collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return code;
    }
    println!("kernel            {}", report.kernel);
    println!(
        "user namespaces   {}",
        match &report.user_namespaces {
            Ok(()) => "usable".to_string(),
            Err(e) => format!("unusable: {e}"),
        }
    );
    for setting in cordon_sandbox::probe::userns_restrictions() {
        println!("                  {setting}");
    }
    println!(
        "landlock          {}",
        report
            .landlock_abi
            .map_or("unavailable".into(), |v| format!("ABI {v}"))
    );
    println!(
        "seccomp           {}",
        if report.seccomp {
            "available"
        } else {
            "unavailable"
        }
    );
    println!("cgroup mode       {}", report.cgroup_mode);
    println!(
        "kvm               {}",
        match &report.kvm {
            Ok(()) => "usable".to_string(),
            Err(e) => format!("unusable: {e}"),
        }
    );
    println!(
        "network rules     {}",
        match &report.network_rules {
            Ok(()) => "usable (slirp4netns uplink, nf_tables)".to_string(),
            Err(e) => format!("unusable: {e}"),
        }
    );
    if let Some(how) = &report.root_only_files {
        println!("root-only files   {how}");
    }
    println!("ceiling           {ceiling_line}");
    println!();
    println!(
        "process intent -> {}",
        report
            .process_intent
            .unwrap_or("nothing: no process sandbox is available")
    );
    for b in &report.backends {
        println!(
            "{:<11} {:<13} {}{}",
            b.name,
            if b.available {
                "available"
            } else {
                "unavailable"
            },
            b.detail,
            b.version
                .as_ref()
                .map(|v| format!(" [{v}]"))
                .unwrap_or_default()
        );
    }
    code
}

/// The backends the operator's ceiling allows (`None`: any, or a ceiling
/// that cannot be read, which every run reports itself).
pub fn allowed_backends() -> Option<Vec<String>> {
    cordon_policy::ceiling::InForce::load()
        .ok()?
        .ceiling?
        .backends
}
