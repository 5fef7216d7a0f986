//! Capability sets (capset(2)), and what survives an exec.

use std::io;

/// capget(2)/capset(2) header, version 3 (two data words: capabilities 0-63).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn capset(data: &[CapData; 2]) -> io::Result<()> {
    let header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and two data words are the layout capset(2) expects for v3.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const CapHeader, data.as_ptr()) } == -1
    {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clear effective, permitted and inheritable capability sets.
pub fn clear_capability_sets() -> io::Result<()> {
    capset(&[CapData::default(); 2])
}

/// Keep capability `cap` (0-31, held now) across an exec by a non-root uid:
/// add it to the inheritable and then the ambient set.
pub fn keep_capability_across_exec(cap: u32) -> io::Result<()> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and two data words are the layout capget(2) fills for v3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    data[0].inheritable |= 1 << cap;
    capset(&data)?;
    // SAFETY: PR_CAP_AMBIENT takes integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap as libc::c_ulong,
            0,
            0,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The last capability number this kernel knows.
pub fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}
