//! The one terminal relay, for `run --pty` and `exec --pty`: the command has
//! a terminal of the sandbox's own devpts; cordon holds its master side,
//! copies its own stdin to it and its output to its own stdout, follows
//! resizes of its own terminal, and keeps that terminal in raw mode meanwhile.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::sys;

/// A running relay; dropping it (or [`Relay::finish`]) restores the terminal.
pub struct Relay {
    _raw: sys::RawMode,
    output: Option<JoinHandle<()>>,
    /// Set by the output thread when the terminal has closed.
    done: Arc<AtomicBool>,
    /// Milliseconds after `since` at which output last flowed.
    last_output: Arc<AtomicU64>,
    since: Instant,
}

/// Copy what one read of `from` gives to `to`; false at end or error.
fn copy(from: RawFd, to: RawFd, buf: &mut [u8]) -> bool {
    // SAFETY: reading into a valid buffer of its length.
    let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
    match usize::try_from(n) {
        Ok(n) if n > 0 => {
            sys::write_all(to, &buf[..n]);
            true
        }
        _ => false,
    }
}

/// The caller's terminal size, from stdout or else stdin.
fn own_size() -> Option<(u16, u16)> {
    sys::window_size(1).or_else(|| sys::window_size(0))
}

impl Relay {
    /// Start relaying the terminal whose master side is `master`.
    pub fn start(master: OwnedFd) -> std::io::Result<Relay> {
        if let Some((rows, cols)) = own_size() {
            sys::set_window_size(master.as_raw_fd(), rows, cols);
        }
        let input = master.try_clone()?;
        let raw = sys::RawMode::enter();
        // Resizes arrive as SIGWINCH; a thread forwards them.
        let mut winch = SigSet::empty();
        winch.add(Signal::SIGWINCH);
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&winch), None);
        let master_fd = master.as_raw_fd();
        if let Ok(resize) = SignalFd::with_flags(&winch, SfdFlags::SFD_CLOEXEC) {
            std::thread::Builder::new().spawn(move || {
                while let Ok(Some(_)) = resize.read_signal() {
                    if let Some((rows, cols)) = own_size() {
                        sys::set_window_size(master_fd, rows, cols);
                    }
                }
            })?;
        }
        std::thread::Builder::new().spawn(move || {
            let mut buf = [0u8; 16384];
            while copy(0, input.as_raw_fd(), &mut buf) {}
            // End of input: the terminal's end-of-file character.
            sys::write_all(input.as_raw_fd(), &[4]);
            // Keep the descriptor open: the command may still be writing.
            std::mem::forget(input);
        })?;
        let done = Arc::new(AtomicBool::new(false));
        let last_output = Arc::new(AtomicU64::new(0));
        let since = Instant::now();
        let (done_w, last_w) = (done.clone(), last_output.clone());
        let output = std::thread::Builder::new().spawn(move || {
            let mut buf = [0u8; 16384];
            while copy(master.as_raw_fd(), 1, &mut buf) {
                let ms = u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX);
                last_w.store(ms, Ordering::Relaxed);
            }
            done_w.store(true, Ordering::Release);
        })?;
        Ok(Relay {
            _raw: raw,
            output: Some(output),
            done,
            last_output,
            since,
        })
    }

    /// Wait until everything written to the terminal has been relayed: the
    /// terminal reports EIO once no process holds it (a one-shot sandbox is
    /// gone by then).
    pub fn finish(mut self) {
        if let Some(output) = self.output.take() {
            let _ = output.join();
        }
    }

    /// After an exec's command has ended: relay what is left until the
    /// terminal closes or stays quiet for `quiet` (a background process of a
    /// long-lived sandbox may hold it open).
    pub fn finish_within(self, quiet: Duration) {
        let called = self.since.elapsed();
        loop {
            if self.done.load(Ordering::Acquire) {
                return self.finish();
            }
            let last = Duration::from_millis(self.last_output.load(Ordering::Relaxed)).max(called);
            if self.since.elapsed().saturating_sub(last) >= quiet {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
