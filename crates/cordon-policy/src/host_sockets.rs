//! Sockets of the host's session and services that a granted tree must not
//! hand to the sandbox by accident. Listing `/tmp` or the runtime directory
//! read-write is a common way to give a build scratch space; it must not also
//! give the workload the user's display, session bus, service manager,
//! container engine or credential agents, through which it could act outside
//! the sandbox (`systemd-run --user`, `docker run -v /:/host`, signing with
//! the user's keys).
//!
//! Two kinds:
//! - display and session bus (SPEC §2.3: the sandbox never gets a display):
//!   hidden inside granted trees, and a config that lists one is refused;
//! - service-control and agent sockets: hidden inside granted trees, granted
//!   when the config lists the socket (or a path below its directory) itself.

use std::path::{Path, PathBuf};

use crate::caller::Caller;
use crate::plan::Kind;

/// What listing a socket of this kind in the config does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenListed {
    /// Refused: asks for UI access, which cordon never grants on Linux.
    Refused,
    /// Granted as listed: the caller asked for this service by name.
    Granted,
}

/// One socket (or a directory of sockets) of the host's session or services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSocket {
    /// Canonical path.
    pub path: PathBuf,
    pub kind: Kind,
    pub when_listed: WhenListed,
}

/// Directory of the X11 server's sockets.
const X11_DIR: &str = "/tmp/.X11-unix";

/// Service-control sockets outside the runtime directory: the system's service
/// manager and bus (which trust host uid 0 completely), container engines.
const SYSTEM_CONTROL: &[&str] = &[
    "/run/systemd/private",
    "/run/dbus/system_bus_socket",
    "/run/docker.sock",
    "/run/podman",
    "/run/containerd",
];

/// In the caller's runtime directory: display and session bus.
const RUNTIME_UI: &[&str] = &["bus"];
/// In the caller's runtime directory: the user's service manager, container
/// engines, credential agents, and the media server (screen capture).
const RUNTIME_CONTROL: &[&str] = &[
    "systemd",
    "docker.sock",
    "podman",
    "gnupg",
    "keyring",
    "pipewire-0",
    "pulse",
];

/// The host sockets that exist, found only where `matters` (given a canonical
/// path) holds, so that a runtime directory the sandbox cannot see is not read.
pub fn find(
    caller: Caller,
    home: Option<&Path>,
    matters: impl Fn(&Path) -> bool,
) -> Vec<HostSocket> {
    let mut found: Vec<HostSocket> = Vec::new();
    let mut add = |path: &Path, when_listed: WhenListed| {
        let Ok(path) = std::fs::canonicalize(path) else {
            return;
        };
        if matters(&path) {
            let kind = if path.is_dir() { Kind::Dir } else { Kind::File };
            found.push(HostSocket {
                path,
                kind,
                when_listed,
            });
        }
    };

    add(Path::new(X11_DIR), WhenListed::Refused);
    for path in SYSTEM_CONTROL {
        add(Path::new(path), WhenListed::Granted);
    }
    // Usually one directory under two names: read it once.
    let mut runtime_dirs: Vec<PathBuf> = [
        Some(PathBuf::from(format!("/run/user/{}", caller.uid))),
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
    ]
    .into_iter()
    .flatten()
    .filter(|d| d.is_absolute())
    .filter_map(|d| std::fs::canonicalize(d).ok())
    .collect();
    runtime_dirs.sort();
    runtime_dirs.dedup();
    for dir in runtime_dirs {
        // Read only when the sandbox can see into it (or the config grants
        // something below it).
        if !dir.is_dir() || !matters(&dir) {
            continue;
        }
        for name in RUNTIME_UI {
            add(&dir.join(name), WhenListed::Refused);
        }
        for name in RUNTIME_CONTROL {
            add(&dir.join(name), WhenListed::Granted);
        }
        if let Ok(read) = std::fs::read_dir(&dir) {
            for entry in read.flatten() {
                if entry.file_name().to_string_lossy().starts_with("wayland-") {
                    add(&entry.path(), WhenListed::Refused);
                }
            }
        }
    }
    if let Some(home) = home {
        // GnuPG's agent sockets when the runtime directory has none.
        for name in [
            "S.gpg-agent",
            "S.gpg-agent.ssh",
            "S.gpg-agent.extra",
            "S.gpg-agent.browser",
        ] {
            add(&home.join(".gnupg").join(name), WhenListed::Granted);
        }
    }
    for (var, when_listed) in [
        ("WAYLAND_DISPLAY", WhenListed::Refused),
        ("SSH_AUTH_SOCK", WhenListed::Granted),
    ] {
        if let Some(path) = std::env::var_os(var).map(PathBuf::from) {
            if path.is_absolute() {
                add(&path, when_listed);
            }
        }
    }
    if let Ok(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        for path in dbus_socket_paths(&address) {
            add(&path, WhenListed::Refused);
        }
    }
    // One entry per path; where two kinds name the same path, refusal wins.
    found.sort_by(|a, b| {
        a.path.cmp(&b.path).then_with(|| {
            (a.when_listed == WhenListed::Granted).cmp(&(b.when_listed == WhenListed::Granted))
        })
    });
    found.dedup_by(|a, b| a.path == b.path);
    found
}

/// The socket paths of a D-Bus address list (`unix:path=/run/user/1000/bus;...`).
pub fn dbus_socket_paths(address: &str) -> Vec<PathBuf> {
    address
        .split(';')
        .filter_map(|one| one.strip_prefix("unix:"))
        .flat_map(|params| params.split(','))
        .filter_map(|kv| kv.strip_prefix("path="))
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbus_addresses_name_their_socket_paths() {
        assert_eq!(
            dbus_socket_paths(
                "unix:path=/run/user/1000/bus,guid=ab;tcp:host=x,port=1;\
                 unix:abstract=/tmp/d;unix:guid=c,path=/p"
            ),
            vec![PathBuf::from("/run/user/1000/bus"), PathBuf::from("/p")]
        );
        assert!(dbus_socket_paths("").is_empty());
    }
}
