//! Descriptors handed to cordon by whoever started it (`--outcome-fd N`,
//! `--config-fd N`): checked before they are owned, refused by name.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use cordon_policy::PolicyError;

/// Which way cordon uses an inherited descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

/// Take ownership of descriptor `raw`, named `flag` in errors (with `hint`
/// saying what to pass). Refuses stdin/stdout/stderr (the workload's), a
/// descriptor that is not open, and one open only the other way. The
/// descriptor is close-on-exec from here on: no sandbox inherits it.
pub fn inherited(
    raw: RawFd,
    flag: &str,
    hint: &str,
    way: Direction,
) -> Result<OwnedFd, PolicyError> {
    let bad = |why: String| PolicyError::malformed(format!("{flag} {raw}: {why} ({hint})"));
    if raw <= 2 {
        return Err(bad(
            "is stdin, stdout or stderr, which the workload shares".into()
        ));
    }
    // SAFETY: F_GETFL reads the flags of a descriptor number; an unopened one fails.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags < 0 {
        return Err(bad(std::io::Error::last_os_error().to_string()));
    }
    let wrong_way = match way {
        Direction::Read => (flags & libc::O_ACCMODE == libc::O_WRONLY).then_some("writing"),
        Direction::Write => (flags & libc::O_ACCMODE == libc::O_RDONLY).then_some("reading"),
    };
    if let Some(only) = wrong_way {
        return Err(bad(format!("is open for {only} only")));
    }
    // SAFETY: F_SETFD on the descriptor just checked to be open.
    if unsafe { libc::fcntl(raw, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(bad(std::io::Error::last_os_error().to_string()));
    }
    // SAFETY: the caller handed this open descriptor to cordon; nothing else
    // in this process owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}
