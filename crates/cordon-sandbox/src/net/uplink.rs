//! Model 1's way out: `pasta` (Debian package `passt`) gives the sandbox's
//! network namespace an interface whose traffic it carries through ordinary
//! sockets of the caller on the host. It works unprivileged, forwards nothing
//! inwards (`-t/-u none`), and with `--no-map-gw` the gateway address is not
//! the host's loopback, so host-loopback services stay out of reach.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use super::enter::Namespaces;

/// A running pasta, killed when dropped (and with cordon: PDEATHSIG).
pub struct Uplink {
    child: Child,
    /// Read end of pasta's pid file until it has reported ready.
    ready: Option<OwnedFd>,
}

const PASTA: &str = "pasta";

impl Uplink {
    /// Start pasta on the sandbox's namespaces; [`Uplink::wait_ready`] waits
    /// until it has configured the interface.
    /// `template_args` name the host interface to copy when the host has
    /// no default route (see `template`).
    pub fn spawn(ns: &Namespaces, template_args: &[String]) -> Result<Uplink, String> {
        let (ready_r, ready_w) =
            crate::sys::pipe().map_err(|e| format!("network uplink: pipe: {e}"))?;
        // Descriptors 3-5 in pasta: user namespace, network namespace, readiness pipe.
        let fds = [ns.user.as_raw_fd(), ns.net.as_raw_fd(), ready_w.as_raw_fd()];
        let caller = cordon_policy::Caller::current();
        let mut cmd = Command::new(PASTA);
        cmd.args([
            "--config-net",
            "--foreground",
            "--quiet",
            "--tcp-ports",
            "none",
            "--udp-ports",
            "none",
            "--tcp-ns",
            "none",
            "--udp-ns",
            "none",
            "--no-map-gw",
            "--no-dhcp",
            "--no-dhcpv6",
            "--no-ra",
            "--userns",
            "/proc/self/fd/3",
            "--netns",
            "/proc/self/fd/4",
            "--pid",
            "/proc/self/fd/5",
            "--log-file",
            "/dev/null",
        ]);
        cmd.args(template_args);
        // pasta started as root drops to "nobody", which may not enter a
        // user namespace that root owns: it keeps the caller's identity.
        if caller.is_root() {
            cmd.args(["--runas", "0:0"]);
        }
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
            // Move the three descriptors to 3, 4, 5 without clobbering
            // one another: first above 5, then into place.
            let mut high = [0; 3];
            for (slot, fd) in high.iter_mut().zip(fds.iter()) {
                // SAFETY: duplicating a descriptor this process holds.
                *slot = unsafe { libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 10) };
                if *slot < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            for (target, fd) in (3..).zip(high) {
                // SAFETY: duplicating a descriptor this process holds.
                if unsafe { libc::dup2(fd, target) } < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        };
        // SAFETY: `hook` makes raw system calls only, as pre_exec requires.
        unsafe { cmd.pre_exec(hook) };
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "network: rules and a private network stack need pasta on PATH (Debian package \
                 \"passt\")"
                    .to_string()
            } else {
                format!("network uplink: starting pasta: {e}")
            }
        })?;
        drop(ready_w);
        Ok(Uplink {
            child,
            ready: Some(ready_r),
        })
    }

    /// Let a thread wait for pasta's pid file instead; if pasta fails after
    /// all, the sandbox simply has no way out (and `--debug` says so).
    pub fn finish_readiness_in_background(&mut self, debug: bool) {
        let Some(ready_r) = self.ready.take() else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("cordon-uplink-ready".into())
            .spawn(move || {
                if !read_pid(ready_r) && debug {
                    eprintln!("cordon: network uplink: pasta stopped while starting");
                }
            });
    }

    pub fn wait_ready(&mut self) -> Result<(), String> {
        let Some(ready_r) = self.ready.take() else {
            return Ok(());
        };
        if read_pid(ready_r) {
            return Ok(());
        }
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        let mut message = format!("network uplink: pasta did not start: {}", err.trim());
        if err.contains("tun") {
            message.push_str(
                " (pasta needs to open /dev/net/tun, which is mode 0666 on a standard Debian \
                 system; check its permissions)",
            );
        }
        Err(message)
    }
}

/// pasta writes "PID\n" to its pid file once it is up; EOF first means it failed.
fn read_pid(ready_r: OwnedFd) -> bool {
    let mut pid = Vec::new();
    let mut pipe = std::fs::File::from(ready_r);
    let mut buf = [0u8; 32];
    while !pid.ends_with(b"\n") {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => pid.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&pid).trim().parse::<u32>().is_ok()
}

impl Drop for Uplink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // pasta takes tens of milliseconds to unmap its tables after SIGKILL;
        // the run need not wait for that. A thread reaps it (if cordon exits
        // first, init does).
        let Some(pid) = self.child.id().try_into().ok() else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("cordon-reap-pasta".into())
            .spawn(move || {
                let mut status = 0;
                // SAFETY: waiting for our own killed child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
            });
    }
}
