//! Model 1's way out: `slirp4netns` (Debian package of that name) gives the
//! sandbox's network namespace a tap interface whose traffic it carries
//! through ordinary sockets of the caller on the host. It works
//! unprivileged, forwards nothing inwards, and with `--disable-host-loopback`
//! its gateway address is not a way to the host's loopback.
//!
//! Why slirp4netns and not pasta (issue #20, `docs/performance.md`, "The
//! uplink"): Debian 12's pasta costs 28.6 MiB of memory per sandbox (its
//! static tables), slirp4netns 0.5 MiB; it needs no template of a host
//! interface (it reaches what the host's routing reaches, with or without
//! a default route, IPv6 on the loopback device included).
//!
//! The sandbox's side, chosen not to shadow any network worth reaching:
//! IPv4 `169.254.77.100/24` (link-local) with the gateway `169.254.77.2`;
//! IPv6 `fd00::100/128` with the default route via slirp's link-local
//! router address `fe80::2`. slirp4netns 1.2 fixes its IPv6 network at
//! `fd00::/64`; a /128 instead of its /64 (and no router advertisements,
//! see [`Namespaces::static_ipv6_only`]) keeps the rest of `fd00::/64`
//! routed through slirp like any other destination. slirp's DNS forwarder
//! is off (`--disable-dns`): the sandbox resolves through the host's
//! `/etc/resolv.conf`, under its rules, as any other traffic. How slirp4netns
//! itself is confined: `uplink_jail`.

use std::io::Read;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use super::enter::{Ipv6Setup, Namespaces};
use super::uplink_jail::{self, Jail};

/// The sandbox's interface, created by slirp4netns in its namespace.
pub const TAP: &str = "tap0";
/// slirp's virtual IPv4 network (the sandbox is .100, the gateway .2).
const CIDR_V4: &str = "169.254.77.0/24";
/// The sandbox's IPv6 side: `fd00::100/128` in slirp's fixed `fd00::/64`,
/// the default route via slirp's router on the link (`fe80::2`: its host
/// part ::2 in the link-local prefix).
pub const IPV6: Ipv6Setup = Ipv6Setup {
    interface: c"tap0",
    address: Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100).octets(),
    gateway: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2).octets(),
};
/// Largest MTU slirp4netns takes below its 65521 limit: fewer, larger
/// packets through the user-mode stack.
const MTU: &str = "65520";

/// A running slirp4netns, killed when dropped (and with cordon: PDEATHSIG).
pub struct Uplink {
    child: Child,
    /// Read end of its readiness pipe until it has reported ready.
    ready: Option<OwnedFd>,
}

const SLIRP4NETNS: &str = "slirp4netns";

impl Uplink {
    /// Start slirp4netns on the sandbox's namespaces; [`Uplink::wait_ready`]
    /// waits until it serves the interface. The namespace must not accept
    /// router advertisements ([`Namespaces::static_ipv6_only`] first).
    pub fn spawn(ns: &Namespaces) -> Result<Uplink, String> {
        let (ready_r, ready_w) =
            crate::sys::pipe().map_err(|e| format!("network uplink: pipe: {e}"))?;
        // Descriptors 3-5 in slirp4netns: user namespace, network namespace,
        // readiness pipe.
        let fds = [ns.user.as_raw_fd(), ns.net.as_raw_fd(), ready_w.as_raw_fd()];
        let jail = Jail::prepare(cordon_policy::Caller::current().is_root())?;
        let confinement = jail.for_child();
        let mut cmd = Command::new(SLIRP4NETNS);
        cmd.args([
            "--configure",
            "--mtu",
            MTU,
            "--cidr",
            CIDR_V4,
            "--enable-ipv6",
            "--disable-host-loopback",
            "--disable-dns",
            // Its own system-call filter, beside cordon's confinement.
            "--enable-seccomp",
            "--userns-path",
            "/proc/self/fd/3",
            "--netns-type",
            "path",
            "--ready-fd",
            "5",
            "/proc/self/fd/4",
            TAP,
        ]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        // Runs in the forked child before exec: raw system calls only.
        let hook = move || {
            // Die with the supervisor, whatever kills it.
            // SAFETY: prctl(2) with integer arguments.
            if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            crate::sys::descriptors_to(&fds, 3)?;
            uplink_jail::enter(confinement)
        };
        // SAFETY: `hook` makes raw system calls only, as pre_exec requires.
        unsafe { cmd.pre_exec(hook) };
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "network: rules and a private network stack need slirp4netns on PATH (Debian \
                 package \"slirp4netns\")"
                    .to_string()
            } else {
                format!("network uplink: starting slirp4netns: {e}")
            }
        })?;
        drop(ready_w);
        drop(jail);
        Ok(Uplink {
            child,
            ready: Some(ready_r),
        })
    }

    /// Let a thread wait for the readiness report instead (if slirp4netns
    /// fails after all, the sandbox simply has no way out, and `--debug`
    /// says so), then read what slirp4netns prints for as long as it runs:
    /// a pipe nobody reads would stop it once full (libslirp logs, for
    /// instance, each ICMPv6 echo it cannot carry). Its lines reach stderr
    /// with `debug`.
    pub fn finish_readiness_in_background(&mut self, debug: bool) {
        let ready_r = self.ready.take();
        let stderr = self.child.stderr.take();
        let _ = std::thread::Builder::new()
            .name("cordon-uplink-log".into())
            .spawn(move || {
                if let Some(ready_r) = ready_r {
                    if !reported_ready(ready_r) && debug {
                        eprintln!("cordon: network uplink: slirp4netns stopped while starting");
                    }
                }
                let Some(stderr) = stderr else { return };
                for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                    let Ok(line) = line else { break };
                    if debug && !line.starts_with("WARNING:") {
                        eprintln!("cordon: network uplink: {line}");
                    }
                }
            });
    }

    pub fn wait_ready(&mut self) -> Result<(), String> {
        let Some(ready_r) = self.ready.take() else {
            return Ok(());
        };
        if reported_ready(ready_r) {
            return Ok(());
        }
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        let mut message = format!(
            "network uplink: slirp4netns did not start: {}",
            without_warnings(&err)
        );
        if err.contains("tun") {
            message.push_str(
                " (slirp4netns needs to open /dev/net/tun, which is mode 0666 on a standard \
                 Debian system; check its permissions)",
            );
        }
        Err(message)
    }
}

/// slirp4netns prints "WARNING: … experimental" lines for the options it
/// calls experimental; an error message is clearer without them.
fn without_warnings(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.starts_with("WARNING:"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// slirp4netns writes "1" to its ready descriptor once it serves the
/// interface; EOF first means it failed.
fn reported_ready(ready_r: OwnedFd) -> bool {
    let mut pipe = std::fs::File::from(ready_r);
    let mut buf = [0u8; 8];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

impl Drop for Uplink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // A thread reaps it, so the run need not wait for its exit (if
        // cordon exits first, init does).
        let Some(pid) = self.child.id().try_into().ok() else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("cordon-reap-uplink".into())
            .spawn(move || {
                let mut status = 0;
                // SAFETY: waiting for our own killed child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_left_out_of_errors() {
        let err = "WARNING: Support for seccomp is experimental\nopen(\"/dev/net/tun\"): \
                   Permission denied\nWARNING: Support for IPv6 is experimental\n";
        assert_eq!(
            without_warnings(err),
            "open(\"/dev/net/tun\"): Permission denied"
        );
    }

    #[test]
    fn the_ipv6_side_names_the_tap() {
        assert_eq!(IPV6.interface.to_str().unwrap(), TAP);
    }
}
