//! The server's own audit trail: every cordon it starts records there
//! (`--audit-log`), so the filtering proxy's decisions of long-lived
//! sandboxes — which no single command's outcome carries — can be read back
//! for `sandbox_denials`. A private directory (0700), removed with the server.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub struct Trail {
    dir: PathBuf,
    file: PathBuf,
}

impl Trail {
    /// A fresh, private trail.
    pub fn create() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        for _ in 0..16 {
            let mut bytes = [0u8; 8];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))?;
            let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let dir = base.join(format!("cordon-mcp-{name}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    let file = dir.join("audit.jsonl");
                    std::fs::write(&file, b"")?;
                    return Ok(Trail { dir, file });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other(
            "no free name for the server's audit trail",
        ))
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    /// What the network refused sandbox `id` since `since_ms` (0: ever),
    /// in order: destination, port, the rule that refused it, and why.
    pub fn denials(&self, id: &str, since_ms: u128) -> Vec<Value> {
        let Ok(text) = std::fs::read_to_string(&self.file) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|r| {
                r["event"] == "network"
                    && r["sandboxId"] == id
                    && r["allowed"] == false
                    && r["timeMs"]
                        .as_u64()
                        .is_some_and(|t| u128::from(t) >= since_ms)
            })
            .map(|r| {
                json!({
                    "timeMs": r["timeMs"], "kind": r["kind"], "destination": r["destination"],
                    "address": r["address"], "port": r["port"], "rule": r["rule"],
                    "detail": r["detail"],
                })
            })
            .collect()
    }
}

impl Drop for Trail {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Milliseconds since the epoch (the trail's clock).
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}
