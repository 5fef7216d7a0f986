//! Placeholders for denied paths that do not exist yet.
//!
//! A denied path that does not exist but lies in a writable tree must not be
//! creatable during the run. The backend mounts a mask over it, which needs
//! something to mount on: an empty directory created on the host for the run
//! and removed afterwards.
//!
//! Several sandboxes may share a placeholder (two runs in one repository),
//! and removing it under a running sandbox would detach that sandbox's mask
//! (the kernel lazily unmounts mounts on a removed directory in every mount
//! namespace), making the path creatable there. So:
//! - a placeholder is recognisable: an empty directory of mode 0400, which
//!   no user makes by hand ([`MODE`]); one found in place (another run's, or
//!   one left by a killed run) is adopted, not refused;
//! - every user of a placeholder holds a shared `flock` on it for as long as
//!   its sandbox runs ([`Held`]);
//! - it is removed only by whoever then gets the lock exclusively, and only
//!   while it still is an empty placeholder ([`remove_if_unused`]).
//!
//! If cordon is killed, its janitor removes the placeholders it was told
//! about (see `janitor`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::SandboxError;
use crate::leftover::{Leftover, Notebook};

/// The mode that marks a placeholder.
pub use cordon_policy::plan::PLACEHOLDER_MODE as MODE;

use cordon_policy::plan::is_placeholder;

/// `path` opened as a directory, not following a symlink.
fn open_dir(path: &Path) -> Option<OwnedFd> {
    open_dir_or(path).ok()
}

/// `path` opened as a directory, not following a symlink, or why not.
fn open_dir_or(path: &Path) -> nix::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_RDONLY
            | nix::fcntl::OFlag::O_DIRECTORY
            | nix::fcntl::OFlag::O_NOFOLLOW
            | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    // SAFETY: `open` just returned this descriptor; nothing else owns it.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// Whether `path` (not followed) still names the object `fd` refers to.
fn same_object(fd: &OwnedFd, path: &Path) -> bool {
    let (Ok(now), Ok(ours)) = (
        std::fs::symlink_metadata(path),
        nix::sys::stat::fstat(fd.as_raw_fd()),
    ) else {
        return false;
    };
    now.ino() == ours.st_ino && now.dev() == ours.st_dev
}

/// Whether something other than a placeholder stands at `path`, judged on
/// one object (a placeholder that runs sharing it remove and remake between
/// two looks at the path is not "something else").
fn occupied(path: &Path) -> bool {
    let fd = match open_dir_or(path) {
        Ok(fd) => fd,
        // Gone meanwhile: nothing stands there.
        Err(nix::errno::Errno::ENOENT) => return false,
        // A file, a symlink, a directory we may not open: not ours.
        Err(_) => return true,
    };
    let Ok(stat) = nix::sys::stat::fstat(fd.as_raw_fd()) else {
        return true;
    };
    if stat.st_mode & 0o7777 != MODE {
        return true;
    }
    // Placeholder mode but not empty: made by hand, or used; unless it is
    // no longer the object at `path`.
    let empty = std::fs::read_dir(path).is_ok_and(|mut d| d.next().is_none());
    !empty && same_object(&fd, path)
}

/// A shared lock on one placeholder, held while a sandbox uses it.
#[derive(Debug)]
pub struct Held {
    path: PathBuf,
    fd: OwnedFd,
}

impl Held {
    /// Open and share-lock the placeholder at `path`; `None` if it is not one.
    pub fn adopt(path: &Path) -> Option<Held> {
        let fd = open_dir(path)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_SH) } != 0 {
            return None;
        }
        // Removed between our open and our lock by its last user: not usable.
        if !same_object(&fd, path) {
            return None;
        }
        is_placeholder(path).then(|| Held {
            path: path.to_path_buf(),
            fd,
        })
    }
}

/// Remove the placeholder at `path` unless another sandbox still holds it
/// (for longer than `patience`) or it stopped being a placeholder (something
/// was created inside, or it was replaced).
pub fn remove_if_unused(path: &Path, patience: std::time::Duration) {
    drop(remove_keeping_last_reference(path, patience));
}

/// [`remove_if_unused`], returning the removed directory's descriptor (still
/// locked): closing the last reference to a removed directory is what frees
/// its inode (30–150 µs each on ext4 here), which whoever closes it pays.
fn remove_keeping_last_reference(path: &Path, patience: std::time::Duration) -> Option<OwnedFd> {
    let fd = open_dir(path)?;
    let deadline = std::time::Instant::now() + patience;
    // SAFETY: flock on a descriptor we own.
    while unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The lock is on the object opened above; the path must still name it
    // (another run may have removed it and made a new one meanwhile, which
    // it holds).
    if same_object(&fd, path) && is_placeholder(path) && std::fs::remove_dir(path).is_ok() {
        // The exclusive lock goes with the descriptor, after the removal: a
        // run waiting to adopt it then finds it gone and makes a new one.
        return Some(fd);
    }
    None
}

/// Placeholders for missing denied paths in writable trees, held for the run.
#[derive(Debug, Default)]
pub struct Placeholders(Vec<Held>);

impl Placeholders {
    /// Create (or adopt) a placeholder at each of `paths`, telling `janitor`
    /// about each before it is made.
    pub fn create(
        paths: &[PathBuf],
        janitor: Option<&impl Notebook>,
    ) -> Result<Self, SandboxError> {
        let mut made = Placeholders(Vec::new());
        for path in paths {
            if let Some(janitor) = janitor {
                janitor.note(Leftover::Placeholder(path.clone()))?;
            }
            made.0.push(Self::one(path)?);
        }
        Ok(made)
    }

    fn one(path: &Path) -> Result<Held, SandboxError> {
        // Rounds until a deadline: runs sharing the placeholder may remove
        // the one we found, or the one we made, meanwhile.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            match std::fs::DirBuilder::new().mode(MODE).create(path) {
                Ok(()) => {
                    // The mode is not left to the umask. Until we hold it,
                    // another run ending may take our new placeholder for
                    // its own and remove it: then try again.
                    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => {
                            return Err(SandboxError::setup(format!(
                                "cannot reserve denied path {}: {e}",
                                path.display()
                            )))
                        }
                    }
                }
                // Another run's placeholder is adopted below.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(SandboxError::setup(format!(
                        "cannot reserve denied path {}: {e}",
                        path.display()
                    )))
                }
            }
            if let Some(held) = Held::adopt(path) {
                return Ok(held);
            }
            // Not adopted: removed or remade meanwhile by a run sharing it
            // (try again), or something else stands there (refused).
            if occupied(path) {
                return Err(SandboxError::setup(format!(
                    "denied path {} appeared while the sandbox was being prepared; refusing",
                    path.display()
                )));
            }
        }
        Err(SandboxError::setup(format!(
            "cannot reserve denied path {}: it keeps changing",
            path.display()
        )))
    }

    /// Remove them now (those no other run holds), returning the removed
    /// directories' last descriptors for the caller to close where that
    /// costs least (see [`remove_keeping_last_reference`]).
    pub fn remove(mut self) -> Vec<OwnedFd> {
        std::mem::take(&mut self.0)
            .into_iter()
            .filter_map(|Held { path, fd }| {
                drop(fd);
                remove_keeping_last_reference(&path, std::time::Duration::ZERO)
            })
            .collect()
    }

    /// Whether there are none (nothing was made or adopted).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Give up this run's hold (a long-lived sandbox's janitor holds them
    /// from now on). Returns their paths.
    pub fn keep(mut self) -> Vec<PathBuf> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|h| h.path)
            .collect()
    }
}

impl Drop for Placeholders {
    fn drop(&mut self) {
        // Removed as `remove` does (which leaves an empty set to drop, so
        // this stops there); their last descriptors closed here.
        if !self.0.is_empty() {
            drop(Placeholders(std::mem::take(&mut self.0)).remove());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::janitor::Janitor;

    /// Runs that share a placeholder start and end at the same time: each
    /// must get it (made or adopted), none may find it removed under it.
    #[test]
    fn concurrent_runs_share_one_placeholder() {
        let dir = std::env::temp_dir().join(format!("cordon-ph-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".vscode");
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..400 {
                        let held =
                            Placeholders::create(std::slice::from_ref(&path), None::<&Janitor>)?;
                        // Control: while held, it is there and is a placeholder.
                        if !is_placeholder(&path) {
                            return Err(SandboxError::setup("placeholder gone while held"));
                        }
                        drop(held);
                    }
                    Ok(())
                })
            })
            .collect();
        let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let left = path.exists();
        let _ = std::fs::remove_dir(&path);
        let _ = std::fs::remove_dir(&dir);
        for r in results {
            r.unwrap();
        }
        assert!(!left, "the last run removes the placeholder");
    }

    /// A directory a user made, or a file, at the denied path is refused;
    /// a placeholder left by a killed run is adopted (the control).
    #[test]
    fn something_else_at_the_path_is_refused() {
        let dir = std::env::temp_dir().join(format!("cordon-ph-other-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let user_dir = dir.join("made-by-hand");
        std::fs::create_dir(&user_dir).unwrap();
        let file = dir.join("a-file");
        std::fs::write(&file, "x").unwrap();
        let left = dir.join("left-by-a-killed-run");
        std::fs::DirBuilder::new().mode(MODE).create(&left).unwrap();
        let refused = |p: &Path| {
            Placeholders::create(&[p.to_path_buf()], None::<&Janitor>)
                .map(drop)
                .unwrap_err()
                .to_string()
        };
        let by_hand = refused(&user_dir);
        let a_file = refused(&file);
        let adopted = Placeholders::create(std::slice::from_ref(&left), None::<&Janitor>).map(drop);
        let left_after = left.exists();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(by_hand.contains("appeared"), "{by_hand}");
        assert!(a_file.contains("appeared"), "{a_file}");
        adopted.unwrap();
        assert!(
            !left_after,
            "the adopted placeholder is removed after the run"
        );
    }
}
