//! `cordon mcp ARGS`: runs `cordon-mcp ARGS` (crate `cordon-mcp`), found
//! beside this binary. The MCP server lives in its own binary so that
//! `cordon run` does not load an async runtime and an MCP stack: linked in,
//! they doubled the binary (3.1 → 6.2 MB).

use std::os::unix::process::CommandExt;

/// Replace this process with `cordon-mcp ARGS --cordon <this binary>`.
pub fn exec(args: &[String]) -> i32 {
    let me = match std::env::current_exe() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("cordon: mcp: cannot find this binary: {e}");
            return cordon_sandbox::EXIT_CORDON_FAILED;
        }
    };
    let server = me.with_file_name("cordon-mcp");
    if !server.is_file() {
        eprintln!(
            "cordon: mcp: {} is missing: the MCP server ships beside cordon (build it with \
             `cargo build --release -p cordon-mcp`, or scripts/build-release.sh)",
            server.display()
        );
        return cordon_sandbox::EXIT_CORDON_FAILED;
    }
    let e = std::process::Command::new(&server)
        .arg("--cordon")
        .arg(&me)
        .args(args)
        .exec();
    eprintln!("cordon: mcp: starting {}: {e}", server.display());
    cordon_sandbox::EXIT_CORDON_FAILED
}
