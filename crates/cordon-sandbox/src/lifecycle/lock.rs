//! The lock that serialises phase calls on one sandbox.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::error::{io_err, Result};

/// A held phase lock; released on drop.
pub(super) struct Lock {
    _file: File,
}

/// How long `stop` waits for another phase call's lock before it kills the
/// sandbox anyway: a hung call must never disable the kill switch.
pub(super) const STOP_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Lock {
    fn open(dir: &Path) -> Result<File> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join("lock"))
            .map_err(|e| io_err("opening the sandbox lock", e))
    }

    pub(super) fn take(dir: &Path) -> Result<Self> {
        let file = Self::open(dir)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io_err(
                "locking the sandbox",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(Lock { _file: file })
    }

    /// The lock, or `None` if another holder keeps it past `wait`.
    pub(super) fn take_within(dir: &Path, wait: std::time::Duration) -> Result<Option<Self>> {
        let file = Self::open(dir)?;
        let deadline = std::time::Instant::now() + wait;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Some(Lock { _file: file }));
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io_err("locking the sandbox", e));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
