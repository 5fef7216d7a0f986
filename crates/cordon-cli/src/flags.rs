//! `cordon run` flags, turned into the same config document a file would hold,
//! so flags and files go through one parser and one resolver.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use cordon_policy::{Config, PolicyError, SchemaVersion};
use serde_json::{json, Map, Value};

/// `cordon run`: the policy flags, a terminal, the command.
#[derive(Args, Debug, Default)]
pub struct RunArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Give the command a terminal.
    #[arg(long)]
    pub pty: bool,
    /// The command and its arguments.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The flags that describe a policy: `cordon run`'s, and `cordon provision`'s.
#[derive(Args, Debug, Default, Clone)]
pub struct PolicyArgs {
    /// Start from this config file (`-`: standard input); flags add to it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Readable, not writable (repeatable).
    #[arg(long = "ro", value_name = "PATH")]
    pub readonly: Vec<String>,
    /// Readable and writable; writes land on the host (repeatable).
    #[arg(long = "rw", value_name = "PATH")]
    pub readwrite: Vec<String>,
    /// Not readable, listable, writable or executable, even inside an allowed path (repeatable).
    #[arg(long = "deny", value_name = "PATH")]
    pub denied: Vec<String>,
    /// Leave a class of protected paths writable inside writable trees:
    /// git, home, direnv, editor, agent or all (repeatable; see
    /// docs/security.md, "Files the host runs later").
    #[arg(long = "unprotect", value_name = "CLASS")]
    pub unprotect: Vec<String>,
    /// Bring a toolchain or your git identity in read-only, with private
    /// caches: git, rust, python, node or go (repeatable; see README, "Presets").
    #[arg(long = "preset", value_name = "NAME")]
    pub preset: Vec<String>,
    /// Network: none (own loopback only) or host (share the host's network).
    #[arg(long, value_enum)]
    pub net: Option<NetMode>,
    /// Allow outbound connections to this host name, IP or CIDR (repeatable).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Publish a sandbox port on the host's loopback: HOSTPORT:PORT or
    /// ADDR:HOSTPORT:PORT (e.g. 127.0.0.1:8080:3000; ADDR defaults to
    /// 127.0.0.1; repeatable).
    #[arg(long = "publish", value_name = "[ADDR:]HOSTPORT:PORT")]
    pub publish: Vec<String>,
    /// Kill the whole sandbox after this long (e.g. 500ms, 10s, 2m; a bare
    /// number is ms; 0: no timeout).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Memory limit (e.g. 512M, 2G; a bare number is MiB): resources.memoryMb.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// CPU limit in cores (e.g. 1, 0.5, 2): resources.cpuPercent.
    #[arg(long, value_name = "CORES")]
    pub cpus: Option<String>,
    /// Maximum number of processes: resources.maxProcesses.
    #[arg(long, value_name = "N")]
    pub pids: Option<u64>,
    /// Set an environment variable (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the sandbox (`cordon run` without it: the
    /// current directory, which must then be granted with --ro or --rw).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// Backend: process (the best available: native, else bubblewrap),
    /// native or bubblewrap (`cordon probe` says which run here; lxc and
    /// microvm are recognised and reported unavailable).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetMode {
    None,
    Host,
}

/// Quote one word for `/bin/sh`.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// Parse `10s`, `500ms`, `2m`, or a bare number of milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<u64, PolicyError> {
    let bad = || {
        PolicyError::malformed(format!(
            "--timeout: {text:?} is not a duration (e.g. 500ms, 10s, 2m)"
        ))
    };
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (text, 1)
    };
    let value: u64 = number.trim().parse().map_err(|_| bad())?;
    value.checked_mul(scale).ok_or_else(bad)
}

fn object<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> Result<&'a mut Map<String, Value>, PolicyError> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if slot.is_null() {
        *slot = json!({});
    }
    slot.as_object_mut()
        .ok_or_else(|| PolicyError::malformed(format!("{key}: must be an object")))
}

fn append(map: &mut Map<String, Value>, key: &str, values: &[String]) -> Result<(), PolicyError> {
    if values.is_empty() {
        return Ok(());
    }
    let slot = map.entry(key).or_insert_with(|| json!([]));
    if slot.is_null() {
        *slot = json!([]);
    }
    let list = slot
        .as_array_mut()
        .ok_or_else(|| PolicyError::malformed(format!("{key}: must be an array")))?;
    list.extend(values.iter().cloned().map(Value::String));
    Ok(())
}

/// A path given on the command line may be relative to the caller's current
/// directory (`--rw .`); the config it becomes holds an absolute path, as
/// MXC's format requires.
fn absolute(flag: &str, path: &str) -> Result<String, PolicyError> {
    if path.starts_with('/') {
        return Ok(path.to_string());
    }
    let here = std::env::current_dir().map_err(|e| {
        PolicyError::malformed(format!(
            "{flag} {path}: a relative path, but the current directory is unknown: {e}"
        ))
    })?;
    Ok(here.join(path).to_string_lossy().into_owned())
}

fn all_absolute(flag: &str, paths: &[String]) -> Result<Vec<String>, PolicyError> {
    paths.iter().map(|p| absolute(flag, p)).collect()
}

/// A config file's bytes; `-` is standard input (`--config -`).
pub fn read_config(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)?;
        return Ok(bytes);
    }
    std::fs::read(path)
}

/// `--config-fd N`: the config read from an inherited descriptor to its end
/// (a pipe or socket the starting program writes and then closes).
pub fn read_config_fd(raw: i32) -> Result<Vec<u8>, PolicyError> {
    let owned = crate::fd::inherited(
        raw,
        "--config-fd",
        "pass a descriptor open for reading that ends after the config, e.g. `3<config.json`",
        crate::fd::Direction::Read,
    )?;
    let mut bytes = Vec::new();
    // Dropped (closed) after reading, so no sandbox inherits it.
    std::io::Read::read_to_end(&mut std::fs::File::from(owned), &mut bytes).map_err(|e| {
        PolicyError::malformed(format!(
            "--config-fd {raw}: {e} (pass a readable descriptor)"
        ))
    })?;
    Ok(bytes)
}

/// `--publish ADDR:HOSTPORT:PORT` (ADDR optional) as a
/// `network.ingress.publish` entry.
fn parse_publish(text: &str) -> Result<Value, PolicyError> {
    let bad = |why: &str| {
        PolicyError::malformed(format!(
            "--publish {text}: {why} (e.g. --publish 8080:3000, --publish 127.0.0.1:8080:3000)"
        ))
    };
    let port = |word: &str, what: &str| -> Result<u16, PolicyError> {
        word.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(&format!("{what} {word:?} is not a port (1-65535)")))
    };
    let (rest, sandbox_port) = text.rsplit_once(':').unwrap_or(("", text));
    let sandbox_port = port(sandbox_port, "the sandbox's port")?;
    let (address, host_port) = match rest.rsplit_once(':') {
        _ if rest.is_empty() => (None, sandbox_port),
        None => (None, port(rest, "the host port")?),
        Some((address, host_port)) => (
            Some(address.trim_start_matches('[').trim_end_matches(']')),
            port(host_port, "the host port")?,
        ),
    };
    let mut entry = json!({"port": sandbox_port, "hostPort": host_port});
    if let Some(address) = address {
        entry["hostAddress"] = json!(address);
    }
    Ok(entry)
}

/// `--memory`: MiB from `512`, `512M`, `512MiB`, `2G`, `2GiB`.
fn parse_memory_mb(text: &str) -> Result<u64, PolicyError> {
    let bad = || {
        PolicyError::malformed(format!(
            "--memory: {text:?} is not a size (e.g. 512M, 2G; a bare number is MiB)"
        ))
    };
    let lower = text.trim().to_ascii_lowercase();
    let (number, scale) = if let Some(n) = lower
        .strip_suffix("gib")
        .or_else(|| lower.strip_suffix("gb"))
        .or_else(|| lower.strip_suffix('g'))
    {
        (n, 1024)
    } else if let Some(n) = lower
        .strip_suffix("mib")
        .or_else(|| lower.strip_suffix("mb"))
        .or_else(|| lower.strip_suffix('m'))
    {
        (n, 1)
    } else {
        (lower.as_str(), 1)
    };
    let value: u64 = number.trim().parse().map_err(|_| bad())?;
    value.checked_mul(scale).filter(|v| *v > 0).ok_or_else(bad)
}

/// `--cpus`: cores as a percentage of one core (`1.5` → 150).
fn parse_cpus(text: &str) -> Result<u64, PolicyError> {
    let bad = || {
        PolicyError::malformed(format!(
            "--cpus: {text:?} is not a number of cores (e.g. 1, 0.5, 2)"
        ))
    };
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let hundredths: u64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(hundredths))
        .filter(|p| *p > 0)
        .ok_or_else(bad)
}

/// A message about the config that flags built, in the flags' words
/// (`filesystem.readonlyPaths[0]` → `--ro`, `process.cwd` → `--cwd`).
pub fn in_flag_terms(message: &str) -> String {
    const TERMS: &[(&str, &str)] = &[
        ("filesystem.readonlyPaths or readwritePaths", "--ro or --rw"),
        ("filesystem.readonlyPaths", "--ro"),
        ("filesystem.readwritePaths", "--rw"),
        ("filesystem.deniedPaths", "--deny"),
        ("filesystem.unprotect", "--unprotect"),
        ("network.allowedHosts", "--allow-host"),
        ("network.allowLocalNetwork", "--net host"),
        ("network.ingress.publish", "--publish"),
        ("process.cwd", "--cwd"),
        ("presets", "--preset"),
        ("process.timeout", "--timeout"),
        ("process.env", "--env"),
        ("resources.memoryMb", "--memory"),
        ("resources.cpuPercent", "--cpus"),
        ("resources.maxProcesses", "--pids"),
    ];
    let mut out = message.to_string();
    for (field, flag) in TERMS {
        while let Some(at) = out.find(field) {
            let mut end = at + field.len();
            // Drop an index: `--ro` names the flag, not its position; and
            // the entry's own field after it (`--publish`, not
            // `--publish.hostAddress`).
            if out[end..].starts_with('[') {
                if let Some(close) = out[end..].find(']') {
                    end += close + 1;
                    if out[end..].starts_with('.') {
                        end += 1 + out[end + 1..]
                            .find(|c: char| !c.is_ascii_alphanumeric())
                            .unwrap_or(out.len() - end - 1);
                    }
                }
            }
            out.replace_range(at..end, flag);
        }
    }
    out
}

/// Flags that say opposite things are refused, never settled silently.
fn check_contradictions(args: &PolicyArgs) -> Result<(), PolicyError> {
    if args.net == Some(NetMode::Host) && !args.allow_host.is_empty() {
        return Err(PolicyError::malformed(format!(
            "--net host and --allow-host {} contradict: the host's network has no rules; drop one",
            args.allow_host[0]
        )));
    }
    if args.net == Some(NetMode::None) && !args.allow_host.is_empty() {
        return Err(PolicyError::malformed(format!(
            "--net none and --allow-host {} contradict: no network, or these hosts; drop one",
            args.allow_host[0]
        )));
    }
    let lists = [
        ("--ro", &args.readonly),
        ("--rw", &args.readwrite),
        ("--deny", &args.denied),
    ];
    for (i, (flag, paths)) in lists.iter().enumerate() {
        for (other, other_paths) in &lists[i + 1..] {
            for path in paths.iter() {
                let same = |p: &String| {
                    absolute(flag, p).ok() == absolute(flag, path).ok()
                        || matches!((std::fs::canonicalize(p), std::fs::canonicalize(path)),
                            (Ok(a), Ok(b)) if a == b)
                };
                if other_paths.iter().any(same) {
                    return Err(PolicyError::malformed(format!(
                        "{flag} {path} and {other} {path}: the same path twice with different \
                         access; give it once"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Build the config a `cordon run` invocation describes.
pub fn config_from_run_args(run: &RunArgs) -> Result<Config, PolicyError> {
    let args = &run.policy;
    if run.command.is_empty() && args.config.is_none() {
        return Err(PolicyError::malformed(
            "no command given: cordon run [FLAGS] -- CMD [ARGS...] (or --config FILE)",
        ));
    }
    let mut config = cordon_policy::config_from_value(document(args, &run.command)?)?;
    if args.config.is_none() && args.cwd.is_none() {
        // Flags alone: the command runs where the caller is, as any other
        // command would (a config file keeps MXC's default, SPEC §2.1).
        let here = std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .map_err(|e| {
                PolicyError::malformed(format!(
                    "the current directory is unknown ({e}); choose one with --cwd DIR"
                ))
            })?;
        let process = config.process.get_or_insert_with(Default::default);
        process.cwd = Some(here.to_string_lossy().into_owned());
        process.cwd_is_callers = true;
    }
    Ok(config)
}

/// The config document flags describe (over `--config`'s, if given): what
/// `cordon run` runs (`command`), and what `cordon provision` provisions.
pub fn document(args: &PolicyArgs, command: &[String]) -> Result<Value, PolicyError> {
    check_contradictions(args)?;
    let mut doc = match &args.config {
        Some(path) => {
            let bytes = read_config(path).map_err(|e| {
                PolicyError::malformed(format!("cannot read config {}: {e}", path.display()))
            })?;
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| PolicyError::malformed(format!("config is not valid JSON: {e}")))?
        }
        None => json!({}),
    };
    let root = doc
        .as_object_mut()
        .ok_or_else(|| PolicyError::malformed("config must be a JSON object"))?;
    if args.config.is_none() && args.net == Some(NetMode::Host) {
        root.insert("version".into(), json!("0.8.0"));
    }
    // From schema 0.9 on the legacy network shape is gone and `process.env`
    // replaces the default environment: the flags say the same in that
    // version's terms.
    let contract = match root.get("version") {
        Some(Value::String(v)) => SchemaVersion::parse(v).is_ok_and(SchemaVersion::is_contract),
        _ => false,
    };
    if let Some(backend) = &args.backend {
        root.insert("containment".into(), json!(backend));
    }
    let had_process = root.contains_key("process");
    {
        let process = object(root, "process")?;
        if !command.is_empty() {
            let line: Vec<String> = command.iter().map(|w| shell_quote(w)).collect();
            process.insert("commandLine".into(), json!(line.join(" ")));
        }
        if let Some(cwd) = &args.cwd {
            let cwd = absolute("--cwd", cwd)?;
            // Lexically absolute is not enough for a working directory
            // (`--cwd ..`): the real path, where there is one.
            let cwd = std::fs::canonicalize(&cwd)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or(cwd);
            process.insert("cwd".into(), json!(cwd));
        }
        // `--env` adds to the environment the config gives; on a contract
        // version without an env of its own, that is the default one.
        if contract
            && !args.env.is_empty()
            && !process.contains_key("env")
            && !process.contains_key("inheritDefaultEnv")
        {
            process.insert("inheritDefaultEnv".into(), json!(true));
        }
        append(process, "env", &args.env)?;
        if let Some(t) = &args.timeout {
            let ms = parse_duration_ms(t)?;
            let ms = u32::try_from(ms)
                .map_err(|_| PolicyError::malformed("--timeout: longer than 49 days"))?;
            process.insert("timeout".into(), json!(ms));
        }
        // A provisioning config has no process of its own (`provision` flags).
        if process.is_empty() && !had_process {
            root.remove("process");
        }
    }
    append(root, "presets", &args.preset)?;
    if args.memory.is_some() || args.cpus.is_some() || args.pids.is_some() {
        let resources = object(root, "resources")?;
        if let Some(memory) = &args.memory {
            resources.insert("memoryMb".into(), json!(parse_memory_mb(memory)?));
        }
        if let Some(cpus) = &args.cpus {
            resources.insert("cpuPercent".into(), json!(parse_cpus(cpus)?));
        }
        if let Some(pids) = args.pids {
            if pids == 0 {
                return Err(PolicyError::malformed("--pids: must be at least 1"));
            }
            resources.insert("maxProcesses".into(), json!(pids));
        }
    }
    if !args.readonly.is_empty()
        || !args.readwrite.is_empty()
        || !args.denied.is_empty()
        || !args.unprotect.is_empty()
    {
        let fs = object(root, "filesystem")?;
        append(fs, "unprotect", &args.unprotect)?;
        append(fs, "readonlyPaths", &all_absolute("--ro", &args.readonly)?)?;
        append(
            fs,
            "readwritePaths",
            &all_absolute("--rw", &args.readwrite)?,
        )?;
        append(fs, "deniedPaths", &all_absolute("--deny", &args.denied)?)?;
    }
    match args.net {
        Some(NetMode::Host) if contract => {
            return Err(PolicyError::policy(
                "--net host: the config's schema (0.9 or later) has no network shared with the \
                 host; use network.egress rules in the config, or a 0.8 config",
            ));
        }
        Some(NetMode::Host) => {
            let net = object(root, "network")?;
            net.insert("defaultPolicy".into(), json!("allow"));
            net.insert("allowLocalNetwork".into(), json!(true));
        }
        Some(NetMode::None) => {
            root.remove("network");
        }
        None => {}
    }
    if !args.publish.is_empty() {
        let entries = args
            .publish
            .iter()
            .map(|p| parse_publish(p))
            .collect::<Result<Vec<Value>, _>>()?;
        let ingress = object(object(root, "network")?, "ingress")?;
        let list = ingress.entry("publish").or_insert_with(|| json!([]));
        list.as_array_mut()
            .ok_or_else(|| PolicyError::malformed("network.ingress.publish: must be an array"))?
            .extend(entries);
    }
    if !args.allow_host.is_empty() && contract {
        // The directional shape: one allow rule per host, address or CIDR.
        let rules: Vec<Value> = args
            .allow_host
            .iter()
            .map(|host| cordon_policy::grant::egress_rule(host))
            .collect();
        let egress = object(object(root, "network")?, "egress")?;
        egress.entry("default").or_insert(json!("deny"));
        let list = egress.entry("allow").or_insert_with(|| json!([]));
        list.as_array_mut()
            .ok_or_else(|| PolicyError::malformed("network.egress.allow: must be an array"))?
            .extend(rules);
    } else if !args.allow_host.is_empty() {
        let net = object(root, "network")?;
        net.entry("defaultPolicy").or_insert(json!("block"));
        append(net, "allowedHosts", &args.allow_host)?;
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_sh() {
        assert_eq!(shell_quote("true"), "true");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    /// Flags over a config of schema 0.9 or later speak that schema: rules
    /// in the directional shape, `--env` over the default environment.
    #[test]
    fn flags_follow_a_contract_config() {
        let dir = std::env::temp_dir().join(format!("cordon-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.json");
        std::fs::write(
            &file,
            r#"{"version":"1.0.0","process":{"commandLine":"true"}}"#,
        )
        .unwrap();
        let args = RunArgs {
            policy: PolicyArgs {
                config: Some(file.clone()),
                allow_host: vec!["192.0.2.0/24".into(), "pkg.test".into()],
                env: vec!["X=1".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let config = config_from_run_args(&args).unwrap();
        let process = config.process.unwrap();
        assert_eq!(process.inherit_default_env, Some(true));
        let egress = config.network.unwrap().egress.unwrap();
        let allow = egress.allow.unwrap();
        assert_eq!(allow.len(), 2);
        assert_eq!(
            allow[1].to.as_ref().unwrap()[0].host.as_deref(),
            Some("pkg.test")
        );
        let host = RunArgs {
            policy: PolicyArgs {
                config: Some(file),
                net: Some(NetMode::Host),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = config_from_run_args(&host).unwrap_err();
        assert!(err.message.starts_with("--net host"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sizes_and_cores() {
        assert_eq!(parse_memory_mb("512").unwrap(), 512);
        assert_eq!(parse_memory_mb("512M").unwrap(), 512);
        assert_eq!(parse_memory_mb("2G").unwrap(), 2048);
        assert_eq!(parse_memory_mb("1GiB").unwrap(), 1024);
        assert!(parse_memory_mb("0").is_err() && parse_memory_mb("lots").is_err());
        assert_eq!(parse_cpus("1").unwrap(), 100);
        assert_eq!(parse_cpus("0.5").unwrap(), 50);
        assert_eq!(parse_cpus("1.25").unwrap(), 125);
        assert!(
            parse_cpus("0").is_err() && parse_cpus("1.234").is_err() && parse_cpus("x").is_err()
        );
    }

    #[test]
    fn contradictions_are_refused() {
        let args = RunArgs {
            policy: PolicyArgs {
                net: Some(NetMode::None),
                allow_host: vec!["a.test".into()],
                ..Default::default()
            },
            command: vec!["true".into()],
            ..Default::default()
        };
        assert!(config_from_run_args(&args)
            .unwrap_err()
            .message
            .contains("contradict"));
        let args = RunArgs {
            policy: PolicyArgs {
                readonly: vec!["/tmp".into()],
                readwrite: vec!["/tmp/".into()],
                ..Default::default()
            },
            command: vec!["true".into()],
            ..Default::default()
        };
        let err = config_from_run_args(&args).unwrap_err().message;
        assert!(err.contains("--ro") && err.contains("--rw"), "{err}");
    }

    #[test]
    fn config_fields_in_flag_words() {
        assert_eq!(
            in_flag_terms("filesystem.readonlyPaths[2]: /x does not exist"),
            "--ro: /x does not exist"
        );
        assert_eq!(
            in_flag_terms("process.cwd: /opt is not visible; grant it (filesystem.readonlyPaths or readwritePaths)"),
            "--cwd: /opt is not visible; grant it (--ro or --rw)"
        );
        assert_eq!(
            in_flag_terms("network.allowLocalNetwork: x"),
            "--net host: x"
        );
        assert_eq!(
            in_flag_terms("network.ingress.publish[1].hostAddress: 8.8.8.8 is not"),
            "--publish: 8.8.8.8 is not"
        );
    }

    #[test]
    fn published_ports() {
        assert_eq!(
            parse_publish("8080:3000").unwrap(),
            json!({"port": 3000, "hostPort": 8080})
        );
        assert_eq!(
            parse_publish("3000").unwrap(),
            json!({"port": 3000, "hostPort": 3000})
        );
        assert_eq!(
            parse_publish("[::1]:8080:3000").unwrap(),
            json!({"port": 3000, "hostPort": 8080, "hostAddress": "::1"})
        );
        assert_eq!(
            parse_publish("127.0.0.1:80:3000").unwrap()["hostAddress"],
            json!("127.0.0.1")
        );
        let err = parse_publish("8080:http").unwrap_err().message;
        assert!(
            err.starts_with("--publish 8080:http: the sandbox's port"),
            "{err}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("500ms").unwrap(), 500);
        assert_eq!(parse_duration_ms("2s").unwrap(), 2000);
        assert_eq!(parse_duration_ms("1m").unwrap(), 60000);
        assert_eq!(parse_duration_ms("250").unwrap(), 250);
        assert!(parse_duration_ms("soon").is_err());
    }
}
