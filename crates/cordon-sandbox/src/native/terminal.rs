//! `cordon run --pty`: the command gets a terminal of the sandbox's own
//! devpts; cordon relays it to its own stdin/stdout and follows resizes.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::sys;

/// In the sandbox init: hand the terminal's master side to the supervisor.
pub fn send_master(master: &OwnedFd, channel: RawFd) -> Result<(), String> {
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(b"T")];
    sendmsg::<()>(channel, &iov, &cmsg, MsgFlags::empty(), None)
        .map(drop)
        .map_err(|e| format!("handing over the terminal: {e}"))
}

/// Puts stdin in raw mode while alive, if it is a terminal.
struct RawMode(Option<libc::termios>);

impl RawMode {
    fn enter() -> Self {
        // SAFETY: termios is plain data; tcgetattr fills it on success.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid termios pointer.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return RawMode(None);
        }
        let mut raw = saved;
        // SAFETY: cfmakeraw edits a termios we own; tcsetattr reads it.
        unsafe {
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(0, libc::TCSANOW, &raw);
        }
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            // SAFETY: restoring the attributes saved above.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, saved) };
        }
    }
}

/// The supervisor's side: relaying until the terminal closes.
pub struct Relay {
    _raw: RawMode,
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
        let mut byte = [0u8; 1];
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut byte)];
        let msg = recvmsg::<()>(
            channel.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .ok()?;
        let fd = msg.cmsgs().ok()?.find_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })?;
        // SAFETY: a descriptor just received; we own it.
        let master = unsafe { OwnedFd::from_raw_fd(fd) };
        if let Some((rows, cols)) = sys::window_size(1).or_else(|| sys::window_size(0)) {
            sys::set_window_size(master.as_raw_fd(), rows, cols);
        }
        let raw = RawMode::enter();
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
