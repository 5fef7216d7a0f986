//! Resolution: a validated config plus the host's filesystem and the caller's
//! identity become a [`Plan`]. This is the only place that looks at the host.

use std::collections::HashMap;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::aliases;
pub use crate::caller::Caller;
use crate::config::Config;
use crate::error::{ErrorCode, PolicyError, Result};
use crate::host_sockets::{self, WhenListed};
use crate::plan::{path_depth, Access, EnvDefaults, FsEntry, FsPlan, Kind, Origin, Plan};
use crate::validate;

/// The read-only baseline every sandbox sees (SPEC §2.1).
pub const BASELINE: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// PATH when `process.env` does not set one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Validate and resolve a one-shot config into a plan, held under the
/// operator's ceiling (see [`crate::ceiling`]) if the host has one.
pub fn resolve_one_shot(config: &Config, caller: Caller) -> Result<Plan> {
    let in_force = crate::ceiling::InForce::load()?;
    let mut plan = resolve_one_shot_under(config, caller, in_force.ceiling.as_ref())
        .map_err(|e| in_force.explain(e))?;
    plan.notices.extend(in_force.notice);
    Ok(plan)
}

/// [`resolve_one_shot`] under the given ceiling (`None`: none).
pub fn resolve_one_shot_under(
    config: &Config,
    caller: Caller,
    ceiling: Option<&crate::ceiling::Ceiling>,
) -> Result<Plan> {
    let version = validate::schema_version(config)?;
    if config.phase.is_some() {
        return Err(PolicyError::new(
            ErrorCode::MalformedRequest,
            "phase: a state-aware request is not a one-shot run",
        ));
    }
    if config.sandbox_id.is_some() {
        return Err(PolicyError::malformed(
            "sandboxId: only state-aware requests (with \"phase\") name a sandbox; remove it for a one-shot run",
        ));
    }
    let containment = validate::containment(config, version)?;
    let process = config.process.clone().unwrap_or_default();
    let command_line = process.command_line.clone().ok_or_else(|| {
        PolicyError::malformed("process.commandLine: required for a one-shot run")
    })?;
    validate::check_text("process.commandLine", &command_line)?;
    let (user_env, env_warnings) = user_environment(&process)?;
    if let Some(cwd) = &process.cwd {
        validate::check_path("process.cwd", cwd)?;
        if Path::new(cwd)
            .components()
            .any(|c| matches!(c, Component::ParentDir))
        {
            return Err(PolicyError::malformed(format!(
                "process.cwd: {cwd:?} must not contain \"..\""
            )));
        }
    }
    let timeout = process
        .timeout
        .filter(|ms| *ms > 0)
        .map(|ms| Duration::from_millis(ms.into()));
    validate::ui(config)?;
    let resources = validate::resources(config)?;
    let (network, mut notices) = validate::network(config, version)?;
    let published = validate::published(config, &network)?;
    notices.extend(env_warnings);
    let caller_home = std::env::var_os("HOME").map(PathBuf::from);
    let mut presets = crate::presets::resolve(
        config.presets.as_deref().unwrap_or_default(),
        caller_home.as_deref(),
    )?;
    let filesystem = resolve_filesystem(config, caller, &presets.readonly, ceiling)?;

    let (cwd, cwd_defaulted) = match &process.cwd {
        Some(cwd) if process.cwd_is_callers => {
            check_callers_dir_visible(Path::new(cwd), &filesystem)?;
            (PathBuf::from(cwd), false)
        }
        Some(cwd) => {
            check_cwd_visible(Path::new(cwd), &filesystem)?;
            (PathBuf::from(cwd), false)
        }
        None => (default_cwd(config, &filesystem), true),
    };
    presets.in_project(&cwd);
    let defaults = EnvDefaults {
        home: if filesystem.private_tmp {
            PathBuf::from(crate::plan::PRIVATE_HOME)
        } else {
            cwd.clone()
        },
        path_prefix: presets.path,
        vars: presets.vars,
    };
    let env = final_environment(
        user_env,
        &defaults,
        network.proxy_url().as_deref(),
        &mut notices,
    );
    if !filesystem.private_tmp && env.iter().any(|(k, v)| k == "HOME" && Path::new(v) == cwd) {
        notices.push(format!(
            "HOME is the working directory {}: /tmp is granted from the host, so the sandbox \
             has no private home",
            cwd.display()
        ));
    }

    let mut plan = Plan {
        container_id: config.container_id.clone(),
        version,
        containment,
        command_line,
        command_words: None,
        cwd,
        cwd_defaulted,
        defaults,
        env,
        timeout,
        filesystem,
        network,
        published,
        resources,
        notices,
        policy_hash: String::new(),
        allowed_backends: None,
        ceiling: None,
    };
    if let Some(ceiling) = ceiling {
        ceiling.hold(&mut plan)?;
        plan.ceiling = Some(ceiling.source.clone());
    }
    plan.policy_hash = policy_hash(&plan);
    Ok(plan)
}

/// What one command in an existing sandbox runs as (state-aware `exec`).
#[derive(Debug, Clone)]
pub struct ProcessPlan {
    pub argv: Vec<String>,
    /// The command as words when the caller gave it so (`cordon exec ID --
    /// CMD ARGS`); see `Plan::command_words`.
    pub words: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub timeout: Option<Duration>,
    /// Entries of `process.env` that were skipped, to say on stderr.
    pub warnings: Vec<String>,
}

/// Resolve only the `process` part of a config for a sandbox whose policy was
/// resolved when it started; `default_cwd` and `defaults` are that sandbox's.
pub fn resolve_process(
    process: &crate::config::Process,
    proxy_url: Option<&str>,
    default_cwd: &Path,
    defaults: &EnvDefaults,
) -> Result<ProcessPlan> {
    let command_line = process
        .command_line
        .clone()
        .ok_or_else(|| PolicyError::malformed("process.commandLine: required for exec"))?;
    validate::check_text("process.commandLine", &command_line)?;
    let (user_env, warnings) = user_environment(process)?;
    let cwd = match &process.cwd {
        Some(cwd) => {
            validate::check_path("process.cwd", cwd)?;
            PathBuf::from(cwd)
        }
        None => default_cwd.to_path_buf(),
    };
    let mut warnings = warnings;
    let env = final_environment(user_env, defaults, proxy_url, &mut warnings);
    Ok(ProcessPlan {
        argv: vec!["/bin/sh".into(), "-c".into(), command_line],
        words: None,
        env,
        cwd,
        timeout: process
            .timeout
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms.into())),
        warnings,
    })
}

/// The caller's part of the environment: `None` when the default
/// environment applies, else the entries (see [`final_environment`]).
type UserEnv = (Option<Vec<(String, String)>>, bool);

fn user_environment(process: &crate::config::Process) -> Result<(UserEnv, Vec<String>)> {
    let Some(entries) = &process.env else {
        return Ok(((None, true), Vec::new()));
    };
    let (env, warnings) = validate::environment(entries)?;
    Ok((
        (Some(env), process.inherit_default_env == Some(true)),
        warnings,
    ))
}

/// Validate and resolve a config that provisions a sandbox: like a one-shot
/// run, but `process.commandLine` is optional (commands come with `exec`).
pub fn resolve_sandbox(config: &Config, caller: Caller) -> Result<Plan> {
    let in_force = crate::ceiling::InForce::load()?;
    let mut plan = resolve_sandbox_under(config, caller, in_force.ceiling.as_ref())
        .map_err(|e| in_force.explain(e))?;
    plan.notices.extend(in_force.notice);
    Ok(plan)
}

/// [`resolve_sandbox`] under the given ceiling (`None`: none).
pub fn resolve_sandbox_under(
    config: &Config,
    caller: Caller,
    ceiling: Option<&crate::ceiling::Ceiling>,
) -> Result<Plan> {
    let mut config = config.clone();
    config.phase = None;
    config.sandbox_id = None;
    let process = config.process.get_or_insert_with(Default::default);
    if process.command_line.is_none() {
        process.command_line = Some("true".into());
    }
    resolve_one_shot_under(&config, caller, ceiling)
}

/// A `process.cwd` the sandbox cannot see is refused before anything runs.
/// The sandbox's own directories that exist when it starts (`/`, its
/// private `/tmp` and home) count; below `/proc` and `/dev` is left to the
/// sandbox to judge. Anything else below a private `/tmp` cannot exist yet.
fn check_cwd_visible(cwd: &Path, fs: &FsPlan) -> Result<()> {
    let own_tmp =
        fs.private_tmp && (cwd == Path::new("/tmp") || cwd == Path::new(crate::plan::PRIVATE_HOME));
    if cwd == Path::new("/") || own_tmp || ["/proc", "/dev"].iter().any(|d| cwd.starts_with(d)) {
        return Ok(());
    }
    let canonical = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    if fs.shows(&canonical) {
        return Ok(());
    }
    Err(PolicyError::policy(format!(
        "process.cwd: {} is not visible in the sandbox; grant it (filesystem.readonlyPaths or \
         readwritePaths), or choose a directory the sandbox sees",
        cwd.display()
    )))
}

/// `cordon run` without `--cwd` works in the caller's own directory, which
/// the sandbox must see as the caller does: a granted path, or `/`. The
/// sandbox's private `/tmp` is not the caller's `/tmp`, so it does not count.
fn check_callers_dir_visible(dir: &Path, fs: &FsPlan) -> Result<()> {
    if dir == Path::new("/") || fs.shows(dir) {
        return Ok(());
    }
    let shown = dir.display();
    Err(PolicyError::policy(format!(
        "the current directory {shown} is not visible in the sandbox, and the command would \
         run there: grant it with --ro {shown} (or --rw {shown}), or choose a directory with \
         --cwd DIR (--cwd /tmp: the sandbox's private /tmp)"
    )))
}

/// SPEC §2.1: the first existing directory among readwritePaths, else among
/// readonlyPaths, else the private /tmp. Only directories the sandbox can use count.
fn default_cwd(config: &Config, fs: &FsPlan) -> PathBuf {
    let lists = config.filesystem.clone().unwrap_or_default();
    for list in [lists.readwrite_paths, lists.readonly_paths]
        .into_iter()
        .flatten()
    {
        for raw in list {
            let Ok(path) = std::fs::canonicalize(&raw) else {
                continue;
            };
            if path.is_dir() && fs.shows(&path) {
                return path;
            }
        }
    }
    PathBuf::from("/tmp")
}

/// SPEC §2.4: a cleared environment. Without `process.env`: PATH, HOME
/// (`home`: the sandbox's private home, see [`Plan::home`]) and LANG defaults. With it: exactly its entries, over those defaults when
/// `inherit` (`inheritDefaultEnv` from schema 0.9 on, and always before 0.9).
/// The proxy variables of the network plan (`proxy_url`) replace any the
/// caller set, in every case; `NO_PROXY` then names the sandbox's own
/// loopback (and the caller's entries that name only loopback), so that a
/// server the workload starts on 127.0.0.1 is reached directly. Entries
/// that would bypass the proxy elsewhere are dropped and said in `notices`.
fn final_environment(
    (user_env, inherit): UserEnv,
    defaults_of_sandbox: &EnvDefaults,
    proxy_url: Option<&str>,
    notices: &mut Vec<String>,
) -> Vec<(String, String)> {
    const PROXY_VARS: &[&str] = &[
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ];
    let defaults_apply = user_env.is_none() || inherit;
    let mut env = user_env.unwrap_or_default();
    let has = |env: &[(String, String)], key: &str| env.iter().any(|(k, _)| k == key);
    if let Some(url) = proxy_url {
        let no_proxy = loopback_no_proxy(&env, notices);
        env.retain(|(k, _)| {
            !PROXY_VARS.contains(&k.as_str()) && k != "NO_PROXY" && k != "no_proxy"
        });
        for var in PROXY_VARS {
            env.push((var.to_string(), url.to_string()));
        }
        for var in ["NO_PROXY", "no_proxy"] {
            env.push((var.to_string(), no_proxy.clone()));
        }
    }
    // What presets ask for was asked for by name: it applies even where
    // the environment is otherwise used verbatim (schema 0.9 on).
    for (key, value) in &defaults_of_sandbox.vars {
        if !has(&env, key) {
            env.push((key.clone(), value.clone()));
        }
    }
    if !defaults_of_sandbox.path_prefix.is_empty() {
        let prefix: Vec<String> = defaults_of_sandbox
            .path_prefix
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let rest = env
            .iter()
            .position(|(k, _)| k == "PATH")
            .map(|at| env.remove(at).1)
            .unwrap_or_else(|| DEFAULT_PATH.to_string());
        env.push(("PATH".to_string(), format!("{}:{rest}", prefix.join(":"))));
    }
    if !defaults_apply {
        return env;
    }
    let mut defaults = Vec::new();
    if !has(&env, "PATH") {
        defaults.push(("PATH".to_string(), DEFAULT_PATH.to_string()));
    }
    if !has(&env, "HOME") {
        defaults.push((
            "HOME".to_string(),
            defaults_of_sandbox.home.to_string_lossy().into_owned(),
        ));
    }
    if !has(&env, "LANG") {
        defaults.push(("LANG".to_string(), "C.UTF-8".to_string()));
    }
    defaults.extend(env);
    defaults
}

/// What `NO_PROXY` may hold under a proxy: the sandbox's own loopback.
const LOOPBACK_NO_PROXY: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// `NO_PROXY` for a sandbox whose way out is a proxy: the loopback names and
/// addresses, plus the caller's entries (either case of the variable) that
/// name only loopback; any other entry would let a client skip the proxy,
/// which has no other way out anyway, so it is dropped and said.
fn loopback_no_proxy(env: &[(String, String)], notices: &mut Vec<String>) -> String {
    let mut entries: Vec<String> = LOOPBACK_NO_PROXY.iter().map(|e| e.to_string()).collect();
    let mut dropped: Vec<String> = Vec::new();
    for (_, value) in env
        .iter()
        .filter(|(k, _)| k == "NO_PROXY" || k == "no_proxy")
    {
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bare = entry.trim_start_matches('.');
            let host = bare
                .strip_prefix('[')
                .and_then(|h| h.split_once(']').map(|(h, _)| h))
                .unwrap_or_else(|| {
                    bare.rsplit_once(':')
                        .filter(|(h, _)| !h.contains(':'))
                        .map_or(bare, |(h, _)| h)
                });
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.to_ascii_lowercase().ends_with(".localhost")
                || host
                    .split('/')
                    .next()
                    .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                    .is_some_and(|a| a.is_loopback());
            let list = if loopback { &mut entries } else { &mut dropped };
            if !list.iter().any(|e| e == entry) {
                list.push(entry.to_string());
            }
        }
    }
    if !dropped.is_empty() {
        notices.push(format!(
            "process.env: NO_PROXY entries {} dropped: the sandbox's only way out is the proxy; \
             only its own loopback is reached directly",
            dropped.join(", ")
        ));
    }
    entries.join(",")
}

struct Listed {
    field: String,
    path: PathBuf,
    access: Access,
    kind: Kind,
    /// (st_dev, st_ino) of an existing object.
    id: Option<(u64, u64)>,
}

/// Resolve the filesystem lists into the sandbox's view (SPEC §2.1).
pub fn resolve_filesystem(
    config: &Config,
    caller: Caller,
    preset_paths: &[PathBuf],
    ceiling: Option<&crate::ceiling::Ceiling>,
) -> Result<FsPlan> {
    let fs = config.filesystem.clone().unwrap_or_default();
    let mut listed: Vec<Listed> = Vec::new();
    for (name, list, access) in [
        ("readwritePaths", &fs.readwrite_paths, Access::ReadWrite),
        ("readonlyPaths", &fs.readonly_paths, Access::ReadOnly),
        ("deniedPaths", &fs.denied_paths, Access::Denied),
    ] {
        for (i, raw) in list.as_deref().unwrap_or_default().iter().enumerate() {
            let field = format!("filesystem.{name}[{i}]");
            validate::check_path(&field, raw)?;
            listed.push(resolve_one(&field, raw, access, caller)?);
        }
    }
    // A preset reads what the config does not already say something about.
    for path in preset_paths {
        let raw = path.to_string_lossy();
        let field = format!("presets (read-only {raw})");
        let entry = resolve_one(&field, &raw, Access::ReadOnly, caller)?;
        if !listed.iter().any(|l| l.path == entry.path) {
            listed.push(entry);
        }
    }

    // Same path listed twice, or one object reached by two paths: most restrictive wins.
    let mut by_path: HashMap<PathBuf, Access> = HashMap::new();
    let mut by_object: HashMap<(u64, u64), Access> = HashMap::new();
    for entry in &listed {
        let slot = by_path.entry(entry.path.clone()).or_insert(entry.access);
        *slot = (*slot).max(entry.access);
        if let Some(id) = entry.id {
            let slot = by_object.entry(id).or_insert(entry.access);
            *slot = (*slot).max(entry.access);
        }
    }
    let mut entries: Vec<FsEntry> = Vec::new();
    for entry in &listed {
        if entries.iter().any(|e| e.path == entry.path) {
            continue;
        }
        let mut access = by_path[&entry.path];
        if let Some(id) = entry.id {
            access = access.max(by_object[&id]);
        }
        entries.push(FsEntry {
            path: entry.path.clone(),
            access,
            kind: entry.kind,
            origin: Origin::Listed,
        });
    }
    check_reserved(&listed)?;

    // The baseline, where the config does not say otherwise about the same path.
    for base in BASELINE {
        let path = Path::new(base);
        if entries.iter().any(|e| e.path == path) {
            continue;
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => entries.push(FsEntry {
                path: path.to_path_buf(),
                access: Access::ReadOnly,
                kind: Kind::Dir,
                origin: Origin::Baseline,
            }),
            // Merged-/usr symlinks (/bin -> usr/bin) are recreated by the backend.
            _ => continue,
        }
    }
    if let Some(ceiling) = ceiling {
        deny_for_ceiling(&mut entries, ceiling, caller)?;
    }
    let private_tmp = !entries.iter().any(|e| e.path == Path::new("/tmp"));

    let mut plan = FsPlan {
        entries,
        private_tmp,
        placeholders: Vec::new(),
        hide_root_only_files: caller.is_root(),
    };

    let lifted = crate::protected::Class::parse_list(
        "filesystem.unprotect",
        fs.unprotect.as_deref().unwrap_or_default(),
    )?;
    protect_host_executed(&mut plan, &listed, &lifted);
    deny_host_sockets(&mut plan, &listed, caller)?;

    // Other paths to denied objects (bind mounts, hard links) that the sandbox could see.
    let denied: Vec<(PathBuf, Kind)> = plan
        .entries
        .iter()
        .filter(|e| e.access == Access::Denied && e.kind != Kind::Missing)
        .map(|e| (e.path.clone(), e.kind))
        .collect();
    deny_aliases(&mut plan, denied)?;

    // Missing denied paths inside a writable tree must not be creatable.
    let mut placeholders = Vec::new();
    for entry in plan.entries.iter().filter(|e| e.kind == Kind::Missing) {
        let parent_access = entry
            .path
            .parent()
            .and_then(|parent| plan.access_at(parent));
        if parent_access == Some(Access::ReadWrite) {
            placeholders.push(first_missing_component(&entry.path));
        }
    }
    placeholders.sort();
    placeholders.dedup();
    // A placeholder replaces the deeper missing entry it covers.
    for ph in &placeholders {
        plan.entries
            .retain(|e| !(e.kind == Kind::Missing && e.path.starts_with(ph) && &e.path != ph));
        if !plan.entries.iter().any(|e| &e.path == ph) {
            plan.entries.push(FsEntry {
                path: ph.clone(),
                access: Access::Denied,
                kind: Kind::Missing,
                origin: Origin::Listed,
            });
        }
    }
    // Missing denied paths outside any writable tree are invisible or read-only: nothing to mask.
    plan.entries
        .retain(|e| e.kind != Kind::Missing || placeholders.contains(&e.path));
    plan.placeholders = placeholders;

    plan.sort_entries();
    Ok(plan)
}

/// Files the host runs later (see [`crate::protected`]) inside the writable
/// trees: read-only where they exist, uncreatable where they do not (a
/// missing entry in a writable tree becomes a placeholder below). A path the
/// config lists itself keeps what the config says.
fn protect_host_executed(plan: &mut FsPlan, listed: &[Listed], lifted: &[crate::protected::Class]) {
    let writable: Vec<PathBuf> = listed
        .iter()
        .filter(|l| l.access == Access::ReadWrite && l.kind == Kind::Dir)
        .map(|l| l.path.clone())
        .collect();
    if writable.is_empty() {
        return;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for found in crate::protected::find(&writable, home.as_deref(), lifted) {
        if listed.iter().any(|l| l.path == found.path)
            || plan.access_at(&found.path) != Some(Access::ReadWrite)
        {
            continue;
        }
        // What the caller cannot create, its sandbox cannot either (a
        // placeholder could not be made there anyway).
        if found.kind == Kind::Missing
            && !found
                .path
                .parent()
                .is_some_and(|parent| caller_may(parent, libc::W_OK | libc::X_OK))
        {
            continue;
        }
        // A missing one is held by a placeholder (an empty directory) bound
        // read-only: nothing can be created there, and listing it shows an
        // empty directory rather than an error (git's status stays quiet).
        plan.entries.push(FsEntry {
            path: found.path,
            access: Access::ReadOnly,
            kind: found.kind,
            origin: Origin::HostExecuted,
        });
    }
}

/// Add the other names (bind mounts, hard links) of the `denied` objects that
/// the sandbox could see as denied entries too.
fn deny_aliases(plan: &mut FsPlan, denied: Vec<(PathBuf, Kind)>) -> Result<()> {
    if denied.is_empty() {
        return Ok(());
    }
    let finder = aliases::AliasFinder::new();
    for (path, kind) in denied {
        for alias in finder
            .other_paths(&path, kind, plan)
            .map_err(|e| PolicyError::policy(format!("deniedPaths: {}", e)))?
        {
            if alias != path && !plan.entries.iter().any(|e| e.path == alias) {
                plan.entries.push(FsEntry {
                    path: alias,
                    access: Access::Denied,
                    kind,
                    origin: Origin::Alias,
                });
            }
        }
    }
    Ok(())
}

/// The host's session and service sockets (see [`host_sockets`]) stay out of
/// the sandbox even inside a granted tree (e.g. `/tmp` listed read-write
/// exposes `/tmp/.X11-unix`). Listing a display or session-bus socket itself
/// asks for UI access, which is refused (SPEC §2.3); listing a service or
/// agent socket itself grants it.
fn deny_host_sockets(plan: &mut FsPlan, listed: &[Listed], caller: Caller) -> Result<()> {
    let granted_below = |path: &Path| {
        listed
            .iter()
            .find(|l| l.access != Access::Denied && l.path.starts_with(path))
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let matters = |path: &Path| plan.shows(path) || granted_below(path).is_some();
    for socket in host_sockets::find(caller, home.as_deref(), matters) {
        if let Some(entry) = granted_below(&socket.path) {
            match socket.when_listed {
                WhenListed::Refused => {
                    let inside = match entry.path == socket.path {
                        true => String::new(),
                        false => format!(" (inside {})", socket.path.display()),
                    };
                    return Err(PolicyError::policy(format!(
                        "{}: {} is where the host session's display or session bus \
                         listens{inside}; cordon on Linux never gives the sandbox a display",
                        entry.field,
                        entry.path.display(),
                    )));
                }
                // The socket itself is granted as listed.
                WhenListed::Granted if listed.iter().any(|l| l.path == socket.path) => continue,
                // A path listed inside a socket directory is bound over the
                // directory's mask; the rest of the directory stays hidden.
                WhenListed::Granted => {}
            }
        }
        if plan.shows(&socket.path) {
            plan.entries.push(FsEntry {
                path: socket.path,
                access: Access::Denied,
                kind: socket.kind,
                origin: Origin::HostSocket,
            });
        }
    }
    Ok(())
}

/// What cordon keeps out of every sandbox, for the error that refuses a
/// config listing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protected {
    /// The operator's audit log: the workload must not read or rewrite the
    /// record of what it did.
    AuditLog,
    /// The lifecycle state root: records, locks and exec sockets of the
    /// user's long-lived sandboxes.
    StateRoot,
    /// The file the outcome of the run goes to (`--outcome-file`): the
    /// workload must not write what its caller reads as cordon's report.
    OutcomeFile,
}

impl Protected {
    fn describe(self) -> &'static str {
        match self {
            Protected::AuditLog => "the operator's audit log",
            Protected::StateRoot => {
                "cordon's lifecycle state (records, locks and exec sockets of long-lived sandboxes)"
            }
            Protected::OutcomeFile => "the file cordon reports the run's outcome to",
        }
    }
}

/// Keep one of cordon's own files or directories out of the sandbox, also
/// when it lies inside a granted tree, together with its other names there.
/// A config that lists it, or a path inside it, is refused; a path the
/// sandbox cannot see is left alone.
pub fn protect_path(plan: &mut FsPlan, path: &Path, what: Protected) -> Result<()> {
    let Ok(path) = std::fs::canonicalize(path) else {
        return Ok(());
    };
    if let Some(listed) = plan
        .entries
        .iter()
        .find(|e| e.origin == Origin::Listed && e.path.starts_with(&path))
    {
        let inside = match listed.path == path {
            true => String::new(),
            false => format!(" (inside {})", path.display()),
        };
        return Err(PolicyError::policy(format!(
            "filesystem: {}{inside} is {}, which no sandbox may be given",
            listed.path.display(),
            what.describe()
        )));
    }
    if !plan.shows(&path) {
        return Ok(());
    }
    let kind = match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_dir() => Kind::Dir,
        _ => Kind::File,
    };
    plan.entries.push(FsEntry {
        path: path.clone(),
        access: Access::Denied,
        kind,
        origin: Origin::Protected,
    });
    deny_aliases(plan, vec![(path, kind)])?;
    plan.sort_entries();
    Ok(())
}

/// Hide host root's secrets with masks, for backends that cannot present the
/// baseline without its owners: the root-only entries of `/etc` at any depth
/// (see [`aliases::root_only_files`]) and their other names become denied
/// entries, unless the config lists the same path. Clears
/// `hide_root_only_files`.
pub fn mask_root_only_files(plan: &mut FsPlan) -> Result<()> {
    if !plan.hide_root_only_files {
        return Ok(());
    }
    let mut added = Vec::new();
    for (path, kind) in aliases::root_only_files(Path::new("/etc")) {
        if !plan.entries.iter().any(|e| e.path == path) {
            plan.entries.push(FsEntry {
                path: path.clone(),
                access: Access::Denied,
                kind,
                origin: Origin::RootSecret,
            });
            added.push((path, kind));
        }
    }
    deny_aliases(plan, added)?;
    plan.sort_entries();
    plan.hide_root_only_files = false;
    Ok(())
}

/// Paths the sandbox provides itself cannot be replaced by host paths.
fn check_reserved(listed: &[Listed]) -> Result<()> {
    for entry in listed {
        if entry.path.starts_with("/proc") {
            return Err(PolicyError::policy(format!(
                "{}: {} is inside /proc; the sandbox has its own /proc and never sees the host's",
                entry.field,
                entry.path.display()
            )));
        }
        if entry.path == Path::new("/dev") && entry.access != Access::Denied {
            return Err(PolicyError::policy(format!(
                "{}: /dev cannot be granted as a whole; list the device nodes the command needs \
                 (e.g. /dev/kvm)",
                entry.field
            )));
        }
    }
    Ok(())
}

/// The ceiling's denied paths: a grant at or inside one is refused; one
/// inside a granted tree (or the baseline) is denied there.
fn deny_for_ceiling(
    entries: &mut Vec<FsEntry>,
    ceiling: &crate::ceiling::Ceiling,
    caller: Caller,
) -> Result<()> {
    for (i, denied) in ceiling.denied.iter().enumerate() {
        if let Some(grant) = entries.iter().find(|e| {
            e.origin == Origin::Listed && e.access != Access::Denied && e.path.starts_with(denied)
        }) {
            return Err(PolicyError::policy(format!(
                "filesystem: {} lies in {}, which the operator's ceiling denies ({} \
                 filesystem.denied[{i}]); grant something else",
                grant.path.display(),
                denied.display(),
                ceiling.source.display()
            )));
        }
        let shown = entries
            .iter()
            .filter(|e| denied.starts_with(&e.path))
            .max_by_key(|e| e.depth())
            .is_some_and(|e| e.access != Access::Denied);
        if !shown {
            continue;
        }
        let field = format!("{} filesystem.denied[{i}]", ceiling.source.display());
        // A path the caller cannot reach is out of its sandbox's reach too.
        let Ok(listed) = resolve_one(&field, &denied.to_string_lossy(), Access::Denied, caller)
        else {
            continue;
        };
        entries.retain(|e| e.path != listed.path);
        entries.push(FsEntry {
            path: listed.path,
            access: Access::Denied,
            kind: listed.kind,
            origin: Origin::Ceiling,
        });
    }
    Ok(())
}

fn resolve_one(field: &str, raw: &str, access: Access, caller: Caller) -> Result<Listed> {
    let raw_path = Path::new(raw);
    // A denied path that another run holds a placeholder for does not exist.
    if access == Access::Denied && crate::plan::is_placeholder(raw_path) {
        return Ok(Listed {
            field: field.to_string(),
            path: canonicalize_missing(field, raw_path)?,
            access,
            kind: Kind::Missing,
            id: None,
        });
    }
    match std::fs::canonicalize(raw_path) {
        Ok(path) => {
            let meta = std::fs::metadata(&path)
                .map_err(|e| PolicyError::policy(format!("{field}: cannot inspect {raw}: {e}")))?;
            let kind = if meta.is_dir() { Kind::Dir } else { Kind::File };
            if access != Access::Denied {
                check_delegation(field, &path, access, kind, caller)?;
            }
            Ok(Listed {
                field: field.to_string(),
                path,
                access,
                kind,
                id: Some((meta.dev(), meta.ino())),
            })
        }
        Err(e) if access == Access::Denied && is_missing(&e) => Ok(Listed {
            field: field.to_string(),
            path: canonicalize_missing(field, raw_path)?,
            access,
            kind: Kind::Missing,
            id: None,
        }),
        Err(e) if is_missing(&e) => Err(PolicyError::policy(format!(
            "{field}: {raw} does not exist (a {} path must exist before the sandbox starts)",
            access.name()
        ))),
        Err(e) => Err(PolicyError::policy(format!(
            "{field}: cannot resolve {raw}: {e}"
        ))),
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR))
}

/// Canonical form of a path that does not exist: its longest existing ancestor
/// canonicalised, plus the remaining components.
fn canonicalize_missing(field: &str, raw: &Path) -> Result<PathBuf> {
    let mut existing = raw.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(canon) = std::fs::canonicalize(&existing) {
            let mut out = canon;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                if name == ".." || name == "." {
                    break;
                }
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    Err(PolicyError::malformed(format!(
        "{field}: {} cannot be resolved (\".\" and \"..\" are not allowed in a path that does \
         not exist)",
        raw.display()
    )))
}

fn first_missing_component(path: &Path) -> PathBuf {
    let mut current = PathBuf::from("/");
    for comp in path.components().skip(1) {
        current.push(comp);
        if std::fs::symlink_metadata(&current).is_err() {
            return current;
        }
    }
    path.to_path_buf()
}

/// Whether the invoking user may access `path` with `mode` (effective ids).
fn caller_may(path: &Path, mode: libc::c_int) -> bool {
    let Ok(cpath) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: cpath is a valid NUL-terminated string that outlives the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, cpath.as_ptr(), mode, libc::AT_EACCESS) == 0 }
}

/// A grant never exceeds what the caller can do on the host.
fn check_delegation(
    field: &str,
    path: &Path,
    access: Access,
    kind: Kind,
    caller: Caller,
) -> Result<()> {
    let mut mode = libc::R_OK;
    if kind == Kind::Dir {
        mode |= libc::X_OK;
    }
    if access == Access::ReadWrite {
        mode |= libc::W_OK;
    }
    let Ok(cpath) = CString::new(path.as_os_str().as_bytes()) else {
        return Err(PolicyError::malformed(format!("{field}: contains NUL")));
    };
    // SAFETY: cpath is a valid NUL-terminated string that outlives the call.
    let rc = unsafe { libc::faccessat(libc::AT_FDCWD, cpath.as_ptr(), mode, libc::AT_EACCESS) };
    if rc != 0 {
        let what = if access == Access::ReadWrite {
            "writable"
        } else {
            "readable"
        };
        return Err(PolicyError::policy(format!(
            "{field}: {} is not {what} by the invoking user (uid {}); a grant cannot exceed \
             the caller's own access ({})",
            path.display(),
            caller.uid,
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Stable FNV-1a hash of what the plan enforces, for audit records.
fn policy_hash(plan: &Plan) -> String {
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        plan.version,
        plan.containment,
        plan.command_line,
        plan.cwd,
        plan.env,
        plan.timeout,
        plan.filesystem,
        plan.network,
        plan.published,
        plan.resources
    );
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

/// Depth helper re-exported for backends that order their own mounts.
pub fn depth(path: &Path) -> usize {
    path_depth(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_only_files_are_left_to_the_backend_until_masked() {
        let config = crate::parse_config(br#"{"process": {"commandLine": "true"}}"#).unwrap();
        let root = Caller { uid: 0, gid: 0 };
        let plan = resolve_one_shot(&config, root).unwrap();
        assert!(plan.filesystem.hide_root_only_files);
        assert!(!plan
            .filesystem
            .entries
            .iter()
            .any(|e| e.origin == Origin::RootSecret));

        let mut masked = plan.filesystem.clone();
        mask_root_only_files(&mut masked).unwrap();
        assert!(!masked.hide_root_only_files);
        // Debian's /etc/shadow is root-only (mode 0640, group shadow).
        if std::fs::symlink_metadata("/etc/shadow").is_ok() {
            assert!(masked
                .entries
                .iter()
                .any(|e| e.path == Path::new("/etc/shadow")
                    && e.access == Access::Denied
                    && e.origin == Origin::RootSecret));
        }
        // Entries stay ordered shallow to deep.
        assert!(masked
            .entries
            .windows(2)
            .all(|w| w[0].depth() <= w[1].depth()));

        let user = Caller {
            uid: 1000,
            gid: 1000,
        };
        let plan = resolve_one_shot(&config, user).unwrap();
        assert!(!plan.filesystem.hide_root_only_files);
    }
}
