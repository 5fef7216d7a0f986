//! What this host offers: backends and the kernel features they rely on.
//! This is what `cordon probe` prints and the SDKs' `getPlatformSupport()` return.

use crate::backend::Backend;
use crate::host;

#[derive(Debug, Clone)]
pub struct BackendReport {
    pub name: &'static str,
    pub available: bool,
    /// Why not, or what it uses.
    pub detail: String,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HostReport {
    pub kernel: String,
    /// What `containment: "process"` resolves to here.
    pub process_intent: Option<&'static str>,
    pub user_namespaces: Result<(), String>,
    pub landlock_abi: Option<u32>,
    pub seccomp: bool,
    pub cgroup_mode: &'static str,
    pub kvm: Result<(), String>,
    /// Whether network model 1 (rules, NAT'd stack) can run here, and why not.
    pub network_rules: Result<(), String>,
    /// For a root caller: how its sandboxes are kept from root-only files.
    pub root_only_files: Option<String>,
    pub backends: Vec<BackendReport>,
}

fn cgroup_mode() -> &'static str {
    match nix::sys::statfs::statfs("/sys/fs/cgroup") {
        Ok(s) if s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC => "v2",
        Ok(_) if std::path::Path::new("/sys/fs/cgroup/unified").exists() => "hybrid",
        Ok(_) => "v1",
        Err(_) => "none",
    }
}

fn kvm_usable() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| format!("/dev/kvm: {e}"))
}

/// Host settings that restrict user namespaces, as "name = value" strings.
pub fn userns_restrictions() -> Vec<String> {
    [
        "/proc/sys/user/max_user_namespaces",
        "/proc/sys/kernel/unprivileged_userns_clone",
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    ]
    .iter()
    .filter_map(|path| {
        let value = std::fs::read_to_string(path).ok()?;
        let name = path.trim_start_matches("/proc/sys/").replace('/', ".");
        Some(format!("{name} = {}", value.trim()))
    })
    .collect()
}

/// For a root caller, how root-only files of the baseline are hidden from its
/// sandboxes here (owner-less baseline, or masks and why); `None` otherwise.
pub fn root_only_files() -> Option<String> {
    let caller = cordon_policy::Caller::current();
    if !caller.is_root() {
        return None;
    }
    // The baseline as a config that lists nothing resolves it.
    let how =
        match cordon_policy::resolve::resolve_filesystem(&Default::default(), caller, &[], None) {
            Ok(fs) => crate::owner_less::OwnerLessBaseline::prepare(&fs).mechanism(),
            Err(e) => format!("unknown: resolving the baseline failed: {e}"),
        };
    Some(how)
}

/// What network model 1 needs: slirp4netns on PATH, /dev/net/tun usable
/// (the packet rules go to the kernel over netlink, no program needed).
pub fn network_rules_usable() -> Result<(), String> {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
            .unwrap_or(false)
            || ["/usr/bin", "/usr/sbin"]
                .iter()
                .any(|d| std::path::Path::new(d).join(name).is_file())
    };
    let mut missing = Vec::new();
    if !on_path("slirp4netns") {
        missing.push("slirp4netns (Debian package slirp4netns)".to_string());
    }
    let tun = std::ffi::CString::new("/dev/net/tun").unwrap_or_default();
    // SAFETY: access(2) with a NUL-terminated path.
    if unsafe { libc::access(tun.as_ptr(), libc::R_OK | libc::W_OK) } != 0 {
        missing.push("read-write access to /dev/net/tun (Debian's default is mode 0666)".into());
    }
    match missing.is_empty() {
        true => Ok(()),
        false => Err(format!("needs {}", missing.join(", "))),
    }
}

/// `allowed`: the backends the operator's ceiling allows (`None`: any).
pub fn probe(allowed: Option<&[String]>) -> HostReport {
    let user_namespaces = Backend::Native.availability();
    let kvm = kvm_usable();
    let network_rules = network_rules_usable();
    let landlock = host::landlock_abi();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let landlock_text = landlock.map_or("unavailable".to_string(), |v| format!("ABI {v}"));
    let native = match (&user_namespaces, Backend::LandlockOnly.availability()) {
        (Ok(()), _) => BackendReport {
            name: Backend::Native.name(),
            available: true,
            detail: format!(
                "namespaces (user, mount, pid, ipc, uts, cgroup, network) + Landlock {landlock_text} + seccomp; no capabilities; no_new_privs"
            ),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
        (Err(why), Ok(())) => BackendReport {
            name: Backend::Native.name(),
            available: true,
            detail: format!(
                "Landlock-only mode ({why}): filesystem by Landlock {landlock_text} alone, denied paths visible but inaccessible; \
                 no private /tmp, /proc or hostname; TCP refused by Landlock, UDP/raw/unix sockets by seccomp; signals and abstract sockets scoped"
            ),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
        (Err(why), Err(ll)) => BackendReport {
            name: Backend::Native.name(),
            available: false,
            detail: format!("{why}; and {ll}"),
            version: None,
        },
    };
    let bubblewrap = match Backend::Bubblewrap.availability() {
        Ok(()) => BackendReport {
            name: Backend::Bubblewrap.name(),
            available: true,
            detail: format!(
                "{} + cordon's seccomp filter and whole-tree kill",
                host::bwrap()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
            version: host::bwrap_version().ok(),
        },
        Err(why) => BackendReport {
            name: Backend::Bubblewrap.name(),
            available: false,
            detail: why,
            version: host::bwrap_version().ok(),
        },
    };
    let backends = vec![
        native,
        bubblewrap,
        BackendReport {
            name: "lxc",
            available: false,
            detail: "not built yet in this cordon version".into(),
            version: None,
        },
        BackendReport {
            name: "microvm",
            available: false,
            detail: match &kvm {
                Ok(()) => "KVM is usable but no micro-VM backend is built yet".into(),
                Err(e) => format!("KVM unusable ({e}) and no micro-VM backend is built yet"),
            },
            version: None,
        },
    ];
    let process_intent = crate::seam::select(&cordon_policy::Containment::Process, allowed)
        .ok()
        .map(Backend::name);
    HostReport {
        kernel,
        process_intent,
        user_namespaces,
        landlock_abi: landlock,
        seccomp: std::path::Path::new("/proc/sys/kernel/seccomp/actions_avail").exists(),
        cgroup_mode: cgroup_mode(),
        kvm,
        network_rules,
        root_only_files: root_only_files(),
        backends,
    }
}
