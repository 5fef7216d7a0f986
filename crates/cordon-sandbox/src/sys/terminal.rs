//! Pseudo-terminals: allocation, size, raw mode.

use std::ffi::CString;
use std::io;
use std::os::fd::{OwnedFd, RawFd};

/// A new pseudo-terminal of the current devpts: (master, slave path), sized.
pub fn open_pty(rows: u16, cols: u16) -> io::Result<(OwnedFd, CString)> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let master: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/ptmx")?
        .into();
    let unlock: libc::c_int = 0;
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCSPTLCK reads an int from a valid pointer, on our master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK as _, &unlock) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: TIOCGPTN writes an int through a valid pointer, on our master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN as _, &mut number) } != 0 {
        return Err(io::Error::last_os_error());
    }
    set_window_size(master.as_raw_fd(), rows, cols);
    let path = CString::new(format!("/dev/pts/{number}")).map_err(io::Error::other)?;
    Ok((master, path))
}

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
pub struct RawMode(Option<libc::termios>);

impl RawMode {
    pub fn enter() -> Self {
        // SAFETY: termios is plain data; tcgetattr fills it on success.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 and a valid termios pointer.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return RawMode(None);
        }
        let mut raw = saved;
        // SAFETY: cfmakeraw edits a termios we own.
        unsafe { libc::cfmakeraw(&mut raw) };
        // SAFETY: tcsetattr reads a valid termios.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) };
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
