//! The seccomp filter every sandboxed process runs under.
//!
//! A deny list, not an allow list: cordon runs arbitrary programs (compilers,
//! interpreters, test suites) and cannot know which syscalls they need. What
//! is denied is what an ordinary workload never needs and an attacker uses to
//! reach kernel attack surface or to undo the sandbox. Denied calls fail with
//! EPERM (programs fail politely; nothing is killed), except `clone3`, which
//! gets ENOSYS so that libc falls back to `clone`, whose flags can be checked.
//!
//! Deliberately still allowed: `ptrace` (debuggers and `strace` inside the
//! sandbox; the PID namespace confines it and the init is not dumpable),
//! `personality` (some build tools), `socket` (the network namespace decides
//! what is reachable), and namespace-free `clone`/`fork`/`vfork`.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Syscalls denied outright, with the reason each is on the list.
pub const DENIED: &[(&str, i64)] = &[
    // Leaving or rebuilding the mount view.
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("open_tree", libc::SYS_open_tree),
    ("move_mount", libc::SYS_move_mount),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    // New namespaces (nested user namespaces give back capabilities).
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    // Kernel attack surface no workload needs.
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    // Modules, kexec, reboot, swap, accounting, quotas, kernel log.
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("syslog", libc::SYS_syslog),
    ("vhangup", libc::SYS_vhangup),
    // Clocks are global.
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("settimeofday", libc::SYS_settimeofday),
    ("adjtimex", libc::SYS_adjtimex),
    // Lifting limits and privileges cordon set.
    ("iopl", libc::SYS_iopl),
    ("ioperm", libc::SYS_ioperm),
];

/// clone(2) flags that create namespaces.
const NAMESPACE_FLAGS: &[u64] = &[
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWCGROUP as u64,
    0x80, // CLONE_NEWTIME
];

/// Terminal ioctls that inject input or drive the console.
#[allow(clippy::unnecessary_cast)] // u64 with glibc, i32 with musl
const DENIED_IOCTLS: &[u64] = &[libc::TIOCSTI as u64, libc::TIOCLINUX as u64];

/// Syscall numbers with this bit set belong to the x32 ABI, which shares the
/// x86_64 audit architecture; they are all refused.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn target_arch() -> TargetArch {
    #[cfg(target_arch = "x86_64")]
    {
        TargetArch::x86_64
    }
    #[cfg(target_arch = "aarch64")]
    {
        TargetArch::aarch64
    }
    #[cfg(target_arch = "riscv64")]
    {
        TargetArch::riscv64
    }
}

/// A BPF opcode as `sock_filter` holds it: libc declares the parts as u32,
/// every combination cordon uses is below 0x100.
fn op(bits: u32) -> u16 {
    u16::try_from(bits).expect("BPF opcodes fit 16 bits")
}

/// A syscall number as the filter compares it (the kernel's are small and
/// non-negative).
fn syscall_nr(n: i64) -> u32 {
    u32::try_from(n).expect("syscall numbers fit 32 bits")
}

/// A constant argument (a socket family or type, an errno) as seccomp
/// compares it; cordon's are all non-negative.
fn constant(v: i32) -> u32 {
    u32::try_from(v).expect("constant arguments are non-negative")
}

fn condition(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, len, op, value).expect("static seccomp condition")
}

/// Extra restrictions for sandboxes that share the host's namespaces
/// (Landlock-only mode), where the host's sockets are reachable by path and
/// its System V IPC objects by number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SharedHostLimits {
    /// Refuse `socket(AF_UNIX, ...)` (host daemons listen on unix sockets);
    /// `socketpair` stays allowed.
    pub deny_unix: bool,
    /// Refuse every IP socket that is not a TCP stream (Landlock confines TCP
    /// only), and netlink and packet sockets.
    pub deny_ip_datagrams: bool,
    /// Refuse `listen`: Landlock judges binding a TCP port, but `listen` on
    /// an unbound socket binds an ephemeral one on every address of the
    /// host, where anyone who reaches the host could connect in.
    pub deny_listen: bool,
    /// Refuse System V IPC ([`SYSV_IPC`]): without an IPC namespace of its
    /// own the sandbox would attach the host's shared memory, read its
    /// message queues and hold its semaphores, by id, where Landlock does not
    /// look.
    pub deny_sysv_ipc: bool,
    /// Refuse [`PATH_WATCHES`]: Landlock does not judge them, so a watch on
    /// a directory the sandbox may not list would report the names of the
    /// files created or opened there as it happens.
    pub deny_path_watches: bool,
    /// Refuse changing another process's resource limits, priority, CPU
    /// affinity, scheduling or I/O priority by pid ([`retuning_rules`]):
    /// Landlock's scoping covers signals and ptrace, not these, and without
    /// a PID namespace the host's processes of the caller's uid are in
    /// reach (a hard `RLIMIT_CPU` of 0 kills one at its next tick).
    pub deny_retuning_others: bool,
    /// Hand [`METADATA_CHANGES`] to a supervisor (seccomp user
    /// notification; `crate::metadata_broker` answers), refuse
    /// [`ATTRIBUTE_IOCTLS`] and report [`NEWER_METADATA_CALLS`] missing.
    /// Landlock does not judge metadata changes, so the sandbox could change
    /// the mode, group, times and extended attributes of every file its uid
    /// owns anywhere on the host — for host root's sandbox, `chmod u+s` on a
    /// root-owned program.
    pub broker_metadata_changes: bool,
}

/// System V IPC: objects are named by a number (any process may try every
/// id), and only permission bits stand between the caller's processes. An IPC
/// namespace of its own hides the host's; without one these are refused.
/// (POSIX message queues and shared memory are files, judged by Landlock.)
pub const SYSV_IPC: &[(&str, i64)] = &[
    ("shmget", libc::SYS_shmget),
    ("shmat", libc::SYS_shmat),
    ("shmctl", libc::SYS_shmctl),
    ("msgget", libc::SYS_msgget),
    ("msgsnd", libc::SYS_msgsnd),
    ("msgrcv", libc::SYS_msgrcv),
    ("msgctl", libc::SYS_msgctl),
    ("semget", libc::SYS_semget),
    ("semop", libc::SYS_semop),
    ("semtimedop", libc::SYS_semtimedop),
    ("semctl", libc::SYS_semctl),
];

/// Watching paths for changes: the kernel asks only for read permission on
/// the path (the permission bits), not Landlock's, so without a mount
/// namespace these reach every directory the caller's uid may read.
/// (`inotify_init` alone watches nothing.)
pub const PATH_WATCHES: &[(&str, i64)] = &[
    ("inotify_add_watch", libc::SYS_inotify_add_watch),
    ("fanotify_init", libc::SYS_fanotify_init),
    ("fanotify_mark", libc::SYS_fanotify_mark),
];

/// Changing a file's metadata: the kernel asks only that the caller own the
/// file (by path, or by a descriptor opened for reading), not Landlock.
pub const METADATA_CHANGES: &[(&str, i64)] = &[
    #[cfg(target_arch = "x86_64")]
    ("chmod", libc::SYS_chmod),
    ("fchmod", libc::SYS_fchmod),
    ("fchmodat", libc::SYS_fchmodat),
    ("fchmodat2", SYS_FCHMODAT2),
    #[cfg(target_arch = "x86_64")]
    ("chown", libc::SYS_chown),
    #[cfg(target_arch = "x86_64")]
    ("lchown", libc::SYS_lchown),
    ("fchown", libc::SYS_fchown),
    ("fchownat", libc::SYS_fchownat),
    #[cfg(target_arch = "x86_64")]
    ("utime", libc::SYS_utime),
    #[cfg(target_arch = "x86_64")]
    ("utimes", libc::SYS_utimes),
    #[cfg(target_arch = "x86_64")]
    ("futimesat", libc::SYS_futimesat),
    ("utimensat", libc::SYS_utimensat),
    ("setxattr", libc::SYS_setxattr),
    ("lsetxattr", libc::SYS_lsetxattr),
    ("fsetxattr", libc::SYS_fsetxattr),
    ("removexattr", libc::SYS_removexattr),
    ("lremovexattr", libc::SYS_lremovexattr),
    ("fremovexattr", libc::SYS_fremovexattr),
];

/// `fchmodat2` (Linux 6.6), not in the libc crate for every target.
pub const SYS_FCHMODAT2: i64 = 452;

/// Metadata calls newer than the C libraries' fallbacks (Linux 6.13 and
/// 6.17; one number on every architecture): ENOSYS sends callers to the
/// older calls above.
pub const NEWER_METADATA_CALLS: &[(&str, i64)] = &[
    ("setxattrat", 463),
    ("removexattrat", 466),
    ("file_setattr", 469),
];

/// The ioctls that set inode flags (`chattr`) on a file opened for reading.
pub const ATTRIBUTE_IOCTLS: &[u64] = &[
    0x4008_6602, // FS_IOC_SETFLAGS
    0x4004_6602, // FS_IOC32_SETFLAGS
    0x401c_5820, // FS_IOC_FSSETXATTR
];

/// The calls that change another process's limits or scheduling, each with
/// the argument patterns that name another process: a pid other than 0
/// (the caller itself), a process group other than the caller's own, or a
/// whole user. `prlimit64` may still read another's limits.
pub fn retuning_rules() -> Vec<(i64, Vec<SeccompRule>)> {
    let rule = |conditions: Vec<SeccompCondition>| {
        SeccompRule::new(conditions).expect("static seccomp rule")
    };
    let int =
        |arg: u8, op: SeccompCmpOp, value: u64| condition(arg, SeccompCmpArgLen::Dword, op, value);
    let other_pid = || int(0, SeccompCmpOp::Ne, 0);
    // setpriority(which, who, ...) and ioprio_set(which, who, ...): a
    // process or group named by a non-zero id, or a user.
    let by_which = |process: u64, group: u64, user: u64| {
        vec![
            rule(vec![
                int(0, SeccompCmpOp::Eq, process),
                int(1, SeccompCmpOp::Ne, 0),
            ]),
            rule(vec![
                int(0, SeccompCmpOp::Eq, group),
                int(1, SeccompCmpOp::Ne, 0),
            ]),
            rule(vec![int(0, SeccompCmpOp::Eq, user)]),
        ]
    };
    const PRIO_PROCESS: u64 = 0;
    const PRIO_PGRP: u64 = 1;
    const PRIO_USER: u64 = 2;
    const IOPRIO_WHO_PROCESS: u64 = 1;
    const IOPRIO_WHO_PGRP: u64 = 2;
    const IOPRIO_WHO_USER: u64 = 3;
    vec![
        (
            libc::SYS_prlimit64,
            vec![rule(vec![
                other_pid(),
                condition(2, SeccompCmpArgLen::Qword, SeccompCmpOp::Ne, 0),
            ])],
        ),
        (
            libc::SYS_setpriority,
            by_which(PRIO_PROCESS, PRIO_PGRP, PRIO_USER),
        ),
        (
            libc::SYS_ioprio_set,
            by_which(IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP, IOPRIO_WHO_USER),
        ),
        (libc::SYS_sched_setaffinity, vec![rule(vec![other_pid()])]),
        (libc::SYS_sched_setscheduler, vec![rule(vec![other_pid()])]),
        (libc::SYS_sched_setparam, vec![rule(vec![other_pid()])]),
        (libc::SYS_sched_setattr, vec![rule(vec![other_pid()])]),
    ]
}

/// Build the filter program. Pure computation; nothing is installed.
pub fn build() -> Result<BpfProgram, String> {
    build_with(SharedHostLimits::default())
}

/// Address families no network namespace governs, refused in every mode:
/// vsock sockets reach the hypervisor and the host's vsock port space
/// whatever the sandbox's own network (Docker's default profile refuses it
/// too).
const UNNAMESPACED_FAMILIES: &[i32] = &[libc::AF_VSOCK];

/// IP protocol numbers a TCP stream socket may be created with: the default
/// (0) and TCP itself. Landlock's TCP rights govern only these; MPTCP (262)
/// and SCTP (132) streams would pass them.
const TCP_PROTOCOLS: &[u64] = &[0, libc::IPPROTO_TCP as u64];

fn socket_rules(limits: SharedHostLimits) -> Vec<SeccompRule> {
    let domain = |d: i32| {
        condition(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            u64::from(constant(d)),
        )
    };
    let mut rules: Vec<SeccompRule> = UNNAMESPACED_FAMILIES
        .iter()
        .map(|family| SeccompRule::new(vec![domain(*family)]).expect("static seccomp rule"))
        .collect();
    if limits.deny_unix {
        rules.push(SeccompRule::new(vec![domain(libc::AF_UNIX)]).expect("static seccomp rule"));
    }
    if limits.deny_ip_datagrams {
        for family in [libc::AF_INET, libc::AF_INET6] {
            for kind in [
                libc::SOCK_DGRAM,
                libc::SOCK_RAW,
                libc::SOCK_RDM,
                libc::SOCK_SEQPACKET,
                10, // SOCK_PACKET, the obsolete packet interface
            ] {
                rules.push(
                    SeccompRule::new(vec![
                        domain(family),
                        condition(
                            1,
                            SeccompCmpArgLen::Dword,
                            SeccompCmpOp::MaskedEq(0xf),
                            u64::from(constant(kind)),
                        ),
                    ])
                    .expect("static seccomp rule"),
                );
            }
        }
        // A stream socket of any protocol but TCP (MPTCP, SCTP) escapes
        // Landlock's TCP rules.
        for family in [libc::AF_INET, libc::AF_INET6] {
            let mut conditions = vec![domain(family)];
            conditions.extend(
                TCP_PROTOCOLS
                    .iter()
                    .map(|proto| condition(2, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *proto)),
            );
            rules.push(SeccompRule::new(conditions).expect("static seccomp rule"));
        }
        for family in [libc::AF_NETLINK, libc::AF_PACKET] {
            rules.push(SeccompRule::new(vec![domain(family)]).expect("static seccomp rule"));
        }
    }
    rules
}

/// Build the filter program with the limits of a sandbox sharing the host's
/// namespaces.
pub fn build_with(limits: SharedHostLimits) -> Result<BpfProgram, String> {
    assemble(limits, true)
}

/// The program; `with_dispatch` puts the binary search of `dispatch` in
/// front of seccompiler's chain (always, except to compare verdicts in tests).
fn assemble(limits: SharedHostLimits, with_dispatch: bool) -> Result<BpfProgram, String> {
    let eperm = SeccompAction::Errno(libc::EPERM as u32);
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_socket, socket_rules(limits));
    let ipc: &[(&str, i64)] = if limits.deny_sysv_ipc { SYSV_IPC } else { &[] };
    let watches: &[(&str, i64)] = if limits.deny_path_watches {
        PATH_WATCHES
    } else {
        &[]
    };
    for (_, nr) in DENIED.iter().chain(ipc).chain(watches) {
        rules.insert(*nr, Vec::new());
    }
    if limits.deny_listen {
        rules.insert(libc::SYS_listen, Vec::new());
    }
    let by_flag = |arg: u8| -> Vec<SeccompRule> {
        NAMESPACE_FLAGS
            .iter()
            .map(|flag| {
                SeccompRule::new(vec![condition(
                    arg,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(*flag),
                    *flag,
                )])
                .expect("static seccomp rule")
            })
            .collect()
    };
    rules.insert(libc::SYS_clone, by_flag(0));
    if limits.deny_retuning_others {
        for (nr, refused) in retuning_rules() {
            rules.insert(nr, refused);
        }
    }
    let attribute_ioctls: &[u64] = if limits.broker_metadata_changes {
        ATTRIBUTE_IOCTLS
    } else {
        &[]
    };
    rules.insert(
        libc::SYS_ioctl,
        DENIED_IOCTLS
            .iter()
            .chain(attribute_ioctls)
            .map(|cmd| {
                SeccompRule::new(vec![condition(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    *cmd,
                )])
                .expect("static seccomp rule")
            })
            .collect(),
    );
    let listed: Vec<u32> = rules.keys().map(|n| syscall_nr(*n)).collect();
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, eperm, target_arch())
        .map_err(|e| format!("seccomp filter: {e}"))?;
    let mut program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| format!("seccomp filter: {e}"))?;

    // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes
    // libc fall back to clone, which the rules above can inspect. The x32 ABI
    // is refused as a whole. Both checks go right after the architecture check.
    let load_nr = program
        .iter()
        .position(|i| i.code == op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) && i.k == 0)
        .ok_or("seccomp filter: unexpected program layout")?;
    let ret = |errno: i32| libc::sock_filter {
        code: op(libc::BPF_RET | libc::BPF_K),
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ERRNO | constant(errno),
    };
    let mut prologue = vec![
        libc::sock_filter {
            code: op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS),
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: op(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K),
            jt: 0,
            jf: 1,
            k: X32_SYSCALL_BIT,
        },
        ret(libc::EPERM),
    ];
    let mut decide = |nr: i64, action: u32| {
        prologue.push(libc::sock_filter {
            code: op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K),
            jt: 0,
            jf: 1,
            k: syscall_nr(nr),
        });
        prologue.push(libc::sock_filter {
            code: op(libc::BPF_RET | libc::BPF_K),
            jt: 0,
            jf: 0,
            k: action,
        });
    };
    decide(
        libc::SYS_clone3,
        libc::SECCOMP_RET_ERRNO | constant(libc::ENOSYS),
    );
    if limits.broker_metadata_changes {
        for (_, nr) in METADATA_CHANGES {
            decide(*nr, libc::SECCOMP_RET_USER_NOTIF);
        }
        for (_, nr) in NEWER_METADATA_CALLS {
            decide(*nr, libc::SECCOMP_RET_ERRNO | constant(libc::ENOSYS));
        }
    }
    let dispatch = if with_dispatch {
        dispatch(&listed)?
    } else {
        Vec::new()
    };
    program.splice(
        load_nr..load_nr,
        prologue
            .iter()
            .chain(&dispatch)
            .map(|i| seccompiler::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            }),
    );
    Ok(program)
}

/// Where a dispatch instruction jumps.
#[derive(Clone, Copy)]
enum Target {
    /// The next instruction.
    Next,
    /// The instruction at this index of the dispatch block.
    At(usize),
    /// Past the dispatch block: seccompiler's chain, which decides.
    Chain,
    /// The block's closing "return allow".
    Allow,
}

/// A binary search over `listed` (the syscall numbers the rules name,
/// ascending) for the number in the accumulator: any other number is allowed
/// after a few comparisons; a listed one goes on to seccompiler's chain.
///
/// Why: when a filter is attached, the kernel runs it once per syscall number
/// to find the numbers it always allows (its action cache). seccompiler's
/// chain is linear, so an unlisted number walked all of it, about 100
/// instructions each, 160 µs of every sandbox start. The verdicts are the
/// chain's own (`tests::dispatch_keeps_every_verdict`).
fn dispatch(listed: &[u32]) -> Result<Vec<libc::sock_filter>, String> {
    fn tree(values: &[u32], out: &mut Vec<(u16, u32, Target, Target)>) {
        let jeq = op(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K);
        let jge = op(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K);
        let ja = op(libc::BPF_JMP | libc::BPF_JA);
        if values.len() <= 3 {
            for v in values {
                out.push((jeq, *v, Target::Chain, Target::Next));
            }
            out.push((ja, 0, Target::Allow, Target::Allow));
            return;
        }
        let (low, high) = values.split_at(values.len() / 2);
        let split = out.len();
        out.push((jge, high[0], Target::Next, Target::Next));
        tree(low, out);
        out[split].2 = Target::At(out.len());
        tree(high, out);
    }
    let mut block = Vec::new();
    tree(listed, &mut block);
    let allow_at = block.len();
    let offset = |from: usize, to: Target| -> usize {
        match to {
            Target::Next => 0,
            Target::At(i) => i - from - 1,
            Target::Allow => allow_at - from - 1,
            // The chain starts right after the closing "return allow".
            Target::Chain => allow_at - from,
        }
    };
    let mut program = Vec::with_capacity(block.len() + 1);
    for (i, (code, k, jt, jf)) in block.iter().enumerate() {
        let insn = if *code == op(libc::BPF_JMP | libc::BPF_JA) {
            let k = u32::try_from(offset(i, *jt)).map_err(|_| "seccomp dispatch: jump too far")?;
            libc::sock_filter {
                code: *code,
                jt: 0,
                jf: 0,
                k,
            }
        } else {
            let short =
                |t| u8::try_from(offset(i, t)).map_err(|_| "seccomp dispatch: jump too far");
            libc::sock_filter {
                code: *code,
                jt: short(*jt)?,
                jf: short(*jf)?,
                k: *k,
            }
        };
        program.push(insn);
    }
    program.push(libc::sock_filter {
        code: op(libc::BPF_RET | libc::BPF_K),
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    });
    Ok(program)
}

/// Install the filter on the calling thread (inherited by its children).
/// Requires `no_new_privs` or CAP_SYS_ADMIN.
pub fn install(program: &BpfProgram) -> Result<(), String> {
    if cfg!(feature = "bench-unfiltered") {
        // A benchmark build: see bench/seccomp.sh. The CLI warns on every run.
        return Ok(());
    }
    seccompiler::apply_filter(program).map_err(|e| format!("installing the seccomp filter: {e}"))
}

/// Install the filter on the calling thread and return the descriptor its
/// user notifications arrive on (`None` where the filter hands none out: a
/// benchmark build without it). Requires `no_new_privs`.
pub fn install_with_listener(program: &BpfProgram) -> Result<Option<std::os::fd::OwnedFd>, String> {
    use std::os::fd::FromRawFd;
    if cfg!(feature = "bench-unfiltered") {
        return Ok(None);
    }
    let prog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| "seccomp filter: too long")?,
        // seccompiler's sock_filter is the kernel's layout (repr(C)).
        filter: program.as_ptr().cast::<libc::sock_filter>().cast_mut(),
    };
    // SAFETY: the kernel copies the program `prog` points to; it outlives
    // the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog,
        )
    };
    let fd = i32::try_from(rc).map_err(|_| "seccomp: unexpected result")?;
    if fd < 0 {
        return Err(format!(
            "installing the seccomp filter: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor from the kernel.
    Ok(Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cordon splices its prologue and dispatch in front of seccompiler's
    /// first load of the syscall number, right after its architecture check
    /// (see `build_with`). A seccompiler release that lays its program out
    /// otherwise must fail here, not in a sandbox (it is pinned exactly in
    /// the workspace's Cargo.toml).
    #[test]
    fn seccompiler_lays_out_the_program_as_the_splice_expects() {
        let mut rules = BTreeMap::new();
        rules.insert(libc::SYS_getpid, vec![]);
        let filter = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(1),
            target_arch(),
        )
        .unwrap();
        let program: BpfProgram = filter.try_into().unwrap();
        let ld_abs = u16::try_from(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS).unwrap();
        let ret_k = u16::try_from(libc::BPF_RET | libc::BPF_K).unwrap();
        assert_eq!((program[0].code, program[0].k), (ld_abs, 4), "{program:?}");
        let first_nr = program
            .iter()
            .position(|i| i.code == ld_abs && i.k == 0)
            .unwrap();
        assert_eq!(
            first_nr, 3,
            "the architecture check is three instructions: {program:?}"
        );
        assert_eq!(program[first_nr - 1].code, ret_k, "{program:?}");
        assert_eq!(
            program
                .iter()
                .filter(|i| i.code == ld_abs && i.k == 0)
                .count(),
            1,
            "one load of the number: {program:?}"
        );
    }

    #[test]
    fn filter_builds_and_fits() {
        let program = build().unwrap();
        assert!(
            program.len() < 4096,
            "BPF programs are limited to 4096 instructions"
        );
        assert!(program.len() > DENIED.len());
    }

    /// A classic-BPF interpreter for the instructions the filter uses.
    /// `load` gives the 32-bit word of `struct seccomp_data` at an offset, or
    /// None to stop there. The action returned, or None when stopped or on an
    /// instruction it does not know.
    fn eval(program: &BpfProgram, load: impl Fn(u32) -> Option<u32>) -> Option<u32> {
        let (mut acc, mut pc) = (0u32, 0usize);
        while let Some(insn) = program.get(pc) {
            let (code, k) = (u32::from(insn.code), insn.k);
            pc += 1;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => acc = load(k)?,
                c if c == libc::BPF_RET | libc::BPF_K => return Some(k),
                c if c == libc::BPF_JMP | libc::BPF_JA => pc += k as usize,
                c if c == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => acc &= k,
                c if c & 0x07 == libc::BPF_JMP && c & 0x08 == libc::BPF_K => {
                    let taken = match c & 0xf0 {
                        op if op == libc::BPF_JEQ => acc == k,
                        op if op == libc::BPF_JGE => acc >= k,
                        op if op == libc::BPF_JGT => acc > k,
                        op if op == libc::BPF_JSET => acc & k != 0,
                        _ => return None,
                    };
                    pc += usize::from(if taken { insn.jt } else { insn.jf });
                }
                _ => return None,
            }
        }
        None
    }

    /// What the kernel's seccomp action cache (5.11+) does when a filter is
    /// attached: run the program for one (arch, nr) without any argument;
    /// Some(allowed) when it decides from those alone, None when it looks
    /// at arguments (or anything else) and must run on every call.
    fn constant_verdict(program: &BpfProgram, arch: u32, nr: u32) -> Option<bool> {
        let action = eval(program, |offset| match offset {
            0 => Some(nr),
            4 => Some(arch),
            _ => None,
        })?;
        Some(action == libc::SECCOMP_RET_ALLOW)
    }

    /// Run `program` on one syscall as the kernel would: the action it returns.
    fn run(program: &BpfProgram, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        // struct seccomp_data: nr, arch, instruction_pointer, args[6].
        let word = |offset: u32| match offset {
            0 => Some(nr),
            4 => Some(arch),
            8 | 12 => Some(0),
            o if (16..64).contains(&o) && o % 4 == 0 => {
                let arg = args[((o - 16) / 8) as usize];
                // The low and high halves of a 64-bit argument.
                let [lo, hi] = [arg & 0xffff_ffff, arg >> 32].map(|h| u32::try_from(h).unwrap());
                Some(if (o - 16) % 8 == 0 { lo } else { hi })
            }
            _ => None,
        };
        eval(program, word).expect("the filter uses only known instructions and offsets")
    }

    /// The binary search in front of seccompiler's chain changes no verdict:
    /// every syscall number (native, x32, another arch), with the arguments
    /// the rules look at (clone flags, ioctl requests, socket families and
    /// types, high bits set), gets the same action with and without it, for
    /// every combination of socket limits.
    #[test]
    fn dispatch_keeps_every_verdict() {
        const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
        const AUDIT_ARCH_I386: u32 = 0x4000_0003;
        let mut arg_sets: Vec<[u64; 6]> = vec![[0; 6], [u64::MAX; 6], [1 << 32; 6]];
        for flag in NAMESPACE_FLAGS {
            arg_sets.push([*flag | libc::SIGCHLD as u64, 0, 0, 0, 0, 0]);
            arg_sets.push([*flag | (1 << 40), 0, 0, 0, 0, 0]);
        }
        for request in DENIED_IOCTLS.iter().chain(ATTRIBUTE_IOCTLS) {
            arg_sets.push([0, *request, 0, 0, 0, 0]);
            arg_sets.push([0, *request | (1 << 32), 0, 0, 0, 0]);
        }
        arg_sets.push([0, 0x5401, 0, 0, 0, 0]); // TCGETS, allowed
        for family in [
            libc::AF_UNIX,
            libc::AF_INET,
            libc::AF_INET6,
            libc::AF_NETLINK,
            libc::AF_PACKET,
            libc::AF_VSOCK,
        ] {
            for proto in [0u64, 6, 262, 132] {
                arg_sets.push([
                    u64::from(constant(family)),
                    u64::from(constant(libc::SOCK_STREAM)),
                    proto,
                    0,
                    0,
                    0,
                ]);
            }
            for kind in [
                libc::SOCK_STREAM,
                libc::SOCK_DGRAM,
                libc::SOCK_RAW,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            ] {
                arg_sets.push([
                    u64::from(constant(family)),
                    u64::from(constant(kind)),
                    0,
                    0,
                    0,
                    0,
                ]);
            }
        }
        for (deny_unix, deny_ip_datagrams, host_shared) in [
            (false, false, false),
            (true, false, true),
            (true, true, true),
            (false, true, false),
        ] {
            let limits = SharedHostLimits {
                deny_unix,
                deny_ip_datagrams,
                deny_listen: deny_ip_datagrams,
                deny_sysv_ipc: host_shared,
                deny_path_watches: host_shared,
                deny_retuning_others: host_shared,
                broker_metadata_changes: host_shared,
            };
            let fast = assemble(limits, true).unwrap();
            let plain = assemble(limits, false).unwrap();
            assert!(fast.len() > plain.len());
            for arch in [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0] {
                for nr in (0..600).chain((0..600).map(|n| n | X32_SYSCALL_BIT)) {
                    for args in &arg_sets {
                        assert_eq!(
                            run(&fast, arch, nr, *args),
                            run(&plain, arch, nr, *args),
                            "arch {arch:#x} nr {nr} args {args:x?} limits {limits:?}"
                        );
                    }
                }
            }
            // And the filter does deny: a sample of each kind of rule.
            let errno = |e: i32| libc::SECCOMP_RET_ERRNO | constant(e);
            let verdict =
                |nr: i64, args: [u64; 6]| run(&fast, AUDIT_ARCH_X86_64, syscall_nr(nr), args);
            let clone_newuser = [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0];
            for (nr, args, expected) in [
                (libc::SYS_mount, [0; 6], errno(libc::EPERM)),
                (libc::SYS_clone, clone_newuser, errno(libc::EPERM)),
                (libc::SYS_clone, [0; 6], libc::SECCOMP_RET_ALLOW),
                (libc::SYS_clone3, [0; 6], errno(libc::ENOSYS)),
                (libc::SYS_read, [0; 6], libc::SECCOMP_RET_ALLOW),
            ] {
                assert_eq!(verdict(nr, args), expected, "syscall {nr} {args:x?}");
            }
            let socket = |family: i32, kind: i32, proto: u64| {
                run(
                    &fast,
                    AUDIT_ARCH_X86_64,
                    syscall_nr(libc::SYS_socket),
                    [
                        u64::from(constant(family)),
                        u64::from(constant(kind)),
                        proto,
                        0,
                        0,
                        0,
                    ],
                )
            };
            // vsock is not namespaced: refused in every mode.
            assert_eq!(
                socket(libc::AF_VSOCK, libc::SOCK_STREAM, 0),
                errno(libc::EPERM)
            );
            // TCP stays; MPTCP only where Landlock must judge TCP.
            for proto in [0, libc::IPPROTO_TCP as u64] {
                assert_eq!(
                    socket(libc::AF_INET6, libc::SOCK_STREAM, proto),
                    libc::SECCOMP_RET_ALLOW
                );
            }
            assert_eq!(
                socket(libc::AF_INET, libc::SOCK_STREAM, 262),
                match deny_ip_datagrams {
                    true => errno(libc::EPERM),
                    false => libc::SECCOMP_RET_ALLOW,
                }
            );
            // System V IPC, path watches and metadata changes: decided
            // apart only where the host's namespaces are shared.
            let expect = |denied: u32| match host_shared {
                true => denied,
                false => libc::SECCOMP_RET_ALLOW,
            };
            let decided = [
                (SYSV_IPC, errno(libc::EPERM)),
                (PATH_WATCHES, errno(libc::EPERM)),
                (METADATA_CHANGES, libc::SECCOMP_RET_USER_NOTIF),
                (NEWER_METADATA_CALLS, errno(libc::ENOSYS)),
            ];
            for (calls, action) in decided {
                for (name, nr) in calls {
                    assert_eq!(verdict(*nr, [0; 6]), expect(action), "{name}");
                }
            }
            assert_eq!(
                verdict(libc::SYS_listen, [3, 1, 0, 0, 0, 0]),
                match deny_ip_datagrams {
                    true => errno(libc::EPERM),
                    false => libc::SECCOMP_RET_ALLOW,
                }
            );
            // Another process's limits and scheduling; the caller's own
            // (pid 0) stay allowed, and reading another's limits.
            let other = 1234;
            for (nr, args, refused) in [
                (libc::SYS_prlimit64, [other, 7, 0x1000, 0, 0, 0], true),
                (libc::SYS_prlimit64, [other, 7, 0, 0x1000, 0, 0], false),
                (libc::SYS_prlimit64, [0, 7, 0x1000, 0, 0, 0], false),
                (libc::SYS_setpriority, [0, other, 19, 0, 0, 0], true),
                (libc::SYS_setpriority, [1, other, 19, 0, 0, 0], true),
                (libc::SYS_setpriority, [2, 0, 19, 0, 0, 0], true),
                (libc::SYS_setpriority, [0, 0, 19, 0, 0, 0], false),
                (libc::SYS_ioprio_set, [1, other, 0, 0, 0, 0], true),
                (libc::SYS_ioprio_set, [3, 0, 0, 0, 0, 0], true),
                (libc::SYS_ioprio_set, [1, 0, 0, 0, 0, 0], false),
                (
                    libc::SYS_sched_setaffinity,
                    [other, 8, 0x1000, 0, 0, 0],
                    true,
                ),
                (libc::SYS_sched_setaffinity, [0, 8, 0x1000, 0, 0, 0], false),
                (
                    libc::SYS_sched_setscheduler,
                    [other, 5, 0x1000, 0, 0, 0],
                    true,
                ),
                (libc::SYS_sched_setparam, [other, 0x1000, 0, 0, 0, 0], true),
                (libc::SYS_sched_setattr, [other, 0x1000, 0, 0, 0, 0], true),
                (libc::SYS_sched_setattr, [0, 0x1000, 0, 0, 0, 0], false),
            ] {
                let expected = match refused {
                    true => expect(errno(libc::EPERM)),
                    false => libc::SECCOMP_RET_ALLOW,
                };
                assert_eq!(verdict(nr, args), expected, "syscall {nr} {args:?}");
            }
            for request in ATTRIBUTE_IOCTLS {
                assert_eq!(
                    verdict(libc::SYS_ioctl, [3, *request, 0, 0, 0, 0]),
                    expect(errno(libc::EPERM)),
                    "ioctl {request:#x}"
                );
            }
        }
    }

    /// Every syscall the filter does not deny or inspect is allowed from its
    /// number alone, so the kernel caches "allow" for it and never runs the
    /// program on those calls: the filter costs what any filter costs.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn allowed_syscalls_are_decided_without_running_the_filter() {
        const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
        let program = build().unwrap();
        let inspected = [libc::SYS_clone, libc::SYS_ioctl, libc::SYS_socket];
        for nr in 0..462 {
            let verdict = constant_verdict(&program, AUDIT_ARCH_X86_64, syscall_nr(nr));
            let expected = if DENIED.iter().any(|(_, d)| *d == nr) || nr == libc::SYS_clone3 {
                Some(false)
            } else if inspected.contains(&nr) {
                None
            } else {
                Some(true)
            };
            assert_eq!(verdict, expected, "syscall {nr}");
        }
        // The x32 ABI is refused whatever the number.
        assert_eq!(
            constant_verdict(&program, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1),
            Some(false)
        );
    }

    /// The kernel agrees with the interpreter above: in a child under the
    /// Landlock-only filter, pinning another process to a CPU is refused
    /// and pinning itself (pid 0, the control) works.
    #[test]
    fn the_kernel_applies_the_shared_host_limits() {
        let program = build_with(SharedHostLimits {
            deny_unix: true,
            deny_ip_datagrams: true,
            deny_listen: true,
            deny_sysv_ipc: true,
            deny_path_watches: true,
            deny_retuning_others: true,
            broker_metadata_changes: true,
        })
        .unwrap();
        let pin = |pid: libc::pid_t| {
            let mask = [1u64];
            // SAFETY: sched_setaffinity reads `mask.len()` words of `mask`.
            let rc = unsafe { libc::syscall(libc::SYS_sched_setaffinity, pid, 8, mask.as_ptr()) };
            match rc {
                0 => 0,
                _ => std::io::Error::last_os_error().raw_os_error().unwrap_or(-1),
            }
        };
        // SAFETY: the child only makes syscalls and leaves with _exit.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(1);
            let code = match crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
                .map_err(|e| e.to_string())
                .and_then(|()| install_with_listener(&program))
            {
                Err(_) => 99,
                Ok(_listener) => match (pin(parent), pin(0)) {
                    (libc::EPERM, 0) => 0,
                    (libc::EPERM, _) => 2,
                    _ => 1,
                },
            };
            // SAFETY: leaving the forked child without running destructors.
            unsafe { libc::_exit(code.min(255)) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child into a valid local.
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status));
        // 1: another process was pinned; 2: the child could not pin itself.
        assert_eq!(libc::WEXITSTATUS(status), 0);
    }
}
