//! The MCP tools. Each one is a request to the cordon binary; the answers
//! are structured (JSON with a schema), refusals are tool errors carrying
//! cordon's message.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{tool, tool_handler, tool_router, Json, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::ceiling::{Ask, Ceiling};
use crate::runner;
use crate::trail::{now_ms, Trail};

/// Output kept per stream; the rest is cut and the result says so.
const MAX_OUTPUT: usize = 64 * 1024;

#[derive(Debug, Deserialize, JsonSchema, Default)]
pub struct CreateParams {
    /// Host paths the sandbox may read (within what this server may grant).
    #[serde(default)]
    pub readonly: Vec<String>,
    /// Host paths the sandbox may read and write.
    #[serde(default)]
    pub readwrite: Vec<String>,
    /// Paths never readable, listable or writable, even inside granted ones.
    #[serde(default)]
    pub denied: Vec<String>,
    /// Hosts, addresses or CIDRs the sandbox may connect to (any other egress is denied).
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Toolchain presets (git, rust, python, node, go).
    #[serde(default)]
    pub presets: Vec<String>,
    /// Memory limit in MiB.
    pub memory_mb: Option<u64>,
    /// Process limit.
    pub max_processes: Option<u64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Created {
    /// The sandbox's id, for the other tools.
    pub sandbox_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct IdParams {
    /// A sandbox id from sandbox_create.
    pub sandbox_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Done {
    pub sandbox_id: String,
    pub state: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Listed {
    /// This server's sandboxes and their states.
    pub sandboxes: Vec<Done>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunParams {
    /// A sandbox id from sandbox_create; without one, a fresh sandbox under this server's own policy.
    pub sandbox_id: Option<String>,
    /// A shell command line.
    pub command: String,
    /// Working directory inside the sandbox.
    pub cwd: Option<String>,
    /// Variables added to the environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Text given to the command on its standard input.
    pub stdin: Option<String>,
    /// Seconds before the command is killed with everything it started.
    pub timeout_seconds: Option<f64>,
    /// Start it and return at once with a `command_id` (dev servers, watchers):
    /// then command_output, command_write_stdin, command_kill.
    #[serde(default)]
    pub background: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RunResult {
    /// The background command's id (background runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// Still running (background runs only).
    pub running: bool,
    /// The exit code, once it ended.
    pub exit_code: Option<i64>,
    /// At most 64 KiB; `stdout_truncated` says when more was cut.
    pub stdout: String,
    pub stdout_truncated: bool,
    pub stderr: String,
    pub stderr_truncated: bool,
    pub timed_out: bool,
    /// Ended by command_kill.
    pub killed: bool,
    /// What cordon refused during the run (network), as its outcome lists it.
    pub denials: Vec<Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Policy {
    /// The MXC config the sandbox was created with.
    pub config: Value,
    /// cordon's resolved plan of it (as `cordon validate` prints it).
    pub effective: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Denials {
    /// Network connections refused, in order: destination, port, rule, detail.
    pub denials: Vec<Value>,
    /// How refused file access shows.
    pub files: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommandParams {
    /// A command id from command_run with background.
    pub command_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StdinParams {
    pub command_id: String,
    /// Text for the command's standard input.
    #[serde(default)]
    pub text: String,
    /// Close its standard input after writing.
    #[serde(default)]
    pub close: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FileParams {
    pub sandbox_id: String,
    /// A path as the sandbox sees it.
    pub path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WriteParams {
    pub sandbox_id: String,
    pub path: String,
    /// The file's new content (text).
    pub content: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommandDone {
    pub command_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FileContent {
    pub content: String,
    pub truncated: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FileNames {
    pub names: Vec<String>,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn cut(bytes: &[u8]) -> (String, bool) {
    let keep = bytes.len().min(MAX_OUTPUT);
    (
        String::from_utf8_lossy(&bytes[..keep]).into_owned(),
        bytes.len() > MAX_OUTPUT,
    )
}

/// A tool result from cordon's outcome (`None`: still running).
fn result_of(
    outcome: Option<&Value>,
    stdout: &[u8],
    stderr: &[u8],
    command_id: Option<String>,
) -> RunResult {
    let (stdout, stdout_truncated) = cut(stdout);
    let (stderr, stderr_truncated) = cut(stderr);
    RunResult {
        command_id,
        running: outcome.is_none(),
        exit_code: outcome.and_then(|o| o["exitCode"].as_i64()),
        stdout,
        stdout_truncated,
        stderr,
        stderr_truncated,
        timed_out: outcome
            .and_then(|o| o["timedOut"].as_bool())
            .unwrap_or(false),
        killed: outcome.and_then(|o| o["killed"].as_bool()).unwrap_or(false),
        denials: outcome
            .and_then(|o| o["denials"].as_array().cloned())
            .unwrap_or_default(),
    }
}

fn error_text(answer: &runner::Answer) -> String {
    if let Some(err) = answer.outcome.as_ref().and_then(|o| o.get("error")) {
        return format!(
            "{}: {}",
            err["code"].as_str().unwrap_or("backend_error"),
            err["message"]
                .as_str()
                .unwrap_or("cordon refused the request")
        );
    }
    format!(
        "backend_error: cordon ended without an outcome: {}",
        String::from_utf8_lossy(&answer.stderr).trim()
    )
}

/// The server: the ceiling, the binary, and the sandboxes it created.
#[derive(Clone)]
pub struct Server {
    ceiling: Arc<Ceiling>,
    cordon: Arc<PathBuf>,
    /// Where every cordon this server starts records (for sandbox_denials).
    trail: Arc<Trail>,
    /// The config each sandbox was created with (for sandbox_policy).
    policies: Arc<Mutex<BTreeMap<String, Value>>>,
    created: Arc<Mutex<Vec<String>>>,
    background: Arc<Mutex<BTreeMap<String, Background>>>,
    counter: Arc<std::sync::atomic::AtomicU64>,
    tool_router: ToolRouter<Self>,
}

/// A command started with `background`: its output so far, its stdin, and
/// its outcome once it ended.
struct Background {
    pid: Option<u32>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdin: Arc<tokio::sync::Mutex<Option<tokio::process::ChildStdin>>>,
    ended: Arc<Mutex<Option<Value>>>,
    /// command_kill (or the session's end) asked it to stop.
    killed: Arc<std::sync::atomic::AtomicBool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Copy `from` into `into` until it ends.
async fn collect(mut from: impl tokio::io::AsyncRead + Unpin, into: Arc<Mutex<Vec<u8>>>) {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        lock(&into).extend_from_slice(&buf[..n]);
    }
}

/// Ask a cordon process to stop (it kills every process of what it runs).
fn terminate(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) sends a signal; no memory is involved.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

impl Server {
    fn owned(&self, id: &str) -> Result<(), String> {
        let created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        if created.iter().any(|c| c == id) {
            Ok(())
        } else {
            Err(format!(
                "stale_id: {id} is not a sandbox this server created (sandbox_list lists them)"
            ))
        }
    }

    /// A lifecycle request other than exec: its envelope's `result`, or its
    /// `error` as the tool's error.
    async fn envelope(&self, request: &Value) -> Result<Value, String> {
        let answer = runner::run(&self.cordon, &self.recorded(), request, None)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let doc: Value = String::from_utf8_lossy(&answer.stdout)
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
            .ok_or_else(|| error_text(&answer))?;
        if let Some(err) = doc.get("error") {
            return Err(format!(
                "{}: {}",
                err["code"].as_str().unwrap_or("backend_error"),
                err["message"].as_str().unwrap_or("")
            ));
        }
        Ok(doc["result"].clone())
    }

    async fn phase(&self, name: &str, id: &str) -> Result<Done, String> {
        let request = json!({"version": "1.0.0", "phase": name, "sandboxId": id});
        let result = self.envelope(&request).await?;
        Ok(Done {
            sandbox_id: id.to_string(),
            state: result["state"].as_str().unwrap_or("unknown").to_string(),
        })
    }

    /// The request that runs `command` in sandbox `id` (empty: a fresh
    /// sandbox under the server's own policy).
    fn request_for(
        &self,
        id: &str,
        command: String,
        cwd: Option<String>,
        env: &BTreeMap<String, String>,
        timeout: Option<f64>,
    ) -> Result<Value, String> {
        let mut process = json!({"commandLine": command});
        if let Some(cwd) = cwd {
            process["cwd"] = json!(cwd);
        }
        if !env.is_empty() {
            process["env"] = json!(env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>());
            process["inheritDefaultEnv"] = json!(true);
        }
        if let Some(t) = timeout {
            let ms = std::time::Duration::try_from_secs_f64(t)
                .ok()
                .filter(|d| !d.is_zero())
                .and_then(|d| u32::try_from(d.as_millis().max(1)).ok())
                .ok_or(
                    "malformed_request: timeout_seconds must be more than 0 and under 49 days",
                )?;
            process["timeout"] = json!(ms);
        }
        Ok(if id.is_empty() {
            let mut config = self.ceiling.config();
            config["process"] = process;
            config
        } else {
            json!({"version": "1.0.0", "phase": "exec", "sandboxId": id, "process": process})
        })
    }

    async fn exec(
        &self,
        id: &str,
        command: String,
        stdin: Option<&[u8]>,
        cwd: Option<String>,
        env: &BTreeMap<String, String>,
        timeout: Option<f64>,
    ) -> Result<RunResult, String> {
        let request = self.request_for(id, command, cwd, env, timeout)?;
        let started = now_ms();
        let answer = runner::run(&self.cordon, &self.recorded(), &request, stdin)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let outcome = answer
            .outcome
            .as_ref()
            .filter(|o| o.get("exitCode").is_some())
            .ok_or_else(|| error_text(&answer))?;
        let mut result = result_of(Some(outcome), &answer.stdout, &answer.stderr, None);
        if !id.is_empty() && result.denials.is_empty() {
            // A long-lived sandbox's proxy records in the trail, not in the
            // command's outcome.
            result.denials = self.trail.denials(id, started);
        }
        Ok(result)
    }

    /// The arguments that make a cordon record in this server's trail.
    fn recorded(&self) -> [&str; 2] {
        [
            "--audit-log",
            self.trail.path().to_str().unwrap_or_default(),
        ]
    }

    /// Start `request` in the background; its id.
    fn start_background(&self, request: &Value) -> Result<String, String> {
        let (mut child, outcome) = runner::start(&self.cordon, &self.recorded(), request, true)
            .map_err(|e| format!("backend_error: {e}"))?;
        let id = format!(
            "cmd-{}",
            self.counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let entry = Background {
            pid: child.id(),
            stdout: Arc::new(Mutex::new(Vec::new())),
            stderr: Arc::new(Mutex::new(Vec::new())),
            stdin: Arc::new(tokio::sync::Mutex::new(child.stdin.take())),
            ended: Arc::new(Mutex::new(None)),
            killed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let readers = [
            child
                .stdout
                .take()
                .map(|o| tokio::spawn(collect(o, entry.stdout.clone()))),
            child
                .stderr
                .take()
                .map(|e| tokio::spawn(collect(e, entry.stderr.clone()))),
        ];
        let ended = entry.ended.clone();
        let killed = entry.killed.clone();
        tokio::spawn(async move {
            use std::os::unix::process::ExitStatusExt;
            let status = child.wait().await;
            for reader in readers.into_iter().flatten() {
                let _ = reader.await;
            }
            let signal = status.as_ref().ok().and_then(|s| s.signal());
            let doc = outcome.read().unwrap_or_else(|| match signal {
                // Killed on request: cordon took the command down with it.
                Some(sig) if killed.load(std::sync::atomic::Ordering::Relaxed) => {
                    json!({"exitCode": 128 + sig, "timedOut": false, "killed": true})
                }
                _ => json!({"error": {"code": "backend_error", "message": format!("cordon ended ({status:?}) without an outcome")}}),
            });
            *lock(&ended) = Some(doc);
        });
        lock(&self.background).insert(id.clone(), entry);
        Ok(id)
    }

    fn with_background<T>(&self, id: &str, f: impl FnOnce(&Background) -> T) -> Result<T, String> {
        let all = lock(&self.background);
        let entry = all
            .get(id)
            .ok_or_else(|| format!("stale_id: {id} is not a background command of this server"))?;
        Ok(f(entry))
    }

    /// A file operation: `command` run inside sandbox `id`; a failure is
    /// the tool's error, naming the path and what the sandbox's tool said.
    async fn file_op(
        &self,
        id: &str,
        verb: &str,
        path: &str,
        command: String,
        stdin: Option<&[u8]>,
    ) -> Result<RunResult, String> {
        self.owned(id)?;
        let r = self
            .exec(id, command, stdin, None, &BTreeMap::new(), Some(60.0))
            .await?;
        if r.exit_code != Some(0) {
            return Err(format!(
                "{verb} {path} inside the sandbox failed: {}",
                r.stderr.trim()
            ));
        }
        Ok(r)
    }

    /// Kill every background command, then stop and remove every sandbox
    /// this server created.
    async fn destroy_all(&self) {
        let running: Vec<u32> = lock(&self.background)
            .values()
            .filter(|b| lock(&b.ended).is_none())
            .filter_map(|b| {
                b.killed.store(true, std::sync::atomic::Ordering::Relaxed);
                b.pid
            })
            .collect();
        for pid in running {
            terminate(pid);
        }
        let ids: Vec<String> = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for id in ids {
            let _ = self.phase("stop", &id).await;
            let _ = self.phase("deprovision", &id).await;
        }
    }
}

#[tool_router(router = tool_router)]
impl Server {
    fn new(ceiling: Ceiling, cordon: PathBuf, trail: Trail) -> Self {
        Server {
            ceiling: Arc::new(ceiling),
            cordon: Arc::new(cordon),
            trail: Arc::new(trail),
            policies: Arc::new(Mutex::new(BTreeMap::new())),
            created: Arc::new(Mutex::new(Vec::new())),
            background: Arc::new(Mutex::new(BTreeMap::new())),
            counter: Arc::new(std::sync::atomic::AtomicU64::new(1)),
            tool_router: Self::tool_router(),
        }
    }

    /// Create and start a sandbox. Paths, hosts, presets and limits must lie within what this server may grant.
    #[tool(name = "sandbox_create")]
    async fn sandbox_create(
        &self,
        Parameters(p): Parameters<CreateParams>,
    ) -> Result<Json<Created>, String> {
        let ask = Ask {
            readonly: p.readonly,
            readwrite: p.readwrite,
            denied: p.denied,
            allow_hosts: p.allow_hosts,
            presets: p.presets,
            memory_mb: p.memory_mb,
            max_processes: p.max_processes,
        };
        let mut config = self
            .ceiling
            .narrow(&ask)
            .map_err(|e| format!("policy_validation: {e}"))?;
        config["containment"] = json!("process");
        let mut request = config.clone();
        request["phase"] = json!("provision");
        let result = self.envelope(&request).await?;
        let id = result["sandboxId"].as_str().unwrap_or_default().to_string();
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
        lock(&self.policies).insert(id.clone(), config);
        self.phase("start", &id).await?;
        Ok(Json(Created { sandbox_id: id }))
    }

    /// The effective policy of a sandbox: the MXC config it was created
    /// with, and what cordon made of it (every path with its access and why,
    /// the network rules, the limits, the operator's ceiling if any).
    #[tool(name = "sandbox_policy")]
    async fn sandbox_policy(
        &self,
        Parameters(p): Parameters<IdParams>,
    ) -> Result<Json<Policy>, String> {
        self.owned(&p.sandbox_id)?;
        let config = lock(&self.policies)
            .get(&p.sandbox_id)
            .cloned()
            .ok_or_else(|| format!("stale_id: no policy recorded for {}", p.sandbox_id))?;
        let mut probe = config.clone();
        probe["process"] = json!({"commandLine": "true"});
        let answer = runner::run(&self.cordon, &["--dry-run"], &probe, None)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let effective: Value =
            serde_json::from_slice(&answer.stdout).map_err(|_| error_text(&answer))?;
        Ok(Json(Policy { config, effective }))
    }

    /// What a sandbox's policy refused (network connections, in order, each
    /// with the rule that refused it), so an agent can see why a request
    /// failed and what to ask the human for.
    #[tool(name = "sandbox_denials")]
    async fn sandbox_denials(
        &self,
        Parameters(p): Parameters<IdParams>,
    ) -> Result<Json<Denials>, String> {
        self.owned(&p.sandbox_id)?;
        Ok(Json(Denials {
            denials: self.trail.denials(&p.sandbox_id, 0),
            files: "a path outside the policy is not there for the sandbox (no such file) \
                    or not writable (read-only file system / permission denied); \
                    sandbox_policy lists what it can see"
                .into(),
        }))
    }

    /// The sandboxes this server created, with their states.
    #[tool(name = "sandbox_list")]
    async fn sandbox_list(&self) -> Result<Json<Listed>, String> {
        let all = runner::list(&self.cordon)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let created = self
            .created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let sandboxes = all["sandboxes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let id = s["sandboxId"].as_str()?;
                created.iter().any(|c| c == id).then(|| Done {
                    sandbox_id: id.to_string(),
                    state: if s["stopped"].as_bool() == Some(true) {
                        "stopped".into()
                    } else {
                        s["state"].as_str().unwrap_or("unknown").to_string()
                    },
                })
            })
            .collect();
        Ok(Json(Listed { sandboxes }))
    }

    /// Start a stopped sandbox again.
    #[tool(name = "sandbox_start")]
    async fn sandbox_start(
        &self,
        Parameters(p): Parameters<IdParams>,
    ) -> Result<Json<Done>, String> {
        self.owned(&p.sandbox_id)?;
        self.phase("start", &p.sandbox_id).await.map(Json)
    }

    /// Kill every process of a sandbox; keep its files.
    #[tool(name = "sandbox_stop")]
    async fn sandbox_stop(
        &self,
        Parameters(p): Parameters<IdParams>,
    ) -> Result<Json<Done>, String> {
        self.owned(&p.sandbox_id)?;
        self.phase("stop", &p.sandbox_id).await.map(Json)
    }

    /// Stop a sandbox and remove everything it kept.
    #[tool(name = "sandbox_destroy")]
    async fn sandbox_destroy(
        &self,
        Parameters(p): Parameters<IdParams>,
    ) -> Result<Json<Done>, String> {
        self.owned(&p.sandbox_id)?;
        let _ = self.phase("stop", &p.sandbox_id).await;
        let done = self.phase("deprovision", &p.sandbox_id).await?;
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|c| c != &p.sandbox_id);
        Ok(Json(done))
    }

    /// Run a shell command: in a sandbox (sandbox_id), or in a fresh one under this server's own policy. Output is cut at 64 KiB per stream.
    #[tool(name = "command_run")]
    async fn command_run(
        &self,
        Parameters(p): Parameters<RunParams>,
    ) -> Result<Json<RunResult>, String> {
        let id = match &p.sandbox_id {
            Some(id) => {
                self.owned(id)?;
                id.clone()
            }
            None => String::new(),
        };
        if p.background {
            let request = self.request_for(&id, p.command, p.cwd, &p.env, p.timeout_seconds)?;
            let command_id = self.start_background(&request)?;
            if let Some(text) = p.stdin {
                let stdin = self.with_background(&command_id, |b| b.stdin.clone())?;
                let mut guard = stdin.lock().await;
                if let Some(pipe) = guard.as_mut() {
                    use tokio::io::AsyncWriteExt;
                    let _ = pipe.write_all(text.as_bytes()).await;
                }
            }
            return Ok(Json(result_of(None, &[], &[], Some(command_id))));
        }
        self.exec(
            &id,
            p.command,
            p.stdin.as_deref().map(str::as_bytes),
            p.cwd,
            &p.env,
            p.timeout_seconds,
        )
        .await
        .map(Json)
    }

    /// A background command's output so far (64 KiB per stream at most), and its exit code once it ended.
    #[tool(name = "command_output")]
    async fn command_output(
        &self,
        Parameters(p): Parameters<CommandParams>,
    ) -> Result<Json<RunResult>, String> {
        self.with_background(&p.command_id, |b| {
            let ended = lock(&b.ended).clone();
            if let Some(err) = ended.as_ref().and_then(|d| d.get("error")) {
                return Err(format!(
                    "{}: {}",
                    err["code"].as_str().unwrap_or("backend_error"),
                    err["message"].as_str().unwrap_or("")
                ));
            }
            Ok(result_of(
                ended.as_ref(),
                &lock(&b.stdout),
                &lock(&b.stderr),
                Some(p.command_id.clone()),
            ))
        })?
        .map(Json)
    }

    /// Write to a background command's standard input (and close it with `close`).
    #[tool(name = "command_write_stdin")]
    async fn command_write_stdin(
        &self,
        Parameters(p): Parameters<StdinParams>,
    ) -> Result<Json<CommandDone>, String> {
        use tokio::io::AsyncWriteExt;
        let stdin = self.with_background(&p.command_id, |b| b.stdin.clone())?;
        let mut guard = stdin.lock().await;
        let pipe = guard
            .as_mut()
            .ok_or_else(|| format!("{}: its standard input is closed", p.command_id))?;
        pipe.write_all(p.text.as_bytes())
            .await
            .map_err(|e| format!("{}: writing its standard input: {e}", p.command_id))?;
        if p.close {
            *guard = None;
        }
        Ok(Json(CommandDone {
            command_id: p.command_id,
        }))
    }

    /// Kill a background command and everything it started.
    #[tool(name = "command_kill")]
    async fn command_kill(
        &self,
        Parameters(p): Parameters<CommandParams>,
    ) -> Result<Json<CommandDone>, String> {
        let pid = self.with_background(&p.command_id, |b| {
            b.killed.store(true, std::sync::atomic::Ordering::Relaxed);
            lock(&b.ended).is_none().then_some(b.pid).flatten()
        })?;
        if let Some(pid) = pid {
            terminate(pid);
        }
        Ok(Json(CommandDone {
            command_id: p.command_id,
        }))
    }

    /// Read a file inside a sandbox (its policy applies, as to any command).
    #[tool(name = "file_read")]
    async fn file_read(
        &self,
        Parameters(p): Parameters<FileParams>,
    ) -> Result<Json<FileContent>, String> {
        let r = self
            .file_op(
                &p.sandbox_id,
                "reading",
                &p.path,
                format!("cat -- {}", quote(&p.path)),
                None,
            )
            .await?;
        Ok(Json(FileContent {
            content: r.stdout,
            truncated: r.stdout_truncated,
        }))
    }

    /// Write a file inside a sandbox (its policy applies, as to any command).
    #[tool(name = "file_write")]
    async fn file_write(
        &self,
        Parameters(p): Parameters<WriteParams>,
    ) -> Result<Json<FileNames>, String> {
        let command = format!("cat > {}", quote(&p.path));
        self.file_op(
            &p.sandbox_id,
            "writing",
            &p.path,
            command,
            Some(p.content.as_bytes()),
        )
        .await?;
        Ok(Json(FileNames {
            names: vec![p.path],
        }))
    }

    /// List a directory inside a sandbox (its policy applies, as to any command).
    #[tool(name = "file_list")]
    async fn file_list(
        &self,
        Parameters(p): Parameters<FileParams>,
    ) -> Result<Json<FileNames>, String> {
        let r = self
            .file_op(
                &p.sandbox_id,
                "listing",
                &p.path,
                format!("ls -1A -- {}", quote(&p.path)),
                None,
            )
            .await?;
        Ok(Json(FileNames {
            names: r.stdout.lines().map(str::to_string).collect(),
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cordon", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Sandboxes for untrusted commands. sandbox_create (within this server's limits), then \
                 command_run and file_* with its id; command_run without an id runs in a fresh sandbox.",
            )
    }
}

/// Serve streamable HTTP at `listen` until SIGINT or SIGTERM; then destroy
/// what was created (every client's: over HTTP they share this server).
pub async fn serve_http(
    ceiling: Ceiling,
    cordon: PathBuf,
    keep: bool,
    listen: crate::http::Listen,
    token: String,
    ready: impl FnOnce(&str),
) -> std::io::Result<()> {
    let server = Server::new(ceiling, cordon, Trail::create()?);
    let served = crate::http::serve(server.clone(), listen, token, ready).await;
    if !keep {
        server.destroy_all().await;
    }
    served
}

/// Serve on stdio until the client disconnects; then destroy what was created.
pub async fn serve(ceiling: Ceiling, cordon: PathBuf, keep: bool) -> std::io::Result<()> {
    let server = Server::new(ceiling, cordon, Trail::create()?);
    let running = server
        .clone()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(format!("MCP initialization: {e}")))?;
    let ended = running.waiting().await;
    if !keep {
        server.destroy_all().await;
    }
    ended
        .map(|_| ())
        .map_err(|e| std::io::Error::other(format!("MCP session: {e}")))
}
