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

mod mounts;

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use cordon_policy::plan::{Access, FsPlan, Kind, Plan};

use crate::backend::Backend;
use crate::confine::{self, Grant, LandlockEnforced, LandlockRule};
use crate::context::{LongLived, Needs, RunContext};
use crate::error::SandboxError;
use crate::init_report::InitReport;
use crate::layout::{self, MountOp};
use crate::outcome::{Outcome, RunOptions};
use crate::owner_less::OwnerLessBaseline;
use crate::sys::{self, Forked};
use crate::{context, net, shell, supervisor, timing};

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
                layout::tmp_cap(plan),
            ),
            owner_less,
            landlock: landlock_rules(&plan.filesystem),
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
fn landlock_rules(fs: &FsPlan) -> Vec<LandlockRule> {
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
    if fs.private_tmp {
        rules.push(LandlockRule {
            path: PathBuf::from("/tmp"),
            grant: Grant::Full,
        });
    }
    for entry in &fs.entries {
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

/// Creating the sandbox's namespaces failed outright.
fn cannot_clone(e: std::io::Error) -> SandboxError {
    SandboxError::unavailable(format!(
        "cannot create the sandbox's namespaces: {e} (are unprivileged user namespaces \
         disabled? see `cordon probe`)"
    ))
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
    let needs = Needs {
        janitor_always: false,
        placeholders: true,
    };
    // Forked first: it gets to its own session while the init is prepared.
    let janitor = RunContext::janitor_for(plan, needs)?;
    let mut prepared = Prepared::new(plan, None)?;
    let net_channel = Channel::open_if(net::needs_supervisor(plan))?;
    prepared.net_channel = net_channel.as_ref().map(Channel::init_end);
    let pty_channel = Channel::open_if(opts.pty)?;
    prepared.pty_channel = pty_channel.as_ref().map(Channel::init_end);
    let mut ctx = RunContext::open_with(plan, needs, janitor)?;
    // With a cgroup, the init waits at this gate until it has been moved in.
    let gate = match ctx.cgroup() {
        Some(_) => Some(sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?),
        None => None,
    };
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let (life_r, life_w) = sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    ctx.start_clock();

    timing::phase("pre-clone");
    let forked = sys::clone_process(namespace_flags()).map_err(cannot_clone)?;
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
            if let Some(janitor) = ctx.janitor() {
                if let Err(e) = janitor.note_process(pid) {
                    supervisor::kill(&pidfd);
                    let _ = supervisor::reap(&pidfd);
                    return Err(e);
                }
            }
            // Only the init keeps its end: EOF on ours then means it failed.
            let net_end = net_channel.map(Channel::supervisor_end);
            let pty_end = pty_channel.map(Channel::supervisor_end);
            if let (Some(cg), Some((gate_r, gate_w))) = (ctx.cgroup(), gate) {
                drop(gate_r);
                if let Err(e) = cg.add(pid) {
                    supervisor::kill(&pidfd);
                    let _ = supervisor::reap(&pidfd);
                    return Err(e);
                }
                sys::write_all(gate_w.as_raw_fd(), b"g");
            }
            timing::phase("cloned");
            let network = match &net_end {
                Some(channel) => match start_network(plan, channel, opts) {
                    Ok(network) => network,
                    Err(e) => {
                        supervisor::kill(&pidfd);
                        let _ = supervisor::reap(&pidfd);
                        return Err(e);
                    }
                },
                None => None,
            };
            // After the network: no relay thread runs while it forks helpers.
            // The init sends the terminal's master side, or nothing when it
            // failed (its report says why).
            let terminal = pty_end
                .as_ref()
                .and_then(|channel| sys::recv_fd(channel.as_raw_fd(), &mut [0u8; 1]).ok())
                .and_then(|(_, master)| master)
                .and_then(|master| crate::pty_relay::Relay::start(master).ok());
            timing::phase("network");
            let result = supervisor::supervise(pid, &pidfd, report_r, plan.timeout, ctx.signals());
            timing::phase("reaped");
            let network_report = network.map(|n| {
                n.finish(opts.rule_hits || !result.as_ref().is_ok_and(supervisor::ended_well))
            });
            if let Some(terminal) = terminal {
                terminal.finish();
            }
            drop(life_w);
            let mut report = result?;
            // The OOM killer may pick the sandbox's init: the whole sandbox
            // died of the memory limit, not of a setup error.
            if let (supervisor::ChildStatus::SetupFailed(_), Some(cg)) =
                (&report.status, ctx.cgroup())
            {
                if cg.hits().memory_oom_kills > 0 {
                    report.status = supervisor::ChildStatus::Signaled(libc::SIGKILL);
                }
            }
            if !report.timed_out && report.interrupted.is_none() {
                match &report.status {
                    supervisor::ChildStatus::NamespacesUnusable(why) => {
                        return Err(namespaces_unusable(why))
                    }
                    supervisor::ChildStatus::SetupFailed(message) => {
                        return Err(SandboxError::setup(message.clone()))
                    }
                    _ => {}
                }
            }
            let landlock = report
                .landlock
                .map_or("unknown", LandlockEnforced::describe);
            let mut mechanisms = vec![
                "user, mount, pid, ipc, uts and cgroup namespaces".into(),
                net::describe(&plan.network).into(),
                format!("landlock filesystem layer: {landlock}"),
                "landlock scoping of signals and abstract sockets".into(),
                "seccomp deny-list".into(),
                "all capabilities dropped, no_new_privs".into(),
            ];
            if plan.filesystem.hide_root_only_files {
                mechanisms.push(prepared.owner_less.mechanism());
            }
            Ok(ctx.finish(report, Backend::Native, network_report, mechanisms))
        }
    }
}

/// The init could create namespaces but not use them: another backend may work.
fn namespaces_unusable(why: &str) -> SandboxError {
    SandboxError::unavailable(format!(
        "native backend unavailable: user namespaces cannot be used here ({why})"
    ))
}

/// Receive the sandbox's namespaces from its init, set up the network there
/// and let the init start the workload. `None` when the init failed before
/// handing them over (its report says why).
fn start_network(
    plan: &Plan,
    channel: &std::os::unix::net::UnixStream,
    opts: &RunOptions,
) -> Result<Option<net::ActiveNetwork>, SandboxError> {
    let Ok(ns) = net::Namespaces::receive(channel.as_raw_fd()) else {
        return Ok(None);
    };
    let log = opts.decision_log.clone();
    let network =
        net::ActiveNetwork::start(plan, ns, opts.debug, log).map_err(SandboxError::setup)?;
    // The init may have failed meanwhile; its report says why.
    sys::send_byte(channel.as_raw_fd(), b'g');
    Ok(Some(network))
}

fn fail(fd: RawFd, message: &str) -> ! {
    InitReport::SetupFailed {
        message: message.to_string(),
    }
    .send(fd);
    sys::exit_now(125)
}

/// Why the init could not set up the sandbox.
enum InitError {
    /// Namespaces exist but cannot be used here (e.g. AppArmor's userns
    /// restriction): the caller may fall back to another backend.
    NamespacesUnusable(String),
    Setup(String),
}

impl From<String> for InitError {
    fn from(message: String) -> Self {
        InitError::Setup(message)
    }
}

impl InitError {
    fn send(self, fd: RawFd) -> ! {
        match self {
            InitError::NamespacesUnusable(message) => {
                InitReport::NamespacesUnusable { message }.send(fd);
                sys::exit_now(125)
            }
            InitError::Setup(message) => fail(fd, &message),
        }
    }
}

/// PID 1 of the sandbox.
fn init_main(p: &Prepared, report_fd: RawFd, lifeline: OwnedFd) -> ! {
    match init_setup(p, Some(lifeline)) {
        Err(e) => e.send(report_fd),
        Ok(enforced) => InitReport::Landlock { enforced }.send(report_fd),
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
    timing::phase("exec");
    // With --pty the command gets a terminal of the sandbox's devpts.
    let terminal = match p.pty_channel {
        None => None,
        Some(channel) => match sys::open_pty(24, 80) {
            Ok((master, slave)) => {
                if let Err(e) = sys::send_fd(channel, master.as_raw_fd(), b"T") {
                    fail(report_fd, &format!("handing over the terminal: {e}"));
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
    let spawned = shell::spawn_command(&p.argv, p.words.as_deref(), &p.envp, &p.cwd, stdio);
    // The supervisor holds the master now; the init must not keep the terminal alive.
    drop(terminal);
    match spawned {
        Ok(workload) => reap_until(workload, report_fd),
        Err(e) => {
            let (report, code) = InitReport::exec_failed(&e);
            report.send(report_fd);
            sys::exit_now(code)
        }
    }
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

/// `lifeline`: for a one-shot run, the read end of a pipe whose writer is the
/// supervisor; the init dies with it. A long-lived sandbox has none.
fn init_setup(p: &Prepared, lifeline: Option<OwnedFd>) -> Result<LandlockEnforced, InitError> {
    timing::phase("init-start");
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
    let unusable =
        |what: &str, e: std::io::Error| InitError::NamespacesUnusable(format!("{what}: {e}"));
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| unusable("setgroups", e))?;
    std::fs::write("/proc/self/uid_map", format!("{0} {0} 1", p.uid))
        .map_err(|e| unusable("uid_map", e))?;
    std::fs::write("/proc/self/gid_map", format!("{0} {0} 1", p.gid))
        .map_err(|e| unusable("gid_map", e))?;
    sys::make_mounts_private().map_err(|e| unusable("making the mount namespace private", e))?;

    timing::phase("maps");
    // Creating a network namespace is the slowest single step of a sandbox
    // start; a helper thread does it while this thread builds the mounts.
    let network = if p.isolate_network {
        Some(spawn_network_namespace(p.net_channel)?)
    } else {
        None
    };
    mounts::build_root(&p.mounts, &p.owner_less)?;
    timing::phase("mounts");
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
    timing::phase("net");
    confine::leave_caller_keyrings()?;
    confine::no_new_privs()?;
    // With the host network shared, abstract sockets and signals are the host's:
    // Landlock scoping keeps the sandbox away from them.
    let landlock = confine::apply_landlock(&p.landlock, true, false)?;
    timing::phase("landlock");
    confine::drop_capabilities(p.last_cap)?;
    timing::phase("caps");
    // The init holds no secrets, but nothing in the sandbox may ptrace it.
    sys::prctl(libc::PR_SET_DUMPABLE, 0).map_err(|e| format!("dumpable: {e}"))?;
    crate::seccomp::install(&p.seccomp)?;
    timing::phase("seccomp");
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
            let (report, code) = if libc::WIFSIGNALED(status) {
                let signal = libc::WTERMSIG(status);
                (InitReport::Signaled { signal }, 128 + signal)
            } else {
                let code = libc::WEXITSTATUS(status);
                (InitReport::Exited { code }, code)
            };
            report.send(report_fd);
            timing::phase("workload-exited");
            sys::exit_now(code);
        }
        if pid == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
            fail(report_fd, "the workload disappeared");
        }
    }
}

/// Start a long-lived sandbox: its init (PID 1) builds the sandbox from `plan`
/// with `persistent_tmp` as its /tmp, then serves exec requests on `listener`
/// until it is killed. Returns the init's pid once it is ready. The init does
/// not die with the caller. Proxy decisions go to `log` while it lives.
pub fn start_server(plan: &Plan, start: LongLived<'_>) -> Result<libc::pid_t, SandboxError> {
    let LongLived {
        listener,
        persistent_tmp,
        cgroup,
        log,
        janitor,
    } = start;
    context::check_host_network_scoping(plan)?;
    let mut prepared = Prepared::new(plan, Some(persistent_tmp))?;
    let net_channel = Channel::open_if(net::needs_supervisor(plan))?;
    prepared.net_channel = net_channel.as_ref().map(Channel::init_end);
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let janitor_channel = janitor.ready_channel()?;
    let forked = sys::clone_process(namespace_flags()).map_err(cannot_clone)?;
    match forked {
        Forked::Child => {
            drop(report_r);
            let fd = report_w.as_raw_fd();
            // Known to the janitor before `cordon start` could die and leave
            // this init running unrecorded.
            if let Err(e) = crate::janitor::announce_self(janitor_channel) {
                fail(fd, &format!("announcing the sandbox to its janitor: {e}"));
            }
            match init_setup(&prepared, None) {
                Err(e) => e.send(fd),
                Ok(_) => {
                    wait_for_network(&prepared);
                    InitReport::Ready.send(fd)
                }
            }
            drop(report_w);
            crate::lifecycle::server::serve(listener.as_raw_fd())
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
                let started = net::Namespaces::receive(parent_end.as_raw_fd())
                    .map_err(|e| format!("network: {e}"))
                    .and_then(|ns| net::keeper::spawn(plan, ns, &pidfd, log));
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
            let reports = InitReport::parse_all(&text);
            if reports.contains(&InitReport::Ready) {
                // The init has not started anything yet: moving it moves all to come.
                if let Some(cg) = cgroup {
                    if let Err(e) = cg.add(pid) {
                        supervisor::kill(&pidfd);
                        let _ = supervisor::reap(&pidfd);
                        return Err(e);
                    }
                }
                return Ok(pid);
            }
            supervisor::kill(&pidfd);
            let _ = supervisor::reap(&pidfd);
            let failure = reports.into_iter().find_map(|r| match r {
                InitReport::NamespacesUnusable { message } => Some(namespaces_unusable(&message)),
                InitReport::SetupFailed { message } => Some(SandboxError::setup(message)),
                _ => None,
            });
            Err(failure
                .unwrap_or_else(|| SandboxError::setup("the sandbox init died while starting")))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cordon_policy::plan::{FsEntry, Origin};

    fn entry(path: &str, access: Access, kind: Kind) -> FsEntry {
        FsEntry {
            path: path.into(),
            access,
            kind,
            origin: Origin::Listed,
        }
    }

    /// One line per rule, as the init applies them.
    pub(crate) fn describe(rules: &[LandlockRule]) -> String {
        rules
            .iter()
            .map(|r| format!("{:?} {}\n", r.grant, r.path.display()))
            .collect()
    }

    /// A plan over paths no host has (so nothing here depends on the
    /// machine), and the baseline's top-level entries listed as missing (so
    /// no merged-/usr symlink of the host is looked up).
    pub(crate) fn sample() -> FsPlan {
        let mut entries: Vec<FsEntry> = cordon_policy::resolve::BASELINE
            .iter()
            .map(|p| entry(p, Access::Denied, Kind::Missing))
            .collect();
        entries.extend([
            entry("/cordon-golden/ro", Access::ReadOnly, Kind::Dir),
            entry("/cordon-golden/work", Access::ReadWrite, Kind::Dir),
            entry(
                "/cordon-golden/work/.git/hooks",
                Access::ReadOnly,
                Kind::Dir,
            ),
            entry("/cordon-golden/work/secret", Access::Denied, Kind::File),
            entry("/cordon-golden/work/out", Access::ReadWrite, Kind::Dir),
            entry("/dev/kvm", Access::ReadWrite, Kind::File),
        ]);
        FsPlan {
            entries,
            private_tmp: true,
            placeholders: vec![],
            hide_root_only_files: false,
        }
    }

    #[test]
    fn landlock_rules_golden() {
        crate::golden::check(
            "native-landlock-rules.txt",
            &describe(&landlock_rules(&sample())),
        );
    }
}
