//! Helpers of the network suites: network namespaces made with `ip`, probe
//! servers inside them, and the probe client's verdicts.

use std::process::Command;

use super::{identities, Identity, Run};

/// Run a root shell script (`sh -e`); panics with its stderr on failure.
pub fn sh(script: &str) {
    let out = Command::new("sh").args(["-ec", script]).output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `python3 ARGS` in network namespace `ns`, returning once it printed
/// "ready". PDEATHSIG follows the thread that spawned the server, so a
/// thread that lives as long as this process spawns it: the server dies
/// with the test process, however that ends.
pub fn serve_in(ns: &str, args: Vec<String>) {
    let ns = ns.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut server = Command::new("ip");
        server
            .args(["netns", "exec", &ns, "python3"])
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let hook = || {
            // SAFETY: prctl(2) with integer arguments, in the child before exec.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            Ok(())
        };
        // SAFETY: `hook` makes one raw system call, as pre_exec requires.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut server, hook) };
        let mut server = server.spawn().unwrap();
        let mut ready = [0u8; 5];
        std::io::Read::read_exact(server.stdout.as_mut().unwrap(), &mut ready).unwrap();
        tx.send(ready).unwrap();
        // Lives (and waits) as long as the test process.
        let _ = server.wait();
    });
    assert_eq!(&rx.recv().unwrap(), b"ready");
}

/// Identities with a backend that runs the network models beyond loopback.
pub fn net_identities() -> Vec<Identity> {
    identities()
        .into_iter()
        .filter(|i| matches!(i.backend, Some("native" | "bubblewrap")))
        .collect()
}

/// Assert each label's verdict from `tests/support/net_client.py`:
/// "label=ok" or "label=blocked".
pub fn verdicts(run: &Run, expected: &[(&str, bool)]) {
    for (label, ok) in expected {
        let want = format!("{label}={}", if *ok { "ok" } else { "blocked" });
        assert!(
            run.stdout.lines().any(|l| l.starts_with(&want)),
            "expected {want}\n{run}"
        );
    }
}

/// The `*_proxy=` lines of an `env` listing, split into the proxy variables
/// and `NO_PROXY`/`no_proxy`; asserts that the latter (both cases) name
/// exactly the sandbox's own loopback.
pub fn proxy_lines(run: &Run) -> Vec<&str> {
    let (no_proxy, proxies): (Vec<&str>, Vec<&str>) = run
        .stdout
        .lines()
        .filter(|l| l.to_lowercase().contains("_proxy="))
        .partition(|l| l.to_lowercase().starts_with("no_proxy="));
    assert_eq!(no_proxy.len(), 2, "{run}");
    assert!(
        no_proxy
            .iter()
            .all(|l| l.ends_with("=localhost,127.0.0.1,::1")),
        "{run}"
    );
    proxies
}
