//! Model 2 with the caller's proxy: the sandbox's only way out is that proxy
//! on the host's loopback. A socket listening on the proxy's address and port
//! inside the sandbox's own network namespace is accepted on by the
//! supervisor, which connects to the real proxy in the host's namespace.
//! `pump` also carries the filtering proxy's allowed connections.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Connections one sandbox may have open through the supervisor at once:
/// each costs threads and descriptors of the supervisor, a host process the
/// sandbox must not be able to exhaust.
pub const MAX_CONNECTIONS: usize = 256;

/// A count of open connections, shared by an accept loop and its pumps.
#[derive(Clone, Default)]
pub struct Connections(Arc<AtomicUsize>);

/// One open connection; its slot is free again when the last clone drops.
#[derive(Clone)]
pub struct Slot {
    _held: Arc<SlotInner>,
}

struct SlotInner(Arc<AtomicUsize>);

impl Drop for SlotInner {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Connections {
    /// A slot, or `None` when [`MAX_CONNECTIONS`] are open.
    pub fn acquire(&self) -> Option<Slot> {
        let taken = self.0.fetch_add(1, Ordering::AcqRel);
        if taken >= MAX_CONNECTIONS {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot {
            _held: Arc::new(SlotInner(self.0.clone())),
        })
    }
}

/// Where a relay's listener accepts connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Inside the sandbox's network namespace (its way out).
    Sandbox,
    /// On the host (a published port: the way in).
    Host,
}

/// A running relay; stops accepting when dropped.
pub struct Relay {
    listener: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Relay every connection accepted on `listener` (inside the sandbox's
    /// namespace) to `upstream` (`host:port`, resolved for each connection).
    pub fn start(listener: OwnedFd, upstream: String) -> Result<Relay, String> {
        Relay::start_with(listener, Side::Sandbox, move || {
            TcpStream::connect(upstream.as_str())
        })
    }

    /// Relay every connection accepted on `listener`, which listens on
    /// `accepts_on`'s side, to the connection `connect` opens on the other.
    pub fn start_with(
        listener: OwnedFd,
        accepts_on: Side,
        connect: impl Fn() -> std::io::Result<TcpStream> + Send + 'static,
    ) -> Result<Relay, String> {
        let accept_fd = listener.try_clone().map_err(|e| format!("relay: {e}"))?;
        let thread = std::thread::Builder::new()
            .name("cordon-relay".into())
            .spawn(move || {
                block_sigpipe();
                let accepting = TcpListener::from(accept_fd);
                let open = Connections::default();
                for inbound in accepting.incoming() {
                    let Ok(inbound) = inbound else { break };
                    let Some(slot) = open.acquire() else {
                        let _ = inbound.shutdown(Shutdown::Both);
                        continue;
                    };
                    let Ok(outbound) = connect() else {
                        let _ = inbound.shutdown(Shutdown::Both);
                        continue;
                    };
                    match accepts_on {
                        Side::Sandbox => pump(inbound, outbound, slot),
                        Side::Host => pump(outbound, inbound, slot),
                    }
                }
            })
            .map_err(|e| format!("relay: {e}"))?;
        Ok(Relay {
            listener,
            thread: Some(thread),
        })
    }
}

/// Block SIGPIPE in the calling thread (and the threads it starts): a peer
/// that goes away mid-transfer must end that transfer with EPIPE, not kill
/// the supervisor (splice(2) to a closed socket raises SIGPIPE, and cordon
/// keeps SIGPIPE's default action).
pub fn block_sigpipe() {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid sigset_t of ours.
    unsafe { libc::sigemptyset(&mut set) };
    // SAFETY: as above.
    unsafe { libc::sigaddset(&mut set, libc::SIGPIPE) };
    // SAFETY: blocking a valid set in this thread; no old set is asked for.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

/// Copy both ways until each side closes (in two threads; returns at once).
/// `sandbox_side` is the connection accepted inside the sandbox's network
/// namespace, `host_side` the one cordon opened. The connection's `slot` is
/// held until both directions are done.
pub fn pump(sandbox_side: TcpStream, host_side: TcpStream, slot: Slot) {
    send_unpaced(&sandbox_side);
    let (a, b) = (sandbox_side, host_side);
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one_way = |from: TcpStream, to: TcpStream| {
        let slot = slot.clone();
        move || {
            let _slot = slot;
            if splice_all(&from, &to).is_err() {
                let (mut from, mut to) = (&from, &to);
                let _ = std::io::copy(&mut from, &mut to);
            }
            let _ = to.shutdown(Shutdown::Write);
        }
    };
    let _ = std::thread::Builder::new().spawn(one_way(a, b2));
    let _ = std::thread::Builder::new().spawn(one_way(b, a2));
}

/// The sandbox-side connection never leaves the machine (both ends are on
/// the sandbox's own loopback), so congestion control there only costs. A
/// host default that paces its sending, such as BBR, capped this hop near
/// 2 GB/s here and took about half of the relay's CPU; Reno does not pace, is
/// always built in and may be chosen by any user. The host-side connection,
/// which may cross a real network, keeps the host's choice. A refusal only
/// costs speed.
fn send_unpaced(sandbox_side: &TcpStream) {
    let reno = std::ffi::OsString::from("reno");
    let _ = nix::sys::socket::setsockopt(
        sandbox_side,
        nix::sys::socket::sockopt::TcpCongestion,
        &reno,
    );
}

/// Move bytes from one socket to the other through a pipe with splice(2),
/// without copying them through this process. Ok at end of stream.
fn splice_all(from: &TcpStream, to: &TcpStream) -> std::io::Result<()> {
    let (pipe_r, pipe_w) = crate::sys::pipe()?;
    const CHUNK: usize = 1 << 20;
    // A pipe as big as a chunk moves a megabyte per pair of splices (the
    // default 64 KiB capped the relay near 1.7 GB/s here).
    // SAFETY: F_SETPIPE_SZ on a pipe we own; refusal leaves the default.
    unsafe {
        libc::fcntl(
            pipe_w.as_raw_fd(),
            libc::F_SETPIPE_SZ,
            libc::c_int::try_from(CHUNK).unwrap_or(libc::c_int::MAX),
        )
    };
    loop {
        let n = match splice(from.as_raw_fd(), pipe_w.as_raw_fd(), CHUNK) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) => return Err(e),
        };
        let mut left = n;
        while left > 0 {
            match splice(pipe_r.as_raw_fd(), to.as_raw_fd(), left) {
                Ok(m) if m > 0 => left -= m,
                // The receiver is gone; what is in the pipe cannot be delivered.
                _ => return Ok(()),
            }
        }
    }
}

/// One splice(2) of up to `len` bytes, retried when interrupted.
fn splice(from: RawFd, to: RawFd, len: usize) -> std::io::Result<usize> {
    loop {
        // SAFETY: splice(2) between open descriptors; null offsets for sockets and pipes.
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                libc::SPLICE_F_MOVE,
            )
        };
        if let Ok(n) = usize::try_from(n) {
            return Ok(n);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // SAFETY: shutdown(2) on our own listening socket wakes the accept loop.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{getsockopt, sockopt::TcpCongestion};
    use std::io::{Read, Write};
    use std::net::TcpListener;

    fn congestion_control(socket: &TcpStream) -> String {
        let name = getsockopt(socket, TcpCongestion).unwrap();
        name.to_string_lossy().trim_end_matches('\0').to_string()
    }

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        (near, listener.accept().unwrap().0)
    }

    #[test]
    fn pump_carries_both_ways_and_only_the_sandbox_side_sends_unpaced() {
        let (mut client, sandbox_side) = pair();
        let (host_side, mut server) = pair();
        let host_default = congestion_control(&host_side);
        let (watch_sandbox, watch_host) = (
            sandbox_side.try_clone().unwrap(),
            host_side.try_clone().unwrap(),
        );
        pump(
            sandbox_side,
            host_side,
            Connections::default().acquire().unwrap(),
        );

        client.write_all(b"up").unwrap();
        let mut got = [0u8; 2];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"up");
        server.write_all(b"down").unwrap();
        drop(server);
        let mut back = Vec::new();
        client.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"down");

        assert_eq!(congestion_control(&watch_sandbox), "reno");
        assert_eq!(congestion_control(&watch_host), host_default);
    }
}
