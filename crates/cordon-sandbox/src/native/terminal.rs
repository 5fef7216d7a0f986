//! `cordon run --pty`: the command gets a terminal of the sandbox's own
//! devpts; cordon relays it to its own stdin/stdout and follows resizes.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::sys;

/// In the sandbox init: hand the terminal's master side to the supervisor.
pub fn send_master(master: &OwnedFd, channel: RawFd) -> Result<(), String> {
    sys::send_fd(channel, master.as_raw_fd(), b"T")
        .map_err(|e| format!("handing over the terminal: {e}"))
}

/// The supervisor's side: relaying until the terminal closes.
pub struct Relay {
    _raw: sys::RawMode,
    output: Option<JoinHandle<()>>,
}

fn copy(from: RawFd, to: RawFd, buf: &mut [u8]) -> bool {
    // SAFETY: reading into and writing from a valid buffer.
    let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        return false;
    }
    sys::write_all(to, &buf[..n as usize]);
    true
}

impl Relay {
    /// Receive the master side from the init and start relaying. `None` if
    /// the init sent none (it failed; its report says why).
    pub fn start(channel: &UnixStream) -> Option<Relay> {
        let (_, master) = sys::recv_fd(channel.as_raw_fd(), &mut [0u8; 1]).ok()?;
        let master = master?;
        if let Some((rows, cols)) = sys::window_size(1).or_else(|| sys::window_size(0)) {
            sys::set_window_size(master.as_raw_fd(), rows, cols);
        }
        let raw = sys::RawMode::enter();
        // Resizes arrive as SIGWINCH; a thread forwards them.
        let mut winch = SigSet::empty();
        winch.add(Signal::SIGWINCH);
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&winch), None);
        let master_fd = master.as_raw_fd();
        if let Ok(resize) = SignalFd::with_flags(&winch, SfdFlags::SFD_CLOEXEC) {
            let _ = std::thread::Builder::new().spawn(move || {
                while let Ok(Some(_)) = resize.read_signal() {
                    if let Some((rows, cols)) = sys::window_size(1).or_else(|| sys::window_size(0))
                    {
                        sys::set_window_size(master_fd, rows, cols);
                    }
                }
            });
        }
        let input = master.try_clone().ok()?;
        let _ = std::thread::Builder::new().spawn(move || {
            let mut buf = [0u8; 16384];
            while copy(0, input.as_raw_fd(), &mut buf) {}
            // End of input: the terminal's end-of-file character.
            sys::write_all(input.as_raw_fd(), &[4]);
            // Keep the descriptor open: the command may still be writing.
            std::mem::forget(input);
        });
        let output = std::thread::Builder::new()
            .spawn(move || {
                let mut buf = [0u8; 16384];
                while copy(master.as_raw_fd(), 1, &mut buf) {}
            })
            .ok()?;
        Some(Relay {
            _raw: raw,
            output: Some(output),
        })
    }

    /// Wait until everything the command wrote has been relayed (the
    /// terminal reports EIO once no process holds it).
    pub fn finish(mut self) {
        if let Some(output) = self.output.take() {
            let _ = output.join();
        }
    }
}
