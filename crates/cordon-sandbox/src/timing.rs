//! Phase timestamps on stderr when `CORDON_TIMING` is set (bench/ reads
//! them to see where a start spends its time). A leaf.

use std::io::Write;

/// Print `timing NAME SECONDS` (monotonic clock) if `CORDON_TIMING` is set.
pub fn phase(name: &str) {
    if std::env::var_os("CORDON_TIMING").is_some() {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into a valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        // One write(2) per line: the init and the supervisor share stderr,
        // and eprintln! writes a line in pieces, which interleave. A stack
        // buffer, since this also runs in forked children (no allocation).
        let mut line = [0u8; 128];
        let mut cursor = std::io::Cursor::new(&mut line[..]);
        let _ = writeln!(
            cursor,
            "timing {name} {}.{:06}",
            ts.tv_sec,
            ts.tv_nsec / 1000
        );
        let len = usize::try_from(cursor.position()).unwrap_or(0);
        let _ = std::io::stderr().write_all(&line[..len]);
    }
}
