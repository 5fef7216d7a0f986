//! A pseudo-terminal for `spawnWithPty`. cordon runs with the terminal's
//! slave side as its stdio and controlling terminal (`cordon run --pty`
//! then gives the workload a terminal of its own inside the sandbox). The
//! master side is relayed to a socket pair, because Node cannot wrap a
//! terminal descriptor in a stream (`net.Socket` refuses TTY descriptors,
//! measured on Node 24). Resizing the master makes the kernel signal cordon
//! (SIGWINCH to the terminal's foreground process group), and cordon resizes
//! the sandbox's terminal.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// The library's side of a terminal: the master (for resizing) and the
/// socket the relay threads serve.
pub struct Terminal {
    master: OwnedFd,
    relay_end: UnixStream,
    /// The caller's end of the socket pair, until it is handed over.
    caller_end: Option<OwnedFd>,
}

/// The slave side, for cordon's stdio (three copies).
pub struct Slave(pub OwnedFd);

fn winsize(rows: u16, columns: u16) -> nix::pty::Winsize {
    nix::pty::Winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Terminal {
    /// A terminal of `rows` × `columns`, and its slave side.
    pub fn open(rows: u16, columns: u16) -> std::io::Result<(Terminal, Slave)> {
        let pty =
            nix::pty::openpty(Some(&winsize(rows, columns)), None).map_err(std::io::Error::from)?;
        // openpty(3) does not set close-on-exec: another thread of the
        // caller starting a program must not carry the terminal away (a
        // stray slave would keep the master from ever seeing its end).
        for fd in [&pty.master, &pty.slave] {
            nix::fcntl::fcntl(
                fd.as_raw_fd(),
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )
            .map_err(std::io::Error::from)?;
        }
        let (relay_end, caller_end) = UnixStream::pair()?;
        Ok((
            Terminal {
                master: pty.master,
                relay_end,
                caller_end: Some(OwnedFd::from(caller_end)),
            },
            Slave(pty.slave),
        ))
    }

    /// Start relaying between the master and the socket pair: output until
    /// the terminal's last user is gone (then the caller reads end of
    /// stream), input until the caller closes its end.
    pub fn relay(&self) -> std::io::Result<()> {
        let mut from_master = std::fs::File::from(self.master.try_clone()?);
        let mut to_caller = self.relay_end.try_clone()?;
        std::thread::Builder::new()
            .name("cordon-ffi-pty-out".into())
            .spawn(move || {
                // Ends with EIO once no process holds the slave side any more.
                let _ = std::io::copy(&mut from_master, &mut to_caller);
                let _ = to_caller.shutdown(std::net::Shutdown::Write);
            })?;
        let mut to_master = std::fs::File::from(self.master.try_clone()?);
        let mut from_caller = self.relay_end.try_clone()?;
        std::thread::Builder::new()
            .name("cordon-ffi-pty-in".into())
            .spawn(move || {
                let _ = std::io::copy(&mut from_caller, &mut to_master);
            })?;
        Ok(())
    }

    /// The caller's end of the socket pair, handed over once.
    pub fn take_caller_end(&mut self) -> Option<OwnedFd> {
        self.caller_end.take()
    }

    /// Resize the terminal; the kernel tells cordon (SIGWINCH).
    pub fn resize(&self, rows: u16, columns: u16) -> std::io::Result<()> {
        let size = winsize(rows, columns);
        // SAFETY: TIOCSWINSZ on our terminal's master with a valid winsize.
        if unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Terminal {
    /// The input relay waits on the socket: end it.
    fn drop(&mut self) {
        let _ = self.relay_end.shutdown(std::net::Shutdown::Both);
    }
}
