//! Where sandboxes live (the state roots), keeping them out of every
//! sandbox, and the address of a sandbox's exec socket.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use cordon_policy::Caller;
use nix::sys::socket::UnixAddr;

use super::error::{io_err, Result};

/// The state root for the invoking user in this environment.
pub(super) fn state_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CORDON_STATE_DIR") {
        PathBuf::from(dir)
    } else if Caller::current().is_root() {
        PathBuf::from("/run/cordon")
    } else if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        PathBuf::from(dir).join("cordon")
    } else {
        std::env::temp_dir().join(format!("cordon-{}", Caller::current().uid))
    }
}

/// Every place this user's state root may be, whatever the environment of
/// the cordon invocation that made it (`su`, `sudo -u`, cron and CI often
/// lack `XDG_RUNTIME_DIR`; root may have it).
fn state_roots() -> Vec<PathBuf> {
    let uid = Caller::current().uid;
    let mut roots = vec![state_root()];
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        roots.push(PathBuf::from(dir).join("cordon"));
    }
    roots.push(PathBuf::from(format!("/run/user/{uid}/cordon")));
    roots.push(std::env::temp_dir().join(format!("cordon-{uid}")));
    if uid == 0 {
        roots.push(PathBuf::from("/run/cordon"));
    }
    roots.sort();
    roots.dedup();
    roots
}

/// Keep cordon's own files out of a sandbox about to be built from `fs`: the
/// user's lifecycle state roots (another sandbox's exec socket, records and
/// locks) and the operator's audit log, also inside granted trees. A state
/// root the sandbox could create (its parent is writable there) is created
/// now, private, so that the sandbox cannot plant one of its own.
pub fn protect_cordon_files(
    fs: &mut cordon_policy::FsPlan,
    audit_logs: &[PathBuf],
    outcome_file: Option<&Path>,
) -> std::result::Result<(), cordon_policy::PolicyError> {
    use cordon_policy::resolve::{protect_path, Protected};
    for root in state_roots() {
        let creatable = root
            .parent()
            .is_some_and(|p| fs.access_at(p) == Some(cordon_policy::Access::ReadWrite));
        if creatable && std::fs::symlink_metadata(&root).is_err() {
            // Failure to create it means the caller cannot, nor can its sandbox.
            let _ = std::fs::DirBuilder::new().mode(0o700).create(&root);
        }
        protect_path(fs, &root, Protected::StateRoot)?;
    }
    for log in audit_logs {
        protect_path(fs, log, Protected::AuditLog)?;
    }
    if let Some(file) = outcome_file {
        protect_path(fs, file, Protected::OutcomeFile)?;
    }
    Ok(())
}

/// The address of a sandbox's exec socket, short enough for `sun_path` (108
/// bytes) wherever the state root is: it goes through a descriptor of the
/// sandbox's directory, which must stay open while the address is used.
pub(super) fn socket_address(socket_path: &Path) -> Result<(OwnedFd, UnixAddr)> {
    let dir = socket_path.parent().unwrap_or(Path::new("/"));
    let name = socket_path.file_name().unwrap_or_default();
    let fd = nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| io_err(&format!("opening {}", dir.display()), e.into()))?;
    // SAFETY: `open` just returned this descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let short = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())).join(name);
    let addr = UnixAddr::new(&short).map_err(|e| io_err("exec socket path", e.into()))?;
    Ok((fd, addr))
}
