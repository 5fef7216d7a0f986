//! `cordon mcp`: an MCP server over stdio (built on `rmcp`) whose tools
//! create sandboxes, run commands and touch files *inside* them. Every
//! action is a request to the cordon binary itself (the one source of policy
//! truth), through the same wire form the SDKs use; the server's own policy,
//! given by the human who starts it, is a ceiling an agent can only narrow
//! (`ceiling`). Sandboxes the server created are destroyed when the client
//! disconnects.

mod ceiling;
mod http;
mod runner;
mod server;
mod trail;

pub use ceiling::{Ceiling, CeilingError};
pub use http::Listen;

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

/// Serve MCP's streamable HTTP transport at `listen` (loopback or a unix
/// socket; every request must carry `Authorization: Bearer TOKEN`) until
/// SIGINT or SIGTERM, then destroy the sandboxes this server created (unless
/// `keep`). `ready` is told the address once it listens.
pub fn serve_http(
    ceiling: Ceiling,
    cordon: std::path::PathBuf,
    keep: bool,
    listen: Listen,
    token: String,
    ready: impl FnOnce(&str),
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(server::serve_http(
        ceiling, cordon, keep, listen, token, ready,
    ))
}
