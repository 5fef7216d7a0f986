//! The uplink's own confinement. slirp4netns parses every packet the
//! sandbox sends, so cordon confines it before it starts, for every caller:
//!
//! - Landlock: it may read and run only the system's programs and
//!   libraries and open `/dev/net/tun`; it writes no file, binds no TCP
//!   port, and signals or reaches (abstract unix sockets) nothing outside
//!   itself;
//! - a root caller's slirp4netns holds no capability (bounding, ambient
//!   and process sets emptied, securebits locked): as the owner of the
//!   sandbox's user namespace it still may enter it and create the tap
//!   there, and nothing more on the host;
//! - its own system-call filter (`--enable-seccomp`).
//!
//! slirp4netns's `--enable-sandbox` is not used: it needs uid 0 mapped in
//! the sandbox's user namespace (cordon maps only the caller's own uid),
//! and for a root caller it makes a mount namespace whose old root it
//! detaches while mounts there may still be shared with the host's (with
//! `/run/netns` shared, as `ip netns` leaves it, that unmounted the host's
//! named network namespaces: seen in this project's tests).

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use landlock::AccessNet;

use crate::confine::{Grant, LandlockRule};

/// The confinement prepared for one uplink.
pub struct Jail {
    ruleset: OwnedFd,
    /// Drop every capability (the caller is root); the last one's number.
    drop_caps: Option<u32>,
}

/// What slirp4netns may touch: the system's programs and libraries (read
/// and run) and the tun device.
fn rules() -> Vec<LandlockRule> {
    let read_exec = [
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/lib32",
        "/etc/ld.so.cache",
    ];
    let mut rules: Vec<LandlockRule> = read_exec
        .iter()
        .map(|p| LandlockRule {
            path: PathBuf::from(p),
            grant: Grant::ReadExec,
        })
        .collect();
    rules.push(LandlockRule {
        path: PathBuf::from("/dev/net/tun"),
        grant: Grant::Devices,
    });
    rules
}

impl Jail {
    /// The confinement for this caller: fails (closed) without Landlock.
    pub fn prepare(caller_is_root: bool) -> Result<Jail, String> {
        let created = crate::confine::ruleset(&rules(), true, AccessNet::BindTcp.into())
            .map_err(|e| format!("network uplink: confining slirp4netns: {e}"))?;
        let ruleset: Option<OwnedFd> = created.into();
        let ruleset = ruleset.ok_or_else(|| {
            "network uplink: confining slirp4netns needs Landlock (Linux 5.13 or later, with \
             landlock in the kernel's lsm= list)"
                .to_string()
        })?;
        Ok(Jail {
            ruleset,
            drop_caps: caller_is_root.then(crate::sys::last_capability),
        })
    }

    /// What the forked child applies to itself before exec (see [`enter`]).
    pub fn for_child(&self) -> (RawFd, Option<u32>) {
        (self.ruleset.as_raw_fd(), self.drop_caps)
    }
}

/// Apply a [`Jail`] (as [`Jail::for_child`] gives it) to the calling process:
/// for the forked child before exec (raw system calls only).
pub fn enter((ruleset, drop_caps): (RawFd, Option<u32>)) -> std::io::Result<()> {
    if let Some(last_cap) = drop_caps {
        crate::sys::drop_all_capabilities(last_cap)?;
    }
    crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    // SAFETY: landlock_restrict_self(2) with a ruleset descriptor this
    // process holds and no flags.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
