//! Landlock-only mode of the `native` backend, for hosts that refuse new
//! namespaces (locked-down containers, restrictive seccomp or LSM profiles).
//!
//! Without a mount namespace nothing can be hidden, so the filesystem policy is
//! enforced by Landlock alone: everything outside the allow-list stays visible
//! to `stat` but every access fails with EACCES. Landlock grants are unions
//! along a path, so a path more restrictive than its parent (a denied or
//! read-only path inside a writable one) is expressed by granting the parent's
//! other children one by one instead of the parent itself; the cost is that no
//! new entry can be created directly in such a parent, and that a parent
//! holding a denied directory cannot be listed.
//!
//! What this mode cannot give, stated plainly:
//! - no private `/tmp` (a per-run directory is granted and exported as `TMPDIR`),
//!   no own `/proc` (host processes are listed, and their command lines,
//!   status and other world-readable `/proc/PID` files are readable as for
//!   any process of the host; signals, ptrace and what needs ptrace access
//!   (environment, memory, descriptors) are refused by Landlock scoping),
//!   no own hostname;
//! - with network model 3, all TCP is refused by Landlock, including the
//!   sandbox's own loopback, and UDP, raw, netlink and packet sockets by seccomp;
//! - unix sockets cannot be created (`socket(AF_UNIX)`), because the host's
//!   daemons listen on them; `socketpair` works;
//! - System V IPC and inotify/fanotify watches are refused (the host's IPC
//!   objects and every path its uid may read would be in reach), and so is
//!   changing another process's limits or scheduling by pid;
//! - metadata changes (`chmod`, `chown`, times, extended attributes), which
//!   Landlock does not judge, are made by the reaper for the workload, inside
//!   writable trees only (`crate::metadata_broker`).
//!
//! Process tree: cordon → reaper (a child subreaper, outside the Landlock
//! domain, and the metadata broker) → workload. The reaper kills every descendant when the workload
//! ends, on timeout, and when cordon dies (its lifeline pipe closes).

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use cordon_policy::plan::{Access, FsPlan, Kind, NetworkPlan, Origin, Plan};

use crate::backend::Backend;
use crate::confine::{self, Grant, LandlockRule};
use crate::context::{Needs, RunContext};
use crate::error::SandboxError;
use crate::init_report::InitReport;
use crate::metadata_broker::Broker;
use crate::outcome::{Outcome, RunOptions};
use crate::supervisor::{self, ChildReport, ChildStatus, WaitEnd};
use crate::sys::{self, Forked};

/// Device nodes granted in this mode.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// A per-run directory standing in for the private /tmp; removed afterwards.
struct PrivateTmp(PathBuf);

impl PrivateTmp {
    fn create(janitor: &crate::janitor::Janitor) -> Result<Self, SandboxError> {
        let mut bytes = [0u8; 8];
        // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer.
        unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("cordon-tmp-{name}"));
        janitor.note(crate::janitor::Leftover::Tree(path.clone()))?;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| SandboxError::setup(format!("creating {}: {e}", path.display())))?;
        Ok(PrivateTmp(path))
    }
}

use std::os::unix::fs::DirBuilderExt;

impl Drop for PrivateTmp {
    fn drop(&mut self) {
        let _ = crate::remove::remove_tree(&self.0);
    }
}

fn grant_for(access: Access) -> Option<Grant> {
    match access {
        Access::ReadWrite => Some(Grant::Full),
        Access::ReadOnly => Some(Grant::ReadExec),
        Access::Denied => None,
    }
}

/// Landlock rules equivalent to the plan's view (see the module comment).
fn rules_for(fs: &FsPlan) -> Vec<LandlockRule> {
    let mut rules = Vec::new();
    for entry in &fs.entries {
        let Some(grant) = grant_for(entry.access) else {
            continue;
        };
        if entry.kind == Kind::Missing {
            continue;
        }
        // Deeper entries that must not inherit this grant.
        let blockers: Vec<&Path> = fs
            .entries
            .iter()
            .filter(|d| d.path != entry.path && d.path.starts_with(&entry.path))
            .filter(|d| d.access > entry.access)
            .map(|d| d.path.as_path())
            .collect();
        if blockers.is_empty() {
            rules.push(LandlockRule {
                path: entry.path.clone(),
                grant,
            });
        } else {
            decompose(&entry.path, grant, &blockers, fs, &mut rules);
        }
    }
    rules
}

fn decompose(
    dir: &Path,
    grant: Grant,
    blockers: &[&Path],
    fs: &FsPlan,
    rules: &mut Vec<LandlockRule>,
) {
    // Listing is granted for the whole hierarchy, so only when no denied
    // directory lies below. A denied file's name stays listable, as it does
    // under the mount backends' masks; its contents do not.
    let denied_dir_below = fs.entries.iter().any(|e| {
        e.access == Access::Denied && e.kind != Kind::File && blockers.contains(&e.path.as_path())
    });
    if !denied_dir_below {
        rules.push(LandlockRule {
            path: dir.to_path_buf(),
            grant: Grant::ListOnly,
        });
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for child in read.flatten() {
        let path = child.path();
        if blockers.iter().any(|b| *b == path) {
            continue; // has its own (more restrictive) entry
        }
        let below: Vec<&Path> = blockers
            .iter()
            .copied()
            .filter(|b| b.starts_with(&path))
            .collect();
        if below.is_empty() {
            rules.push(LandlockRule { path, grant });
        } else if child.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            decompose(&path, grant, &below, fs, rules);
        }
    }
}

struct Prepared {
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
    rules: Vec<LandlockRule>,
    isolate_network: bool,
    seccomp: seccompiler::BpfProgram,
    max_file_size: Option<u64>,
    max_open_files: Option<u64>,
    is_root: bool,
    last_cap: u32,
    /// The per-run TMPDIR, removed by the reaper if cordon dies first.
    tmp: PathBuf,
    /// `cgroup.procs` files the reaper joins before starting the workload.
    cgroup_procs: Vec<PathBuf>,
    /// Answers the workload's metadata changes (the reaper serves it).
    broker: Broker,
}

pub fn run(plan: &Plan, opts: &RunOptions) -> Result<Outcome, SandboxError> {
    crate::host::landlock_scoping().map_err(|why| Backend::LandlockOnly.unavailable(&why))?;
    crate::context::refuse_supervised_network(
        plan,
        "in Landlock-only mode (no namespaces on this host)",
    )?;
    if opts.pty {
        return Err(SandboxError::unavailable(
            "--pty is not supported yet in Landlock-only mode",
        ));
    }
    if let Some(p) = plan.published.first() {
        return Err(SandboxError::unavailable(format!(
            "network.ingress.publish ({} to the sandbox's port {}): Landlock-only mode has no \
             network namespace of its own, so a published port could not be kept to one port; \
             refused",
            p.host, p.port
        )));
    }
    let caller = cordon_policy::Caller::current();
    // A janitor always: it waits for the reaper, and removes the TMPDIR.
    let mut ctx = RunContext::open(
        plan,
        Needs {
            janitor_always: true,
            placeholders: false,
        },
    )?;
    let tmp = PrivateTmp::create(janitor_of(&ctx)?)?;
    let cwd = if plan.cwd_defaulted && plan.cwd == Path::new("/tmp") {
        tmp.0.clone()
    } else {
        plan.cwd.clone()
    };
    let visible = cwd == tmp.0 || cwd == Path::new("/") || plan.filesystem.shows(&cwd);
    if !visible || !cwd.is_dir() {
        return Err(SandboxError::setup(format!(
            "process.cwd: {} is not usable inside the sandbox",
            cwd.display()
        )));
    }
    let tmp_text = tmp.0.to_string_lossy().into_owned();
    // The private home is a directory of the host temporary directory that
    // stands in for /tmp here.
    let home = crate::layout::private_home_in(&tmp.0);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&home)
        .map_err(|e| SandboxError::setup(format!("creating {}: {e}", home.display())))?;
    let mut env: Vec<(String, String)> = plan
        .env
        .iter()
        .map(|(k, v)| {
            if k == "HOME"
                && Path::new(v) == plan.defaults.home
                && plan.defaults.home.starts_with("/tmp")
            {
                (k.clone(), home.to_string_lossy().into_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    if !env.iter().any(|(k, _)| k == "TMPDIR") {
        env.push(("TMPDIR".into(), tmp_text.clone()));
    }
    let cstr =
        |s: &str| CString::new(s).map_err(|_| SandboxError::setup(format!("{s:?} contains NUL")));
    // Without a mount namespace, host root's secrets are kept out by rules.
    let mut fs = crate::layout::with_root_masks(&plan.filesystem)?.into_owned();
    // Unix sockets cannot be created in this mode (seccomp), so the host's
    // session and service sockets are out of reach already; rules hiding them
    // would only cost listing their directories.
    fs.entries.retain(|e| e.origin != Origin::HostSocket);
    // Landlock grants cannot be taken back below a path: keeping the files
    // the host runs later read-only (or uncreatable) inside a writable tree
    // means granting that tree child by child, so nothing new can be
    // created at its top level. Enforced, and said, with the way out.
    let protected: Vec<String> = fs
        .entries
        .iter()
        .filter(|e| e.origin == Origin::HostExecuted)
        .filter_map(|e| e.path.parent())
        .map(|p| p.display().to_string())
        .fold(Vec::new(), |mut seen, p| {
            if !seen.contains(&p) {
                seen.push(p);
            }
            seen
        });
    if !protected.is_empty() {
        eprintln!(
            "cordon: Landlock-only mode: no new entry can be created directly in {} \
             (they hold files the host runs later, kept read-only); `--unprotect CLASS` \
             (filesystem.unprotect) lifts that protection",
            protected.join(", ")
        );
    }
    let mut rules = rules_for(&fs);
    rules.push(LandlockRule {
        path: tmp.0.clone(),
        grant: Grant::Full,
    });
    rules.push(LandlockRule {
        path: PathBuf::from("/proc"),
        grant: Grant::ReadExec,
    });
    for dev in DEVICES {
        rules.push(LandlockRule {
            path: PathBuf::from(dev),
            grant: Grant::Devices,
        });
    }
    let isolate_network = plan.network == NetworkPlan::Isolated;
    let broker = Broker::new(
        rules
            .iter()
            .filter(|r| r.grant == Grant::Full)
            .map(|r| r.path.clone()),
    );
    let prepared = Prepared {
        argv: plan
            .argv()
            .iter()
            .map(|a| cstr(a))
            .collect::<Result<_, _>>()?,
        envp: env
            .iter()
            .map(|(k, v)| cstr(&format!("{k}={v}")))
            .collect::<Result<_, _>>()?,
        cwd: cstr(&cwd.to_string_lossy())?,
        rules,
        isolate_network,
        seccomp: crate::seccomp::build_with(crate::seccomp::SharedHostLimits {
            deny_unix: true,
            deny_ip_datagrams: isolate_network,
            deny_listen: isolate_network,
            deny_sysv_ipc: true,
            deny_path_watches: true,
            deny_retuning_others: true,
            broker_metadata_changes: true,
        })
        .map_err(SandboxError::setup)?,
        max_file_size: plan.resources.max_file_size_bytes,
        max_open_files: plan.resources.max_open_files,
        is_root: caller.is_root(),
        last_cap: sys::last_capability(),
        tmp: tmp.0.clone(),
        cgroup_procs: Vec::new(),
        broker,
    };
    let mechanisms = vec![
        format!(
            "landlock filesystem allow-list alone ({} rules; no namespaces available)",
            prepared.rules.len()
        ),
        if isolate_network {
            "network: TCP refused by landlock; UDP, raw, netlink, packet sockets and listen by seccomp".into()
        } else {
            "host network shared".into()
        },
        "unix sockets refused by seccomp (socketpair allowed)".into(),
        "System V IPC refused by seccomp (the host's IPC namespace is shared)".into(),
        "other processes' limits, priority and scheduling refused by seccomp (landlock does not judge them)".into(),
        "inotify watches and fanotify refused by seccomp (landlock does not judge them)".into(),
        "chmod, chown, utimes and xattr changes made by the reaper inside writable trees only, inode flags refused (landlock does not judge them)".into(),
        "landlock scoping of signals and abstract sockets".into(),
        "seccomp deny-list".into(),
        "no_new_privs; capabilities dropped".into(),
        format!("per-run TMPDIR {}", tmp.0.display()),
        "whole-tree kill by a subreaper outside the sandbox".into(),
    ];
    let prepared = Prepared {
        cgroup_procs: ctx.cgroup().map(|c| c.procs_files()).unwrap_or_default(),
        ..prepared
    };
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let (life_r, life_w) = sys::pipe().map_err(|e| SandboxError::setup(format!("pipe: {e}")))?;
    let started = ctx.start_clock();
    let forked = sys::clone_process(0).map_err(|e| SandboxError::setup(format!("fork: {e}")))?;
    let (pidfd, _pid) = match forked {
        Forked::Child => {
            drop(report_r);
            drop(life_w);
            reaper_main(&prepared, report_w.as_raw_fd(), life_r)
        }
        Forked::Parent { pid, pidfd } => (pidfd, pid),
    };
    drop(report_w);
    drop(life_r);
    // The reaper kills the tree when its lifeline closes; the janitor waits
    // for it to be gone before it removes the cgroup and TMPDIR.
    janitor_of(&ctx)?.note_awaited(_pid)?;
    let deadline = plan.timeout.map(|t| started + t);
    let end = supervisor::wait(&pidfd, deadline, ctx.signals());
    let (timed_out, interrupted) = match &end {
        Ok(WaitEnd::Exited) => (false, None),
        Ok(WaitEnd::TimedOut) => (true, None),
        Ok(WaitEnd::Signal(sig)) => (false, Some(*sig)),
        Err(_) => (false, None),
    };
    // Closing the lifeline tells the reaper to kill everything and leave.
    drop(life_w);
    supervisor::wait_exit(&pidfd);
    let kill_latency = timed_out.then(|| deadline.map(|d| d.elapsed())).flatten();
    let _ = supervisor::reap(&pidfd);
    end?;
    drop(tmp);

    let mut text = String::new();
    let _ = std::io::Read::read_to_string(&mut std::fs::File::from(report_r), &mut text);
    let (status, landlock) = supervisor::parse_report(&text);
    if let ChildStatus::SetupFailed(msg) = &status {
        if !timed_out && interrupted.is_none() {
            return Err(SandboxError::setup(msg.clone()));
        }
    }
    let report = ChildReport {
        status,
        timed_out,
        interrupted,
        kill_latency,
        landlock,
    };
    Ok(ctx.finish(report, Backend::LandlockOnly, None, mechanisms))
}

/// This mode's run always has a janitor (it waits for the reaper).
fn janitor_of(ctx: &RunContext) -> Result<&crate::janitor::Janitor, SandboxError> {
    ctx.janitor()
        .ok_or_else(|| SandboxError::setup("the run's janitor did not start"))
}

/// Report that the sandbox could not be built, and exit.
fn fail(fd: RawFd, message: String) -> ! {
    InitReport::SetupFailed { message }.send(fd);
    sys::exit_now(125)
}

/// The reaper: outside the sandbox's Landlock domain, subreaper of its tree.
fn reaper_main(p: &Prepared, report_fd: RawFd, lifeline: OwnedFd) -> ! {
    // A session (and process group) of its own: killing cordon's whole
    // process group (a cancelled CI job, `kill -9 -PGID`) must not take the
    // reaper with it, or nothing would be left to kill the workload. cordon's
    // death still reaches it through the lifeline.
    if let Err(e) = nix::unistd::setsid() {
        fail(report_fd, format!("setsid: {e}"));
    }
    for procs in &p.cgroup_procs {
        if let Err(e) = std::fs::write(procs, "0") {
            fail(
                report_fd,
                format!("joining the sandbox cgroup {}: {e}", procs.display()),
            );
        }
    }
    if let Err(e) = sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) {
        fail(report_fd, format!("subreaper: {e}"));
    }
    let (exec_r, exec_w) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => fail(report_fd, format!("pipe: {e}")),
    };
    // The workload sends its seccomp listener here.
    let (listener_r, listener_w) = match nix::sys::socket::socketpair(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        None,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
    ) {
        Ok(pair) => pair,
        Err(e) => fail(report_fd, format!("socketpair: {e}")),
    };
    let workload = match sys::clone_process(0) {
        Err(e) => fail(report_fd, format!("fork: {e}")),
        Ok(Forked::Child) => {
            drop(exec_r);
            drop(listener_r);
            workload_main(p, exec_w.as_raw_fd(), listener_w)
        }
        Ok(Forked::Parent { pidfd, pid }) => (pidfd, pid),
    };
    drop(exec_w);
    drop(listener_w);
    // Nothing (an empty stream) if the workload failed before its filter.
    let listener = sys::recv_fd(listener_r.as_raw_fd(), &mut [0u8; 1])
        .ok()
        .and_then(|(_, fd)| fd);
    drop(listener_r);
    if let Some(l) = &listener {
        Broker::prefer_one_cpu(l.as_raw_fd());
    }
    // The broker acts for the workload: with its powers, not root's.
    if p.is_root {
        if let Err(e) = sys::drop_all_capabilities(p.last_cap) {
            kill_tree();
            fail(
                report_fd,
                format!("dropping the reaper's capabilities: {e}"),
            );
        }
    }
    // The workload writes here only if it fails before exec: one encoded
    // report, passed on as it is.
    let mut failure = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::fs::File::from(exec_r), &mut failure);
    if !failure.is_empty() {
        kill_tree();
        sys::write_all(report_fd, &failure);
        sys::exit_now(125);
    }
    let (pidfd, pid) = workload;
    let mut listener = listener;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: lifeline.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                // poll skips a negative descriptor.
                fd: listener.as_ref().map_or(-1, |l| l.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: valid array of three pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) };
        if n < 0 {
            continue;
        }
        if fds[1].revents != 0 {
            // cordon is gone or wants the sandbox dead. If cordon died, nobody
            // else will remove the per-run TMPDIR; if it lives, removing it
            // twice is harmless.
            kill_tree();
            let _ = crate::remove::remove_tree(&p.tmp);
            sys::exit_now(137);
        }
        if fds[0].revents != 0 {
            let mut status = 0;
            // SAFETY: waitpid on our own child into a valid local.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            kill_tree();
            let report = if libc::WIFSIGNALED(status) {
                InitReport::Signaled {
                    signal: libc::WTERMSIG(status),
                }
            } else {
                InitReport::Exited {
                    code: libc::WEXITSTATUS(status),
                }
            };
            report.send(report_fd);
            sys::exit_now(0);
        }
        // After the two above, so that a workload calling without end
        // cannot keep its reaper from a kill.
        if fds[2].revents & libc::POLLIN != 0 {
            if let Some(l) = &listener {
                if p.broker.answer(l.as_raw_fd()).is_err() {
                    // Closed, the listener answers every call ENOSYS: a
                    // broken one must not leave them waiting.
                    listener = None;
                }
            }
        } else if fds[2].revents != 0 {
            // Every process under the filter is gone.
            listener = None;
        }
    }
}

/// SIGKILL every descendant until none is left. As a subreaper, every orphan of
/// the tree is reparented to this process, so the tree cannot be left.
fn kill_tree() {
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    loop {
        let descendants = sys::descendants(me);
        if descendants.is_empty() {
            return;
        }
        for pid in &descendants {
            // SAFETY: kill(2) on a process of our own tree.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        // Reap without blocking: a process forked after the scan above is not
        // dead yet, and blocking on it would wait for as long as it runs. The
        // next scan finds and kills it.
        let mut reaped = false;
        loop {
            // SAFETY: waitpid into a null status pointer is allowed.
            let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) };
            if r <= 0 {
                break;
            }
            reaped = true;
        }
        if !reaped {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

fn workload_main(p: &Prepared, fail_fd: RawFd, listener_channel: OwnedFd) -> ! {
    let fail = |msg: String| -> ! { fail(fail_fd, msg) };
    let empty = nix::sys::signal::SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    );
    if let Err(e) = nix::unistd::setsid() {
        fail(format!("setsid: {e}"));
    }
    // Die with the reaper; it kills the tree anyway, this closes the gap.
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    use nix::sys::resource::Resource;
    if let Some(bytes) = p.max_file_size {
        if let Err(e) = confine::set_rlimit(Resource::RLIMIT_FSIZE, bytes) {
            fail(e);
        }
    }
    if let Some(files) = p.max_open_files {
        if let Err(e) = confine::set_rlimit(Resource::RLIMIT_NOFILE, files) {
            fail(e);
        }
    }
    if let Err(e) = confine::leave_caller_keyrings() {
        fail(e);
    }
    if let Err(e) = confine::no_new_privs() {
        fail(e);
    }
    if let Err(e) = confine::apply_landlock(&p.rules, true, p.isolate_network).map(drop) {
        fail(e);
    }
    if p.is_root {
        if let Err(e) = confine::drop_capabilities(p.last_cap) {
            fail(e);
        }
    }
    match crate::seccomp::install_with_listener(&p.seccomp) {
        Err(e) => fail(e),
        Ok(Some(listener)) => {
            if let Err(e) = sys::send_fd(listener_channel.as_raw_fd(), listener.as_raw_fd(), b"L") {
                fail(format!("handing the seccomp listener to the reaper: {e}"));
            }
            // The workload must not answer its own notifications.
            drop(listener);
        }
        Ok(None) => {}
    }
    drop(listener_channel);
    // SAFETY: chdir with a NUL-terminated path.
    if unsafe { libc::chdir(p.cwd.as_ptr()) } != 0 {
        fail(format!(
            "process.cwd: {} is not usable inside the sandbox: {}",
            p.cwd.to_string_lossy(),
            std::io::Error::last_os_error()
        ));
    }
    // Descriptors cordon inherited from its caller stay out of the sandbox.
    // SAFETY: close_range only changes descriptor flags of this process.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    let mut argv: Vec<*const libc::c_char> = p.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = p.envp.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of NUL-terminated strings, alive until exec.
    unsafe { libc::execve(argv[0], argv.as_ptr(), envp.as_ptr()) };
    let (report, code) = InitReport::exec_failed(&std::io::Error::last_os_error());
    report.send(fail_fd);
    sys::exit_now(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landlock_only_rules_golden() {
        let rules = rules_for(&crate::native::tests::sample());
        crate::golden::check(
            "landlock-only-rules.txt",
            &crate::native::tests::describe(&rules),
        );
    }
}
