//! cordon's filtering proxy (model 2 with host rules): `server` accepts and
//! judges connections; `http` and `socks5` read what the sandbox sends.

pub mod http;
mod server;
pub mod socks5;

pub use server::{FilteringProxy, HOSTS_FILE_VAR};
