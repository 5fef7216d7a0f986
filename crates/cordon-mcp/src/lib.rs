//! `cordon mcp`: an MCP server over stdio (built on `rmcp`) whose tools
//! create sandboxes, run commands and touch files *inside* them. Every
//! action is a request to the cordon binary itself (the one source of policy
//! truth), through the same wire form the SDKs use; the server's own policy,
//! given by the human who starts it, is a ceiling an agent can only narrow
//! (`ceiling`). Sandboxes the server created are destroyed when the client
//! disconnects.

mod ceiling;
mod runner;
mod server;
mod trail;

pub use ceiling::{Ceiling, CeilingError};

/// Serve MCP on stdin/stdout until the client disconnects, then destroy the
/// sandboxes this server created (unless `keep` is set).
pub fn serve_stdio(
    ceiling: Ceiling,
    cordon: std::path::PathBuf,
    keep: bool,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(server::serve(ceiling, cordon, keep))
}
