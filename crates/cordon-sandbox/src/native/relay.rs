//! Model 2 of the network policy: the sandbox's only way out is the caller's
//! proxy on the host's loopback. Inside the sandbox's own network namespace
//! the init listens on the proxy's address and port and hands the listening
//! socket (which stays in that namespace) to the supervisor, which accepts
//! there and connects to the real proxy in the host's namespace.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;

/// In the sandbox init: listen on `endpoint` in the sandbox's network
/// namespace and send the socket to the supervisor over `channel`.
pub fn listen_and_send(endpoint: SocketAddr, channel: RawFd) -> Result<(), String> {
    let listener = TcpListener::bind(endpoint)
        .map_err(|e| format!("listening for the proxy relay on {endpoint}: {e}"))?;
    crate::sys::send_fd(channel, listener.as_raw_fd(), b"L")
        .map_err(|e| format!("handing over the proxy relay socket: {e}"))
}

/// A running relay; stops accepting when dropped.
pub struct Relay {
    listener: OwnedFd,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// In the supervisor: receive the listening socket and relay every
    /// connection to `endpoint`. `None` if the init sent nothing (it failed).
    pub fn start(channel: &UnixStream, endpoint: SocketAddr) -> Option<Relay> {
        let (_, listener) = crate::sys::recv_fd(channel.as_raw_fd(), &mut [0u8; 1]).ok()?;
        let listener = listener?;
        let accept_fd = listener.try_clone().ok()?;
        let thread = std::thread::Builder::new()
            .name("cordon-relay".into())
            .spawn(move || {
                let accepting = TcpListener::from(accept_fd);
                for inbound in accepting.incoming() {
                    let Ok(inbound) = inbound else { break };
                    let Ok(outbound) = TcpStream::connect(endpoint) else {
                        let _ = inbound.shutdown(Shutdown::Both);
                        continue;
                    };
                    pump(inbound, outbound);
                }
            })
            .ok()?;
        Some(Relay {
            listener,
            thread: Some(thread),
        })
    }
}

/// Copy both ways until each side closes.
fn pump(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one_way = |from: TcpStream, to: TcpStream| {
        move || {
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

/// Move bytes from one socket to the other through a pipe with splice(2),
/// without copying them through this process. Ok at end of stream.
fn splice_all(from: &TcpStream, to: &TcpStream) -> std::io::Result<()> {
    let (pipe_r, pipe_w) = crate::sys::pipe()?;
    const CHUNK: usize = 1 << 20;
    loop {
        // SAFETY: splice(2) between descriptors we own; null offsets for sockets and pipes.
        let n = unsafe {
            libc::splice(
                from.as_raw_fd(),
                std::ptr::null_mut(),
                pipe_w.as_raw_fd(),
                std::ptr::null_mut(),
                CHUNK,
                libc::SPLICE_F_MOVE,
            )
        };
        if n == 0 {
            return Ok(());
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut left = n as usize;
        while left > 0 {
            // SAFETY: as above, draining what was just spliced into the pipe.
            let m = unsafe {
                libc::splice(
                    pipe_r.as_raw_fd(),
                    std::ptr::null_mut(),
                    to.as_raw_fd(),
                    std::ptr::null_mut(),
                    left,
                    libc::SPLICE_F_MOVE,
                )
            };
            if m <= 0 {
                let e = std::io::Error::last_os_error();
                if m < 0 && e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                // The receiver is gone; what is in the pipe cannot be delivered.
                return Ok(());
            }
            left -= m as usize;
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
