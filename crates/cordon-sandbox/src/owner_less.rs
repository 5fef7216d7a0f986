//! Host root's read-only baseline without its owners.
//!
//! Host root's sandbox is uid 0 without capabilities, and owner permission
//! bits would still let it read root-only files. Its read-only baseline
//! directories are therefore mounted with their owners mapped away: on-disk
//! root becomes `nobody`, every other owner is unmapped, so the sandbox reads
//! exactly what an unprivileged user could, at every depth. Only host root may
//! idmap the host's filesystems, so the trees are built here, before the
//! sandbox exists, as detached mounts; the backend attaches them. A directory
//! whose filesystem cannot be idmapped is left out (a plain bind), and when
//! `/etc` is left out the plan falls back to masks.

use std::borrow::Cow;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use cordon_policy::plan::{Access, FsPlan, Kind, Origin};

use crate::error::SandboxError;
use crate::{layout, sys};

/// Detached, idmapped, read-only copies of the baseline directories.
#[derive(Default)]
pub struct OwnerLessBaseline {
    trees: Vec<(PathBuf, OwnedFd)>,
    /// Why a directory could not be idmapped (the first failure), for reports.
    failure: Option<String>,
    /// The child that held the idmapping's user namespace, reaped at the end
    /// of the run instead of at its start.
    _holder: Option<sys::NamespaceHolder>,
}

impl OwnerLessBaseline {
    /// Build the trees when the plan asks to hide root-only files; empty
    /// otherwise, or where idmapping is not possible.
    pub fn prepare(fs: &FsPlan) -> Self {
        if !fs.hide_root_only_files {
            return Self::default();
        }
        let baseline: Vec<&PathBuf> = fs
            .entries
            .iter()
            .filter(|e| e.origin == Origin::Baseline && e.access == Access::ReadOnly)
            .filter(|e| e.kind == Kind::Dir)
            .map(|e| &e.path)
            .collect();
        if baseline.is_empty() {
            return Self::default();
        }
        let (nobody, holder) = match sys::user_namespace("0 65534 1", "0 65534 1") {
            Ok(ns) => ns,
            Err(e) => {
                return OwnerLessBaseline {
                    failure: Some(format!("creating the idmapping's user namespace: {e}")),
                    ..Self::default()
                }
            }
        };
        let attrs = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
        let mut owner_less = OwnerLessBaseline {
            _holder: Some(holder),
            ..Self::default()
        };
        for path in baseline {
            let tree = sys::cstring(path)
                .and_then(|c| sys::clone_tree(&c))
                .and_then(|tree| sys::idmap_tree(&tree, &nobody, attrs).map(|()| tree));
            match tree {
                Ok(tree) => owner_less.trees.push((path.clone(), tree)),
                Err(e) => {
                    owner_less
                        .failure
                        .get_or_insert_with(|| format!("idmapping {}: {e}", path.display()));
                }
            }
        }
        owner_less
    }

    /// The prepared tree for `dst`, if any.
    pub fn tree(&self, dst: &Path) -> Option<&OwnedFd> {
        self.trees
            .iter()
            .find(|(path, _)| path == dst)
            .map(|(_, tree)| tree)
    }

    /// The plan to build mounts from: unchanged when `/etc` is owner-less
    /// (that hides every root-only file in it), else with root's masks.
    pub fn filesystem<'a>(&self, fs: &'a FsPlan) -> Result<Cow<'a, FsPlan>, SandboxError> {
        match self.tree(Path::new("/etc")) {
            Some(_) => Ok(Cow::Borrowed(fs)),
            None => layout::with_root_masks(fs),
        }
    }

    /// How host root's sandbox is kept from root-only files, for `--debug`.
    pub fn mechanism(&self) -> String {
        let trees: Vec<String> = self
            .trees
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        match self.tree(Path::new("/etc")) {
            Some(_) => format!(
                "baseline mounted without its owners (idmapped {}), so host root's sandbox reads no root-only file",
                trees.join(", ")
            ),
            None => format!(
                "masks over /etc's root-only files (the baseline could not be idmapped: {})",
                self.failure.as_deref().unwrap_or("no baseline directory")
            ),
        }
    }

    /// For a child that will exec a program which builds the sandbox from its
    /// own view of the host (bwrap): the trees to lay over the host's
    /// directories, in order, prepared before the fork (no allocation after
    /// it). A path the config lists inside an owner-less tree keeps its owners,
    /// as on the native backend: a copy of its original mount goes on top.
    pub fn overlays(&self, fs: &FsPlan) -> Result<Overlays, SandboxError> {
        let setup = |path: &Path, e: std::io::Error| {
            SandboxError::setup(format!("{}: {e}", path.display()))
        };
        let mut overlays = Overlays::default();
        for (path, tree) in &self.trees {
            let c = sys::cstring(path).map_err(|e| setup(path, e))?;
            overlays.attach.push((tree.as_raw_fd(), c));
        }
        let inside_a_tree = |path: &Path| {
            self.trees
                .iter()
                .any(|(tree, _)| path.starts_with(tree) && path != tree)
        };
        // Entries are ordered shallow to deep, so deeper copies land on top.
        for entry in &fs.entries {
            if entry.origin == Origin::Listed
                && entry.access != Access::Denied
                && entry.kind != Kind::Missing
                && inside_a_tree(&entry.path)
            {
                let c = sys::cstring(&entry.path).map_err(|e| setup(&entry.path, e))?;
                let original = sys::clone_tree(&c).map_err(|e| setup(&entry.path, e))?;
                overlays.attach.push((original.as_raw_fd(), c));
                overlays.originals.push(original);
            }
        }
        Ok(overlays)
    }
}

/// Mount trees for [`overlay_in_child`], with the descriptors they need.
#[derive(Default)]
pub struct Overlays {
    /// Descriptor and target path, in the order to attach them.
    pub attach: Vec<(i32, CString)>,
    /// Copies of listed paths' original mounts; open until the child has forked.
    originals: Vec<OwnedFd>,
}

/// In a forked child, before exec: give it a mount namespace of its own in
/// which the owner-less trees lie over the host's directories. Only system
/// calls; for host root, which may create mount namespaces.
pub fn overlay_in_child(overlays: &[(i32, CString)]) -> std::io::Result<()> {
    if overlays.is_empty() {
        return Ok(());
    }
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
    // Nothing done here may propagate back to the host.
    sys::make_mounts_private()?;
    for (tree, path) in overlays {
        sys::attach_tree_at(*tree, path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_policy::plan::FsEntry;

    fn baseline(paths: &[&Path], hide: bool) -> FsPlan {
        FsPlan {
            entries: paths
                .iter()
                .map(|p| FsEntry {
                    path: p.to_path_buf(),
                    access: Access::ReadOnly,
                    kind: Kind::Dir,
                    origin: Origin::Baseline,
                })
                .collect(),
            hide_root_only_files: hide,
            ..FsPlan::default()
        }
    }

    #[test]
    fn nothing_is_built_unless_the_plan_asks() {
        let fs = baseline(&[Path::new("/usr")], false);
        let owner_less = OwnerLessBaseline::prepare(&fs);
        assert!(owner_less.tree(Path::new("/usr")).is_none());
        assert!(matches!(owner_less.filesystem(&fs), Ok(Cow::Borrowed(_))));
    }

    /// ramfs cannot be idmapped: that directory gets a plain bind, and with
    /// /etc not owner-less the plan falls back to masks.
    #[test]
    fn a_filesystem_that_cannot_be_idmapped_falls_back_to_masks() {
        if !cordon_policy::Caller::current().is_root() {
            eprintln!("skipped: idmapping needs root");
            return;
        }
        // A mount namespace of this test thread's own: the host sees nothing.
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
        sys::make_mounts_private().unwrap();
        let dir = std::env::temp_dir().join(format!("cordon-ramfs-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let mounted = nix::mount::mount(
            Some("none"),
            &dir,
            Some("ramfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        );
        let owner_less = mounted
            .is_ok()
            .then(|| OwnerLessBaseline::prepare(&baseline(&[&dir, Path::new("/usr")], true)));
        let _ = nix::mount::umount(&dir);
        let _ = std::fs::remove_dir(&dir);
        mounted.unwrap();
        let owner_less = owner_less.unwrap();

        assert!(owner_less.tree(&dir).is_none());
        let how = owner_less.mechanism();
        assert!(how.starts_with("masks"), "{how}");
        assert!(
            how.contains(&format!("idmapping {}", dir.display())),
            "{how}"
        );
        let fs = baseline(&[&dir], true);
        let masked = owner_less.filesystem(&fs).unwrap();
        assert!(!masked.hide_root_only_files);
        if std::fs::symlink_metadata("/etc/shadow").is_ok() {
            assert!(masked
                .entries
                .iter()
                .any(|e| e.path == Path::new("/etc/shadow") && e.origin == Origin::RootSecret));
        }
    }
}
