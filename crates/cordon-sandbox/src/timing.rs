//! Phase timestamps on stderr when `CORDON_TIMING` is set (bench/ reads
//! them to see where a start spends its time). A leaf.

/// Print `timing NAME SECONDS` (monotonic clock) if `CORDON_TIMING` is set.
pub fn phase(name: &str) {
    if std::env::var_os("CORDON_TIMING").is_some() {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into a valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        eprintln!("timing {name} {}.{:06}", ts.tv_sec, ts.tv_nsec / 1000);
    }
}
