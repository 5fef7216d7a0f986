//! Processes as /proc lists them: parents, sessions, start times.

/// One process as /proc/PID/stat describes it.
pub struct ProcStat {
    pub pid: libc::pid_t,
    pub ppid: libc::pid_t,
    pub session: libc::pid_t,
}

/// Processes whose parent chain leads to `root` (not `root` itself).
pub fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
    let parents: Vec<(libc::pid_t, libc::pid_t)> =
        processes().into_iter().map(|p| (p.pid, p.ppid)).collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        for (pid, ppid) in &parents {
            if *ppid == parent && !found.contains(pid) {
                found.push(*pid);
            }
        }
        i += 1;
    }
    found.remove(0);
    found
}

/// Every process visible in this process's /proc.
pub fn processes() -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command may hold spaces and parentheses; fields follow the last ')'.
            let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
            let _state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            let _pgrp = fields.next()?;
            let session = fields.next()?.parse().ok()?;
            Some(ProcStat { pid, ppid, session })
        })
        .collect()
}

/// Start time of a process (clock ticks since boot), to tell a pid apart from
/// a later process that reused it.
/// A dead process that was not reaped yet (a zombie) counts as gone.
pub fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    if matches!(fields.next(), Some("Z") | Some("X")) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}
