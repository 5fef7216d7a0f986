//! The `native` backend: namespaces, mounts, Landlock and capabilities set up
//! directly with the kernel interfaces, no external program.
//!
//! Process tree of a run:
//!
//! ```text
//! cordon (supervisor, host)          waits on a pidfd; kills on timeout/signal
//!  └─ sandbox init (PID 1 inside)    builds the root, confines itself, reaps
//!      └─ /bin/sh -c CMD (PID 2)     the workload, in its own session
//! ```
//!
//! When the init exits or is killed, the kernel kills every process left in the
//! PID namespace, so nothing a workload started outlives the run. The init has
//! `PDEATHSIG=SIGKILL`, so killing cordon itself tears the sandbox down too.

mod confine;
pub use confine::leave_caller_keyrings;
pub mod landlock_only;
mod mounts;
mod server;
mod terminal;

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub use confine::LandlockOutcome;
use confine::{Grant, LandlockRule};
use cordon_policy::plan::{Access, Kind, Plan};

use crate::layout::{self, MountOp};
use crate::owner_less::OwnerLessBaseline;
use crate::supervisor;
use crate::sys::{self, Forked};
use crate::{Outcome, RunOptions, SandboxError};

/// Everything the sandbox init needs, computed before the clone so that the
/// child only executes.
struct Prepared {
    uid: u32,
    gid: u32,
    mounts: Vec<MountOp>,
    /// Host root's baseline directories as detached, idmapped mount trees,
    /// attached in place of their plain binds.
    owner_less: OwnerLessBaseline,
    landlock: Vec<LandlockRule>,
    isolate_network: bool,
    /// The init's end of the channel that hands the sandbox's user and network
    /// namespaces to the supervisor (which sets up rules, uplink or proxy
    /// there) and says when the workload may start.
    net_channel: Option<RawFd>,
    /// `--pty`: the init's end of the channel that hands the terminal over.
    pty_channel: Option<RawFd>,
    argv: Vec<CString>,
    /// The command as words, when the caller gave it so (see `direct_program`).
    words: Option<Vec<CString>>,
    envp: Vec<CString>,
    cwd: CString,
    cwd_display: String,
    max_file_size: Option<u64>,
    max_open_files: Option<u64>,
    last_cap: u32,
    seccomp: seccompiler::BpfProgram,
}

impl Prepared {
    /// `persistent_tmp`: a long-lived sandbox's host directory behind its /tmp.
    fn new(plan: &Plan, persistent_tmp: Option<&Path>) -> Result<Self, SandboxError> {
        let caller = cordon_policy::Caller::current();
        let cstr = |s: &str| {
            CString::new(s).map_err(|_| SandboxError::setup(format!("{s:?} contains NUL")))
        };
        let argv = plan
            .argv()
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let envp = plan
            .env
            .iter()
            .map(|(k, v)| cstr(&format!("{k}={v}")))
            .collect::<Result<Vec<_>, _>>()?;
        let words = plan
            .command_words
            .as_ref()
            .map(|words| words.iter().map(|w| cstr(w)).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        let owner_less = OwnerLessBaseline::prepare(&plan.filesystem);
        let filesystem = owner_less.filesystem(&plan.filesystem)?;
        Ok(Prepared {
            uid: caller.uid,
            gid: caller.gid,
            mounts: layout::mount_ops_sized(
                &filesystem,
                caller.is_root(),
                persistent_tmp,
                crate::bubblewrap::tmp_cap(plan),
            ),
            owner_less,
            landlock: landlock_rules(plan),
            isolate_network: plan.network.private_stack(),
            net_channel: None,
            pty_channel: None,
            argv,
            words,
            envp,
            cwd: cstr(&plan.cwd.to_string_lossy())?,
            cwd_display: plan.cwd.display().to_string(),
            max_file_size: plan.resources.max_file_size_bytes,
            max_open_files: plan.resources.max_open_files,
            last_cap: sys::last_capability(),
            seccomp: crate::seccomp::build().map_err(SandboxError::setup)?,
        })
    }
}

/// The same allow-list as the mounts, as Landlock rules (second layer).
fn landlock_rules(plan: &Plan) -> Vec<LandlockRule> {
    let mut rules = vec![
        LandlockRule {
            path: PathBuf::from("/"),
            grant: Grant::ListOnly,
        },
        LandlockRule {
            path: PathBuf::from("/proc"),
            grant: Grant::ReadWriteFiles,
        },
        LandlockRule {
            path: PathBuf::from("/dev"),
            grant: Grant::Devices,
        },
        LandlockRule {
            path: PathBuf::from("/dev/shm"),
            grant: Grant::Full,
        },
    ];
    if plan.filesystem.private_tmp {
        rules.push(LandlockRule {
            path: PathBuf::from("/tmp"),
            grant: Grant::Full,
        });
    }
    for entry in &plan.filesystem.entries {
        let grant = match (entry.access, entry.kind) {
            (Access::Denied, _) | (_, Kind::Missing) => continue,
            (Access::ReadOnly, _) => Grant::ReadExec,
            (Access::ReadWrite, _) if entry.path.starts_with("/dev") => Grant::Devices,
            (Access::ReadWrite, _) => Grant::Full,
        };
        rules.push(LandlockRule {
            path: entry.path.clone(),
            grant,
        });
    }
    rules
}

/// The network namespace, when the plan isolates it, is created by the init
/// itself (see `spawn_network_namespace`).
fn namespace_flags() -> u64 {
    (libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP) as u64
}

/// A socketpair between the supervisor and the sandbox init.
struct Channel {
    supervisor: std::os::unix::net::UnixStream,
    init: std::os::unix::net::UnixStream,
}

impl Channel {
    fn open_if(wanted: bool) -> Result<Option<Channel>, SandboxError> {
        if !wanted {
            return Ok(None);
        }
        let (supervisor, init) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| SandboxError::setup(format!("socketpair: {e}")))?;
        Ok(Some(Channel { supervisor, init }))
    }

    /// The init's end, as the cloned init inherits it.
    fn init_end(&self) -> RawFd {
        self.init.as_raw_fd()
    }

    /// After the clone: only the init keeps its end, so EOF on ours means it
    /// failed.
    fn supervisor_end(self) -> std::os::unix::net::UnixStream {
        self.supervisor
    }
}

/// Run one plan to completion with the native backend.
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
    let mut prepared = Prepared::new(plan, None)?;
    let net_channel = Channel::open_if(crate::net::needs_supervisor(&plan.network))?;
    prepared.net_channel = net_channel.as_ref().map(Channel::init_end);
    let pty_channel = Channel::open_if(opts.pty)?;
    prepared.pty_channel = pty_channel.as_ref().map(Channel::init_end);
    // Before anything is made on the host: whatever happens to this process,
    // what it makes is removed.
    let janitor = crate::janitor::Janitor::spawn_if_needed(plan)?;
    let cgroup = crate::cgroups::SandboxCgroup::create(
        &plan.resources,
        &crate::cgroups::SandboxCgroup::unique_name(),
        janitor.as_ref(),
    )?;
    // With a cgroup, the init waits at this gate until it has been moved in.
    let gate = match &cgroup {
        Some(_) => Some(sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?),
        None => None,
    };
    let placeholders =
        crate::placeholders::Placeholders::create(&plan.filesystem.placeholders, janitor.as_ref())?;
    let signals = supervisor::SignalWatch::install()?;
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let (life_r, life_w) = sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let started = std::time::Instant::now();

    phase("pre-clone");
    let forked = sys::clone_process(namespace_flags()).map_err(|e| {
        SandboxError::unavailable(format!(
            "cannot create the sandbox's namespaces: {e} (are unprivileged user namespaces \
             disabled? see `cordon probe`)"
        ))
    })?;
    match forked {
        Forked::Child => {
            drop(report_r);
            drop(life_w);
            if let Some((gate_r, gate_w)) = gate {
                drop(gate_w);
                let mut byte = [0u8; 1];
                // SAFETY: reading one byte into a valid buffer.
                if unsafe { libc::read(gate_r.as_raw_fd(), byte.as_mut_ptr().cast(), 1) } != 1 {
                    sys::exit_now(125);
                }
            }
            init_main(&prepared, report_w.as_raw_fd(), life_r)
        }
        Forked::Parent { pid, pidfd } => {
            drop(report_w);
            drop(life_r);
            // It holds the placeholders (its copy of our descriptors) until it is gone.
            if let Some(janitor) = &janitor {
                if let Err(e) = janitor.note_process(pid) {
                    supervisor::kill(&pidfd);
                    let _ = supervisor::reap(&pidfd);
                    return Err(e);
                }
            }
            // Only the init keeps its end: EOF on ours then means it failed.
            let net_end = net_channel.map(Channel::supervisor_end);
            let pty_end = pty_channel.map(Channel::supervisor_end);
            if let (Some(cg), Some((gate_r, gate_w))) = (&cgroup, gate) {
                drop(gate_r);
                if let Err(e) = cg.add(pid) {
                    supervisor::kill(&pidfd);
                    let _ = supervisor::reap(&pidfd);
                    return Err(e);
                }
                sys::write_all(gate_w.as_raw_fd(), b"g");
            }
            phase("cloned");
            let terminal = pty_end.as_ref().and_then(terminal::Relay::start);
            let network = match &net_end {
                Some(channel) => match start_network(plan, channel, opts) {
                    Ok(network) => network,
                    Err(e) => {
                        supervisor::kill(&pidfd);
                        let _ = supervisor::reap(&pidfd);
                        signals.restore();
                        return Err(e);
                    }
                },
                None => None,
            };
            phase("network");
            let result = supervisor::supervise(pid, &pidfd, report_r, plan.timeout, &signals);
            phase("reaped");
            let network_report = network.map(|n| n.finish(opts.rule_hits));
            if let Some(terminal) = terminal {
                terminal.finish();
            }
            drop(life_w);
            signals.restore();
            drop(placeholders);
            let mut report = result?;
            // The OOM killer may pick the sandbox's init: the whole sandbox
            // died of the memory limit, not of a setup error.
            if let (supervisor::ChildStatus::SetupFailed(_), Some(cg)) = (&report.status, &cgroup) {
                if cg.hits().memory_oom_kills > 0 {
                    report.status = supervisor::ChildStatus::Signaled(libc::SIGKILL);
                }
            }
            if let supervisor::ChildStatus::SetupFailed(message) = &report.status {
                if !report.timed_out && report.interrupted.is_none() {
                    if let Some(why) = message.strip_prefix(NAMESPACES_UNUSABLE) {
                        return Err(SandboxError::unavailable(format!(
                            "native backend unavailable: user namespaces cannot be used here ({why})"
                        )));
                    }
                    return Err(SandboxError::setup(message.clone()));
                }
            }
            let landlock = report
                .notes
                .iter()
                .find_map(|n| n.strip_prefix("landlock="))
                .unwrap_or("unknown")
                .to_string();
            let mut outcome = Outcome::from_report(report, started.elapsed(), "native", opts);
            outcome.note_limits(cgroup.as_ref());
            outcome.network = network_report;
            outcome.mechanisms = vec![
                "user, mount, pid, ipc, uts and cgroup namespaces".into(),
                crate::net::describe(&plan.network).into(),
                format!("landlock filesystem layer: {landlock}"),
                "landlock scoping of signals and abstract sockets".into(),
                "seccomp deny-list".into(),
                "all capabilities dropped, no_new_privs".into(),
            ];
            if plan.filesystem.hide_root_only_files {
                outcome.mechanisms.push(prepared.owner_less.mechanism());
            }
            Ok(outcome)
        }
    }
}

/// Receive the sandbox's namespaces from its init, set up the network there
/// and let the init start the workload. `None` when the init failed before
/// handing them over (its report says why).
fn start_network(
    plan: &Plan,
    channel: &std::os::unix::net::UnixStream,
    opts: &RunOptions,
) -> Result<Option<crate::net::ActiveNetwork>, SandboxError> {
    let Ok(ns) = crate::net::Namespaces::receive(channel.as_raw_fd()) else {
        return Ok(None);
    };
    let log = opts.decision_log.clone();
    let network = crate::net::ActiveNetwork::start(&plan.network, ns, opts.debug, log)
        .map_err(SandboxError::setup)?;
    // The init may have failed meanwhile; its report says why.
    sys::send_byte(channel.as_raw_fd(), b'g');
    Ok(Some(network))
}

/// Prefix of init errors that mean "namespaces exist but cannot be used here".
const NAMESPACES_UNUSABLE: &str = "namespaces unusable: ";

/// Send one line to the supervisor.
fn report(fd: RawFd, line: &str) {
    sys::write_all(fd, line.as_bytes());
    sys::write_all(fd, b"\n");
}

fn fail(fd: RawFd, message: &str) -> ! {
    report(fd, &format!("error:{}", message.replace('\n', " ")));
    sys::exit_now(125)
}

/// PID 1 of the sandbox.
fn init_main(p: &Prepared, report_fd: RawFd, lifeline: OwnedFd) -> ! {
    match init_setup(p, Some(lifeline)) {
        Err(message) => fail(report_fd, &message),
        Ok(landlock) => report(
            report_fd,
            match landlock {
                LandlockOutcome::Full => "note:landlock=fully enforced",
                LandlockOutcome::Partial => "note:landlock=partially enforced (older ABI)",
                LandlockOutcome::Unavailable => "note:landlock=not available in this kernel",
            },
        ),
    }
    // The cwd is checked here so that a spawn failure below means the exec failed.
    let cwd_problem = match std::fs::metadata(&p.cwd_display) {
        Err(e) => Some(e.to_string()),
        Ok(meta) if !meta.is_dir() => Some("not a directory".to_string()),
        // SAFETY: access(2) with a NUL-terminated path.
        Ok(_) if unsafe { libc::access(p.cwd.as_ptr(), libc::X_OK) } != 0 => {
            Some(std::io::Error::last_os_error().to_string())
        }
        Ok(_) => None,
    };
    if let Some(why) = cwd_problem {
        fail(
            report_fd,
            &format!(
                "process.cwd: {} is not usable inside the sandbox: {why}",
                p.cwd_display
            ),
        );
    }
    wait_for_network(p);
    phase("exec");
    // With --pty the command gets a terminal of the sandbox's devpts.
    let terminal = match p.pty_channel {
        None => None,
        Some(channel) => match sys::open_pty(24, 80) {
            Ok((master, slave)) => {
                if let Err(e) = terminal::send_master(&master, channel) {
                    fail(report_fd, &e);
                }
                Some((master, slave))
            }
            Err(e) => fail(report_fd, &format!("allocating a terminal: {e}")),
        },
    };
    let stdio = match &terminal {
        Some((_, slave)) => sys::Stdio::Terminal(slave),
        None => sys::Stdio::Inherit,
    };
    let spawned = spawn_command(&p.argv, p.words.as_deref(), &p.envp, &p.cwd, stdio);
    // The supervisor holds the master now; the init must not keep the terminal alive.
    drop(terminal);
    match spawned {
        Ok(workload) => reap_until(workload, report_fd),
        Err(e) => {
            let code = if e.raw_os_error() == Some(libc::ENOENT) {
                127
            } else {
                126
            };
            report(
                report_fd,
                &format!("exec:{code}:cannot run /bin/sh in the sandbox: {e}"),
            );
            sys::exit_now(code)
        }
    }
}

/// Start the command in a new session: `words`' program itself where the
/// shell (`argv`, `/bin/sh -c LINE`) would only exec that file, which saves
/// a process start; else, or should that fail, the shell, which then reports
/// as a shell does. Used by the one-shot init and the exec server.
pub(crate) fn spawn_command(
    argv: &[CString],
    words: Option<&[CString]>,
    envp: &[CString],
    cwd: &CStr,
    stdio: sys::Stdio<'_>,
) -> std::io::Result<libc::pid_t> {
    let direct = words.and_then(|words| {
        let program = direct_program(words, envp)?;
        sys::spawn_session(&program, words, envp, cwd, stdio).ok()
    });
    match direct {
        Some(pid) => Ok(pid),
        None => sys::spawn_session(&argv[0], argv, envp, cwd, stdio),
    }
}

/// dash's builtins and keywords: for these `sh -c` does not exec a file.
const SHELL_BUILTINS: &[&str] = &[
    ".", ":", "[", "alias", "bg", "break", "case", "cd", "chdir", "command", "continue", "do",
    "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false", "fc", "fg",
    "fi", "for", "getopts", "hash", "if", "jobs", "kill", "local", "printf", "pwd", "read",
    "readonly", "return", "set", "shift", "test", "then", "times", "trap", "true", "type",
    "ulimit", "umask", "unalias", "unset", "until", "wait", "while", "{", "}", "!",
];

/// Where `/bin/sh -c 'WORDS'` would look for the file to exec when the first
/// word is `name`, in the order it looks: the path itself, or each entry of
/// `path` (the `PATH` variable). None wherever the shell might do anything
/// else than exec a file found that way: a builtin, an assignment (the words
/// are joined with `=` unquoted, so the shell reads `NAME=value CMD` as one),
/// a relative path, a relative or missing `PATH`.
pub(crate) fn exec_candidates(name: &str, path: Option<&str>) -> Option<Vec<PathBuf>> {
    if name.is_empty() || name.contains('=') || SHELL_BUILTINS.contains(&name) {
        return None;
    }
    if name.contains('/') {
        return name.starts_with('/').then(|| vec![PathBuf::from(name)]);
    }
    path?
        .split(':')
        .map(|dir| dir.starts_with('/').then(|| Path::new(dir).join(name)))
        .collect()
}

/// The file `/bin/sh -c 'WORDS'` would exec for `words`: the first of its
/// [`exec_candidates`] that exists, if that is an executable regular file;
/// None wherever the shell might do anything else. Runs in the init after
/// its confinement, so it sees what the command will.
fn direct_program(words: &[CString], envp: &[CString]) -> Option<CString> {
    let name = words.first()?.to_str().ok()?;
    let path = envp
        .iter()
        .find_map(|e| e.to_str().ok()?.strip_prefix("PATH="));
    let found = exec_candidates(name, path)?
        .into_iter()
        .find(|candidate| candidate.exists())?;
    let meta = std::fs::metadata(&found).ok()?;
    let c = sys::cstring(&found).ok()?;
    // SAFETY: access(2) on a NUL-terminated path.
    let executable = unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0;
    (meta.is_file() && executable).then_some(c)
}

/// With a network set up by the supervisor (or a long-lived sandbox's
/// keeper), wait for its go before anything of the workload runs.
fn wait_for_network(p: &Prepared) {
    if let Some(channel) = p.net_channel {
        let mut go = [0u8; 1];
        // SAFETY: reading one byte into a valid buffer.
        if unsafe { libc::read(channel, go.as_mut_ptr().cast(), 1) } != 1 || go[0] != b'g' {
            sys::exit_now(125);
        }
        // SAFETY: the init's end of the channel is no longer needed.
        unsafe { libc::close(channel) };
    }
}

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

/// `lifeline`: for a one-shot run, the read end of a pipe whose writer is the
/// supervisor; the init dies with it. A long-lived sandbox has none.
fn init_setup(p: &Prepared, lifeline: Option<OwnedFd>) -> Result<LandlockOutcome, String> {
    phase("init-start");
    if let Some(lifeline) = lifeline {
        // Die with the supervisor, including if it died before this line ran.
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong)
            .map_err(|e| format!("PDEATHSIG: {e}"))?;
        let mut poll = [libc::pollfd {
            fd: lifeline.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: `poll` is a valid one-element array for the call.
        if unsafe { libc::poll(poll.as_mut_ptr(), 1, 0) } > 0
            && poll[0].revents & libc::POLLHUP != 0
        {
            sys::exit_now(125);
        }
    }

    // Inside, the caller keeps its own uid and gid; nothing else is mapped.
    // Failing here means an LSM or policy lets namespaces be created but not
    // used (e.g. AppArmor's userns restriction): the caller may fall back.
    let unusable = |what: &str, e: std::io::Error| format!("{NAMESPACES_UNUSABLE}{what}: {e}");
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| unusable("setgroups", e))?;
    std::fs::write("/proc/self/uid_map", format!("{0} {0} 1", p.uid))
        .map_err(|e| unusable("uid_map", e))?;
    std::fs::write("/proc/self/gid_map", format!("{0} {0} 1", p.gid))
        .map_err(|e| unusable("gid_map", e))?;
    sys::make_mounts_private().map_err(|e| unusable("making the mount namespace private", e))?;

    phase("maps");
    // Creating a network namespace is the slowest single step of a sandbox
    // start; a helper thread does it while this thread builds the mounts.
    let network = if p.isolate_network {
        Some(spawn_network_namespace(p.net_channel)?)
    } else {
        None
    };
    mounts::build_root(&p.mounts, &p.owner_less)?;
    phase("mounts");
    if let Some(helper) = network {
        let netns = helper
            .join()
            .map_err(|_| "network namespace helper panicked".to_string())??;
        nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("entering the network namespace: {e}"))?;
    }
    nix::unistd::sethostname("cordon").map_err(|e| format!("hostname: {e}"))?;
    use nix::sys::resource::Resource;
    if let Some(bytes) = p.max_file_size {
        confine::set_rlimit(Resource::RLIMIT_FSIZE, bytes)?;
    }
    if let Some(files) = p.max_open_files {
        confine::set_rlimit(Resource::RLIMIT_NOFILE, files)?;
    }
    phase("net");
    confine::leave_caller_keyrings()?;
    confine::no_new_privs()?;
    // With the host network shared, abstract sockets and signals are the host's:
    // Landlock scoping keeps the sandbox away from them.
    let landlock = confine::apply_landlock(&p.landlock, true, false)?;
    phase("landlock");
    confine::drop_capabilities(p.last_cap)?;
    phase("caps");
    // The init holds no secrets, but nothing in the sandbox may ptrace it.
    sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(|e| format!("dumpable: {e}"))?;
    crate::seccomp::install(&p.seccomp)?;
    phase("seccomp");
    Ok(landlock)
}

/// Start a thread that creates the sandbox's network namespace with only a
/// loopback interface, and hands back a descriptor of it. With a `channel`,
/// the thread also sends the user and network namespaces to the supervisor.
fn spawn_network_namespace(
    channel: Option<RawFd>,
) -> Result<std::thread::JoinHandle<Result<OwnedFd, String>>, String> {
    // Opened before the mounts change this process's root under the thread.
    let proc_dir = nix::fcntl::open(
        "/proc",
        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("opening /proc: {e}"))?;
    // SAFETY: `open` just returned this descriptor; nothing else owns it.
    let proc_dir = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(proc_dir) };
    std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("creating the network namespace: {e}"))?;
            sys::loopback_up().map_err(|e| format!("loopback: {e}"))?;
            let fd = nix::fcntl::openat(
                Some(proc_dir.as_raw_fd()),
                "thread-self/ns/net",
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|e| format!("opening the network namespace: {e}"))?;
            // SAFETY: `openat` just returned this descriptor; nothing else owns it.
            let netns = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
            if let Some(channel) = channel {
                let userns = nix::fcntl::openat(
                    Some(proc_dir.as_raw_fd()),
                    "thread-self/ns/user",
                    nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )
                .map_err(|e| format!("opening the user namespace: {e}"))?;
                let sent = sys::send_fd(channel, userns, b"U")
                    .and_then(|()| sys::send_fd(channel, netns.as_raw_fd(), b"N"));
                let _ = nix::unistd::close(userns);
                sent.map_err(|e| format!("handing the namespaces to the supervisor: {e}"))?;
            }
            Ok(netns)
        })
        .map_err(|e| format!("starting the network helper: {e}"))
}

/// Reap everything; when the workload ends, report its status and exit, which
/// makes the kernel kill whatever it left behind.
fn reap_until(workload: libc::pid_t, report_fd: RawFd) -> ! {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a valid local.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == workload {
            let (line, code) = if libc::WIFSIGNALED(status) {
                let sig = libc::WTERMSIG(status);
                (format!("signaled:{sig}"), 128 + sig)
            } else {
                let code = libc::WEXITSTATUS(status);
                (format!("exited:{code}"), code)
            };
            report(report_fd, &line);
            phase("workload-exited");
            sys::exit_now(code);
        }
        if pid == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
            fail(report_fd, "the workload disappeared");
        }
    }
}

/// Confine the calling process's abstract unix sockets and signals to its own
/// Landlock domain, without restricting the filesystem (so mounts still work).
pub fn landlock_scope_only() -> Result<(), String> {
    confine::apply_scope_only()
}

/// Start a long-lived sandbox: its init (PID 1) builds the sandbox from `plan`
/// with `persistent_tmp` as its /tmp, then serves exec requests on `listener`
/// until it is killed. Returns the init's pid once it is ready. The init does
/// not die with the caller. Proxy decisions go to `log` while it lives.
pub fn start_server(
    plan: &Plan,
    listener: OwnedFd,
    persistent_tmp: &std::path::Path,
    log: Option<crate::net::DecisionLog>,
    janitor: &crate::janitor::Janitor,
) -> Result<libc::pid_t, SandboxError> {
    check_namespaces_only(plan)?;
    let mut prepared = Prepared::new(plan, Some(persistent_tmp))?;
    let net_channel = Channel::open_if(crate::net::needs_supervisor(&plan.network))?;
    prepared.net_channel = net_channel.as_ref().map(Channel::init_end);
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let forked = sys::clone_process(namespace_flags()).map_err(|e| {
        SandboxError::unavailable(format!("cannot create the sandbox's namespaces: {e}"))
    })?;
    match forked {
        Forked::Child => {
            drop(report_r);
            let fd = report_w.as_raw_fd();
            // Known to the janitor before `cordon start` could die and leave
            // this init running unrecorded.
            if let Err(e) = crate::janitor::announce_self(janitor.channel()) {
                fail(fd, &format!("announcing the sandbox to its janitor: {e}"));
            }
            match init_setup(&prepared, None) {
                Err(message) => fail(fd, &message),
                Ok(_) => {
                    wait_for_network(&prepared);
                    report(fd, "ready")
                }
            }
            drop(report_w);
            server::serve(listener.as_raw_fd())
        }
        Forked::Parent { pid, pidfd } => {
            drop(report_w);
            drop(listener);
            // The init outlives this process: the janitor must know it at once.
            if let Err(e) = janitor.note_process(pid) {
                supervisor::kill(&pidfd);
                let _ = supervisor::reap(&pidfd);
                return Err(e);
            }
            if let Some(parent_end) = net_channel.map(Channel::supervisor_end) {
                let started = crate::net::Namespaces::receive(parent_end.as_raw_fd())
                    .map_err(|e| format!("network: {e}"))
                    .and_then(|ns| crate::net::keeper::spawn(plan, ns, &pidfd, log));
                match started {
                    Ok(()) => {
                        sys::send_byte(parent_end.as_raw_fd(), b'g');
                    }
                    Err(e) => {
                        supervisor::kill(&pidfd);
                        let _ = supervisor::reap(&pidfd);
                        // The keeper's errors say "network" already.
                        return Err(SandboxError::setup(e));
                    }
                }
            }
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut std::fs::File::from(report_r), &mut text);
            if text.lines().any(|l| l == "ready") {
                return Ok(pid);
            }
            supervisor::kill(&pidfd);
            let _ = supervisor::reap(&pidfd);
            let message = text
                .lines()
                .find_map(|l| l.strip_prefix("error:"))
                .unwrap_or("the sandbox init died while starting")
                .to_string();
            match message.strip_prefix(NAMESPACES_UNUSABLE) {
                Some(why) => Err(SandboxError::unavailable(format!(
                    "native backend unavailable: user namespaces cannot be used here ({why})"
                ))),
                None => Err(SandboxError::setup(message)),
            }
        }
    }
}

/// Run cordon's exec server in this process (inside a sandbox built by
/// bwrap) on the inherited listening socket `listener`.
/// Refuses to run outside a confined process (seccomp filter installed and
/// no_new_privs set, as bwrap leaves it): it must never serve commands on the
/// host unsandboxed.
pub fn serve_inherited(listener: RawFd) -> ! {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let confined =
        status.lines().any(|l| l == "Seccomp:\t2") && status.lines().any(|l| l == "NoNewPrivs:\t1");
    if !confined {
        eprintln!("cordon: __serve only runs inside a sandbox cordon started");
        sys::exit_now(125);
    }
    server::serve(listener)
}

/// Long-lived sandboxes need namespaces (there is no Landlock-only lifecycle).
fn check_namespaces_only(plan: &Plan) -> Result<(), SandboxError> {
    crate::check_host_network_scoping(plan)?;
    availability()
        .map_err(|why| SandboxError::unavailable(format!("native backend unavailable: {why}")))
}

/// Whether this host lets cordon build a native sandbox (user namespaces).
pub fn availability() -> Result<(), String> {
    if let Ok(max) = std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
        if max.trim() == "0" {
            return Err("user namespaces are disabled (user.max_user_namespaces = 0)".into());
        }
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone") {
        if v.trim() == "0" && cordon_policy::Caller::current().uid != 0 {
            return Err(
                "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
                    .into(),
            );
        }
    }
    Ok(())
}
