//! A quick soak: 90 runs mixing success, failure, timeout, SIGTERM and SIGKILL
//! of the runner, with and without a network uplink, on both backends, then
//! nothing may be left (no slirp4netns either). The full 1000-run
//! version is `bench/soak.py BINARY 1000`.

mod common;

use common::*;

#[test]
fn mixed_runs_leave_nothing_behind() {
    // Per user running the suite: another user's copy in sticky /tmp cannot
    // be replaced.
    let script = format!("/tmp/it-soak-cordon-{}.py", current_uid());
    let staging = format!("{script}.{}", std::process::id());
    std::fs::write(&staging, include_str!("../../../bench/soak.py")).unwrap();
    std::fs::rename(&staging, &script).unwrap();
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let bin = match who.user {
            User::Caller => cordon_bin(),
            User::Unprivileged => shared_bin(),
        };
        let out = as_user(who, "/usr/bin/python3")
            .args([script.as_str(), bin, "90"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{who:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("clean:"), "{text}");
    }
}
