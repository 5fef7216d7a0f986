//! `cordon`: run a command inside a boundary declared by an MXC-compatible
//! JSON policy.
//!
//! stdout carries only the sandboxed command's output (or a JSON document
//! where one is asked for); cordon's own messages go to stderr.

/// The static release build links musl, whose allocator unmaps freed memory
/// eagerly; dlmalloc keeps it for the next allocation.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

mod audit;
mod fd;
mod flags;
mod learn;
mod lifecycle;
mod mcp;
mod mxc;
mod probe;
mod report;
mod term;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use cordon_policy::{Caller, Config, Plan, PolicyError};
use cordon_sandbox::{Outcome, RunOptions, SandboxError, EXIT_CORDON_FAILED};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(
    name = "cordon",
    version,
    about = "Run untrusted code inside a boundary declared by a JSON policy"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    mxc: MxcArgs,
}

/// MXC's own invocation: `cordon --config FILE`, `--config-base64 B64`, `cordon FILE`.
#[derive(Args, Debug, Default)]
struct MxcArgs {
    /// Config file (one-shot or state-aware request; `-`: standard input).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Config as base64-encoded JSON.
    #[arg(long, value_name = "B64", conflicts_with = "config")]
    config_base64: Option<String>,
    /// Config read from this open descriptor to its end (for programs that
    /// start cordon: the config touches neither the disk nor the command line).
    #[arg(long, value_name = "N", conflicts_with_all = ["config", "config_base64"])]
    config_fd: Option<i32>,
    /// Config file, positional form.
    #[arg(value_name = "FILE", conflicts_with_all = ["config", "config_base64", "config_fd"])]
    file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// Accepted for MXC compatibility; cordon has no separate experimental mode.
    #[arg(long)]
    experimental: bool,
    /// Print the backends that can run here as MXC's discovery JSON and exit.
    #[arg(long, conflicts_with_all = ["config", "config_base64", "config_fd", "file"])]
    available_backends: bool,
    /// Accepted for MXC compatibility.
    #[arg(long, hide = true)]
    allow_testing_features: bool,
}

impl MxcArgs {
    /// A config given before a subcommand (`cordon --config deny.json run
    /// ...`, `cordon deny.json run ...`) would otherwise be parsed and then
    /// ignored, running with a weaker policy than the user passed: refuse it
    /// and say where it goes.
    fn check_unused_before(&self, command: &Command) -> Result<(), PolicyError> {
        let given = if let Some(path) = &self.config {
            format!("--config {}", path.display())
        } else if self.config_base64.is_some() {
            "--config-base64".to_string()
        } else if let Some(fd) = self.config_fd {
            format!("--config-fd {fd}")
        } else if let Some(path) = &self.file {
            path.display().to_string()
        } else {
            return Ok(());
        };
        let name = command.name();
        let fix = match command {
            Command::Run(_) => format!("write `cordon {name} --config FILE ...`"),
            Command::Validate { .. } => format!("write `cordon {name} FILE`"),
            Command::Provision(_) => format!("write `cordon {name} --config FILE`"),
            _ => format!("`cordon {name}` takes no config; run it without one"),
        };
        Err(PolicyError::malformed(format!(
            "{given}: a config given before the subcommand `{name}` would be ignored; {fix}"
        )))
    }
}

#[derive(Args, Debug, Default, Clone)]
struct CommonArgs {
    /// Print what cordon decided and did on stderr.
    #[arg(long, global = true)]
    debug: bool,
    /// Print a machine-readable outcome (JSON) as the last line on stdout,
    /// always on a line of its own.
    #[arg(long, global = true)]
    json: bool,
    /// Write the outcome (JSON) to this open descriptor instead of mixing it
    /// with the workload's output (e.g. `--outcome-fd 3 3>outcome.json`).
    #[arg(long, value_name = "N", global = true)]
    outcome_fd: Option<i32>,
    /// Write the outcome (JSON) to FILE (created or overwritten; kept out of
    /// the sandbox).
    #[arg(long, value_name = "FILE", global = true)]
    outcome_file: Option<PathBuf>,
    /// Append JSON audit records to FILE (also CORDON_AUDIT_LOG).
    #[arg(long, value_name = "FILE", global = true, env = "CORDON_AUDIT_LOG")]
    audit_log: Option<PathBuf>,
    /// Validate and resolve the config, print the effective policy, run nothing.
    #[arg(long, global = true)]
    dry_run: bool,
    /// Append diagnostic JSON lines (policy, outcome, errors) to FILE.
    #[arg(long, value_name = "FILE", global = true)]
    log_file: Option<PathBuf>,
    /// MXC's invocation: a refusal also prints MXC's error envelope on stderr.
    #[arg(skip)]
    error_line: bool,
    /// The config came from `cordon run` flags alone: errors name the flags.
    #[arg(skip)]
    flag_words: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one command in a fresh sandbox.
    Run(Box<flags::RunArgs>),
    /// Parse and resolve a config; print the effective policy or the errors. Runs nothing.
    Validate {
        /// The config file.
        file: PathBuf,
    },
    /// Report which backends and kernel features this host offers.
    Probe,
    /// Print the JSON Schema of the config (for editors): every version at
    /// once, or one version's.
    Schema {
        /// A schema version (e.g. 0.8.0, 1.0.0, 1.1.0-alpha).
        #[arg(long, value_name = "V")]
        version: Option<String>,
    },
    /// Create a long-lived sandbox from a config (its `process` section is
    /// optional) and/or the policy flags of `run`; prints its id.
    Provision(Box<flags::PolicyArgs>),
    /// Start a provisioned sandbox.
    Start {
        /// The sandbox's id, as `provision` printed it (`cordon ls` lists them).
        id: String,
    },
    /// Run a command in a running sandbox.
    Exec(Box<lifecycle::ExecArgs>),
    /// Kill every process of a sandbox; keep its files.
    Stop {
        /// The sandbox's id, as `provision` printed it (`cordon ls` lists them).
        id: String,
    },
    /// Remove a stopped sandbox and everything it kept.
    Deprovision {
        /// The sandbox's id, as `provision` printed it (`cordon ls` lists them).
        id: String,
    },
    /// List this user's sandboxes.
    Ls,
    /// Serve MCP on stdin/stdout: sandboxes, commands and files as tools, within the limits given here (`cordon mcp --help`)
    #[command(disable_help_flag = true)]
    Mcp {
        /// The server's flags (`--ro`, `--rw`, `--allow-host`, `--preset`, `--memory-mb`, `--pids`, `--keep`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a command under a policy (or none) while watching what it
    /// reaches for; print a suggested policy it passes under (to review).
    Learn(Box<learn::LearnArgs>),
    /// Internal: the exec server of a long-lived sandbox built by bwrap.
    #[command(name = "__serve", hide = true)]
    Serve { fd: i32 },
    /// Internal: `cordon learn`'s observer inside the sandbox.
    #[command(name = "__observe", hide = true)]
    Observe {
        report: PathBuf,
        #[arg(last = true)]
        command: Vec<String>,
    },
}

impl Command {
    /// The subcommand as typed.
    fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Validate { .. } => "validate",
            Command::Probe => "probe",
            Command::Schema { .. } => "schema",
            Command::Provision(_) => "provision",
            Command::Start { .. } => "start",
            Command::Exec(_) => "exec",
            Command::Stop { .. } => "stop",
            Command::Deprovision { .. } => "deprovision",
            Command::Ls => "ls",
            Command::Mcp { .. } => "mcp",
            Command::Learn(_) => "learn",
            Command::Serve { .. } => "__serve",
            Command::Observe { .. } => "__observe",
        }
    }
}

/// A process exit status: codes outside 0..=255 are clamped.
fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(u8::MAX))
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE; the sandboxed command would inherit that through
    // exec, and `cordon probe | head` would panic. Restore the default.
    // SAFETY: setting a signal disposition to SIG_DFL before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    cordon_sandbox::timing::phase("main");
    if cfg!(feature = "bench-unfiltered") {
        eprintln!("cordon: WARNING: benchmark build without the seccomp filter; not for use");
    }
    if let Some(code) = fast_path() {
        return exit_code(code);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return exit_code(usage_error(&e)),
    };
    let common = &cli.mxc.common;
    if let Err(e) = report::open(
        common.json,
        common.outcome_fd,
        common.outcome_file.as_deref(),
    ) {
        return exit_code(fail(&e, common));
    }
    if let Some(command) = &cli.command {
        if let Err(e) = cli.mxc.check_unused_before(command) {
            return exit_code(fail(&e, &cli.mxc.common));
        }
    }
    let code = match cli.command {
        Some(Command::Run(args)) => {
            let mut common = cli.mxc.common.clone();
            common.flag_words = args.policy.config.is_none();
            match flags::config_from_run_args(&args) {
                Ok(config) => run_config(config, Some(&args.command), &common, args.pty),
                Err(e) => fail(&e, &common),
            }
        }
        Some(Command::Validate { file }) => validate(&file, &cli.mxc.common),
        Some(Command::Probe) => probe::print(cli.mxc.common.json),
        Some(Command::Schema { version }) => {
            match version
                .as_deref()
                .map(cordon_policy::SchemaVersion::parse)
                .transpose()
            {
                Ok(version) => {
                    let doc = cordon_policy::schema::document(version);
                    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
                    0
                }
                Err(e) => fail(&e, &cli.mxc.common),
            }
        }
        Some(Command::Provision(args)) => lifecycle::provision(&args),
        Some(Command::Start { id }) => with_audit(&cli.mxc.common, true, |audit| {
            lifecycle::phase_command("start", &id, audit)
        }),
        Some(Command::Exec(args)) => with_audit(&cli.mxc.common, false, |audit| {
            lifecycle::exec(&args, audit)
        }),
        Some(Command::Stop { id }) => with_audit(&cli.mxc.common, true, |audit| {
            lifecycle::phase_command("stop", &id, audit)
        }),
        Some(Command::Deprovision { id }) => with_audit(&cli.mxc.common, true, |audit| {
            lifecycle::phase_command("deprovision", &id, audit)
        }),
        Some(Command::Ls) => lifecycle::list(cli.mxc.common.json),
        Some(Command::Mcp { args }) => mcp::exec(&args),
        Some(Command::Serve { fd }) => cordon_sandbox::lifecycle::server::serve_inherited(fd),
        Some(Command::Learn(args)) => {
            let mut common = cli.mxc.common.clone();
            common.flag_words = args.policy.config.is_none();
            learn::learn(
                &args,
                learn::Runner {
                    run: |config, words: &[String]| execute(config, Some(words), &common, false),
                    fail: |e: &PolicyError| fail(e, &common),
                },
            )
        }
        Some(Command::Observe { report, command }) => learn::observe(&report, &command),
        None if cli.mxc.available_backends => mxc::available_backends(),
        None => mxc_invocation(&cli.mxc),
    };
    exit_code(code)
}

/// A command line clap cannot read: help and version as asked (exit 0),
/// anything else refused like every other refusal (125, SPEC §5), with the
/// fix for the commonest slip, a command given without `--`.
fn usage_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    let _ = e.print();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return 0;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "run" || a == "exec") {
        let skip = if args[at] == "exec" { 2 } else { 1 };
        let first = args[at + skip.min(args.len() - at)..]
            .iter()
            .find(|a| !a.starts_with('-'));
        if e.kind() == ErrorKind::UnknownArgument && !args.iter().any(|a| a == "--") {
            if let Some(word) = first {
                eprintln!(
                    "cordon: the command goes after `--`: cordon {} [FLAGS] -- {word} ...",
                    args[at..at + skip].join(" ")
                );
            }
        }
    }
    // `provision` makes a sandbox; commands go to `exec` once it runs.
    if let (Some(at), Some(dashes)) = (
        args.iter().position(|a| a == "provision"),
        args.iter().position(|a| a == "--"),
    ) {
        if dashes > at {
            let word = args.get(dashes + 1).map_or("CMD", String::as_str);
            eprintln!(
                "cordon: provision takes no command: provision, start, then \
                 `cordon exec ID -- {word} ...`"
            );
        }
    }
    EXIT_CORDON_FAILED
}

/// The two hottest invocations, `cordon run -- CMD...` and `cordon exec ID --
/// CMD...` with no other flag, skip building the whole clap parser (a
/// measurable part of a sandbox start). Anything else goes through clap.
fn fast_path() -> Option<i32> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    // Without clap, the audit log comes from the environment only.
    let common = CommonArgs {
        audit_log: std::env::var_os("CORDON_AUDIT_LOG").map(PathBuf::from),
        ..Default::default()
    };
    match words.as_slice() {
        ["run", "--", command @ ..] if !command.is_empty() => {
            let run_args = flags::RunArgs {
                command: command.iter().map(|w| w.to_string()).collect(),
                ..Default::default()
            };
            Some(match flags::config_from_run_args(&run_args) {
                Ok(config) => run_config(config, Some(&run_args.command), &common, false),
                Err(e) => fail(&e, &common),
            })
        }
        ["exec", id, "--", command @ ..] if !command.is_empty() && !id.starts_with('-') => {
            let args = lifecycle::ExecArgs {
                id: id.to_string(),
                env: Vec::new(),
                cwd: None,
                timeout: None,
                pty: false,
                command: command.iter().map(|w| w.to_string()).collect(),
            };
            Some(with_audit(&common, false, |audit| {
                lifecycle::exec(&args, audit)
            }))
        }
        _ => None,
    }
}

/// Run `f` with the operator's audit log. A log that cannot be opened stops
/// the command (125) before it does anything; `envelope` commands say so in
/// their JSON envelope.
fn with_audit(common: &CommonArgs, envelope: bool, f: impl FnOnce(&audit::AuditLog) -> i32) -> i32 {
    match audit::AuditLog::open(common.audit_log.as_deref()) {
        Ok(audit) => f(&audit),
        Err(e) if envelope => lifecycle::envelope_err(&e.into()),
        Err(e) => fail(&e, common),
    }
}

/// `cordon --config FILE`, `--config-base64`, `cordon FILE`.
fn mxc_invocation(args: &MxcArgs) -> i32 {
    let mut common = args.common.clone();
    common.error_line = true;
    let common = &common;
    let bytes = if let Some(path) = args.config.as_ref().or(args.file.as_ref()) {
        match flags::read_config(path) {
            Ok(b) => b,
            Err(e) => {
                return fail(
                    &PolicyError::malformed(format!("cannot read config {}: {e}", path.display())),
                    common,
                )
            }
        }
    } else if let Some(fd) = args.config_fd {
        match flags::read_config_fd(fd) {
            Ok(b) => b,
            Err(e) => return fail(&e, common),
        }
    } else if let Some(b64) = &args.config_base64 {
        use base64::Engine;
        match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
            Ok(b) => b,
            Err(e) => {
                return fail(
                    &PolicyError::malformed(format!("--config-base64 is not valid base64: {e}")),
                    common,
                )
            }
        }
    } else {
        return fail(
            &PolicyError::malformed(
                "no config given: cordon --config FILE, cordon FILE, or cordon run [FLAGS] -- CMD \
                 (see `cordon --help`)",
            ),
            common,
        );
    };
    // A state-aware request is routed by its phase before one-shot parsing.
    if let Ok(raw) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        if let Some(phase) = raw.get("phase").and_then(|p| p.as_str()) {
            if common.dry_run {
                return lifecycle::envelope_err(&cordon_sandbox::lifecycle::LifecycleError {
                    code: cordon_policy::ErrorCode::MalformedRequest,
                    message: format!(
                        "--dry-run: checks one-shot configs only; this is a state-aware \
                         {phase:?} request (drop --dry-run, or use `cordon validate` on the \
                         provision config)"
                    ),
                });
            }
            let code = with_audit(common, true, |audit| lifecycle::wire(phase, &raw, audit));
            mxc::log(
                common.log_file.as_deref(),
                "phase",
                json!({"phase": phase, "sandboxId": raw.get("sandboxId"), "exitCode": code}),
            );
            return code;
        }
    }
    let config = match cordon_policy::parse_config(&bytes) {
        Ok(c) => c,
        Err(e) => return fail(&e, common),
    };
    run_config(config, None, common, false)
}

fn validate(file: &std::path::Path, common: &CommonArgs) -> i32 {
    let bytes = match flags::read_config(file) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                &PolicyError::malformed(format!("cannot read config {}: {e}", file.display())),
                common,
            )
        }
    };
    // A config without a command (or a provision request) provisions a
    // long-lived sandbox; it is checked as `cordon provision` would.
    let mut provisioning = false;
    let plan = cordon_policy::parse_config(&bytes).and_then(|c| {
        provisioning = c.phase.as_deref() == Some("provision")
            || c.phase.is_none()
                && c.process
                    .as_ref()
                    .and_then(|p| p.command_line.as_ref())
                    .is_none();
        if provisioning {
            cordon_policy::resolve_sandbox(&c, Caller::current())
        } else {
            cordon_policy::resolve_one_shot(&c, Caller::current())
        }
    });
    match plan {
        Ok(plan) => {
            let backend = if provisioning {
                cordon_sandbox::seam::long_lived(
                    &plan.containment,
                    plan.allowed_backends.as_deref(),
                )
                .map(|b| b.name())
            } else {
                cordon_sandbox::select_backend(&plan.containment, plan.allowed_backends.as_deref())
                    .map(|b| b.name())
            };
            let mut doc = plan_json(&plan, backend.as_ref().ok().copied());
            if provisioning {
                doc["commandLine"] = serde_json::Value::Null;
                doc["provisioning"] = json!(true);
                eprintln!(
                    "cordon: a provisioning config: valid for `cordon provision --config {}` \
                     (a one-shot run also needs process.commandLine)",
                    file.display()
                );
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            for notice in &plan.notices {
                eprintln!("cordon: {notice}");
            }
            if let Err(e) = backend {
                eprintln!("cordon: warning: {e}");
            }
            0
        }
        Err(e) => fail(&e, common),
    }
}

/// The effective policy, for `validate` and `--debug`.
fn plan_json(plan: &Plan, backend: Option<&str>) -> serde_json::Value {
    let fs: Vec<_> = plan
        .filesystem
        .entries
        .iter()
        .map(|e| {
            json!({
                "path": e.path,
                "access": e.access.name(),
                "kind": format!("{:?}", e.kind).to_lowercase(),
                "origin": format!("{:?}", e.origin).to_lowercase(),
            })
        })
        .collect();
    let network = match &plan.network {
        cordon_policy::NetworkPlan::Isolated => {
            json!({"model": "none", "detail": "own loopback only"})
        }
        cordon_policy::NetworkPlan::ProxyOnly {
            endpoint,
            upstream,
            url,
        } => {
            json!({"model": "proxy", "detail": format!("only the caller's proxy at {upstream}, relayed into the sandbox at {endpoint}"), "proxy": url})
        }
        cordon_policy::NetworkPlan::HostShared { proxy } => {
            json!({"model": "host", "detail": "shares the host's network", "proxy": proxy})
        }
        cordon_policy::NetworkPlan::Filtered(rules) => {
            json!({"model": "rules", "detail": cordon_sandbox::net::describe(&plan.network), "default": rules.default.name(), "rules": rules_json(rules)})
        }
        cordon_policy::NetworkPlan::FilteringProxy(rules) => {
            json!({"model": "filtering-proxy", "detail": cordon_sandbox::net::describe(&plan.network), "proxy": plan.network.proxy_url(), "default": rules.default.name(), "rules": rules_json(rules)})
        }
    };
    json!({
        "containerId": plan.container_id,
        "schemaVersion": plan.version.to_string(),
        "containment": plan.containment.name(),
        "backend": backend,
        "commandLine": plan.command_line,
        "cwd": plan.cwd,
        "env": plan.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "timeoutMs": plan.timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        "filesystem": {
            "entries": fs,
            "privateTmp": plan.filesystem.private_tmp,
            "hideRootOnlyFiles": plan.filesystem.hide_root_only_files,
            "placeholders": plan.filesystem.placeholders,
        },
        "network": network,
        "resources": {
            "maxFileSizeBytes": plan.resources.max_file_size_bytes,
            "maxOpenFiles": plan.resources.max_open_files,
            "memoryBytes": plan.resources.memory_bytes,
            "maxProcesses": plan.resources.max_processes,
            "cpuPercent": plan.resources.cpu_percent,
        },
        "policyHash": plan.policy_hash,
        // The operator's ceiling this plan is held under (cordon extension).
        "ceiling": plan.ceiling.as_ref().map(|path| json!({
            "path": path,
            "backends": plan.allowed_backends,
        })),
    })
}

/// Resolve and run a one-shot config; returns cordon's exit code.
/// `words`: the command as `cordon run -- CMD ARGS` gave it (empty: none).
fn run_config(config: Config, words: Option<&[String]>, common: &CommonArgs, pty: bool) -> i32 {
    match execute(config, words, common, pty) {
        Ok((plan, outcome)) => report_outcome(&outcome, &plan, common),
        Err(code) => code,
    }
}

/// Resolve and run a one-shot config, recording it in the audit log: the
/// plan and how the run ended, or cordon's exit code when it did not run
/// (refused, failed, or a dry run).
fn execute(
    config: Config,
    words: Option<&[String]>,
    common: &CommonArgs,
    pty: bool,
) -> Result<(Plan, Outcome), i32> {
    // Opened first: the log must exist for the plan to keep it out of the sandbox.
    let audit = match audit::AuditLog::open(common.audit_log.as_deref()) {
        Ok(audit) => audit,
        Err(e) => return Err(fail(&e, common)),
    };
    let mut plan = match cordon_policy::resolve_one_shot(&config, Caller::current()) {
        Ok(plan) => plan,
        Err(e) => return Err(fail(&e, common)),
    };
    if let Err(e) = cordon_sandbox::lifecycle::protect_cordon_files(
        &mut plan.filesystem,
        &audit.paths(),
        report::outcome_file().as_deref(),
    ) {
        return Err(fail(&e, common));
    }
    plan.command_words = words.filter(|w| !w.is_empty()).map(<[String]>::to_vec);
    if pty {
        term::terminal_type(&mut plan.env);
    }
    cordon_sandbox::timing::phase("resolved");
    for notice in &plan.notices {
        eprintln!("cordon: {notice}");
    }
    if common.dry_run || common.log_file.is_some() {
        let backend =
            cordon_sandbox::select_backend(&plan.containment, plan.allowed_backends.as_deref());
        let doc = plan_json(&plan, backend.as_ref().ok().map(|b| b.name()));
        mxc::log(common.log_file.as_deref(), "policy", doc.clone());
        if common.dry_run {
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            return Err(match backend {
                Ok(b) => {
                    eprintln!("cordon: dry run: the config is valid; nothing was run");
                    // What a caller reading outcomes checks for: a passing
                    // dry run (the exit code is cordon's own; nothing ran).
                    report::emit(&json!({"dryRun": true, "exitCode": 0, "timedOut": false,
                        "backend": b.name()}));
                    0
                }
                Err(e) => fail_sandbox(&e, common),
            });
        }
    }
    // What the run will try first (cheap: nothing is started to find out).
    let backend = match cordon_sandbox::planned_backend(
        &plan.containment,
        plan.allowed_backends.as_deref(),
    ) {
        Ok(b) => b,
        Err(e) => return Err(fail_sandbox(&e, common)),
    };
    if common.debug {
        eprintln!(
            "cordon: debug: planned backend {backend} (containment {}); policy {}",
            plan.containment.name(),
            plan_json(&plan, Some(backend.name()))
        );
    }
    let sandbox_id = audit::new_sandbox_id(backend.name());
    if let Err(e) = audit.spawn(&sandbox_id, &plan, backend.name()) {
        return Err(fail(&e, common));
    }
    let opts = RunOptions {
        debug: common.debug,
        pty,
        rule_hits: common.debug || report::wanted() || audit.is_on(),
        decision_log: audit.decision_log(&sandbox_id).map(Arc::new),
    };
    let result = cordon_sandbox::run(&plan, &opts);
    cordon_sandbox::timing::phase("run-returned");
    match result {
        Ok(outcome) => {
            mxc::log(
                common.log_file.as_deref(),
                "exit",
                json!({"exitCode": outcome.exit_code, "backend": outcome.backend,
                    "timedOut": outcome.timed_out,
                    "durationMs": outcome.duration.as_secs_f64() * 1000.0}),
            );
            audit.rule_hits(&sandbox_id, &outcome);
            audit.exit(&sandbox_id, &outcome);
            Ok((plan, outcome))
        }
        Err(e) => {
            audit.error(&sandbox_id, &e.to_string());
            Err(fail_sandbox(&e, common))
        }
    }
}

fn report_outcome(outcome: &Outcome, plan: &Plan, common: &CommonArgs) -> i32 {
    if outcome.timed_out {
        eprintln!(
            "cordon: timed out after {} ms; the whole sandbox was killed",
            plan.timeout.map(|t| t.as_millis()).unwrap_or_default()
        );
    } else if let Some(sig) = outcome.interrupted {
        eprintln!("cordon: received signal {sig}; the whole sandbox was killed");
    }
    if let Some(msg) = &outcome.exec_error {
        eprintln!("cordon: {msg}");
    }
    let rules = match &plan.network {
        cordon_policy::NetworkPlan::Filtered(rules) => Some(rules),
        _ => None,
    };
    if let Some(summary) = outcome
        .network
        .as_ref()
        .and_then(|n| report::denial_summary(n, rules))
    {
        eprintln!("cordon: {summary}");
    }
    for hit in &outcome.limits_hit {
        eprintln!("cordon: {hit}");
    }
    if let Some(e) = outcome
        .network
        .as_ref()
        .and_then(|n| n.counters_unread.as_ref())
    {
        eprintln!("cordon: network: {e}; the outcome's ruleHits is empty");
    }
    if common.debug {
        for mechanism in &outcome.mechanisms {
            eprintln!("cordon: debug: enforced by {mechanism}");
        }
        for (rule, packets) in outcome.network.iter().flat_map(|n| &n.rule_hits) {
            eprintln!("cordon: debug: network rule {rule}: {packets} hits");
        }
        if let Some(n) = outcome
            .network
            .as_ref()
            .filter(|n| n.decisions_not_kept > 0)
        {
            eprintln!(
                "cordon: debug: {} more proxy decisions than the report keeps ({}); the audit log has all",
                n.decisions_not_kept,
                n.decisions.len()
            );
        }
        eprintln!(
            "cordon: debug: backend used: {}; exit {} after {:.3} ms{}",
            outcome.backend,
            outcome.exit_code,
            outcome.duration.as_secs_f64() * 1000.0,
            outcome
                .kill_latency
                .map(|l| format!(
                    "; sandbox gone {:.3} ms past the deadline",
                    l.as_secs_f64() * 1000.0
                ))
                .unwrap_or_default()
        );
    }
    if report::wanted() {
        report::emit(&report::run_document(
            outcome,
            plan.container_id.as_deref(),
            &plan.policy_hash,
        ));
    }
    outcome.exit_code
}

fn fail(e: &PolicyError, common: &CommonArgs) -> i32 {
    let mut e = mxc::with_linux_alternatives(e);
    if common.flag_words {
        e.message = flags::in_flag_terms(&e.message);
    }
    let e = &e;
    eprintln!("cordon: {}", e.message);
    mxc::log(
        common.log_file.as_deref(),
        "error",
        json!({"code": e.code.as_str(), "message": e.message}),
    );
    if common.error_line {
        mxc::error_line(e);
    }
    let doc = json!({"error": {"code": e.code.as_str(), "message": e.message}});
    if report::wanted() {
        report::emit(&doc);
    } else if common.json {
        // The flags could not be read as far as the sinks.
        println!("{doc}");
    }
    EXIT_CORDON_FAILED
}

fn fail_sandbox(e: &SandboxError, common: &CommonArgs) -> i32 {
    fail(&PolicyError::new(e.code(), e.to_string()), common)
}

/// Network rules as JSON for `validate` and `--debug`.
fn rules_json(rules: &cordon_policy::netrules::NetRules) -> serde_json::Value {
    use cordon_policy::netrules::{Peers, Proto};
    rules
        .rules
        .iter()
        .map(|r| {
            let to: Vec<String> = match &r.peers {
                Peers::Any => vec![],
                Peers::Nets(nets) => nets
                    .iter()
                    .map(|n| {
                        let except: Vec<String> = n.except.iter().map(|e| e.to_string()).collect();
                        match except.is_empty() {
                            true => n.net.to_string(),
                            false => format!("{} except {}", n.net, except.join(", ")),
                        }
                    })
                    .collect(),
                Peers::Hosts(hosts) => hosts.iter().map(|h| h.as_str().to_string()).collect(),
            };
            let ports: Vec<String> = r
                .ports
                .iter()
                .map(|p| {
                    let proto = match p.proto {
                        Proto::Tcp => "tcp",
                        Proto::Udp => "udp",
                        Proto::Icmp => "icmp",
                        Proto::Any => "any",
                    };
                    match p.ports {
                        None => proto.to_string(),
                        Some((lo, hi)) if lo == hi => format!("{proto}/{lo}"),
                        Some((lo, hi)) => format!("{proto}/{lo}-{hi}"),
                    }
                })
                .collect();
            json!({"rule": r.name, "verdict": r.verdict.name(), "to": to, "ports": ports})
        })
        .collect()
}
