//! The `bubblewrap` backend: the same mount layout as `native`, realised by
//! driving the `bwrap` program (parity with MXC's default Linux backend), plus
//! cordon's seccomp filter, Landlock IPC scoping, and a whole-tree kill that
//! MXC's runner lacks: on timeout, on cordon's termination signals and on
//! cordon's death, the sandbox's PID namespace is killed, not just `bwrap`.
//!
//! What bwrap cannot do that `native` does: the Landlock filesystem layer
//! (Landlock forbids the mounts bwrap must make after it is applied).

use std::ffi::{CString, OsString};
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cordon_policy::plan::{Access, NetworkPlan, Plan};

mod status;

use status::Status;

use crate::backend::Backend;
use crate::context::{LongLived, Needs, RunContext};
use crate::error::SandboxError;
use crate::host::bwrap;
use crate::layout::{self, MountOp};
use crate::outcome::{Outcome, RunOptions};
use crate::owner_less::OwnerLessBaseline;
use crate::supervisor::{self, WaitEnd};
use crate::{net, sys};

/// An empty pipe's read end, for `--ro-bind-data` (an empty unreadable file).
fn empty_source() -> Result<OwnedFd, SandboxError> {
    let (r, w) = sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    drop(w);
    Ok(r)
}

/// A pipe already holding `bytes`, for `--seccomp`.
fn data_source(bytes: &[u8]) -> Result<OwnedFd, SandboxError> {
    let (r, w) = sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    sys::write_all(w.as_raw_fd(), bytes);
    drop(w);
    Ok(r)
}

struct Invocation {
    args: Vec<OsString>,
    /// Descriptors bwrap reads; they must survive exec.
    inherited: Vec<OwnedFd>,
}

impl Invocation {
    fn arg(&mut self, a: impl Into<OsString>) {
        self.args.push(a.into());
    }
    fn pass(&mut self, fd: OwnedFd) -> String {
        let n = fd.as_raw_fd().to_string();
        self.inherited.push(fd);
        n
    }
}

/// Where a long-lived sandbox finds cordon itself (to run its exec server).
const SERVER_PATH: &str = "/.cordon-serve";

/// What bwrap runs inside: the plan's command, or cordon's exec server.
enum Payload<'a> {
    Command,
    Server {
        listener: RawFd,
        persistent_tmp: &'a Path,
    },
}

/// The bwrap arguments that realise `ops` in order, then seal read-only
/// what must be (deepest first: mount points were created inside them; the
/// root itself is a tmpfs of bwrap's and must not be writable either).
fn mount_args(ops: Vec<MountOp>, inv: &mut Invocation) -> Result<(), SandboxError> {
    let mut remount_ro: Vec<PathBuf> = Vec::new();
    for op in ops {
        match op {
            MountOp::Bind {
                src,
                dst,
                readonly,
                kind: _,
            } => {
                // Device nodes the policy lists (e.g. /dev/kvm) must stay usable.
                let device = src.starts_with("/dev");
                let flag = match (readonly, device) {
                    (_, true) => "--dev-bind",
                    (true, false) => "--ro-bind",
                    (false, false) => "--bind",
                };
                inv.arg(flag);
                inv.arg(&src);
                inv.arg(&dst);
                if readonly && device {
                    remount_ro.push(dst);
                }
            }
            MountOp::MaskDir { dst, traversable } => {
                inv.arg("--perms");
                inv.arg(if traversable { "0111" } else { "0000" });
                inv.arg("--size");
                inv.arg("4096");
                inv.arg("--tmpfs");
                inv.arg(&dst);
                remount_ro.push(dst);
            }
            MountOp::MaskFile { dst } => {
                let fd = inv.pass(empty_source()?);
                inv.arg("--perms");
                inv.arg("0000");
                inv.arg("--ro-bind-data");
                inv.arg(fd);
                inv.arg(dst);
            }
            MountOp::Symlink { target, dst } => {
                inv.arg("--symlink");
                inv.arg(target);
                inv.arg(dst);
            }
            // bwrap's --proc also makes /proc/sys, sysrq-trigger, irq and bus read-only.
            MountOp::Proc { dst } => {
                inv.arg("--proc");
                inv.arg(dst);
            }
            MountOp::ReadonlySelf { dst } => {
                if Path::new(&dst).exists() {
                    inv.arg("--ro-bind");
                    inv.arg(&dst);
                    inv.arg(&dst);
                }
            }
            // The same minimal /dev as native: null, zero, full, random, urandom, tty, pts, shm.
            // bwrap's /dev/shm is a directory of its /dev, sealed read-only below.
            MountOp::Dev { dst, .. } => {
                inv.arg("--dev");
                inv.arg(&dst);
                remount_ro.push(dst);
            }
            MountOp::Tmp { dst, size_bytes } => {
                inv.arg("--perms");
                inv.arg("1777");
                inv.arg("--size");
                inv.arg(size_bytes.to_string());
                inv.arg("--tmpfs");
                inv.arg(dst);
            }
            MountOp::PrivateDir { dst } => {
                inv.arg("--perms");
                inv.arg("0700");
                inv.arg("--dir");
                inv.arg(dst);
            }
        }
    }
    remount_ro.insert(0, PathBuf::from("/"));
    for dst in remount_ro.iter().rev() {
        inv.arg("--remount-ro");
        inv.arg(dst);
    }
    Ok(())
}

/// `owner_less`: host root's baseline trees, which the child lays over the
/// host's directories before exec'ing bwrap (`prepare_child`), so that bwrap's
/// binds of them carry no owners either.
fn build(
    plan: &Plan,
    status_fd: RawFd,
    payload: &Payload,
    owner_less: &OwnerLessBaseline,
) -> Result<Invocation, SandboxError> {
    let caller = cordon_policy::Caller::current();
    let mut inv = Invocation {
        args: Vec::new(),
        inherited: Vec::new(),
    };
    for flag in [
        "--unshare-user",
        "--disable-userns",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "cordon",
        "--clearenv",
    ] {
        inv.arg(flag);
    }
    // A one-shot sandbox dies with cordon. A long-lived one must outlive
    // `cordon start` (its parent), whenever bwrap would arm the parent-death
    // signal.
    if let Payload::Command = payload {
        inv.arg("--die-with-parent");
    }
    // The exec server is the sandbox's PID 1 itself (as the native init is):
    // no bwrap reaper in the sandbox that a command could ptrace or take
    // descriptors from. The server makes itself non-dumpable.
    if let Payload::Server { .. } = payload {
        inv.arg("--as-pid-1");
    }
    if !matches!(plan.network, NetworkPlan::HostShared { .. }) {
        inv.arg("--unshare-net");
    }
    inv.arg("--json-status-fd");
    inv.arg(status_fd.to_string());

    let persistent_tmp = match payload {
        Payload::Server { persistent_tmp, .. } => Some(*persistent_tmp),
        Payload::Command => None,
    };
    if let Payload::Server { .. } = payload {
        let exe = std::env::current_exe()
            .map_err(|e| SandboxError::setup(format!("locating the cordon binary: {e}")))?;
        inv.arg("--ro-bind");
        inv.arg(exe);
        inv.arg(SERVER_PATH);
    }
    let filesystem = owner_less.filesystem(&plan.filesystem)?;
    let ops = layout::mount_ops_sized(
        &filesystem,
        caller.is_root(),
        persistent_tmp,
        layout::tmp_cap(plan),
    );
    mount_args(ops, &mut inv)?;
    for (k, v) in &plan.env {
        inv.arg("--setenv");
        inv.arg(k);
        inv.arg(v);
    }
    inv.arg("--chdir");
    inv.arg(&plan.cwd);
    let program = crate::seccomp::build().map_err(SandboxError::setup)?;
    let bytes: Vec<u8> = program
        .iter()
        .flat_map(|i| {
            let mut b = Vec::with_capacity(8);
            b.extend_from_slice(&i.code.to_ne_bytes());
            b.push(i.jt);
            b.push(i.jf);
            b.extend_from_slice(&i.k.to_ne_bytes());
            b
        })
        .collect();
    let fd = inv.pass(data_source(&bytes)?);
    inv.arg("--seccomp");
    inv.arg(fd);
    inv.arg("--");
    match payload {
        Payload::Command => {
            for a in direct_words(plan).unwrap_or_else(|| plan.argv()) {
                inv.arg(a);
            }
        }
        Payload::Server { listener, .. } => {
            inv.arg(SERVER_PATH);
            inv.arg("__serve");
            inv.arg(listener.to_string());
        }
    }
    Ok(inv)
}

/// `cordon run -- CMD ARGS`: the words themselves, for bwrap to exec (its
/// execvp searches the sandbox's PATH inside the sandbox, as the shell would),
/// when `/bin/sh -c` with the quoted words would only exec that same file. That
/// is decided here, on the host, from the plan's view: every PATH candidate
/// before the file must be plainly absent in the sandbox, and the file itself
/// visible, a regular file, executable there. Anything else (a builtin, an
/// assignment, a relative path, something masked, sandbox-only or not
/// runnable on the way) keeps the shell, whose errors and exit codes bwrap's
/// would not match. One process start (the shell's) less.
fn direct_words(plan: &Plan) -> Option<Vec<String>> {
    let words = plan.command_words.as_ref()?;
    let path = plan
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    for candidate in crate::shell::exec_candidates(words.first()?, path)? {
        match seen_in_sandbox(plan, &candidate) {
            Seen::Absent => continue,
            Seen::Runnable => return Some(words.clone()),
            Seen::Other => return None,
        }
    }
    None
}

/// How a PATH candidate looks from inside the sandbox, judged on the host.
enum Seen {
    /// Not there: execvp and the shell both go on to the next candidate.
    Absent,
    /// The same executable regular file the host has.
    Runnable,
    /// Anything the host cannot vouch for.
    Other,
}

fn seen_in_sandbox(plan: &Plan, candidate: &Path) -> Seen {
    use std::os::unix::fs::PermissionsExt;
    let fs = &plan.filesystem;
    // The sandbox's own /tmp, /dev and /proc are not the host's.
    if ["/tmp", "/dev", "/proc"]
        .iter()
        .any(|own| candidate.starts_with(own))
    {
        return Seen::Other;
    }
    // A mask or placeholder is something there, where the host may have nothing.
    if fs.access_at(candidate) == Some(Access::Denied) {
        return Seen::Other;
    }
    let Some(dir) = candidate.parent() else {
        return Seen::Other;
    };
    // The directory as named must be there too: visible itself, or one of the
    // baseline's merged-/usr symlinks, which the sandbox recreates.
    let baseline_link = cordon_policy::resolve::BASELINE
        .iter()
        .any(|b| Path::new(b) == dir && dir.is_symlink());
    if !fs.shows(dir) && !baseline_link {
        return match std::fs::symlink_metadata(candidate) {
            // Not in the sandbox, and not reachable there under this name.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && fs.access_at(dir).is_none() => {
                Seen::Absent
            }
            _ => Seen::Other,
        };
    }
    let real = match std::fs::canonicalize(candidate) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling symlink is something the shell reports; nothing is plain absence.
            return match std::fs::symlink_metadata(candidate) {
                Err(_) => Seen::Absent,
                Ok(_) => Seen::Other,
            };
        }
        Err(_) => return Seen::Other,
    };
    let Ok(meta) = std::fs::metadata(&real) else {
        return Seen::Other;
    };
    let Ok(c) = sys::cstring(candidate) else {
        return Seen::Other;
    };
    // SAFETY: access(2) with a NUL-terminated path; X_OK also refuses noexec mounts.
    let executable = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
        // Root's sandbox sees the baseline without owners: only "other" bits count.
        && (!fs.hide_root_only_files || meta.permissions().mode() & 0o001 != 0);
    match fs.shows(&real) && meta.is_file() && executable {
        true => Seen::Runnable,
        false => Seen::Other,
    }
}

/// Runs in the forked child just before bwrap is exec'd: descriptors bwrap
/// reads survive exec, limits apply to the whole sandbox, and abstract
/// sockets and signals of the host stay out of reach even when the host
/// network is shared (a scope-only Landlock ruleset handles no filesystem
/// access, so bwrap's own mounts are not affected). A one-shot bwrap dies with
/// cordon (its --die-with-parent then kills the sandbox); a long-lived one gets
/// a session of its own instead.
/// How long the bwrap process tree may live.
#[derive(Debug, Clone, Copy)]
enum Lifetime {
    /// A one-shot sandbox: it dies with the supervisor of this pid.
    DiesWith(libc::pid_t),
    /// A long-lived sandbox: a session of its own, outliving `cordon start`.
    LongLived,
}

fn prepare_child(
    keep: &[RawFd],
    resources: &cordon_policy::plan::ResourcePlan,
    lifetime: Lifetime,
    cgroup_procs: &[PathBuf],
    owner_less: &[(RawFd, CString)],
) -> std::io::Result<()> {
    use nix::sys::resource::{setrlimit, Resource};
    // Join the sandbox's cgroup before bwrap runs: everything it starts follows.
    for procs in cgroup_procs {
        std::fs::write(procs, "0")?;
    }
    crate::owner_less::overlay_in_child(owner_less)?;
    match lifetime {
        Lifetime::LongLived => {
            nix::unistd::setsid()?;
        }
        Lifetime::DiesWith(supervisor) => {
            sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)?;
            // The supervisor may have died before the line above: then no
            // signal will ever come, and bwrap must not start.
            // SAFETY: getppid cannot fail.
            if unsafe { libc::getppid() } != supervisor {
                sys::exit_now(125);
            }
        }
    }
    let empty = nix::sys::signal::SigSet::empty();
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    )?;
    // bwrap passes on whatever it inherits: only the descriptors it is
    // given on purpose may reach it, not the caller's own.
    sys::close_at_exec_from(3)?;
    for fd in keep {
        // SAFETY: clearing FD_CLOEXEC on a descriptor this process owns.
        if unsafe { libc::fcntl(*fd, libc::F_SETFD, 0) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    if let Some(bytes) = resources.max_file_size_bytes {
        setrlimit(Resource::RLIMIT_FSIZE, bytes, bytes)?;
    }
    if let Some(files) = resources.max_open_files {
        setrlimit(Resource::RLIMIT_NOFILE, files, files)?;
    }
    crate::confine::leave_caller_keyrings().map_err(std::io::Error::other)?;
    sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1)?;
    crate::confine::landlock_scope_only().map_err(std::io::Error::other)
}

/// bwrap cannot report a bad working directory apart from the command's own
/// exit code, so it is checked against the plan before anything runs.
fn check_cwd(plan: &Plan) -> Result<(), SandboxError> {
    let visible = plan.filesystem.shows(&plan.cwd)
        || plan.cwd == Path::new("/")
        || plan.cwd == Path::new("/tmp") && plan.filesystem.private_tmp;
    let is_dir = plan.cwd == Path::new("/tmp") || plan.cwd.is_dir();
    if !visible || !is_dir {
        return Err(SandboxError::setup(format!(
            "process.cwd: {} is not usable inside the sandbox: {}",
            plan.cwd.display(),
            if visible {
                "not a directory"
            } else {
                "not visible in the sandbox"
            }
        )));
    }
    Ok(())
}

/// Tag every bwrap process of this run for the janitor, with a no-op
/// `--unsetenv` of a unique name in their command lines. bwrap's child, in
/// the sandbox's namespaces, may outlive a killed cordon: before it arms its
/// parent-death signal (one-shot), or when cordon dies before it learns the
/// child's pid (long-lived); the janitor then finds it by the tag.
fn tag_for_janitor(
    janitor: &crate::janitor::Janitor,
    inv: &mut Invocation,
) -> Result<(), SandboxError> {
    let tag = crate::janitor::Janitor::run_tag();
    janitor.note(crate::janitor::Leftover::Tagged(tag.clone()))?;
    inv.args.insert(0, "--unsetenv".into());
    inv.args.insert(1, tag.into());
    Ok(())
}

pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
    let bwrap_path = bwrap().map_err(|why| Backend::Bubblewrap.unavailable(&why))?;
    if opts.pty {
        return Err(SandboxError::unavailable(
            "--pty is not supported yet on the bubblewrap backend",
        ));
    }
    check_cwd(plan)?;
    // A janitor always: bwrap's processes are tagged for it below.
    let mut ctx = RunContext::open(
        plan,
        Needs {
            janitor_always: true,
            placeholders: true,
        },
    )?;
    crate::timing::phase("context");
    let (status_r, status_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let owner_less = OwnerLessBaseline::prepare(&plan.filesystem);
    let overlays = owner_less.overlays(&plan.filesystem)?;
    let attach = overlays.attach.clone();
    let mut inv = build(plan, status_w.as_raw_fd(), &Payload::Command, &owner_less)?;
    if let Some(janitor) = ctx.janitor() {
        tag_for_janitor(janitor, &mut inv)?;
    }
    let network_gate = network_gate(plan, &mut inv)?;
    if opts.debug {
        // What cordon runs, as JSON (arguments may hold spaces); numbers after
        // --seccomp, --ro-bind-data, --json-status-fd, --block-fd are
        // descriptors cordon passes (bench/bwrap_same.py replays it).
        let argv: Vec<String> = std::iter::once(bwrap_path.to_string_lossy().into_owned())
            .chain(inv.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect();
        eprintln!(
            "cordon: debug: bwrap argv {}",
            serde_json::to_string(&argv).unwrap_or_default()
        );
    }
    crate::timing::phase("bwrap-arguments");
    let started = ctx.start_clock();

    let mut keep: Vec<RawFd> = inv.inherited.iter().map(|f| f.as_raw_fd()).collect();
    keep.push(status_w.as_raw_fd());
    let resources = plan.resources.clone();
    let cgroup_procs = ctx.cgroup().map(|c| c.procs_files()).unwrap_or_default();
    let mut cmd = Command::new(bwrap_path);
    // bwrap's own processes (its reaper is the sandbox's PID 1) must not
    // carry the caller's environment into the sandbox's /proc.
    cmd.args(&inv.args).env_clear();
    // SAFETY: getpid cannot fail.
    let supervisor_pid = unsafe { libc::getpid() };
    // SAFETY: runs between fork and exec in the single-threaded child; only syscalls.
    unsafe {
        cmd.pre_exec(move || {
            prepare_child(
                &keep,
                &resources,
                Lifetime::DiesWith(supervisor_pid),
                &cgroup_procs,
                &attach,
            )
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| SandboxError::setup(format!("starting {}: {e}", bwrap_path.display())))?;
    crate::timing::phase("bwrap-spawned");
    drop(status_w);
    drop(inv);
    // The child has its own copies of the overlay trees now.
    drop(overlays);
    // Our own child, not reaped yet.
    let bwrap_fd = sys::pidfd_open(sys::child_pid(&child))
        .map_err(|e| SandboxError::setup(format!("pidfd_open: {e}")))?;
    if let Some(janitor) = ctx.janitor() {
        janitor.note_process(sys::child_pid(&child))?;
    }

    // bwrap reports the sandbox's PID 1 as soon as it exists; killing it kills
    // the whole PID namespace.
    let mut status = BufReader::new(std::fs::File::from(status_r));
    let mut line = String::new();
    let mut sandbox_init: Option<OwnedFd> = None;
    if status.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(pid) = Status::parse(&line).child_pid {
            // A pidfd pins the process bwrap just reported.
            sandbox_init = sys::pidfd_open(pid).ok();
            if let Some(janitor) = ctx.janitor() {
                janitor.note_process(pid)?;
            }
        }
    }

    crate::timing::phase("sandbox-init-reported");
    let kill_all = || {
        if let Some(init) = &sandbox_init {
            supervisor::kill(init);
        }
        supervisor::kill(&bwrap_fd);
    };
    let mut network = None;
    if let (Some(gate), Some(pid)) = (network_gate, Status::parse(&line).child_pid) {
        match start_network(plan, pid, opts) {
            Ok(active) => {
                network = Some(active);
                sys::send_byte(gate.as_raw_fd(), b'g');
            }
            Err(e) => {
                kill_all();
                let _ = supervisor::reap(&bwrap_fd);
                if let Some(init) = &sandbox_init {
                    supervisor::wait_exit(init);
                }
                return Err(e);
            }
        }
    }

    let deadline = plan.timeout.map(|t| started + t);
    let end = supervisor::wait(&bwrap_fd, deadline, ctx.signals());
    let (timed_out, interrupted) = match end {
        Ok(WaitEnd::Exited) => (false, None),
        Ok(WaitEnd::TimedOut) => {
            kill_all();
            (true, None)
        }
        Ok(WaitEnd::Signal(sig)) => {
            kill_all();
            (false, Some(sig))
        }
        Err(e) => {
            kill_all();
            drop(child);
            return Err(e);
        }
    };
    crate::timing::phase("bwrap-exited");
    let bwrap_status = supervisor::reap(&bwrap_fd)?;
    // When bwrap exits, --die-with-parent kills the sandbox init; wait for it.
    if let Some(init) = &sandbox_init {
        supervisor::kill(init);
        supervisor::wait_exit(init);
    }
    crate::timing::phase("sandbox-init-gone");
    let kill_latency = (timed_out).then(|| deadline.map(|d| d.elapsed())).flatten();

    if sandbox_init.is_none() && !timed_out && interrupted.is_none() {
        return Err(SandboxError::setup(
            "bwrap could not build the sandbox (its message is above)",
        ));
    }
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut status, &mut rest);
    let code = Status::parse(&rest).exit_code;
    let report = crate::supervisor::ChildReport {
        status: match (code, bwrap_status) {
            (Some(c), _) if c > 128 && c < 128 + 65 => {
                crate::supervisor::ChildStatus::Signaled(c - 128)
            }
            (Some(c), _) => crate::supervisor::ChildStatus::Exited(c),
            (None, supervisor::InitStatus::Exited(c)) => crate::supervisor::ChildStatus::Exited(c),
            (None, supervisor::InitStatus::Signaled(_)) => crate::supervisor::ChildStatus::Killed,
        },
        timed_out,
        interrupted,
        kill_latency,
        landlock: None,
    };
    let network_report =
        network.map(|n| n.finish(opts.rule_hits || !supervisor::ended_well(&report)));
    drop(child);
    let mut mechanisms = vec![
        format!(
            "{} (user, mount, pid, ipc, uts, cgroup namespaces)",
            bwrap_path.display()
        ),
        net::describe(&plan.network).into(),
        "seccomp deny-list (bwrap --seccomp)".into(),
        "landlock scoping of signals and abstract sockets".into(),
        "all capabilities dropped (bwrap --cap-drop ALL)".into(),
        "whole-tree kill through the sandbox's PID 1".into(),
        "no landlock filesystem layer (bwrap must mount after it would apply)".into(),
    ];
    if plan.filesystem.hide_root_only_files {
        mechanisms.push(owner_less.mechanism());
    }
    Ok(ctx.finish(report, Backend::Bubblewrap, network_report, mechanisms))
}

/// With a network to set up in the sandbox's namespaces, bwrap waits on a
/// socket (`--block-fd`) before it runs the command; our end says "go".
/// A socket, not a pipe: writing to it when bwrap is gone must not raise
/// SIGPIPE.
fn network_gate(
    plan: &Plan,
    inv: &mut Invocation,
) -> Result<Option<std::os::unix::net::UnixStream>, SandboxError> {
    if !net::needs_supervisor(plan) {
        return Ok(None);
    }
    let (gate_w, gate_r) = std::os::unix::net::UnixStream::pair()
        .map_err(|e| SandboxError::setup(format!("socketpair: {e}")))?;
    let fd = inv.pass(gate_r.into());
    let cmd_at = inv
        .args
        .iter()
        .position(|a| a == "--")
        .unwrap_or(inv.args.len());
    inv.args
        .splice(cmd_at..cmd_at, ["--block-fd".into(), fd.into()]);
    Ok(Some(gate_w))
}

/// Set up the network in the namespaces of bwrap's sandbox init `pid`, which
/// waits on its block descriptor meanwhile.
fn start_network(
    plan: &Plan,
    pid: libc::pid_t,
    opts: &RunOptions,
) -> Result<net::ActiveNetwork, SandboxError> {
    let ns = network_namespaces(pid)?;
    let log = opts.decision_log.clone();
    net::ActiveNetwork::start(plan, ns, opts.debug, log).map_err(SandboxError::setup)
}

/// The network namespace of bwrap's sandbox init `pid` with its owning user
/// namespace. Needs a bwrap that is not setuid: the sandbox's user namespace
/// must be the caller's.
fn network_namespaces(pid: libc::pid_t) -> Result<net::Namespaces, SandboxError> {
    // bwrap writes the id maps right after creating the namespace; a helper
    // joining before that would run under unmapped ids.
    let mapped = || {
        ["uid_map", "gid_map"].iter().all(|map| {
            std::fs::read_to_string(format!("/proc/{pid}/{map}"))
                .map(|m| !m.trim().is_empty())
                .unwrap_or(false)
        })
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(2);
    while !mapped() && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let ns = net::Namespaces::of_process_network(pid).map_err(|e| {
        SandboxError::unavailable(format!(
            "network: cannot enter the bubblewrap sandbox's network namespace ({e}); a setuid \
             bwrap keeps it out of the caller's reach: use \"native\""
        ))
    })?;
    Ok(ns)
}

/// Start a long-lived sandbox through bwrap: cordon's exec server runs inside
/// (as `/.cordon-serve __serve FD`) on `listener`. Returns the pid of the
/// sandbox's PID 1 (killing it kills the sandbox). bwrap does not die with
/// the caller. Proxy decisions go to `log` while it lives.
pub fn start_server(plan: &Plan, start: LongLived<'_>) -> Result<libc::pid_t, SandboxError> {
    let LongLived {
        listener,
        persistent_tmp,
        cgroup,
        log,
        janitor,
    } = start;
    let cgroup_procs = cgroup.map(|c| c.procs_files()).unwrap_or_default();
    let bwrap_path = bwrap().map_err(|why| Backend::Bubblewrap.unavailable(&why))?;
    crate::context::check_host_network_scoping(plan)?;
    let (status_r, status_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let payload = Payload::Server {
        listener: listener.as_raw_fd(),
        persistent_tmp,
    };
    let owner_less = OwnerLessBaseline::prepare(&plan.filesystem);
    let overlays = owner_less.overlays(&plan.filesystem)?;
    let attach = overlays.attach.clone();
    let mut inv = build(plan, status_w.as_raw_fd(), &payload, &owner_less)?;
    tag_for_janitor(janitor, &mut inv)?;
    let network_gate = network_gate(plan, &mut inv)?;
    let mut keep: Vec<RawFd> = inv.inherited.iter().map(|f| f.as_raw_fd()).collect();
    keep.push(status_w.as_raw_fd());
    keep.push(listener.as_raw_fd());
    let mut cmd = Command::new(bwrap_path);
    // No caller environment in any process of the sandbox.
    cmd.args(&inv.args)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let resources = plan.resources.clone();
    let janitor_channel = janitor.ready_channel()?;
    // SAFETY: runs between fork and exec in the single-threaded child; only syscalls.
    unsafe {
        cmd.pre_exec(move || {
            // Known to the janitor before it can outlive `cordon start`.
            crate::janitor::announce_self(janitor_channel)?;
            prepare_child(
                &keep,
                &resources,
                Lifetime::LongLived,
                &cgroup_procs,
                &attach,
            )
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| SandboxError::setup(format!("starting {}: {e}", bwrap_path.display())))?;
    drop(status_w);
    drop(inv);
    // The child has its own copies of the overlay trees now.
    drop(overlays);
    drop(listener);
    let mut child = child;
    // bwrap outlives this process (a session of its own): the janitor must
    // know it at once.
    if let Err(e) = janitor.note_process(sys::child_pid(&child)) {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let mut status = BufReader::new(std::fs::File::from(status_r));
    let mut line = String::new();
    let _ = status.read_line(&mut line);
    let Some(pid) = Status::parse(&line).child_pid else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(SandboxError::setup("bwrap could not build the sandbox"));
    };
    if let Err(e) = janitor.note_process(pid) {
        // SAFETY: kill(2) of the sandbox init bwrap just reported.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let _ = child.wait();
        return Err(e);
    }
    if let Some(gate) = network_gate {
        // A keeper holds the network for the sandbox's life (see net::keeper).
        let init = sys::pidfd_open(pid).map_err(|e| {
            // SAFETY: kill(2) of the sandbox init bwrap just reported.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            SandboxError::setup(format!("pidfd_open: {e}"))
        });
        let started = init.and_then(|init| {
            let ns = network_namespaces(pid).inspect_err(|_| supervisor::kill(&init))?;
            net::keeper::spawn(plan, ns, &init, log).map_err(|e| {
                supervisor::kill(&init);
                // The keeper's errors say "network" already.
                SandboxError::setup(e)
            })
        });
        if let Err(e) = started {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        sys::send_byte(gate.as_raw_fd(), b'g');
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_arguments_golden() {
        let fs = crate::native::tests::sample();
        let mut inv = Invocation {
            args: Vec::new(),
            inherited: Vec::new(),
        };
        mount_args(layout::mount_ops_sized(&fs, false, None, 1 << 20), &mut inv).unwrap();
        // Descriptors passed to bwrap differ from run to run.
        let passed: Vec<String> = inv
            .inherited
            .iter()
            .map(|f| f.as_raw_fd().to_string())
            .collect();
        let text: String = inv
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .map(|a| {
                if passed.contains(&a) {
                    "<fd>".to_string()
                } else {
                    a
                }
            })
            .map(|a| a + "\n")
            .collect();
        crate::golden::check("bwrap-mount-args.txt", &text);
    }
}
