//! `cordon mcp --http ADDR`: the same tools over MCP's streamable HTTP
//! transport (rmcp's tower service, served by hyper), opt-in. Loopback
//! only, or a unix socket; every request must carry the server's bearer
//! token, because any local user can reach a loopback port: without the
//! token, another user would run commands as this server's user.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

/// Where the HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Listen {
    /// `127.0.0.1:PORT`, `[::1]:PORT` or `unix:/PATH`; anything else is
    /// refused (this server runs commands as its user: never off the host).
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if !path.starts_with('/') {
                return Err(format!(
                    "--http {text}: a unix socket path must be absolute"
                ));
            }
            return Ok(Listen::Unix(PathBuf::from(path)));
        }
        let addr: SocketAddr = text.parse().map_err(|_| {
            format!("--http {text}: expected 127.0.0.1:PORT, [::1]:PORT or unix:/PATH")
        })?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "--http {text}: only a loopback address (or a unix socket) is served; this \
                 server runs commands as its user"
            ));
        }
        Ok(Listen::Tcp(addr))
    }
}

type Reply = http::Response<http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>>;

fn refused(status: http::StatusCode, why: &'static str) -> Reply {
    let mut reply = http::Response::new(Full::new(Bytes::from_static(why.as_bytes())).boxed());
    *reply.status_mut() = status;
    reply
}

/// Constant-time comparison (the token must not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serve until SIGINT or SIGTERM; `ready` is told the address bound.
pub async fn serve<S>(
    server: S,
    listen: Listen,
    token: String,
    ready: impl FnOnce(&str),
) -> std::io::Result<()>
where
    S: rmcp::ServerHandler + Clone + Send + Sync + 'static,
{
    let config = StreamableHttpServerConfig::default();
    let cancel = config.cancellation_token.clone();
    let service = {
        let server = server.clone();
        StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        )
    };
    enum Acceptor {
        Tcp(tokio::net::TcpListener),
        Unix(tokio::net::UnixListener, PathBuf),
    }
    let acceptor = match &listen {
        Listen::Tcp(addr) => {
            let l = tokio::net::TcpListener::bind(addr).await?;
            ready(&format!("http://{}/mcp", l.local_addr()?));
            Acceptor::Tcp(l)
        }
        Listen::Unix(path) => {
            // Only this user may connect: the socket is made inside a
            // directory the umask keeps private, then moved into place.
            let old = {
                // SAFETY: umask only changes this process's file mode mask.
                unsafe { libc::umask(0o077) }
            };
            let bound = tokio::net::UnixListener::bind(path);
            // SAFETY: as above, restoring the mask.
            unsafe { libc::umask(old) };
            let l = bound?;
            ready(&format!("unix:{}", path.display()));
            Acceptor::Unix(l, path.clone())
        }
    };
    let token = Arc::new(format!("Bearer {token}"));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let io: Box<dyn Connection> = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            accepted = async {
                match &acceptor {
                    Acceptor::Tcp(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Connection>),
                    Acceptor::Unix(l, _) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Connection>),
                }
            } => match accepted {
                Ok(io) => io,
                Err(_) => continue,
            },
        };
        let service = service.clone();
        let token = token.clone();
        let handler = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let mut service = service.clone();
            let token = token.clone();
            async move {
                let given = req
                    .headers()
                    .get(http::header::AUTHORIZATION)
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                if !same(given, token.as_bytes()) {
                    return Ok::<_, std::convert::Infallible>(refused(
                        http::StatusCode::UNAUTHORIZED,
                        "cordon mcp: missing or wrong bearer token (Authorization: Bearer TOKEN)\n",
                    ));
                }
                tower_service::Service::call(&mut service, req).await
            }
        });
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(io), handler)
                .await;
        });
    }
    cancel.cancel();
    if let Acceptor::Unix(_, path) = &acceptor {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// A stream hyper can serve.
trait Connection: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Connection for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_or_a_unix_socket() {
        assert_eq!(
            Listen::parse("127.0.0.1:0"),
            Ok(Listen::Tcp("127.0.0.1:0".parse().unwrap()))
        );
        assert!(Listen::parse("[::1]:8080").is_ok());
        assert_eq!(
            Listen::parse("unix:/run/x.sock"),
            Ok(Listen::Unix("/run/x.sock".into()))
        );
        assert!(Listen::parse("0.0.0.0:8080")
            .unwrap_err()
            .contains("loopback"));
        assert!(Listen::parse("unix:rel.sock").is_err());
        assert!(Listen::parse("localhost").is_err());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"Bearer abc", b"Bearer abc"));
        assert!(!same(b"Bearer ab", b"Bearer abc"));
        assert!(!same(b"Bearer abd", b"Bearer abc"));
    }
}
