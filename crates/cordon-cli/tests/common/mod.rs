//! Test harness: run the real `cordon` binary as the invoking user and, when
//! the tests run as root, also as an unprivileged user created for the purpose.
//! Every policy test runs under both identities, because the two code paths
//! differ (uid 0 inside the sandbox vs. an ordinary uid).

#![allow(dead_code)]

pub mod netns;

use std::io::Write;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use serde_json::Value;

pub const TEST_USER: &str = "cordon-test";

/// Which user runs cordon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// Whoever runs the test suite (root in CI).
    Caller,
    /// An unprivileged user (only when the suite runs as root).
    Unprivileged,
}

/// Who runs cordon, and on which backend. Every policy test runs for each
/// combination: the root and unprivileged paths differ, and every backend
/// must enforce the same policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub user: User,
    /// `containment` to request; `None` leaves the config's own (default: process).
    pub backend: Option<&'static str>,
}

impl Identity {
    pub const CALLER: Identity = Identity {
        user: User::Caller,
        backend: None,
    };
    pub const UNPRIVILEGED: Identity = Identity {
        user: User::Unprivileged,
        backend: None,
    };

    pub fn uid(self) -> u32 {
        match self.user {
            User::Caller => current_uid(),
            User::Unprivileged => test_user().0,
        }
    }
    pub fn gid(self) -> u32 {
        match self.user {
            User::Caller => current_gid(),
            User::Unprivileged => test_user().1,
        }
    }
    pub fn is_root(self) -> bool {
        self.uid() == 0
    }
    pub fn home(self) -> PathBuf {
        match self.user {
            User::Caller => PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())),
            User::Unprivileged => test_user().2.clone(),
        }
    }
}

/// Backends every policy test runs on.
pub const BACKENDS: &[&str] = &["native", "bubblewrap"];

/// The pid of a child the test started.
pub fn pid_of(child: &std::process::Child) -> libc::pid_t {
    libc::pid_t::try_from(child.id()).expect("pids fit pid_t")
}

pub fn current_uid() -> u32 {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() }
}

pub fn current_gid() -> u32 {
    // SAFETY: getegid has no failure mode.
    unsafe { libc::getegid() }
}

/// Identities every policy test runs under: each user on each backend.
pub fn identities() -> Vec<Identity> {
    let users = if current_uid() == 0 {
        vec![User::Caller, User::Unprivileged]
    } else {
        eprintln!(
            "note: not running as root; the unprivileged-user variants run as the caller only"
        );
        vec![User::Caller]
    };
    users
        .into_iter()
        .flat_map(|user| {
            BACKENDS.iter().map(move |b| Identity {
                user,
                backend: Some(b),
            })
        })
        .collect()
}

/// Every identity on every backend, and each user on a locked host
/// (Landlock-only mode).
pub fn identities_and_locked_host() -> Vec<Identity> {
    let mut out = identities();
    out.extend(
        identities()
            .into_iter()
            .filter(|i| i.backend == Some("native"))
            .map(|i| Identity {
                user: i.user,
                backend: Some(LOCKED_HOST),
            }),
    );
    out
}

/// (uid, gid, home) of the unprivileged test user, created on first use.
pub fn test_user() -> &'static (u32, u32, PathBuf) {
    static USER: OnceLock<(u32, u32, PathBuf)> = OnceLock::new();
    USER.get_or_init(|| {
        let lookup = || {
            let out = Command::new("getent")
                .args(["passwd", TEST_USER])
                .output()
                .ok()?;
            let line = String::from_utf8(out.stdout).ok()?;
            let f: Vec<&str> = line.trim().split(':').collect();
            Some((
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
                PathBuf::from(f.get(5)?),
            ))
        };
        if let Some(u) = lookup() {
            return u;
        }
        let status = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", TEST_USER])
            .status()
            .expect("useradd");
        // Another test process may have created it at the same time.
        let user = lookup().unwrap_or_else(|| panic!("creating {TEST_USER} failed: {status}"));
        user
    })
}

/// The binary under test: cargo's build, or `CORDON_TEST_BIN` (scripts/test.sh
/// runs the suites a second time against the static release build).
pub fn cordon_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("CORDON_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_cordon").into())
    })
}

/// A copy of the binary that any user can execute: the build tree may sit
/// below a directory the unprivileged user cannot enter (e.g. /root).
pub fn shared_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(cordon_bin()).expect("cordon binary");
        let dir = PathBuf::from(format!(
            "/tmp/cordon-it-bin-{}-{}",
            meta.ino(),
            meta.mtime_nsec() + meta.mtime() * 1_000_000_000
        ));
        let bin = dir.join("cordon");
        // Copies of earlier builds are of no further use once older than any
        // suite run (another checkout's suite may still be using a newer one).
        let stale = |path: &Path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(30 * 60))
        };
        if let Ok(entries) = std::fs::read_dir("/tmp") {
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("cordon-it-bin-")
                    && path != dir
                    && !name.contains('.')
                    && stale(&path)
                {
                    let _ = std::fs::remove_dir_all(path);
                }
            }
        }
        if !bin.exists() {
            let staging = PathBuf::from(format!("{}.{}", dir.display(), std::process::id()));
            std::fs::create_dir_all(&staging).unwrap();
            std::fs::copy(cordon_bin(), staging.join("cordon")).unwrap();
            std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(
                staging.join("cordon"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            // Another test binary may win the race; either copy is the same file.
            if std::fs::rename(&staging, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&staging);
            }
        }
        // A process another test thread forked while the copy was being
        // written holds the write descriptor until it execs, and until then
        // executing the copy fails with ETXTBSY: wait until it can be run.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::process::Command::new(&bin)
            .arg("--version")
            .output()
            .is_err_and(|e| e.raw_os_error() == Some(libc::ETXTBSY))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        bin.to_string_lossy().into_owned()
    })
}

/// Result of one cordon invocation.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let code = out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
        Run {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn has(&self, marker: &str) -> bool {
        self.stdout.lines().any(|l| l.trim() == marker)
    }

    /// Assert the run printed exactly these marker lines among its output.
    #[track_caller]
    pub fn expect(&self, markers: &[&str]) {
        for m in markers {
            assert!(self.has(m), "missing {m:?}\n{self}");
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Pseudo-backend: run cordon the way a locked-down container would (creating
/// namespaces refused by seccomp), so that it must fall back.
pub const LOCKED_HOST: &str = "locked-host";

/// The namespace-locking wrapper, written where every user can read it.
pub fn lock_script() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        // One shared copy per user running the suite (another user's copy in
        // sticky /tmp cannot be replaced), replaced atomically (test binaries
        // may run at once).
        let path = format!("/tmp/cordon-it-lock-{}.py", current_uid());
        let staging = format!("{path}.{}", std::process::id());
        std::fs::write(&staging, include_str!("../support/lock_namespaces.py")).unwrap();
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::rename(&staging, &path).unwrap();
        path
    })
}

/// A command that runs cordon as `who`.
pub fn command(who: Identity) -> Command {
    let bin = match who.user {
        User::Caller => cordon_bin(),
        User::Unprivileged => shared_bin(),
    };
    let mut prefix: Vec<String> = Vec::new();
    if let User::Unprivileged = who.user {
        let (uid, gid, _) = test_user();
        prefix.extend([
            "setpriv".to_string(),
            format!("--reuid={uid}"),
            format!("--regid={gid}"),
            "--clear-groups".to_string(),
            "--".to_string(),
        ]);
    }
    if who.backend == Some(LOCKED_HOST) {
        prefix.extend(["/usr/bin/python3".to_string(), lock_script().to_string()]);
    }
    let mut cmd = match prefix.split_first() {
        None => Command::new(bin),
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        }
    };
    if let User::Unprivileged = who.user {
        cmd.env("HOME", &test_user().2);
        cmd.env("USER", TEST_USER);
    }
    cmd.env_remove("CORDON_AUDIT_LOG");
    // `cordon run` works in the caller's directory, which must be granted;
    // `/` is always visible, so tests that grant nothing still run.
    cmd.current_dir("/");
    cmd
}

/// `args` with `--backend` added to a `run` invocation that does not name one.
pub fn with_backend(who: Identity, args: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if let Some(backend) = who.backend.filter(|b| *b != LOCKED_HOST) {
        if let Some(pos) = out.iter().position(|a| a == "run") {
            if !out.iter().any(|a| a == "--backend") {
                out.insert(pos + 1, "--backend".into());
                out.insert(pos + 2, backend.into());
            }
        }
    }
    out
}

/// Run cordon with arguments and optional stdin.
pub fn cordon(who: Identity, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = command(who);
    cmd.args(with_backend(who, args))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cordon");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    Run::from(child.wait_with_output().expect("wait cordon"))
}

/// `config` on `who`'s backend (its `containment`), unless it names one
/// itself; the locked host keeps the default (its wrapper locks the host).
/// Every test that puts an identity's backend into a config does it here.
pub fn for_backend(who: Identity, config: &Value) -> Value {
    let mut config = config.clone();
    let backend = who.backend.filter(|b| *b != LOCKED_HOST);
    if let (Some(backend), Some(obj)) = (backend, config.as_object_mut()) {
        obj.entry("containment")
            .or_insert(Value::String(backend.into()));
    }
    config
}

/// Whether cgroup limits can work for `who` here, from the host's own facts
/// (not cordon's answer): with cgroup v1 (or hybrid) controllers only root
/// may use them; with cgroup v2 the cgroup the suite runs in must delegate
/// the memory and pids controllers and be writable by `who`.
pub fn cgroup_limits_work(who: Identity) -> bool {
    if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return who.is_root();
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) else {
        return false;
    };
    let dir = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let delegated = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let uid = match who.user {
        User::Caller => current_uid(),
        User::Unprivileged => test_user().0,
    };
    let writable = std::fs::metadata(&dir)
        .map(|m| uid == 0 || std::os::unix::fs::MetadataExt::uid(&m) == uid)
        .unwrap_or(false);
    writable
        && ["memory", "pids"]
            .iter()
            .all(|c| delegated.split_whitespace().any(|d| d == *c))
}

/// Run a one-shot config document (on `who`'s backend unless it names one).
pub fn run_config(who: Identity, config: &Value) -> Run {
    run_config_with_env(who, &[], config)
}

/// [`run_config`] with variables added to cordon's own environment.
pub fn run_config_with_env(who: Identity, env: &[(&str, &str)], config: &Value) -> Run {
    let file = ConfigFile::new(&for_backend(who, config));
    let mut cmd = command(who);
    cmd.envs(env.iter().copied());
    Run::from(
        cmd.args(["--config", file.path.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .expect("run cordon"),
    )
}

/// A config written to a file any identity can read; removed on drop.
pub struct ConfigFile {
    pub path: PathBuf,
}

impl ConfigFile {
    pub fn new(config: &Value) -> Self {
        let path = unique_path("cfg").with_extension("json");
        std::fs::write(&path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        ConfigFile { path }
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn unique_path(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    PathBuf::from(format!(
        "/tmp/cordon-it-{}-{}-{tag}-{n}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("t")
            .replace("::", "_")
    ))
}

/// A scratch directory on the host owned by `who`, removed on drop.
pub struct Fixture {
    pub root: PathBuf,
    who: Identity,
}

impl Fixture {
    pub fn new(who: Identity) -> Self {
        let root = unique_path("fx");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let f = Fixture { root, who };
        f.own(&f.root);
        f
    }

    /// A fixture only `who` may enter (mode 0700): a state directory.
    pub fn private(who: Identity) -> Self {
        let f = Fixture::new(who);
        std::fs::set_permissions(&f.root, std::fs::Permissions::from_mode(0o700)).unwrap();
        f
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn p(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }

    fn own(&self, path: &Path) {
        if current_uid() == 0 {
            chown(path, Some(self.who.uid()), Some(self.who.gid())).unwrap();
        }
    }

    /// Create a directory (and parents) owned by the identity.
    pub fn dir(&self, rel: &str) -> String {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).unwrap();
        let mut p = path.as_path();
        while p != self.root {
            self.own(p);
            p = p.parent().unwrap();
        }
        path.to_string_lossy().into_owned()
    }

    /// Create a file with content, owned by the identity.
    pub fn file(&self, rel: &str, content: &str) -> String {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            if !parent.exists() {
                self.dir(parent.strip_prefix(&self.root).unwrap().to_str().unwrap());
            }
        }
        std::fs::write(&path, content).unwrap();
        self.own(&path);
        path.to_string_lossy().into_owned()
    }

    /// [`Fixture::file`], executable by everyone (mode 0755).
    pub fn executable(&self, rel: &str, content: &str) -> String {
        let path = self.file(rel, content);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// (pid, command line with arguments joined by spaces) of every host
/// process but this one.
pub fn command_lines() -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            found.push((pid, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}

/// PIDs of host processes whose command line is exactly `marker`
/// (arguments joined by spaces).
pub fn processes_with(marker: &str) -> Vec<u32> {
    command_lines()
        .into_iter()
        .filter(|(_, text)| text.trim_end() == marker)
        .map(|(pid, _)| pid)
        .collect()
}

/// Processes whose command line contains `needle`, as "PID: COMMAND LINE".
pub fn processes_containing(needle: &str) -> Vec<String> {
    command_lines()
        .into_iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(pid, text)| format!("{pid}: {text}"))
        .collect()
}

/// A marker unique to this test process and call, for finding leftovers.
pub fn marker() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}.{}",
        100 + std::process::id() % 800,
        N.fetch_add(1, Ordering::Relaxed) + 1000
    )
}

/// A listener on a unix socket at `path` that any identity may connect to.
pub fn listen(path: &str) -> std::os::unix::net::UnixListener {
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    listener
}

/// A shell probe: prints `label=ok` if `cmd` succeeds, else `label=fail`.
pub fn probe(label: &str, cmd: &str) -> String {
    format!("if {cmd} >/dev/null 2>&1; then echo {label}=ok; else echo {label}=fail; fi; ")
}

/// A command running `program` as `who`'s user (not through cordon).
pub fn as_user(who: Identity, program: &str) -> Command {
    let mut cmd = match who.user {
        User::Caller => Command::new(program),
        User::Unprivileged => {
            let (uid, gid, _) = test_user();
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--clear-groups",
                "--",
                program,
            ]);
            c
        }
    };
    // As `command`: a `cordon run` it starts works in a visible directory.
    cmd.current_dir("/");
    cmd
}

/// Processes running `sleep MARKER` (the tests' way of tagging sandboxed processes).
pub fn sleepers(marker: &str) -> usize {
    processes_with(&format!("sleep {marker}")).len()
}

/// Poll `cond` every 10 ms for up to `secs` seconds; whether it became true.
pub fn wait_until(mut cond: impl FnMut() -> bool, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Run cordon as `who` from a real terminal (python's openpty) sized 30x100,
/// resize it to 40x120 after half a second (with SIGWINCH), type `input` after
/// 1.3 s if given, and return everything the terminal showed (CR removed)
/// followed by `rc=<exit code>`.
pub fn run_in_terminal(
    who: Identity,
    args: &[&str],
    input: Option<&str>,
    env: &[(&str, &std::path::Path)],
) -> String {
    let bin = match who.user {
        User::Caller => cordon_bin(),
        User::Unprivileged => shared_bin(),
    };
    let argv = serde_json::to_string(
        &std::iter::once(bin)
            .chain(args.iter().copied())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let typed = match input {
        Some(text) => format!("time.sleep(0.8)\nos.write(master, {text:?}.encode())"),
        None => String::new(),
    };
    let script = format!(
        r#"
import os, fcntl, termios, struct, time, signal, subprocess
master, slave = os.openpty()
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
p = subprocess.Popen({argv}, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
time.sleep(0.5)
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
p.send_signal(signal.SIGWINCH)
{typed}
out = b""
while True:
    try:
        d = os.read(master, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode().replace("\r", ""), end="")
print("rc=%d" % p.wait())
"#
    );
    let mut cmd = as_user(who, "/usr/bin/python3");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(["-c", &script]).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A command given as words (`cordon run -- CMD ARGS`, `cordon exec ID --
/// CMD ARGS`) behaves as `sh -c` with the quoted words, whether cordon execs
/// CMD directly or through the shell. `run` runs the words; `script` is an
/// executable file without `#!` (which only a shell runs) that echoes
/// "SCRIPT" and its arguments.
pub fn words_behave_as_through_the_shell(
    who: Identity,
    script: &str,
    run: impl Fn(&[&str]) -> Run,
) {
    // Words reach the program literally, argv[0] as given.
    let literal = run(&["/usr/bin/printf", "[%s]", "a b", "$HOME", "*", ""]);
    assert_eq!(literal.stdout, "[a b][$HOME][*][]", "{who:?} {literal}");
    let zero = run(&["sh", "-c", "echo $0"]);
    assert_eq!(zero.stdout, "sh\n", "{who:?} {zero}");
    // Builtins stay builtins (dash's echo reads backslash escapes).
    let echo = run(&["echo", "a\\nb"]);
    assert_eq!(echo.stdout, "a\nb\n", "{who:?} {echo}");
    assert_eq!(run(&["exit", "3"]).code, 3, "{who:?}");
    assert_eq!(run(&["cd", "/"]).code, 0, "{who:?}");
    let assigned = run(&["CORDON_X=1", "/usr/bin/env"]);
    assert!(
        assigned.stdout.contains("CORDON_X=1\n"),
        "{who:?} {assigned}"
    );
    // The shell's codes and messages.
    let missing = run(&["no-such-command-cordon"]);
    assert_eq!(missing.code, 127, "{who:?} {missing}");
    assert!(missing.stderr.contains("not found"), "{missing}");
    assert_eq!(run(&["/etc/passwd"]).code, 126, "{who:?}");
    let script_run = run(&[script, "x"]);
    assert_eq!(script_run.stdout, "SCRIPT x\n", "{who:?} {script_run}");
    // Nothing but 0-2 reaches the command (3 is ls's own directory).
    let fds = run(&["/usr/bin/ls", "/proc/self/fd"]);
    assert_eq!(fds.stdout, "0\n1\n2\n3\n", "{who:?} {fds}");
}

/// A directory below /etc holding a root-only file and a world-readable one;
/// removed on drop. Needs root.
pub struct EtcFixture {
    top: PathBuf,
    pub secret: String,
    pub public: String,
}

impl EtcFixture {
    pub fn new() -> Self {
        let top = PathBuf::from(format!("/etc/cordon-it-{}", marker()));
        let nested = top.join("nested");
        std::fs::create_dir_all(&nested).unwrap();
        let secret = nested.join("secret.key");
        let public = nested.join("public.conf");
        std::fs::write(&secret, "ROOT_ONLY").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&public, "PUBLIC").unwrap();
        std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o644)).unwrap();
        EtcFixture {
            top,
            secret: secret.display().to_string(),
            public: public.display().to_string(),
        }
    }
}

impl Drop for EtcFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.top);
    }
}
