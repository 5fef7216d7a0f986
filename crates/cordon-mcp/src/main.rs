//! `cordon-mcp` (what `cordon mcp` runs): the MCP server, kept out of the
//! `cordon` binary so that the binary every sandbox start loads does not
//! carry an async runtime and an MCP stack it never uses (linked in, they
//! doubled it: 3.1 → 6.2 MB, musl release build, 2026-12-03).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Serve MCP on stdin/stdout: sandboxes, commands and files as tools,
/// within the limits given here (a ceiling an agent can only narrow).
#[derive(Parser, Debug)]
#[command(name = "cordon mcp", version)]
struct Args {
    /// A path agents may ask to read (repeatable).
    #[arg(long, value_name = "PATH")]
    ro: Vec<String>,
    /// A path agents may ask to read and write (repeatable).
    #[arg(long, value_name = "PATH")]
    rw: Vec<String>,
    /// A host, address or CIDR agents may ask to reach (repeatable).
    #[arg(long, value_name = "HOST")]
    allow_host: Vec<String>,
    /// A preset agents may ask for: git, rust, python, node or go (repeatable).
    #[arg(long, value_name = "NAME")]
    preset: Vec<String>,
    /// Memory cap per sandbox, in MiB.
    #[arg(long, value_name = "MIB")]
    memory_mb: Option<u64>,
    /// Process cap per sandbox.
    #[arg(long, value_name = "N")]
    pids: Option<u64>,
    /// Keep the sandboxes this server created when the client disconnects.
    #[arg(long)]
    keep: bool,
    /// Serve MCP's streamable HTTP transport here instead of stdio:
    /// 127.0.0.1:PORT, [::1]:PORT or unix:/PATH. Every request needs
    /// `Authorization: Bearer TOKEN` (CORDON_MCP_TOKEN, else a random one
    /// printed on stderr). Sandboxes are destroyed when the server stops.
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// The cordon binary (default: `cordon` beside this one, then CORDON_BIN).
    #[arg(long, value_name = "PATH")]
    cordon: Option<PathBuf>,
}

/// 125: cordon's own failure (as `cordon` itself exits).
const FAILED: u8 = 125;

fn cordon_binary(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = explicit.or_else(|| std::env::var_os("CORDON_BIN").map(PathBuf::from)) {
        return Ok(path);
    }
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let sibling = me.with_file_name("cordon");
    if sibling.is_file() {
        return Ok(sibling);
    }
    Err(format!(
        "no cordon binary beside {}; pass --cordon PATH or set CORDON_BIN",
        me.display()
    ))
}

/// 128 random bits as hex.
fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut ceiling = cordon_mcp::Ceiling {
        allow_hosts: args.allow_host.clone(),
        presets: args.preset.clone(),
        memory_mb: args.memory_mb,
        max_processes: args.pids,
        ..cordon_mcp::Ceiling::default()
    };
    for (flag, list, into) in [
        ("--ro", &args.ro, &mut ceiling.readonly),
        ("--rw", &args.rw, &mut ceiling.readwrite),
    ] {
        for path in list {
            match std::fs::canonicalize(path) {
                Ok(real) => into.push(real),
                Err(e) => {
                    eprintln!("cordon: mcp: {flag} {path}: {e} (the server's paths must exist)");
                    return ExitCode::from(FAILED);
                }
            }
        }
    }
    let cordon = match cordon_binary(args.cordon) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("cordon: mcp: {e}");
            return ExitCode::from(FAILED);
        }
    };
    let served = match &args.http {
        None => cordon_mcp::serve_stdio(ceiling, cordon, args.keep),
        Some(addr) => {
            let listen = match cordon_mcp::Listen::parse(addr) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("cordon: mcp: {e}");
                    return ExitCode::from(FAILED);
                }
            };
            let (token, chosen) = match std::env::var("CORDON_MCP_TOKEN") {
                Ok(t) if t.len() >= 16 => (t, true),
                Ok(_) => {
                    eprintln!("cordon: mcp: CORDON_MCP_TOKEN must be at least 16 characters");
                    return ExitCode::from(FAILED);
                }
                Err(_) => match random_token() {
                    Ok(t) => (t, false),
                    Err(e) => {
                        eprintln!("cordon: mcp: cannot make a token: {e}");
                        return ExitCode::from(FAILED);
                    }
                },
            };
            let shown = if chosen {
                "the token in CORDON_MCP_TOKEN".to_string()
            } else {
                token.clone()
            };
            cordon_mcp::serve_http(ceiling, cordon, args.keep, listen, token, |at| {
                eprintln!("cordon: mcp: serving MCP at {at} (Authorization: Bearer {shown})");
            })
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cordon: mcp: {e}");
            ExitCode::from(FAILED)
        }
    }
}
