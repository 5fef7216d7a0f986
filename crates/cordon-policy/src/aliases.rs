//! Other names of one object. Path-based masking alone can be escaped through a
//! bind mount or a hard link of a denied object; this module finds those names
//! so the denial follows the object, not just the path that was listed.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::plan::{Access, FsPlan, Kind, Origin};

/// How many directory entries a hard-link search may visit before giving up.
/// Giving up is an error: a denial that cannot be completed is refused.
const HARD_LINK_SEARCH_LIMIT: usize = 200_000;

/// How deep below its top the root-only scan descends; a directory deeper
/// than this is masked whole rather than left unexamined.
const ROOT_ONLY_SCAN_DEPTH: usize = 24;

/// Every entry below `dir`, at any depth, that other users cannot read (files
/// without the world-read bit, directories without world read+search). Such a
/// directory is reported whole, not descended into. Symlinks are skipped:
/// what they point to is checked where it lives. A recursive scan of `/etc`
/// costs a few milliseconds; only the fallbacks that cannot idmap the
/// baseline pay it (see `resolve::mask_root_only_files`).
pub fn root_only_files(dir: &Path) -> Vec<(PathBuf, Kind)> {
    let mut found = Vec::new();
    scan_secrets(dir, 0, &mut found);
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

fn world_readable(meta: &std::fs::Metadata) -> bool {
    let mode = meta.permissions().mode();
    if meta.is_dir() {
        mode & 0o005 == 0o005
    } else {
        mode & 0o004 != 0
    }
}

fn scan_secrets(dir: &Path, depth: usize, found: &mut Vec<(PathBuf, Kind)>) {
    // A directory the scanner (host root) cannot read, the sandbox cannot
    // read either.
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_dir() {
            if meta.is_file() && !world_readable(&meta) {
                found.push((entry.path(), Kind::File));
            }
        } else if !world_readable(&meta) || depth + 1 >= ROOT_ONLY_SCAN_DEPTH {
            found.push((entry.path(), Kind::Dir));
        } else {
            scan_secrets(&entry.path(), depth + 1, found);
        }
    }
}

/// Finds the other names of denied objects. Reads the mount table once.
pub struct AliasFinder {
    mounts: Vec<MountLine>,
}

impl AliasFinder {
    pub fn new() -> Self {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo")
            .map(|text| parse_mountinfo(&text))
            .unwrap_or_default();
        AliasFinder { mounts }
    }

    /// Other paths through which the sandbox could reach the denied object at `path`.
    pub fn other_paths(&self, path: &Path, kind: Kind, plan: &FsPlan) -> io::Result<Vec<PathBuf>> {
        // Gone since it was found (a socket or temporary file of another
        // program): no object, so no other names of it. Its own path stays
        // denied by the entry that names it.
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let id = (meta.dev(), meta.ino());
        let same_object = |candidate: &Path| {
            std::fs::metadata(candidate)
                .map(|m| (m.dev(), m.ino()) == id)
                .unwrap_or(false)
        };

        let mut out = Vec::new();
        for alias in mount_aliases(&self.mounts, path) {
            if plan.shows(&alias) && same_object(&alias) {
                out.push(alias);
            }
        }
        if kind == Kind::File && meta.nlink() > 1 {
            let mut budget = HARD_LINK_SEARCH_LIMIT;
            let roots: Vec<PathBuf> = plan
                .entries
                .iter()
                .filter(|e| e.origin == Origin::Listed && e.access != Access::Denied)
                .filter(|e| e.kind == Kind::Dir)
                .map(|e| e.path.clone())
                .collect();
            for root in roots {
                find_hard_links(&root, id, &mut budget, &mut out).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "{} has {} hard links; searching the allowed trees for them failed: {e}",
                            path.display(),
                            meta.nlink()
                        ),
                    )
                })?;
            }
            out.retain(|p| p != path && plan.shows(p));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

impl Default for AliasFinder {
    fn default() -> Self {
        Self::new()
    }
}

fn find_hard_links(
    dir: &Path,
    id: (u64, u64),
    budget: &mut usize,
    out: &mut Vec<PathBuf>,
) -> io::Result<()> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in read.flatten() {
        if *budget == 0 {
            return Err(io::Error::other(format!(
                "gave up after {HARD_LINK_SEARCH_LIMIT} entries"
            )));
        }
        *budget -= 1;
        let Ok(meta) = entry.metadata() else { continue };
        if meta.dev() != id.0 {
            continue;
        }
        if meta.is_dir() {
            find_hard_links(&entry.path(), id, budget, out)?;
        } else if meta.ino() == id.1 {
            out.push(entry.path());
        }
    }
    Ok(())
}

struct MountLine {
    dev: String,
    root: PathBuf,
    mount_point: PathBuf,
}

/// Parse the fields cordon needs from /proc/self/mountinfo.
fn parse_mountinfo(text: &str) -> Vec<MountLine> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let _id = fields.next()?;
            let _parent = fields.next()?;
            let dev = fields.next()?.to_string();
            let root = unescape(fields.next()?);
            let mount_point = unescape(fields.next()?);
            Some(MountLine {
                dev,
                root: PathBuf::from(root),
                mount_point: PathBuf::from(mount_point),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(v) = u8::try_from(value) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every other place where the object at `path` is mounted, by mount table arithmetic.
fn mount_aliases(mounts: &[MountLine], path: &Path) -> Vec<PathBuf> {
    // The mount that holds `path`: longest mount point prefix, last one wins when stacked.
    let Some(home) = mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
        .map(|(_, m)| m)
    else {
        return Vec::new();
    };
    let Ok(inside) = path.strip_prefix(&home.mount_point) else {
        return Vec::new();
    };
    let fs_path = home.root.join(inside);
    mounts
        .iter()
        .filter(|m| m.dev == home.dev)
        .filter_map(|m| {
            let rest = fs_path.strip_prefix(&m.root).ok()?;
            let alias = m.mount_point.join(rest);
            (alias != path).then_some(alias)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_path_gone_before_the_alias_search_has_no_aliases() {
        let gone = std::env::temp_dir().join(format!("cordon-gone-{}", std::process::id()));
        let finder = AliasFinder::new();
        let found = finder
            .other_paths(&gone, Kind::File, &FsPlan::default())
            .unwrap();
        assert!(found.is_empty());
        // Control: other errors still fail (a path through a file).
        let through = Path::new("/proc/self/status/x");
        assert!(finder
            .other_paths(through, Kind::File, &FsPlan::default())
            .is_err());
    }

    #[test]
    fn bind_mount_aliases_are_found_by_arithmetic() {
        let info = "\
22 1 254:1 / / rw - ext4 /dev/vda1 rw
30 22 254:1 /srv/data /mnt/data rw - ext4 /dev/vda1 rw
31 22 254:1 /srv /export\\040dir rw - ext4 /dev/vda1 rw
32 22 0:5 / /dev rw - devtmpfs udev rw
";
        let mounts = parse_mountinfo(info);
        let mut aliases = mount_aliases(&mounts, Path::new("/srv/data/secret"));
        aliases.sort();
        assert_eq!(
            aliases,
            vec![
                PathBuf::from("/export dir/data/secret"),
                PathBuf::from("/mnt/data/secret"),
            ]
        );
        // From the bind mount's side the original is an alias too.
        let back = mount_aliases(&mounts, Path::new("/mnt/data/secret"));
        assert!(back.contains(&PathBuf::from("/srv/data/secret")));
    }

    #[test]
    fn the_root_only_scan_finds_secrets_at_any_depth() {
        use std::fs::{create_dir_all, set_permissions, write, Permissions};
        let top = std::env::temp_dir().join(format!("cordon-scan-{}", std::process::id()));
        let mode = |p: &Path, m: u32| set_permissions(p, Permissions::from_mode(m)).unwrap();
        let mut deep = top.clone();
        for level in 0..ROOT_ONLY_SCAN_DEPTH + 2 {
            deep.push(format!("d{level}"));
        }
        create_dir_all(&deep).unwrap();
        create_dir_all(top.join("a/b/closed/inner")).unwrap();
        write(top.join("a/b/secret.key"), "k").unwrap();
        mode(&top.join("a/b/secret.key"), 0o600);
        write(top.join("a/b/group.key"), "k").unwrap();
        mode(&top.join("a/b/group.key"), 0o640);
        write(top.join("a/b/public.conf"), "p").unwrap();
        write(top.join("a/b/closed/inner/x"), "x").unwrap();
        mode(&top.join("a/b/closed"), 0o711);
        std::os::unix::fs::symlink("secret.key", top.join("a/b/link")).unwrap();

        let found = root_only_files(&top);
        let _ = std::fs::remove_dir_all(&top);
        let rel: Vec<(String, Kind)> = found
            .iter()
            .map(|(p, k)| (p.strip_prefix(&top).unwrap().display().to_string(), *k))
            .collect();
        // A directory too deep to examine is reported whole (fail closed).
        let too_deep: PathBuf = (0..ROOT_ONLY_SCAN_DEPTH)
            .map(|level| format!("d{level}"))
            .collect();
        assert_eq!(
            rel,
            vec![
                ("a/b/closed".to_string(), Kind::Dir),
                ("a/b/group.key".to_string(), Kind::File),
                ("a/b/secret.key".to_string(), Kind::File),
                (too_deep.display().to_string(), Kind::Dir),
            ]
        );
    }

    #[test]
    fn unescape_handles_octal() {
        assert_eq!(unescape("/a\\040b\\011c"), "/a b\tc");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
