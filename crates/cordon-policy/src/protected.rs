//! Files the host runs later, kept read-only inside writable trees (SPEC §2.5).
//!
//! A sandbox granted `--rw ~/repo` could otherwise hand the user's next
//! command on the host its code: a `.git/hooks/pre-commit`, an alias or
//! `core.fsmonitor`/`core.pager`/a filter in `.git/config` (git runs them on
//! `git commit`, `git status`, a prompt that shows the branch), a
//! `.gitmodules` URL, a shell rc file sourced at the next login, an `.envrc`,
//! editor settings that name programs to run, an agent's settings with hooks
//! or an `.mcp.json` starting servers. Where such a path exists in a
//! writable tree it is read-only; where it does not, it cannot be created
//! (a placeholder holds its place, see the backends). Build files such as a
//! `Makefile` stay writable: the user runs them knowingly.
//!
//! Where they are looked for:
//! - in every writable directory listed in the config, in each of its
//!   direct subdirectories that is a git work tree (holds `.git`), and in
//!   the caller's home directory when it lies inside a writable tree: the
//!   `git`, `direnv`, `editor` and `agent` classes;
//! - in that home directory also the `home` class (shell start-up files,
//!   git's and ssh's user configuration, user services, `~/.local/bin`).
//!
//! A class is lifted with `filesystem.unprotect` (`--unprotect CLASS`); a
//! path listed in the config itself gets what the config says.

use std::path::{Path, PathBuf};

use crate::error::{PolicyError, Result};
use crate::plan::Kind;

/// A class of protected paths, as `filesystem.unprotect` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `.git/hooks`, `.git/config`, `.gitmodules`, a `.git` file (gitdir link).
    Git,
    /// Shell start-up files, `.gitconfig`, `.ssh`, user services, `~/.local/bin`.
    Home,
    /// `.envrc`.
    Direnv,
    /// `.vscode`, `.idea`.
    Editor,
    /// `.mcp.json`, `.claude`, `.claude.json`, `.cursor`.
    Agent,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Git,
        Class::Home,
        Class::Direnv,
        Class::Editor,
        Class::Agent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Git => "git",
            Class::Home => "home",
            Class::Direnv => "direnv",
            Class::Editor => "editor",
            Class::Agent => "agent",
        }
    }

    /// Parse the classes of `filesystem.unprotect` (`all` means every class).
    pub fn parse_list(field: &str, names: &[String]) -> Result<Vec<Class>> {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name == "all" {
                out.extend(Class::ALL);
                continue;
            }
            let Some(class) = Class::ALL.into_iter().find(|c| c.name() == name) else {
                let valid: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
                return Err(PolicyError::malformed(format!(
                    "{field}[{i}]: {name:?} is not a class of protected paths; use {} or all",
                    valid.join(", ")
                )));
            };
            out.push(class);
        }
        Ok(out)
    }
}

/// Looked for at the top of every writable tree (and of each git work tree
/// directly in it, and of the home directory).
const PROJECT: &[(&str, Class)] = &[
    (".gitmodules", Class::Git),
    (".envrc", Class::Direnv),
    (".vscode", Class::Editor),
    (".idea", Class::Editor),
    (".mcp.json", Class::Agent),
    (".claude", Class::Agent),
    (".cursor", Class::Agent),
];

/// Inside a `.git` directory.
const GIT_DIR: &[&str] = &["hooks", "config"];

/// Looked for in the caller's home directory.
const HOME: &[(&str, Class)] = &[
    (".bashrc", Class::Home),
    (".bash_profile", Class::Home),
    (".bash_login", Class::Home),
    (".bash_logout", Class::Home),
    (".profile", Class::Home),
    (".zshrc", Class::Home),
    (".zshenv", Class::Home),
    (".zprofile", Class::Home),
    (".zlogin", Class::Home),
    (".zlogout", Class::Home),
    (".gitconfig", Class::Home),
    (".config/git", Class::Home),
    (".ssh", Class::Home),
    (".config/systemd", Class::Home),
    (".config/autostart", Class::Home),
    (".local/bin", Class::Home),
    (".claude.json", Class::Agent),
];

/// One protected path found: canonical, and what is there now (`Missing`:
/// nothing yet, its parent exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub kind: Kind,
    pub class: Class,
}

/// The protected paths for writable trees `writable` (canonical directories)
/// and the caller's `home`, leaving out the classes in `lifted`.
pub fn find(writable: &[PathBuf], home: Option<&Path>, lifted: &[Class]) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut add = |path: PathBuf, class: Class| {
        if lifted.contains(&class) {
            return;
        }
        if let Some(found) = inspect(&path, class) {
            if !out.iter().any(|f| f.path == found.path) {
                out.push(found);
            }
        }
    };
    let mut roots: Vec<PathBuf> = Vec::new();
    for tree in writable {
        roots.push(tree.clone());
        // Git work trees directly inside (`--rw ~/src` holding repositories).
        if let Ok(entries) = std::fs::read_dir(tree) {
            for entry in entries.flatten() {
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && std::fs::symlink_metadata(entry.path().join(".git")).is_ok() {
                    roots.push(entry.path());
                }
            }
        }
    }
    let home = home
        .and_then(|h| std::fs::canonicalize(h).ok())
        .filter(|h| writable.iter().any(|t| h.starts_with(t)));
    if let Some(home) = &home {
        roots.push(home.clone());
        for (rel, class) in HOME {
            add(home.join(rel), *class);
        }
    }
    for root in &roots {
        let git = root.join(".git");
        match std::fs::symlink_metadata(&git) {
            // A `.git` file points git at another directory: rewriting it
            // would point the user's git at the workload's hooks.
            Ok(meta) if !meta.is_dir() => add(git, Class::Git),
            Ok(_) => {
                for name in GIT_DIR {
                    add(git.join(name), Class::Git);
                }
            }
            Err(_) => {}
        }
        for (rel, class) in PROJECT {
            add(root.join(rel), *class);
        }
    }
    out
}

/// What is at `path`: an existing object (by its canonical path), or a
/// missing one whose parent exists. `None` when neither (the parent is
/// missing too, or a symlink leads nowhere).
fn inspect(path: &Path, class: Class) -> Option<Found> {
    // Another run's placeholder may vanish while it is looked at (its last
    // user removes it): look again, so that the path is then protected as
    // missing instead of dropped from the plan.
    for _ in 0..4 {
        match inspect_once(path, class) {
            Look::Found(found) => return Some(found),
            Look::Nothing => return None,
            Look::Vanished => continue,
        }
    }
    None
}

/// `path` as missing, if its parent exists.
fn missing(path: &Path, class: Class) -> Option<Found> {
    let parent = std::fs::canonicalize(path.parent()?).ok()?;
    let name = path.file_name()?;
    parent.is_dir().then(|| Found {
        path: parent.join(name),
        kind: Kind::Missing,
        class,
    })
}

/// One look at `path`.
enum Look {
    Found(Found),
    Nothing,
    /// It existed, then did not while it was looked at.
    Vanished,
}

fn inspect_once(path: &Path, class: Class) -> Look {
    let found = |f: Option<Found>| f.map_or(Look::Nothing, Look::Found);
    let gone = || std::fs::symlink_metadata(path).is_err();
    match std::fs::symlink_metadata(path) {
        // Another run's placeholder stands for a missing path: this run
        // holds it too (it may be removed as soon as that run ends).
        Ok(_) if crate::plan::is_placeholder(path) => found(missing(path, class)),
        Ok(_) => {
            let existing = std::fs::canonicalize(path).ok().and_then(|canonical| {
                let meta = std::fs::metadata(&canonical).ok()?;
                Some(Found {
                    path: canonical,
                    kind: if meta.is_dir() { Kind::Dir } else { Kind::File },
                    class,
                })
            });
            match existing {
                Some(f) => Look::Found(f),
                None if gone() => Look::Vanished,
                None => Look::Nothing,
            }
        }
        Err(_) => found(missing(path, class)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_exists_and_what_could_be_created() {
        let base = std::env::temp_dir().join(format!("cordon-protected-{}", std::process::id()));
        let repo = base.join("repo");
        std::fs::create_dir_all(repo.join(".git/hooks")).unwrap();
        std::fs::write(repo.join(".git/config"), "").unwrap();
        std::fs::create_dir_all(repo.join(".vscode")).unwrap();
        std::fs::create_dir_all(repo.join("sub/.git")).unwrap();
        std::fs::create_dir_all(repo.join("worktree")).unwrap();
        std::fs::write(repo.join("worktree/.git"), "gitdir: /elsewhere").unwrap();
        let repo = std::fs::canonicalize(&repo).unwrap();
        let found = find(std::slice::from_ref(&repo), None, &[]);
        let at = |rel: &str| {
            found
                .iter()
                .find(|f| f.path == repo.join(rel))
                .map(|f| f.kind)
        };
        assert_eq!(at(".git/hooks"), Some(Kind::Dir));
        assert_eq!(at(".git/config"), Some(Kind::File));
        assert_eq!(at(".vscode"), Some(Kind::Dir));
        assert_eq!(at(".envrc"), Some(Kind::Missing));
        assert_eq!(at(".mcp.json"), Some(Kind::Missing));
        // A repository directly inside: its hooks, missing, cannot be made.
        assert_eq!(at("sub/.git/hooks"), Some(Kind::Missing));
        assert_eq!(at("sub/.claude"), Some(Kind::Missing));
        // A .git file (linked work tree, submodule) is itself protected.
        assert_eq!(at("worktree/.git"), Some(Kind::File));
        // Not a home directory: no shell start-up files.
        assert_eq!(at(".bashrc"), None);

        let lifted = find(
            std::slice::from_ref(&repo),
            None,
            &[Class::Git, Class::Editor],
        );
        assert!(lifted
            .iter()
            .all(|f| f.class != Class::Git && f.class != Class::Editor));
        assert!(lifted.iter().any(|f| f.class == Class::Agent));

        // The home directory inside a writable tree: its start-up files too;
        // a nested missing one whose parent is missing is not listed.
        let found = find(std::slice::from_ref(&base), Some(&repo), &[]);
        assert!(found.iter().any(|f| f.path == repo.join(".bashrc")));
        assert!(!found.iter().any(|f| f.path == repo.join(".config/git")));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn unknown_classes_are_refused_naming_the_field() {
        let err =
            Class::parse_list("filesystem.unprotect", &["git".into(), "gti".into()]).unwrap_err();
        assert!(
            err.message.contains("filesystem.unprotect[1]"),
            "{}",
            err.message
        );
        assert!(err.message.contains("git, home, direnv, editor, agent"));
        assert_eq!(
            Class::parse_list("f", &["all".into()]).unwrap(),
            Class::ALL.to_vec()
        );
    }
}
