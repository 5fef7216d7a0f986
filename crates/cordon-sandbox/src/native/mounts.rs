//! Builds the sandbox's root filesystem inside the new mount namespace.
//!
//! Runs in the sandbox init, after the user namespace is set up. The host tree
//! stays reachable at `/oldroot` while the new root is assembled at `/newroot`;
//! both live on a scratch tmpfs, so listed paths can be anything (even `/`).
//! At the end the process pivots into `/newroot` and the host tree is detached.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{symlink, DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::layout::{MountOp, DEVICES};
use crate::owner_less::OwnerLessBaseline;
use crate::sys;
use cordon_policy::plan::Kind;

const SCRATCH: &str = "/tmp";
const NEW_ROOT: &str = "/newroot";
const OLD_ROOT: &str = "/oldroot";
/// An unreadable empty file bound over denied files.
const EMPTY_FILE: &str = "/empty";

type SetupResult<T = ()> = Result<T, String>;

fn ctx<T, E: std::fmt::Display>(
    res: Result<T, E>,
    what: impl FnOnce() -> String,
) -> SetupResult<T> {
    res.map_err(|e| format!("{}: {e}", what()))
}

fn under(prefix: &str, path: &Path) -> PathBuf {
    let rel = path.strip_prefix("/").unwrap_or(path);
    Path::new(prefix).join(rel)
}

/// Assemble the new root from `ops` and pivot into it. A bind whose
/// destination has a prepared owner-less tree attaches that tree instead.
pub fn build_root(ops: &[MountOp], owner_less: &OwnerLessBaseline) -> SetupResult {
    // The caller made the mount namespace private: nothing here propagates to the host.
    ctx(
        mount(
            Some("tmpfs"),
            SCRATCH,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755,size=64k"),
        ),
        || "mounting the scratch tmpfs".into(),
    )?;
    let scratch = |p: &str| format!("{SCRATCH}{p}");
    for dir in [NEW_ROOT, OLD_ROOT] {
        ctx(fs::create_dir(scratch(dir)), || format!("creating {dir}"))?;
    }
    ctx(
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(scratch(EMPTY_FILE)),
        || "creating the mask file".into(),
    )?;
    ctx(
        mount(
            Some("tmpfs"),
            scratch(NEW_ROOT).as_str(),
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
        ),
        || "mounting the new root".into(),
    )?;
    let scratch_c = sys::cstring(Path::new(SCRATCH)).map_err(|e| e.to_string())?;
    let old_c = sys::cstring(Path::new(&scratch(OLD_ROOT))).map_err(|e| e.to_string())?;
    ctx(sys::pivot_root(&scratch_c, &old_c), || {
        "pivot_root into the scratch tmpfs".into()
    })?;
    ctx(std::env::set_current_dir("/"), || "chdir /".into())?;

    let mut finalize: Vec<(PathBuf, u64)> = Vec::new();
    for op in ops {
        if let MountOp::Bind { dst, kind, .. } = op {
            if let Some(tree) = owner_less.tree(dst) {
                attach(tree, dst, *kind)?;
                continue;
            }
        }
        apply(op, &mut finalize)?;
    }
    // Read-only last: masks and /dev had mount points created inside them.
    for (path, attrs) in finalize.iter().rev() {
        let c = sys::cstring(path).map_err(|e| e.to_string())?;
        ctx(sys::mount_setattr(&c, *attrs, false), || {
            format!("sealing {}", path.display())
        })?;
    }
    let root_c = sys::cstring(Path::new(NEW_ROOT)).map_err(|e| e.to_string())?;
    ctx(
        sys::mount_setattr(
            &root_c,
            sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
            false,
        ),
        || "sealing the new root".into(),
    )?;

    // Enter the new root; the scratch tmpfs with the host tree below it goes away.
    ctx(std::env::set_current_dir(NEW_ROOT), || {
        "chdir /newroot".into()
    })?;
    let dot = sys::cstring(Path::new(".")).map_err(|e| e.to_string())?;
    ctx(sys::pivot_root(&dot, &dot), || {
        "pivot_root into the new root".into()
    })?;
    ctx(umount2(".", MntFlags::MNT_DETACH), || {
        "detaching the host tree".into()
    })?;
    ctx(std::env::set_current_dir("/"), || "chdir /".into())?;
    Ok(())
}

/// A path to mount from or onto, pinned to the object it names now: opened
/// without following symlinks, then addressed through the host's procfs, so a
/// symlink raced into a writable tree cannot redirect the mount.
struct Pinned {
    _fd: std::os::fd::OwnedFd,
    path: PathBuf,
}

fn pin(path: &Path) -> SetupResult<Pinned> {
    use std::os::fd::AsRawFd;
    let fd = sys::open_no_symlinks(path).map_err(|e| {
        format!(
            "{}: {e} (a path changed into a symlink while the sandbox was being built?)",
            path.display()
        )
    })?;
    let path = PathBuf::from(format!("{OLD_ROOT}/proc/self/fd/{}", fd.as_raw_fd()));
    Ok(Pinned { _fd: fd, path })
}

/// Attach a prepared detached tree (already read-only, nosuid, nodev) at `dst`.
fn attach(tree: &OwnedFd, dst: &Path, kind: Kind) -> SetupResult {
    use std::os::fd::AsRawFd;
    let target = under(NEW_ROOT, dst);
    ensure_mount_point(&target, kind)?;
    let pinned = pin(&target)?;
    ctx(
        sys::attach_tree(tree.as_raw_fd(), pinned._fd.as_raw_fd()),
        || format!("attaching {}", dst.display()),
    )
}

fn apply(op: &MountOp, finalize: &mut Vec<(PathBuf, u64)>) -> SetupResult {
    let sealed = sys::MOUNT_ATTR_RDONLY
        | sys::MOUNT_ATTR_NOSUID
        | sys::MOUNT_ATTR_NODEV
        | sys::MOUNT_ATTR_NOEXEC;
    match op {
        MountOp::Bind {
            src,
            dst,
            readonly,
            kind,
        } => {
            let target = under(NEW_ROOT, dst);
            ensure_mount_point(&target, *kind)?;
            let source = pin(&under(OLD_ROOT, src))?;
            let pinned_target = pin(&target)?;
            ctx(
                mount(
                    Some(&source.path),
                    &pinned_target.path,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                ),
                || format!("binding {}", src.display()),
            )?;
            let mut attrs = sys::MOUNT_ATTR_NOSUID;
            // Device nodes the policy lists (e.g. /dev/kvm) must stay usable.
            if !src.starts_with("/dev") {
                attrs |= sys::MOUNT_ATTR_NODEV;
            }
            if *readonly {
                attrs |= sys::MOUNT_ATTR_RDONLY;
            }
            let c = sys::cstring(&target).map_err(|e| e.to_string())?;
            ctx(sys::mount_setattr(&c, attrs, true), || {
                format!("restricting {}", src.display())
            })?;
        }
        MountOp::MaskDir { dst, traversable } => {
            let target = under(NEW_ROOT, dst);
            ensure_mount_point(&target, Kind::Dir)?;
            let mode = if *traversable {
                "mode=0111"
            } else {
                "mode=0000"
            };
            let pinned = pin(&target)?;
            ctx(
                mount(
                    Some("tmpfs"),
                    &pinned.path,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    Some(format!("{mode},size=4k").as_str()),
                ),
                || format!("masking {}", dst.display()),
            )?;
            finalize.push((target, sealed));
        }
        MountOp::MaskFile { dst } => {
            let target = under(NEW_ROOT, dst);
            ensure_mount_point(&target, Kind::File)?;
            let pinned = pin(&target)?;
            ctx(
                mount(
                    Some(EMPTY_FILE),
                    &pinned.path,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                ),
                || format!("masking {}", dst.display()),
            )?;
            let c = sys::cstring(&target).map_err(|e| e.to_string())?;
            ctx(sys::mount_setattr(&c, sealed, false), || {
                format!("sealing {}", dst.display())
            })?;
        }
        MountOp::Symlink { target, dst } => {
            let link = under(NEW_ROOT, dst);
            ctx(symlink(target, &link), || {
                format!("linking {}", dst.display())
            })?;
        }
        MountOp::Proc { dst } => {
            let target = under(NEW_ROOT, dst);
            ensure_mount_point(&target, Kind::Dir)?;
            ctx(
                mount(
                    Some("proc"),
                    &target,
                    Some("proc"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    None::<&str>,
                ),
                || "mounting /proc".into(),
            )?;
        }
        MountOp::ReadonlySelf { dst } => {
            let target = under(NEW_ROOT, dst);
            if fs::symlink_metadata(&target).is_err() {
                return Ok(());
            }
            ctx(
                mount(
                    Some(&target),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                ),
                || format!("binding {} read-only", dst.display()),
            )?;
            let c = sys::cstring(&target).map_err(|e| e.to_string())?;
            ctx(sys::mount_setattr(&c, sealed, true), || {
                format!("sealing {}", dst.display())
            })?;
        }
        MountOp::Dev { dst, shm_bytes } => build_dev(&under(NEW_ROOT, dst), *shm_bytes, finalize)?,
        MountOp::Tmp { dst, size_bytes } => {
            let target = under(NEW_ROOT, dst);
            ensure_mount_point(&target, Kind::Dir)?;
            ctx(
                mount(
                    Some("tmpfs"),
                    &target,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(format!("mode=1777,size={size_bytes}").as_str()),
                ),
                || "mounting /tmp".into(),
            )?;
        }
        MountOp::PrivateDir { dst } => {
            let target = under(NEW_ROOT, dst);
            // A long-lived sandbox's /tmp already has it.
            if fs::symlink_metadata(&target).is_err() {
                ctx(fs::DirBuilder::new().mode(0o700).create(&target), || {
                    format!("creating {}", dst.display())
                })?;
            }
        }
    }
    Ok(())
}

/// A minimal /dev: a few host device nodes, a private devpts, /dev/shm.
fn build_dev(target: &Path, shm_bytes: u64, finalize: &mut Vec<(PathBuf, u64)>) -> SetupResult {
    ensure_mount_point(target, Kind::Dir)?;
    ctx(
        mount(
            Some("tmpfs"),
            target,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            Some("mode=0755,size=64k"),
        ),
        || "mounting /dev".into(),
    )?;
    for dev in DEVICES {
        let host = Path::new(OLD_ROOT).join("dev").join(dev);
        if fs::symlink_metadata(&host).is_err() {
            continue;
        }
        let node = target.join(dev);
        ensure_mount_point(&node, Kind::File)?;
        ctx(
            mount(
                Some(&host),
                &node,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            ),
            || format!("binding /dev/{dev}"),
        )?;
    }
    let pts = target.join("pts");
    ctx(fs::create_dir(&pts), || "creating /dev/pts".into())?;
    ctx(
        mount(
            Some("devpts"),
            &pts,
            Some("devpts"),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            Some("newinstance,ptmxmode=0666,mode=620"),
        ),
        || "mounting /dev/pts".into(),
    )?;
    let shm = target.join("shm");
    ctx(fs::create_dir(&shm), || "creating /dev/shm".into())?;
    ctx(
        mount(
            Some("tmpfs"),
            &shm,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(format!("mode=1777,size={shm_bytes}").as_str()),
        ),
        || "mounting /dev/shm".into(),
    )?;
    for (name, to) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        ctx(symlink(to, target.join(name)), || {
            format!("linking /dev/{name}")
        })?;
    }
    finalize.push((
        target.to_path_buf(),
        sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
    ));
    Ok(())
}

/// Make sure something of the right kind exists at `path` to mount over.
fn ensure_mount_point(path: &Path, kind: Kind) -> SetupResult {
    if fs::symlink_metadata(path).is_ok() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        ctx(
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(parent),
            || format!("creating mount point parent {}", parent.display()),
        )?;
    }
    let made: io::Result<()> = match kind {
        Kind::File => fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o000)
            .open(path)
            .map(drop),
        Kind::Dir | Kind::Missing => fs::DirBuilder::new().mode(0o755).create(path),
    };
    ctx(made, || format!("creating mount point {}", path.display()))
}
