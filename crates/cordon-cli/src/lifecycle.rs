//! State-aware lifecycle on the command line: subcommands and MXC's wire form
//! (`cordon --config req.json` with `"phase"`). Non-exec phases print one JSON
//! envelope on stdout: `{"result": {...}}` or `{"error": {"code", "message"}}`.

use clap::Args;
use cordon_policy::config::Process;
use cordon_policy::ErrorCode;
use cordon_sandbox::lifecycle::{self, LifecycleError, Store};
use cordon_sandbox::EXIT_CORDON_FAILED;
use serde_json::{json, Value};

use crate::audit::AuditLog;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The sandbox's id, as `provision` printed it (`cordon ls` lists them).
    pub id: String,
    /// Set an environment variable (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the sandbox.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// Kill the command (and its session) after this long (e.g. 500ms, 10s,
    /// 2m; a bare number is ms; 0: no timeout).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Give the command a terminal.
    #[arg(long)]
    pub pty: bool,
    /// The command and its arguments.
    #[arg(last = true, value_name = "CMD", required = true)]
    pub command: Vec<String>,
}

fn envelope_ok(result: Value) -> i32 {
    println!("{}", json!({ "result": result }));
    0
}

pub fn envelope_err(e: &LifecycleError) -> i32 {
    eprintln!("cordon: {}", e.message);
    println!(
        "{}",
        json!({"error": {"code": e.code.as_str(), "message": e.message}})
    );
    EXIT_CORDON_FAILED
}

fn with_store<T>(f: impl FnOnce(&Store) -> Result<T, LifecycleError>) -> Result<T, LifecycleError> {
    f(&Store::open()?)
}

/// `cordon provision [--config FILE] [POLICY FLAGS]`: the flags of `run`
/// that describe a policy; commands come later, with `exec`.
pub fn provision(args: &crate::flags::PolicyArgs) -> i32 {
    match crate::flags::document(args, &[]) {
        Ok(value) => provision_value(&value),
        Err(e) => {
            let mut e = LifecycleError::from(e);
            if args.config.is_none() {
                e.message = crate::flags::in_flag_terms(&e.message);
            }
            envelope_err(&e)
        }
    }
}

fn provision_value(value: &Value) -> i32 {
    match with_store(|s| s.provision(value)) {
        Ok(id) => envelope_ok(json!({ "sandboxId": id, "state": "provisioned" })),
        Err(e) => envelope_err(&e),
    }
}

/// A phase by subcommand (`cordon stop ID`): the envelope on stdout, and
/// what happened in words on stderr.
pub fn phase_command(name: &str, id: &str, audit: &AuditLog) -> i32 {
    let code = phase(name, id, audit);
    if code == 0 {
        match name {
            "start" => {
                eprintln!("cordon: started {id}; run commands with `cordon exec {id} -- CMD`")
            }
            "stop" => eprintln!(
                "cordon: stopped {id}; its files are kept (`cordon start {id}` runs it again, \
                 `cordon deprovision {id}` removes it)"
            ),
            _ => eprintln!("cordon: removed {id} and everything it kept"),
        }
    }
    code
}

pub fn phase(name: &str, id: &str, audit: &AuditLog) -> i32 {
    let result = with_store(|s| match name {
        "start" => s
            .start(id, audit.decision_log(id), &audit.paths())
            .map(|()| "running"),
        "stop" => s.stop(id).map(|()| "provisioned"),
        "deprovision" => s.deprovision(id).map(|()| "deprovisioned"),
        _ => unreachable!("phase names are fixed by the caller"),
    });
    audit.phase(id, name, result.as_ref().err().map(|e| e.message.as_str()));
    match result {
        Ok(state) => envelope_ok(json!({ "sandboxId": id, "state": state })),
        Err(e) => envelope_err(&e),
    }
}

pub fn exec(args: &ExecArgs, audit: &AuditLog) -> i32 {
    let timeout = match args
        .timeout
        .as_deref()
        .map(crate::flags::parse_duration_ms)
        .transpose()
    {
        Ok(t) => t.map(|ms| u32::try_from(ms).unwrap_or(u32::MAX)),
        Err(e) => {
            eprintln!("cordon: {}", e.message);
            return EXIT_CORDON_FAILED;
        }
    };
    let words: Vec<String> = args
        .command
        .iter()
        .map(|w| crate::flags::shell_quote(w))
        .collect();
    let process = Process {
        command_line: Some(words.join(" ")),
        cwd: args.cwd.clone(),
        env: Some(args.env.clone()),
        timeout,
        // `--env` adds to the default environment.
        inherit_default_env: Some(true),
        cwd_is_callers: false,
    };
    let exec = Exec {
        words: Some(&args.command),
        envelope: false,
        pty: args.pty,
    };
    run_exec(&args.id, &process, exec, audit)
}

/// How `run_exec` runs a command.
struct Exec<'a> {
    /// The command as words (`cordon exec ID -- CMD ARGS`), None for a
    /// command line.
    words: Option<&'a [String]>,
    /// Errors as a JSON envelope (MXC's wire form).
    envelope: bool,
    pty: bool,
}

fn run_exec(id: &str, process: &Process, exec: Exec<'_>, audit: &AuditLog) -> i32 {
    let Exec {
        words,
        envelope,
        pty,
    } = exec;
    let started = std::time::Instant::now();
    let outcome = with_store(|s| s.prepare_exec(id, process, &audit.paths())).and_then(
        |(socket, mut plan)| {
            plan.words = words.map(<[String]>::to_vec);
            if pty {
                crate::term::terminal_type(&mut plan.env);
            }
            for warning in &plan.warnings {
                eprintln!("cordon: {warning}");
            }
            audit.exec(id, process.command_line.as_deref())?;
            lifecycle::exec(&socket, &plan, pty)
        },
    );
    match &outcome {
        Ok(o) => audit.exec_exit(id, o),
        Err(e) => audit.error(id, &e.message),
    }
    match outcome {
        Ok(o) => {
            if let Some(msg) = &o.exec_error {
                eprintln!("cordon: {msg}");
            }
            if o.timed_out {
                eprintln!("cordon: the command timed out and was killed with its session");
            }
            let wanted = if envelope {
                crate::report::wanted_aside()
            } else {
                crate::report::wanted()
            };
            if wanted {
                crate::report::emit(&crate::report::exec_document(id, &o, started.elapsed()));
            }
            o.exit_code
        }
        Err(e) if envelope => {
            if crate::report::wanted_aside() {
                crate::report::emit(
                    &json!({"error": {"code": e.code.as_str(), "message": e.message}}),
                );
            }
            envelope_err(&e)
        }
        Err(e) => {
            eprintln!("cordon: {}", e.message);
            crate::report::emit(&json!({"error": {"code": e.code.as_str(), "message": e.message}}));
            EXIT_CORDON_FAILED
        }
    }
}

pub fn list(as_json: bool) -> i32 {
    let store = match Store::open() {
        Ok(s) => s,
        Err(e) => return envelope_err(&e),
    };
    let now = cordon_sandbox::lifecycle::record::now_ms();
    let sandboxes = store.list();
    if as_json {
        let items: Vec<Value> = sandboxes
            .iter()
            .map(|s| {
                json!({
                    "sandboxId": s.id,
                    "state": s.state.name(),
                    "stopped": s.stopped,
                    "backend": s.backend,
                    "createdMs": s.created_ms,
                    "ageMs": now.saturating_sub(s.created_ms),
                    "containerId": s.container_id,
                    "policy": s.policy,
                })
            })
            .collect();
        println!("{}", json!({ "sandboxes": items }));
        return 0;
    }
    println!(
        "{:<40} {:<12} {:<8} {:>8}  POLICY",
        "SANDBOX", "STATE", "BACKEND", "AGE"
    );
    for s in sandboxes {
        println!(
            "{:<40} {:<12} {:<8} {:>7}s  {}{}",
            s.id,
            if s.stopped { "stopped" } else { s.state.name() },
            s.backend,
            now.saturating_sub(s.created_ms) / 1000,
            s.policy,
            s.container_id
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        );
    }
    0
}

/// MXC's wire form: a config with `"phase"`.
pub fn wire(phase_name: &str, raw: &Value, audit: &AuditLog) -> i32 {
    let id = raw["sandboxId"].as_str().map(str::to_string);
    let need_id = || -> Result<String, i32> {
        id.clone().ok_or_else(|| {
            envelope_err(&LifecycleError {
                code: ErrorCode::MalformedRequest,
                message: format!("sandboxId: required for phase {phase_name:?}"),
            })
        })
    };
    // Version and field set first, as for any request (an unknown phase
    // passes through to be refused below).
    let config = match cordon_policy::config_from_value(raw.clone()) {
        Ok(c) => c,
        Err(e) => return envelope_err(&e.into()),
    };
    match phase_name {
        "provision" => provision_value(raw),
        "start" | "stop" | "deprovision" => match need_id() {
            Ok(id) => phase(phase_name, &id, audit),
            Err(code) => code,
        },
        "exec" => {
            let id = match need_id() {
                Ok(id) => id,
                Err(code) => return code,
            };
            if let Some(field) = per_exec_network(&config) {
                return envelope_err(&LifecycleError {
                    code: ErrorCode::PolicyValidation,
                    message: format!(
                        "{field}: per-exec network settings are not supported; a sandbox's \
                         network is fixed when it is provisioned (remove {field} from the exec \
                         request)"
                    ),
                });
            }
            let process: Process = config.process.unwrap_or_default();
            let exec = Exec {
                words: None,
                envelope: true,
                pty: false,
            };
            run_exec(&id, &process, exec, audit)
        }
        other => envelope_err(&LifecycleError {
            code: ErrorCode::UnsupportedPhase,
            message: format!(
                "phase: unknown phase {other:?}; expected provision, start, exec, stop or deprovision"
            ),
        }),
    }
}

/// The field of an exec request that asks for its own network, if any.
fn per_exec_network(config: &cordon_policy::Config) -> Option<&'static str> {
    if config.network.is_some() {
        Some("network")
    } else if config.runtime_config.is_some() {
        Some("runtimeConfig")
    } else {
        None
    }
}
