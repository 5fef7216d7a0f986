//! Presets: named, opt-in bundles that bring a toolchain or the user's git
//! identity into a sandbox read-only (`--preset NAME`, the `presets` field,
//! a cordon extension).
//!
//! A preset never grants write access to anything of the host's. Tool
//! caches (`~/.cargo/registry`, `~/.cache/pip`, `~/.cache/uv`, `~/.npm`,
//! `~/.cache/go-build`, `~/go/pkg`) are not brought in at all: they default
//! to the sandbox's private home ([`crate::plan::PRIVATE_HOME`]), so each
//! sandbox starts from an empty cache of its own and nothing it downloads or
//! writes can reach the next run's dependencies on the host. Credentials
//! (`~/.cargo/credentials.toml`, `~/.npmrc`, `~/.pypirc`, `~/.netrc`,
//! `~/.git-credentials`, `~/.ssh`) are never part of a preset.

use std::path::{Path, PathBuf};

use crate::error::{PolicyError, Result};

/// The presets there are, in the order they are listed to the user.
pub const NAMES: &[&str] = &["git", "rust", "python", "node", "go"];

/// What the presets of one run add to its policy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PresetGrants {
    /// Host paths the sandbox may read (existing ones only).
    pub readonly: Vec<PathBuf>,
    /// Directories put in front of `PATH`.
    pub path: Vec<PathBuf>,
    /// Variables set unless the config's environment sets them.
    pub vars: Vec<(String, String)>,
    /// The python preset: a virtual environment in the working directory
    /// comes first (see [`PresetGrants::in_project`]).
    venv: bool,
}

impl PresetGrants {
    fn read(&mut self, path: PathBuf) -> bool {
        let exists = path.exists();
        if exists && !self.readonly.contains(&path) {
            self.readonly.push(path);
        }
        exists
    }

    fn var(&mut self, key: &str, value: impl Into<String>) {
        self.vars.push((key.to_string(), value.into()));
    }

    /// What depends on the working directory, once it is chosen: the
    /// project's `.venv` for the python preset.
    pub fn in_project(&mut self, cwd: &Path) {
        let venv = cwd.join(".venv");
        if self.venv && venv.join("bin/python").exists() {
            self.path.insert(0, venv.join("bin"));
            self.var("VIRTUAL_ENV", venv.to_string_lossy());
        }
    }
}

/// Resolve `names` for a caller whose home is `caller_home` (errors name the
/// entry of the `presets` field).
pub fn resolve(names: &[String], caller_home: Option<&Path>) -> Result<PresetGrants> {
    let mut grants = PresetGrants::default();
    for (i, name) in names.iter().enumerate() {
        let field = format!("presets[{i}]");
        let needs_home = || {
            caller_home.ok_or_else(|| {
                PolicyError::policy(format!(
                    "{field}: the {name:?} preset reads your home directory, but HOME is not set"
                ))
            })
        };
        match name.as_str() {
            "git" => git(&mut grants, needs_home()?, &field)?,
            "rust" => rust(&mut grants, caller_home, &field)?,
            "python" => python(&mut grants, caller_home),
            "node" => node(&mut grants),
            "go" => go(&mut grants, caller_home),
            other => {
                return Err(PolicyError::malformed(format!(
                    "{field}: {other:?} is not a preset; the presets are {}",
                    NAMES.join(", ")
                )))
            }
        }
    }
    Ok(grants)
}

/// The user's git identity and settings, read-only; never credentials.
fn git(grants: &mut PresetGrants, caller_home: &Path, field: &str) -> Result<()> {
    let dot = caller_home.join(".gitconfig");
    let xdg = caller_home.join(".config/git/config");
    let global = if dot.is_file() {
        dot
    } else if xdg.is_file() {
        xdg
    } else {
        return Err(PolicyError::policy(format!(
            "{field}: the git preset brings in your git configuration, but neither {} nor {} \
             exists; create one (git config --global user.name \"Your Name\"; git config \
             --global user.email you@example.com) or drop the preset",
            dot.display(),
            xdg.display()
        )));
    };
    grants.read(global.clone());
    // The sandbox's HOME is its own: git is pointed at the user's file.
    grants.var("GIT_CONFIG_GLOBAL", global.to_string_lossy());
    Ok(())
}

/// rustup's toolchains and the cargo/rustup commands, read-only; cargo's
/// registry and caches go to `$HOME/.cargo`, the private home's.
fn rust(grants: &mut PresetGrants, caller_home: Option<&Path>, field: &str) -> Result<()> {
    let mut found = false;
    if let Some(h) = caller_home {
        let rustup = h.join(".rustup");
        if grants.read(rustup.clone()) {
            grants.var("RUSTUP_HOME", rustup.to_string_lossy());
            found = true;
        }
        let bin = h.join(".cargo/bin");
        if grants.read(bin.clone()) {
            grants.path.push(bin);
            found = true;
        }
    }
    found |= Path::new("/usr/bin/cargo").exists() || Path::new("/usr/local/bin/cargo").exists();
    if !found {
        return Err(PolicyError::policy(format!(
            "{field}: the rust preset found no Rust toolchain (~/.rustup, ~/.cargo/bin, \
             /usr/bin/cargo); install one (rustup.rs) or drop the preset"
        )));
    }
    Ok(())
}

/// The user's own commands (`~/.local/bin`: pip's `--user` scripts, uv),
/// read-only, and the project's virtual environment first when it has one.
fn python(grants: &mut PresetGrants, caller_home: Option<&Path>) {
    grants.venv = true;
    if let Some(h) = caller_home {
        let bin = h.join(".local/bin");
        if grants.read(bin.clone()) {
            grants.path.push(bin);
        }
    }
    grants.var("PIP_DISABLE_PIP_VERSION_CHECK", "1");
}

/// npm's cache is `~/.npm` in the private home; npm is told not to phone
/// home for update notices or funding messages.
fn node(grants: &mut PresetGrants) {
    grants.var("npm_config_update_notifier", "false");
    grants.var("npm_config_fund", "false");
}

/// Go's module and build caches default to the private home (`~/go/pkg`,
/// `~/.cache/go-build`); the toolchain is never downloaded.
fn go(grants: &mut PresetGrants, caller_home: Option<&Path>) {
    let usr_local = PathBuf::from("/usr/local/go/bin");
    if usr_local.exists() {
        grants.path.push(usr_local);
    }
    if let Some(h) = caller_home {
        let bin = h.join("go/bin");
        if grants.read(bin.clone()) {
            grants.path.push(bin);
        }
    }
    grants.var("GOTOOLCHAIN", "local");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_presets_are_named_with_the_list() {
        let err = resolve(&["node".into(), "java".into()], None).unwrap_err();
        assert!(
            err.message
                .starts_with("presets[1]: \"java\" is not a preset"),
            "{err}"
        );
        assert!(err.message.contains("git, rust, python, node, go"), "{err}");
    }

    #[test]
    fn toolchain_presets_grant_read_only_and_set_their_variables() {
        let dir = std::env::temp_dir().join(format!("cordon-presets-tc-{}", std::process::id()));
        for sub in ["go/bin", ".local/bin", "proj/.venv/bin"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("proj/.venv/bin/python"), "").unwrap();
        let names: Vec<String> = ["go", "python", "node"].map(String::from).to_vec();
        let mut grants = resolve(&names, Some(&dir)).unwrap();
        grants.in_project(&dir.join("proj"));
        assert_eq!(
            grants.readonly,
            vec![dir.join("go/bin"), dir.join(".local/bin")]
        );
        // The project's venv first, then the user's commands.
        assert_eq!(grants.path[0], dir.join("proj/.venv/bin"));
        assert!(grants.path.contains(&dir.join("go/bin")));
        let var = |k: &str| {
            grants
                .vars
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(var("GOTOOLCHAIN").as_deref(), Some("local"));
        assert_eq!(var("npm_config_update_notifier").as_deref(), Some("false"));
        assert_eq!(
            var("VIRTUAL_ENV"),
            Some(dir.join("proj/.venv").to_string_lossy().into_owned())
        );
        // Without a venv in the project nothing is put first.
        let mut plain = resolve(&names, Some(&dir)).unwrap();
        plain.in_project(&dir);
        assert!(plain.vars.iter().all(|(k, _)| k != "VIRTUAL_ENV"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn git_without_a_configuration_says_how_to_make_one() {
        let dir = std::env::temp_dir().join(format!("cordon-presets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = resolve(&["git".into()], Some(&dir)).unwrap_err();
        assert!(err.message.contains("git config --global"), "{err}");
        std::fs::write(dir.join(".gitconfig"), "[user]\n\tname = T\n").unwrap();
        let grants = resolve(&["git".into()], Some(&dir)).unwrap();
        assert_eq!(grants.readonly, vec![dir.join(".gitconfig")]);
        assert_eq!(grants.vars[0].0, "GIT_CONFIG_GLOBAL");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
