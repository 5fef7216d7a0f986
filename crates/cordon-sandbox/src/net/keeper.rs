//! The network of a long-lived sandbox. A one-shot run's supervisor holds
//! the uplink or proxy for the run; a long-lived sandbox has no supervisor
//! once `cordon start` returns, so `start` forks a keeper: a process of its
//! own session that holds the sandbox's network until the sandbox's init
//! exits (it watches the init's pidfd), then ends, and the uplink with it.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use cordon_policy::plan::Plan;

use super::active::ActiveNetwork;
use super::decisions::DecisionLog;
use super::enter::Namespaces;

/// Fork the keeper (the caller must be single-threaded) and wait until the
/// network is up. `init` is the pidfd of the sandbox's init; proxy
/// decisions go to `log` for the sandbox's whole life.
pub fn spawn(
    plan: &Plan,
    ns: Namespaces,
    init: &OwnedFd,
    log: Option<DecisionLog>,
) -> Result<(), String> {
    if !crate::sys::single_threaded() {
        return Err("network keeper: cordon start must be single-threaded to fork it".into());
    }
    let (ready_r, ready_w) =
        crate::sys::pipe().map_err(|e| format!("network keeper: pipe: {e}"))?;
    // SAFETY: the process is single-threaded (checked above), so the child
    // may go on running ordinary code.
    match unsafe { libc::fork() } {
        -1 => Err(format!(
            "network keeper: fork: {}",
            std::io::Error::last_os_error()
        )),
        0 => {
            drop(ready_r);
            keep(plan, ns, init.as_raw_fd(), ready_w, log)
        }
        _ => {
            drop(ready_w);
            drop(ns);
            drop(log);
            let mut answer = String::new();
            let _ = std::io::Read::read_to_string(&mut std::fs::File::from(ready_r), &mut answer);
            match answer.strip_prefix("ready") {
                Some(_) => Ok(()),
                None if answer.is_empty() => Err("network keeper: died while starting".into()),
                None => Err(answer),
            }
        }
    }
}

fn keep(plan: &Plan, ns: Namespaces, init: RawFd, ready: OwnedFd, log: Option<DecisionLog>) -> ! {
    // Its own session, no terminal, and no descriptor of `cordon start`
    // (its lock, its caller's pipes) beyond what it needs.
    // SAFETY: setsid(2) has no memory effects.
    unsafe { libc::setsid() };
    let mut keep = vec![
        ns.user.as_raw_fd(),
        ns.net.as_raw_fd(),
        init,
        ready.as_raw_fd(),
    ];
    keep.extend(log.iter().flat_map(|l| l.descriptors()));
    crate::sys::detach_descriptors(&keep);
    let network = match ActiveNetwork::start(plan, ns, false, log.map(Arc::new)) {
        Ok(network) => network,
        Err(e) => {
            crate::sys::write_all(ready.as_raw_fd(), e.as_bytes());
            crate::sys::exit_now(1)
        }
    };
    crate::sys::write_all(ready.as_raw_fd(), b"ready");
    drop(ready);
    let mut poll = [libc::pollfd {
        fd: init,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: poll on a valid one-element array; a pidfd turns readable when
    // its process exits.
    while unsafe { libc::poll(poll.as_mut_ptr(), 1, -1) } < 0 {}
    network.finish(false);
    crate::sys::exit_now(0)
}
