//! Pseudo-terminals: allocation, size, raw mode.

use std::ffi::CString;
use std::io;
use std::os::fd::{OwnedFd, RawFd};

use nix::sys::termios::{self, SetArg, Termios};

/// A new pseudo-terminal of the current devpts: (master, slave path), sized.
pub fn open_pty(rows: u16, cols: u16) -> io::Result<(OwnedFd, CString)> {
    use nix::fcntl::OFlag;
    use std::os::fd::AsRawFd;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    nix::pty::unlockpt(&master)?;
    let path = nix::pty::ptsname_r(&master)?;
    set_window_size(master.as_raw_fd(), rows, cols);
    let path = CString::new(path).map_err(io::Error::other)?;
    // nix's PtyMaster has no conversion to OwnedFd: a duplicate, then the
    // original closes.
    let master = std::os::fd::AsFd::as_fd(&master).try_clone_to_owned()?;
    Ok((master, path))
}

// nix has no wrapper for the window-size ioctls: raw calls below.

/// Rows and columns of the terminal on `fd`.
pub fn window_size(fd: RawFd) -> Option<(u16, u16)> {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: ioctl with a valid winsize pointer.
    if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ as _, &mut ws) } != 0 {
        return None;
    }
    Some((ws.ws_row, ws.ws_col))
}

/// Resize the terminal on `fd`.
pub fn set_window_size(fd: RawFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize that lives for the call.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ as _, &ws) };
}

/// Puts stdin in raw mode while alive, if it is a terminal.
pub struct RawMode(Option<Termios>);

impl RawMode {
    pub fn enter() -> Self {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(&stdin) else {
            return RawMode(None);
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw);
        RawMode(Some(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}
