//! The sandbox's filesystem view as an ordered list of mount operations.
//!
//! Computed once from the resolved [`FsPlan`], before any namespace exists, so
//! that the (single-threaded, forked) sandbox init only executes it. Operations
//! are ordered shallow to deep: a later, deeper mount wins, which is exactly
//! "most specific path wins".

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use cordon_policy::plan::{path_depth, Access, FsEntry, FsPlan, Kind};

/// Files under /proc that host root's sandbox (uid 0, no capabilities) could
/// still write through owner permission bits, made read-only.
pub const PROC_READONLY_FOR_ROOT: &[&str] = &[
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
    "/proc/fs",
];

/// Files of the sandbox's own /proc that still show host-wide state: the
/// keys and keyrings of the caller's user (descriptions, owners) and their
/// quotas. Masked with an unreadable empty file.
pub const PROC_MASKED: &[&str] = &["/proc/keys", "/proc/key-users"];

/// Device nodes of the minimal /dev (SPEC §2.1), bound from the host.
pub const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// Bind the host object at `src` to `dst`.
    Bind {
        src: PathBuf,
        dst: PathBuf,
        readonly: bool,
        kind: Kind,
    },
    /// Hide a directory: an empty, read-only tmpfs that cannot be listed.
    /// `traversable` when an allowed path lies below it (mode 0111, else 0000).
    MaskDir { dst: PathBuf, traversable: bool },
    /// Hide a file: an empty, unreadable, read-only file bound over it.
    MaskFile { dst: PathBuf },
    /// Recreate a host symlink (merged-/usr `/bin -> usr/bin`).
    Symlink { target: PathBuf, dst: PathBuf },
    /// A fresh procfs of the sandbox's PID namespace.
    Proc { dst: PathBuf },
    /// A minimal /dev; its `/dev/shm` is capped at `shm_bytes` like the
    /// private /tmp (a tmpfs is host memory).
    Dev { dst: PathBuf, shm_bytes: u64 },
    /// An empty private tmpfs (the sandbox's /tmp), capped at `size_bytes`.
    Tmp { dst: PathBuf, size_bytes: u64 },
    /// Bind a path of the sandbox onto itself read-only.
    ReadonlySelf { dst: PathBuf },
    /// An empty directory of the sandbox's own user, mode 0700, inside its
    /// private /tmp: its home ([`cordon_policy::plan::PRIVATE_HOME`]).
    PrivateDir { dst: PathBuf },
}

impl MountOp {
    pub fn dst(&self) -> &Path {
        match self {
            MountOp::Bind { dst, .. }
            | MountOp::MaskDir { dst, .. }
            | MountOp::MaskFile { dst }
            | MountOp::Symlink { dst, .. }
            | MountOp::Proc { dst }
            | MountOp::Dev { dst, .. }
            | MountOp::Tmp { dst, .. }
            | MountOp::ReadonlySelf { dst }
            | MountOp::PrivateDir { dst } => dst,
        }
    }
}

/// The plan with host root's secrets masked (see
/// [`cordon_policy::resolve::mask_root_only_files`]), for backends that cannot
/// present the baseline without its owners; unchanged for other callers.
pub fn with_root_masks(fs: &FsPlan) -> Result<Cow<'_, FsPlan>, crate::error::SandboxError> {
    if !fs.hide_root_only_files {
        return Ok(Cow::Borrowed(fs));
    }
    let mut masked = fs.clone();
    cordon_policy::resolve::mask_root_only_files(&mut masked)
        .map_err(|e| crate::error::SandboxError::setup(e.to_string()))?;
    Ok(Cow::Owned(masked))
}

/// Build the ordered mount list for a plan. `caller_is_root` adds the /proc
/// hardening that only matters when the sandbox's uid is host uid 0.
/// `persistent_tmp` backs the private /tmp with a host directory (a
/// long-lived sandbox keeps its /tmp across stop and start).
/// Size cap of the private /tmp when the policy sets no memory limit.
pub const DEFAULT_TMP_BYTES: u64 = 1024 * 1024 * 1024;

pub fn mount_ops(fs: &FsPlan, caller_is_root: bool, persistent_tmp: Option<&Path>) -> Vec<MountOp> {
    mount_ops_sized(fs, caller_is_root, persistent_tmp, DEFAULT_TMP_BYTES)
}

/// [`mount_ops`] with the private /tmp capped at `tmp_size_bytes` (a tmpfs
/// cannot fill the host's memory; with a memory limit it is that limit).
pub fn mount_ops_sized(
    fs: &FsPlan,
    caller_is_root: bool,
    persistent_tmp: Option<&Path>,
    tmp_size_bytes: u64,
) -> Vec<MountOp> {
    let mut ops: Vec<(usize, MountOp)> = Vec::new();
    for entry in &fs.entries {
        let op = match (entry.access, entry.kind) {
            (Access::Denied, Kind::File) => MountOp::MaskFile {
                dst: entry.path.clone(),
            },
            (Access::Denied, _) => MountOp::MaskDir {
                dst: entry.path.clone(),
                traversable: false,
            },
            (access, kind) => MountOp::Bind {
                src: entry.path.clone(),
                dst: entry.path.clone(),
                readonly: access == Access::ReadOnly,
                kind,
            },
        };
        ops.push((entry.depth(), op));
    }
    // A mount inside a writable tree pins the directories between it and the
    // tree: each becomes a mount point of its own (bound onto itself, still
    // writable), which cannot be renamed or removed. Otherwise the workload
    // could rename the parent of a denied or read-only path away and create
    // the path anew (a placeholder's path then holds the workload's file,
    // and so does a denied file's path once the run is over).
    for path in writable_ancestors_to_pin(fs) {
        ops.push((
            path_depth(&path),
            MountOp::Bind {
                src: path.clone(),
                dst: path,
                readonly: false,
                kind: Kind::Dir,
            },
        ));
    }
    // Merged-/usr symlinks of the baseline, unless listed themselves or seen
    // through a listed ancestor (`/` listed: the host's own symlink is there).
    for base in cordon_policy::resolve::BASELINE {
        let path = Path::new(base);
        let covered = |e: &FsEntry| {
            e.path == path || (e.access != Access::Denied && path.starts_with(&e.path))
        };
        if fs.entries.iter().any(covered) {
            continue;
        }
        if let Ok(target) = std::fs::read_link(path) {
            ops.push((
                1,
                MountOp::Symlink {
                    target,
                    dst: path.to_path_buf(),
                },
            ));
        }
    }
    ops.push((
        1,
        MountOp::Proc {
            dst: PathBuf::from("/proc"),
        },
    ));
    if caller_is_root {
        for p in PROC_READONLY_FOR_ROOT {
            ops.push((
                path_depth(Path::new(p)),
                MountOp::ReadonlySelf {
                    dst: PathBuf::from(p),
                },
            ));
        }
    }
    // The caller's keyrings are listed in /proc/keys by description (the
    // sandbox has no keyctl; the listing serves it nothing).
    for p in PROC_MASKED {
        ops.push((
            path_depth(Path::new(p)),
            MountOp::MaskFile {
                dst: PathBuf::from(p),
            },
        ));
    }
    ops.push((
        1,
        MountOp::Dev {
            dst: PathBuf::from("/dev"),
            shm_bytes: tmp_size_bytes,
        },
    ));
    if fs.private_tmp {
        let op = match persistent_tmp {
            Some(src) => MountOp::Bind {
                src: src.to_path_buf(),
                dst: PathBuf::from("/tmp"),
                readonly: false,
                kind: Kind::Dir,
            },
            None => MountOp::Tmp {
                dst: PathBuf::from("/tmp"),
                size_bytes: tmp_size_bytes,
            },
        };
        ops.push((1, op));
        let home = PathBuf::from(cordon_policy::plan::PRIVATE_HOME);
        ops.push((path_depth(&home), MountOp::PrivateDir { dst: home }));
    }
    // Stable: for equal depth, specials come after listed paths of the same depth.
    ops.sort_by_key(|(depth, _)| *depth);
    let mut ops: Vec<MountOp> = ops.into_iter().map(|(_, op)| op).collect();

    // A mask with something mounted below it must stay traversable.
    let dsts: Vec<PathBuf> = ops.iter().map(|op| op.dst().to_path_buf()).collect();
    for op in &mut ops {
        if let MountOp::MaskDir { dst, traversable } = op {
            *traversable = dsts.iter().any(|d| d != dst && d.starts_with(&*dst));
        }
    }
    ops
}

/// The directories strictly between each entry and the deepest entry above
/// it, where that one is writable (see `mount_ops_sized`).
fn writable_ancestors_to_pin(fs: &FsPlan) -> Vec<PathBuf> {
    let mut pins: Vec<PathBuf> = Vec::new();
    for entry in &fs.entries {
        let Some(above) = fs
            .entries
            .iter()
            .filter(|e| e.path != entry.path && entry.path.starts_with(&e.path))
            .max_by_key(|e| e.depth())
        else {
            continue;
        };
        if above.access != Access::ReadWrite {
            continue;
        }
        let mut dir = entry.path.parent();
        while let Some(d) = dir {
            if d == above.path {
                break;
            }
            if !pins.iter().any(|p| p == d) {
                pins.push(d.to_path_buf());
            }
            dir = d.parent();
        }
    }
    pins
}

/// The private /tmp's size: the memory limit if there is one, else the default cap.
pub fn tmp_cap(plan: &cordon_policy::plan::Plan) -> u64 {
    plan.resources
        .memory_bytes
        .map_or(DEFAULT_TMP_BYTES, |m| m.min(DEFAULT_TMP_BYTES))
}

/// Where the private home lies in a host directory that serves as the
/// sandbox's /tmp (a long-lived sandbox's, or Landlock-only mode's).
pub fn private_home_in(tmp: &Path) -> PathBuf {
    let home = Path::new(cordon_policy::plan::PRIVATE_HOME);
    tmp.join(home.strip_prefix("/tmp").unwrap_or(home))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_policy::plan::{FsEntry, Origin};

    fn entry(path: &str, access: Access, kind: Kind) -> FsEntry {
        FsEntry {
            path: PathBuf::from(path),
            access,
            kind,
            origin: Origin::Listed,
        }
    }

    #[test]
    fn deeper_paths_come_later_and_masks_with_children_stay_traversable() {
        let fs = FsPlan {
            entries: vec![
                entry("/data", Access::Denied, Kind::Dir),
                entry("/data/child", Access::ReadWrite, Kind::Dir),
                entry("/proj/secret", Access::Denied, Kind::Dir),
            ],
            private_tmp: true,
            placeholders: vec![],
            hide_root_only_files: false,
        };
        let ops = mount_ops(&fs, false, None);
        let pos = |p: &str| ops.iter().position(|o| o.dst() == Path::new(p)).unwrap();
        assert!(pos("/data") < pos("/data/child"));
        assert!(ops.contains(&MountOp::MaskDir {
            dst: "/data".into(),
            traversable: true
        }));
        assert!(ops.contains(&MountOp::MaskDir {
            dst: "/proj/secret".into(),
            traversable: false
        }));
        assert!(ops.iter().any(|o| matches!(o, MountOp::Tmp { .. })));
        assert!(!ops
            .iter()
            .any(|o| matches!(o, MountOp::ReadonlySelf { .. })));
        assert!(mount_ops(&fs, true, None)
            .iter()
            .any(|o| o.dst() == Path::new("/proc/sysrq-trigger")));
    }

    #[test]
    fn mounts_inside_writable_trees_pin_the_directories_above_them() {
        let fs = FsPlan {
            entries: vec![
                entry("/proj", Access::ReadWrite, Kind::Dir),
                entry("/proj/a/b/secret", Access::Denied, Kind::File),
                entry("/proj/.git/hooks", Access::ReadOnly, Kind::Dir),
                entry("/proj/top", Access::Denied, Kind::File),
                entry("/ro", Access::ReadOnly, Kind::Dir),
                entry("/ro/x/y", Access::ReadWrite, Kind::Dir),
            ],
            private_tmp: true,
            placeholders: vec![],
            hide_root_only_files: false,
        };
        let ops = mount_ops(&fs, false, None);
        let pinned: Vec<&Path> = ops
            .iter()
            .filter_map(|o| match o {
                MountOp::Bind {
                    src,
                    dst,
                    readonly: false,
                    ..
                } if src == dst && !fs.entries.iter().any(|e| &e.path == dst) => {
                    Some(dst.as_path())
                }
                _ => None,
            })
            .collect();
        for p in ["/proj/a", "/proj/a/b", "/proj/.git"] {
            assert!(pinned.contains(&Path::new(p)), "{p} not pinned: {ops:?}");
        }
        // Not inside a read-only tree (nothing can be renamed there).
        assert!(!pinned.contains(&Path::new("/ro/x")), "{ops:?}");
        assert_eq!(pinned.len(), 3, "{pinned:?}");
        let pos = |p: &str| ops.iter().position(|o| o.dst() == Path::new(p)).unwrap();
        assert!(pos("/proj") < pos("/proj/a") && pos("/proj/a") < pos("/proj/a/b"));
        assert!(pos("/proj/a/b") < pos("/proj/a/b/secret"));
    }
}
