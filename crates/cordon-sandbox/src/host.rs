//! What this host offers, detected once per question and defined once: the
//! backends' availability (`backend`), the run-time checks (`context`) and
//! `cordon probe` all ask here. A leaf: nothing in it builds a sandbox.

use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::sys::{self, Forked};

/// The oldest Landlock ABI that scopes signals and abstract unix sockets
/// (ABI 6): what Landlock-only mode and a shared host network need; without
/// it a sandbox sharing the host's PID and network namespaces could signal
/// host processes and reach host session sockets.
pub const LANDLOCK_SCOPING_ABI: u32 = 6;

/// The Landlock ABI version of the running kernel, if Landlock is enabled.
pub fn landlock_abi() -> Option<u32> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the version query takes no ruleset attribute and size 0.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).ok().filter(|v| *v > 0)
}

/// Whether Landlock can scope signals and abstract sockets here, and if not why.
pub fn landlock_scoping() -> Result<(), String> {
    match landlock_abi() {
        Some(abi) if abi >= LANDLOCK_SCOPING_ABI => Ok(()),
        Some(abi) => Err(format!(
            "Landlock ABI {abi} lacks signal and abstract-socket scoping (needs \
             {LANDLOCK_SCOPING_ABI})"
        )),
        None => Err("Landlock is not enabled in this kernel".into()),
    }
}

/// What the host's sysctls say about user namespaces (no namespace is made;
/// see [`user_namespaces`] for the whole answer).
pub fn userns_sysctls() -> Result<(), String> {
    if let Ok(max) = std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        if max.trim() == "0" {
            return Err("user namespaces are disabled (user.max_user_namespaces = 0)".into());
        }
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone") {
        if v.trim() == "0" && cordon_policy::Caller::current().uid != 0 {
            return Err(
                "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Whether this process can build a native sandbox: the sysctls allow user
/// namespaces, and one really created here can map the caller's ids (LSMs
/// such as AppArmor's userns restriction only show their verdict then). This
/// is the one definition of "namespaces usable" (selection, fallback and
/// `probe` all use it); it costs one short-lived child.
pub fn user_namespaces() -> Result<(), String> {
    userns_sysctls()?;
    let caller = cordon_policy::Caller::current();
    // Formatted before the clone: the child must not allocate (it may be the
    // copy of a threaded process).
    let uid_map = format!("{0} {0} 1", caller.uid);
    match sys::clone_process((libc::CLONE_NEWUSER | libc::CLONE_NEWNS) as u64) {
        Ok(Forked::Child) => {
            let mapped = std::fs::write("/proc/self/setgroups", "deny").is_ok()
                && std::fs::write("/proc/self/uid_map", &uid_map).is_ok();
            sys::exit_now(if mapped { 0 } else { 1 })
        }
        Ok(Forked::Parent { pidfd, .. }) => {
            // SAFETY: siginfo_t is plain data; waitid fills it for our own child.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let Ok(id) = libc::id_t::try_from(pidfd.as_raw_fd()) else {
                return Err("waiting for the user-namespace check: bad pidfd".into());
            };
            // SAFETY: valid pidfd of our own child and a valid siginfo_t.
            let waited = unsafe { libc::waitid(libc::P_PIDFD, id, &mut info, libc::WEXITED) };
            // SAFETY: waitid filled `info` for an exited child (si_status is its code).
            let status = unsafe { info.si_status() };
            match (waited, status) {
                (0, 0) => Ok(()),
                (0, _) => Err(
                    "user namespaces can be created but not used here (the caller's ids cannot \
                     be mapped; an LSM such as AppArmor's userns restriction?)"
                        .into(),
                ),
                _ => Err(format!(
                    "waiting for the user-namespace check: {}",
                    std::io::Error::last_os_error()
                )),
            }
        }
        Err(e) => Err(format!("creating a user namespace failed: {e}")),
    }
}

/// The bwrap program on PATH, looked up once per process (no exec: a run
/// does not pay for `bwrap --version`; only `probe` asks for it).
pub fn bwrap() -> Result<&'static PathBuf, String> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|dir| dir.join("bwrap"))
                .find(|candidate| {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::metadata(candidate)
                        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                })
                .ok_or_else(|| "bwrap is not installed (not found on PATH)".to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `bwrap --version`, for the probe report.
pub fn bwrap_version() -> Result<String, String> {
    let path = bwrap()?;
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    if !out.status.success() {
        return Err(format!("{} --version failed", path.display()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether the installed bwrap is setuid root: only then can it build
/// namespaces on a host that refuses them to ordinary processes.
pub fn bwrap_setuid() -> bool {
    use std::os::unix::fs::MetadataExt;
    bwrap()
        .ok()
        .and_then(|path| std::fs::metadata(path).ok())
        .is_some_and(|m| m.mode() & 0o4000 != 0 && m.uid() == 0)
}
