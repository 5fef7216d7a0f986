//! Black-box cases derived from MXC's Linux test scripts (`run_bwrap_*`,
//! `run_linux_process_default_test.sh`), run through MXC's own invocation
//! (`cordon --config FILE`) with containment `process`, `native` and absent.
//! Paths come from a fixture instead of /mnt; markers and verdicts are MXC's.

mod common;

use common::*;
use serde_json::{json, Value};

const CONTAINMENTS: &[Option<&str>] = &[None, Some("process"), Some("native")];

fn with_containment(mut cfg: Value, containment: Option<&str>) -> Value {
    if let Some(c) = containment {
        cfg["containment"] = json!(c);
    }
    cfg
}

#[test]
fn filesystem_read_write_and_denied() {
    for who in identities() {
        for c in CONTAINMENTS {
            let fx = Fixture::new(who);
            let ro = fx.dir("readonly");
            fx.file("readonly/test.txt", "test content\n");
            let rw = fx.dir("readwrite");
            let denied = fx.dir("denied");
            fx.file("denied/secret.txt", "should not see this\n");
            let cfg = json!({
                "version": "0.9.0-alpha",
                "containerId": "CLI-Filesystem-Test",
                "process": {"commandLine": format!("cat {ro}/test.txt && echo 'write test' > {rw}/output.txt && ls {denied} 2>&1 || echo 'denied path correctly masked'")},
                "filesystem": {"readonlyPaths": [ro], "readwritePaths": [rw], "deniedPaths": [denied]}
            });
            let run = run_config(who, &with_containment(cfg, *c));
            assert_eq!(run.code, 0, "{who:?} {c:?}\n{run}");
            assert!(run.stdout.contains("test content"), "{run}");
            assert!(run.stdout.contains("denied path correctly masked"), "{run}");
            assert!(!run.stdout.contains("should not see this"), "{run}");
            assert!(
                fx.path("readwrite/output.txt").exists(),
                "write to readwrite path did not land"
            );
        }
    }
}

#[test]
fn denied_masking_keeps_files_files_and_hides_dirs() {
    for who in identities() {
        for c in CONTAINMENTS {
            let fx = Fixture::new(who);
            let b = fx.dir("masktest");
            fx.file("masktest/visible.txt", "VISIBLE_SECRET\n");
            let file = fx.file("masktest/secret_file.txt", "FILE_SECRET\n");
            let dir = fx.dir("masktest/secret_dir");
            fx.file("masktest/secret_dir/inner.txt", "DIR_SECRET\n");
            let cfg = json!({
                "version": "0.8.0-alpha",
                "containerId": "CLI-Denied-Masking",
                "process": {"commandLine": format!(
                    "B={b}; if cat \"$B/visible.txt\" 2>/dev/null | grep -q VISIBLE_SECRET; then echo VISIBLE_OK; else echo VISIBLE_MISSING; fi; \
                     if cat \"$B/secret_file.txt\" 2>/dev/null | grep -q FILE_SECRET; then echo FILE_LEAK; else echo FILE_MASKED_OK; fi; \
                     if [ -d \"$B/secret_file.txt\" ]; then echo FILE_IS_DIR_BUG; else echo FILE_NOT_DIR_OK; fi; \
                     if ls \"$B/secret_dir\" 2>/dev/null | grep -q .; then echo DIR_LEAK; else echo DIR_MASKED_OK; fi")},
                "filesystem": {"readwritePaths": [b], "deniedPaths": [file, dir]}
            });
            let run = run_config(who, &with_containment(cfg, *c));
            run.expect(&[
                "VISIBLE_OK",
                "FILE_MASKED_OK",
                "FILE_NOT_DIR_OK",
                "DIR_MASKED_OK",
            ]);
            for bad in [
                "VISIBLE_MISSING",
                "FILE_LEAK",
                "FILE_IS_DIR_BUG",
                "DIR_LEAK",
            ] {
                assert!(!run.has(bad), "{bad}\n{run}");
            }
        }
    }
}

#[test]
fn most_specific_denied_parent_and_rw_parent() {
    for who in identities() {
        let fx = Fixture::new(who);
        let data = fx.dir("msptest/data");
        let child = fx.dir("msptest/data/secret_child");
        fx.file("msptest/data/secret_child/keep.txt", "CHILD_KEPT\n");
        fx.file("msptest/data/sibling.txt", "PARENT_SECRET\n");
        let cfg = json!({
            "version": "0.8.0-alpha",
            "process": {"commandLine": format!(
                "if grep -q CHILD_KEPT {child}/keep.txt 2>/dev/null; then echo CHILD_OK; else echo CHILD_MISSING; fi; \
                 if echo w > {child}/w.txt 2>/dev/null; then echo CHILD_WRITE_OK; else echo CHILD_WRITE_FAIL; fi; \
                 if cat {data}/sibling.txt 2>/dev/null | grep -q PARENT_SECRET; then echo PARENT_LEAK; else echo PARENT_MASKED_OK; fi")},
            "filesystem": {"deniedPaths": [data], "readwritePaths": [child]}
        });
        let run = run_config(who, &cfg);
        run.expect(&["CHILD_OK", "CHILD_WRITE_OK", "PARENT_MASKED_OK"]);

        let proj = fx.dir("msptest2/proj");
        let secrets = fx.dir("msptest2/proj/secrets");
        fx.file("msptest2/proj/notes.txt", "PROJ_NOTES\n");
        fx.file("msptest2/proj/secrets/key.txt", "DEEP_SECRET\n");
        let cfg = json!({
            "version": "0.8.0-alpha",
            "process": {"commandLine": format!(
                "if grep -q PROJ_NOTES {proj}/notes.txt; then echo PARENT_OK; else echo PARENT_MISSING; fi; \
                 if echo w > {proj}/w.txt 2>/dev/null; then echo PARENT_WRITE_OK; else echo PARENT_WRITE_FAIL; fi; \
                 if cat {secrets}/key.txt 2>/dev/null | grep -q DEEP_SECRET; then echo DEEP_LEAK; else echo DEEP_MASKED_OK; fi")},
            "filesystem": {"readwritePaths": [proj], "deniedPaths": [secrets]}
        });
        let run = run_config(who, &cfg);
        run.expect(&["PARENT_OK", "PARENT_WRITE_OK", "DEEP_MASKED_OK"]);
    }
}

#[test]
fn network_block_is_prompt_and_total() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for who in identities() {
        for target in ["127.0.0.1", "192.0.2.1"] {
            let cfg = json!({
                "version": "0.9.0-alpha",
                "containerId": "CLI-Network-Block",
                "process": {"commandLine": format!(
                    "bash -c 'set -u; command -v timeout >/dev/null || exit 1; echo SANDBOX_NETNS=$(readlink /proc/self/ns/net); timeout 5 bash -c \"exec 3<>/dev/tcp/{target}/{port}\" >/dev/null 2>&1; result=$?; if [ \"$result\" = 0 ]; then echo NETWORK_LEAKED; exit 1; fi; if [ \"$result\" -ge 124 ]; then echo PROBE_FAILED; exit 1; fi; echo NETWORK_BLOCKED_OK'")},
                "network": {"egress": {"default": "deny"}}
            });
            let run = run_config(who, &cfg);
            assert_eq!(run.code, 0, "{target}\n{run}");
            run.expect(&["NETWORK_BLOCKED_OK"]);
        }
    }
}

#[test]
fn legacy_localnet_shares_the_host_namespace_and_08_gets_a_private_stack() {
    let host = std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for who in identities() {
        let cfg = json!({
            "version": "0.7.0-alpha",
            "process": {"commandLine": "echo SANDBOX_NETNS=$(readlink /proc/self/ns/net); echo LEGACY_LOCALNET_OK"},
            "network": {"defaultPolicy": "allow", "allowLocalNetwork": false}
        });
        let run = run_config(who, &cfg);
        assert_eq!(run.code, 0, "{run}");
        run.expect(&["LEGACY_LOCALNET_OK", &format!("SANDBOX_NETNS={host}")]);
        // On 0.8 "allow" without allowLocalNetwork is the private NAT'd
        // stack (SPEC §2.2): its own namespace, not the host's.
        let cfg = json!({
            "version": "0.8.0-alpha",
            "process": {"commandLine": "echo SANDBOX_NETNS=$(readlink /proc/self/ns/net); echo PRIVATE_STACK_OK"},
            "network": {"defaultPolicy": "allow", "allowLocalNetwork": false}
        });
        let run = run_config(who, &cfg);
        assert_eq!(run.code, 0, "{run}");
        run.expect(&["PRIVATE_STACK_OK"]);
        assert!(!run.has(&format!("SANDBOX_NETNS={host}")), "{run}");
        // allowLocalNetwork under "block" cannot be honoured: refused.
        let cfg = json!({
            "version": "0.8.0-alpha",
            "process": {"commandLine": "echo LOCALNET_SHOULD_NOT_RUN"},
            "network": {"defaultPolicy": "block", "allowLocalNetwork": true}
        });
        let run = run_config(who, &cfg);
        assert_eq!(run.code, 125, "{run}");
        assert!(!run.stdout.contains("LOCALNET_SHOULD_NOT_RUN"), "{run}");
    }
}

#[test]
fn default_and_abstract_process_containment() {
    for who in identities() {
        for c in CONTAINMENTS {
            let cfg = json!({"version": "0.6.0-alpha", "process": {"commandLine": "echo PROCESS_DEFAULT_OK"}});
            let run = run_config(who, &with_containment(cfg, *c));
            assert_eq!(run.code, 0, "{run}");
            run.expect(&["PROCESS_DEFAULT_OK"]);
        }
    }
}
