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
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RunResult {
    pub exit_code: i64,
    /// At most 64 KiB; `stdout_truncated` says when more was cut.
    pub stdout: String,
    pub stdout_truncated: bool,
    pub stderr: String,
    pub stderr_truncated: bool,
    pub timed_out: bool,
    /// What cordon refused during the run (network), as its outcome lists it.
    pub denials: Vec<Value>,
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
    created: Arc<Mutex<Vec<String>>>,
    tool_router: ToolRouter<Self>,
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

    async fn phase(&self, name: &str, id: &str) -> Result<Done, String> {
        let request = json!({"version": "1.0.0", "phase": name, "sandboxId": id});
        let answer = runner::run(&self.cordon, &[], &request, None)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let line = String::from_utf8_lossy(&answer.stdout);
        let doc: Value = line
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
        Ok(Done {
            sandbox_id: id.to_string(),
            state: doc["result"]["state"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
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
        let request = if id.is_empty() {
            let mut config = self.ceiling.config();
            config["process"] = process;
            config
        } else {
            json!({"version": "1.0.0", "phase": "exec", "sandboxId": id, "process": process})
        };
        let answer = runner::run(&self.cordon, &[], &request, stdin)
            .await
            .map_err(|e| format!("backend_error: {e}"))?;
        let outcome = answer
            .outcome
            .as_ref()
            .filter(|o| o.get("exitCode").is_some())
            .ok_or_else(|| error_text(&answer))?;
        let (stdout, stdout_truncated) = cut(&answer.stdout);
        let (stderr, stderr_truncated) = cut(&answer.stderr);
        Ok(RunResult {
            exit_code: outcome["exitCode"].as_i64().unwrap_or(-1),
            stdout,
            stdout_truncated,
            stderr,
            stderr_truncated,
            timed_out: outcome["timedOut"].as_bool().unwrap_or(false),
            denials: outcome["denials"].as_array().cloned().unwrap_or_default(),
        })
    }

    /// Stop and remove every sandbox this server created.
    async fn destroy_all(&self) {
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
    fn new(ceiling: Ceiling, cordon: PathBuf) -> Self {
        Server {
            ceiling: Arc::new(ceiling),
            cordon: Arc::new(cordon),
            created: Arc::new(Mutex::new(Vec::new())),
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
        config["phase"] = json!("provision");
        config["containment"] = json!("process");
        let answer = runner::run(&self.cordon, &[], &config, None)
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
        let id = doc["result"]["sandboxId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
        self.phase("start", &id).await?;
        Ok(Json(Created { sandbox_id: id }))
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

    /// Read a file inside a sandbox (its policy applies, as to any command).
    #[tool(name = "file_read")]
    async fn file_read(
        &self,
        Parameters(p): Parameters<FileParams>,
    ) -> Result<Json<FileContent>, String> {
        self.owned(&p.sandbox_id)?;
        let r = self
            .exec(
                &p.sandbox_id,
                format!("cat -- {}", quote(&p.path)),
                None,
                None,
                &BTreeMap::new(),
                Some(60.0),
            )
            .await?;
        if r.exit_code != 0 {
            return Err(format!(
                "reading {} inside the sandbox failed: {}",
                p.path,
                r.stderr.trim()
            ));
        }
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
        self.owned(&p.sandbox_id)?;
        let r = self
            .exec(
                &p.sandbox_id,
                format!("cat > {}", quote(&p.path)),
                Some(p.content.as_bytes()),
                None,
                &BTreeMap::new(),
                Some(60.0),
            )
            .await?;
        if r.exit_code != 0 {
            return Err(format!(
                "writing {} inside the sandbox failed: {}",
                p.path,
                r.stderr.trim()
            ));
        }
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
        self.owned(&p.sandbox_id)?;
        let r = self
            .exec(
                &p.sandbox_id,
                format!("ls -1A -- {}", quote(&p.path)),
                None,
                None,
                &BTreeMap::new(),
                Some(60.0),
            )
            .await?;
        if r.exit_code != 0 {
            return Err(format!(
                "listing {} inside the sandbox failed: {}",
                p.path,
                r.stderr.trim()
            ));
        }
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

/// Serve on stdio until the client disconnects; then destroy what was created.
pub async fn serve(ceiling: Ceiling, cordon: PathBuf, keep: bool) -> std::io::Result<()> {
    let server = Server::new(ceiling, cordon);
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
