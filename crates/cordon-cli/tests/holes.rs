//! Holes found by attacking cordon from inside and using it as a new user
//! would: each class is attacked here on every backend where it applies, as
//! the caller and as an unprivileged user, one-shot and through lifecycle
//! `exec`. Every attack has a control: the same probe, run where it must
//! work, has to work, so a broken probe fails the test instead of passing as
//! "blocked". Probes exit 0 when the attack worked, 1 when it was refused,
//! anything else when the probe itself is broken.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use common::*;
use serde_json::{json, Value};

/// The probe exit codes.
const WORKED: i32 = 0;
const REFUSED: i32 = 1;

/// One-shot targets: every identity on every backend, and Landlock-only mode.
fn targets() -> Vec<Identity> {
    identities_and_locked_host()
}

/// Write a Python probe where every identity can read it.
fn write_probe(fx: &Fixture, name: &str, code: &str) -> String {
    let path = fx.file(&format!("probes/{name}.py"), code);
    std::fs::set_permissions(fx.path("probes"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

/// Run the probe on the host as `who` (the control).
fn on_host(who: Identity, probe: &str, args: &[&str]) -> Run {
    Run::from(
        as_user(who, "/usr/bin/python3")
            .arg(probe)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

/// Run the probe in a one-shot sandbox of `who` that sees the probes.
fn in_sandbox(who: Identity, fx: &Fixture, probe: &str, args: &[&str]) -> Run {
    let probes = fx.p("probes");
    let mut words = vec!["run", "--ro", probes.as_str(), "--", "python3", probe];
    words.extend(args);
    cordon(who, &words, None)
}

#[track_caller]
fn control_works(who: Identity, run: &Run) {
    assert_eq!(
        run.code, WORKED,
        "{who:?}: the control failed, so the probe is broken\n{run}"
    );
}

#[track_caller]
fn attack_refused(who: Identity, what: &str, run: &Run) {
    assert_eq!(run.code, REFUSED, "{who:?} {what}: not refused\n{run}");
}

/// A long-lived sandbox of `who` in a private state root.
struct Sandbox {
    who: Identity,
    state: Fixture,
    id: String,
}

impl Sandbox {
    fn start(who: Identity, config: &Value) -> Sandbox {
        Self::start_with_env(who, config, &[])
    }

    /// `env`: added to the environment of `provision` and `start`.
    fn start_with_env(who: Identity, config: &Value, env: &[(&str, &str)]) -> Sandbox {
        let state = Fixture::private(who);
        let file = ConfigFile::new(&for_backend(who, config));
        let mut sb = Sandbox {
            who,
            state,
            id: String::new(),
        };
        let run = sb.cordon_env(&["provision", "--config", file.path.to_str().unwrap()], env);
        let doc: Value =
            serde_json::from_str(run.stdout.trim()).unwrap_or_else(|_| panic!("{run}"));
        sb.id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
        let run = sb.cordon_env(&["start", &sb.id.clone()], env);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        sb
    }

    fn cordon(&self, args: &[&str]) -> Run {
        self.cordon_env(args, &[])
    }

    fn cordon_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = command(self.who);
        cmd.env("CORDON_STATE_DIR", &self.state.root)
            .envs(env.iter().copied())
            .args(args)
            .stdin(Stdio::null());
        Run::from(cmd.output().unwrap())
    }

    fn exec(&self, words: &[&str]) -> Run {
        let mut args = vec!["exec", self.id.as_str(), "--"];
        args.extend(words);
        self.cordon(&args)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let id = self.id.clone();
        let _ = self.cordon(&["stop", &id]);
        let _ = self.cordon(&["deprovision", &id]);
    }
}

/// Class 1: a config given before the subcommand is refused, never ignored.
#[test]
fn a_config_before_the_subcommand_is_refused_not_ignored() {
    let who = Identity::CALLER;
    let fx = Fixture::new(who);
    let proj = fx.dir("proj");
    let secret = fx.file("proj/.env", "TOKEN");
    let deny = ConfigFile::new(&json!({"filesystem": {"deniedPaths": [secret]}}));
    let deny = deny.path.to_str().unwrap();
    // Control: the same read works without the config, and the config
    // denies it where it is given in its place.
    let run = cordon(who, &["run", "--ro", &proj, "--", "cat", &secret], None);
    assert_eq!(run.stdout, "TOKEN", "{run}");
    let run = cordon(
        who,
        &["run", "--config", deny, "--ro", &proj, "--", "cat", &secret],
        None,
    );
    assert_ne!(run.code, 0, "{run}");
    assert!(!run.stdout.contains("TOKEN"), "{run}");
    for args in [
        vec!["--config", deny, "run", "--ro", &proj, "--", "cat", &secret],
        vec![deny, "run", "--ro", &proj, "--", "cat", &secret],
    ] {
        let run = cordon(who, &args, None);
        assert_eq!(run.code, 125, "{args:?}\n{run}");
        assert!(!run.stdout.contains("TOKEN"), "{args:?}\n{run}");
        assert!(
            run.stderr.contains("before the subcommand `run`")
                && run.stderr.contains("cordon run --config FILE"),
            "{args:?}\n{run}"
        );
    }
    let run = cordon(who, &["--config", deny, "ls"], None);
    assert_eq!(run.code, 125, "{run}");
}

const VSOCK: &str = r#"
import os, socket, sys, errno
try:
    s = socket.socket(40, socket.SOCK_STREAM)  # AF_VSOCK
    # VMADDR_CID_ANY, an unprivileged port (below 1024 needs root)
    s.bind((0xFFFFFFFF, 20000 + os.getpid() % 20000))
except OSError as e:
    sys.exit(1 if e.errno == errno.EPERM else 2)
sys.exit(0)
"#;

/// Class 7: vsock is not governed by network namespaces; it is refused.
#[test]
fn vsock_sockets_are_refused_everywhere() {
    for who in targets() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "vsock", VSOCK);
        control_works(who, &on_host(who, &probe, &[]));
        let run = in_sandbox(who, &fx, &probe, &[]);
        attack_refused(who, "vsock one-shot", &run);
    }
    for who in identities() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "vsock", VSOCK);
        let sb = Sandbox::start(
            who,
            &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
        );
        attack_refused(who, "vsock exec", &sb.exec(&["python3", &probe]));
    }
}

const KEYS: &str = r#"
import sys
try:
    text = open("/proc/keys").read()
except OSError:
    sys.exit(1)
sys.exit(0 if sys.argv[1] in text else 1)
"#;

const ADD_KEY: &str = r#"
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
# add_key("user", DESC, "secret", 6, KEY_SPEC_USER_SESSION_KEYRING)
k = libc.syscall(248, b"user", sys.argv[1].encode(), b"secret", 6, -5)
print(k)
sys.exit(0 if k > 0 else 2)
"#;

/// Class 7: the caller's keys are not listed in the sandbox's /proc/keys.
/// (Landlock-only mode shares the host's /proc, where the kernel lists the
/// keys the caller's uid may view; docs/security.md says so.)
#[test]
fn the_callers_keys_are_not_listed() {
    for who in identities() {
        let fx = Fixture::new(who);
        let add = write_probe(&fx, "add_key", ADD_KEY);
        let probe = write_probe(&fx, "keys", KEYS);
        let desc = format!("cordon-probe-{}", marker());
        let added = on_host(who, &add, &[&desc]);
        assert_eq!(added.code, 0, "{who:?}: adding a key failed\n{added}");
        control_works(who, &on_host(who, &probe, &[&desc]));
        let run = in_sandbox(who, &fx, &probe, &[&desc]);
        attack_refused(who, "/proc/keys one-shot", &run);
        let sb = Sandbox::start(
            who,
            &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
        );
        attack_refused(
            who,
            "/proc/keys exec",
            &sb.exec(&["python3", &probe, &desc]),
        );
        // KEYCTL_REVOKE
        let revoke = format!(
            "import ctypes; ctypes.CDLL(None).syscall(250, 3, {})",
            added.stdout.trim()
        );
        let _ = as_user(who, "/usr/bin/python3")
            .args(["-c", &revoke])
            .status();
    }
}

const SHM: &str = r#"
import os, sys
st = os.statvfs(sys.argv[1])
size = st.f_blocks * st.f_frsize
try:
    with open(os.path.join(sys.argv[1], "probe-%d" % os.getpid()), "w") as f:
        f.write("x")
    os.unlink(f.name)
    writable = True
except OSError:
    writable = False
# Worked: a writable tmpfs larger than the 1 GiB cap of a sandbox's /tmp.
sys.exit(0 if writable and size > (1 << 30) else 1)
"#;

/// Class 7: /dev/shm is capped like /tmp (a tmpfs is host memory).
#[test]
fn dev_shm_cannot_fill_host_memory() {
    for who in identities() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "shm", SHM);
        control_works(who, &on_host(who, &probe, &["/dev/shm"]));
        let run = in_sandbox(who, &fx, &probe, &["/dev/shm"]);
        attack_refused(who, "/dev/shm", &run);
        let sb = Sandbox::start(
            who,
            &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
        );
        attack_refused(
            who,
            "/dev/shm exec",
            &sb.exec(&["python3", &probe, "/dev/shm"]),
        );
    }
}

/// Makes a System V shared memory segment holding `argv[1]`, a message queue
/// and a semaphore set, all mode 0600; prints their ids; removes them when
/// its stdin closes (also when the test panics and drops it).
const SYSV_HOST: &str = r#"
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
secret = sys.argv[1].encode()
shm = libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600)
msq = libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600)
sem = libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)
if min(shm, msq, sem) < 0:
    sys.exit(2)
ctypes.memmove(libc.shmat(shm, None, 0), secret, len(secret))
print(shm, msq, sem, flush=True)
sys.stdin.read()
libc.shmctl(shm, IPC_RMID, None)
libc.msgctl(msq, IPC_RMID, None)
libc.semctl(sem, 0, IPC_RMID)
"#;

/// Worked (0) when all three objects given by id answer (the segment with
/// the secret), refused (1) when none does, broken (2) otherwise.
const SYSV: &str = r#"
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm, msq, sem = map(int, sys.argv[1:4])
secret = sys.argv[4].encode()
IPC_STAT, GETVAL, SHM_RDONLY = 2, 12, 0o10000
worked = []
addr = libc.shmat(shm, None, SHM_RDONLY)
if addr not in (None, ctypes.c_void_p(-1).value) and ctypes.string_at(addr, len(secret)) == secret:
    worked.append("shm")
if libc.msgctl(msq, IPC_STAT, ctypes.create_string_buffer(256)) == 0:
    worked.append("msg")
if libc.semctl(sem, 0, GETVAL) >= 0:
    worked.append("sem")
print(" ".join(worked) or "none")
sys.exit(0 if len(worked) == 3 else 1 if not worked else 2)
"#;

/// Class 7: the host's System V IPC (shared memory, message queues,
/// semaphores: named by number, guarded by permission bits alone) is out of
/// reach. The namespace backends give the sandbox an IPC namespace of its
/// own; Landlock-only mode shares the host's, so seccomp refuses the calls.
#[test]
fn the_hosts_system_v_ipc_is_out_of_reach() {
    use std::io::BufRead;
    for who in targets() {
        let fx = Fixture::new(who);
        let host = write_probe(&fx, "sysv_host", SYSV_HOST);
        let probe = write_probe(&fx, "sysv", SYSV);
        let secret = format!("cordon-ipc-{}", marker());
        let mut objects = as_user(who, "/usr/bin/python3")
            .args([host.as_str(), secret.as_str()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ids = String::new();
        std::io::BufReader::new(objects.stdout.take().unwrap())
            .read_line(&mut ids)
            .unwrap();
        let mut args: Vec<&str> = ids.split_whitespace().collect();
        assert_eq!(args.len(), 3, "{who:?}: making the objects failed: {ids:?}");
        args.push(&secret);
        control_works(who, &on_host(who, &probe, &args));
        let run = in_sandbox(who, &fx, &probe, &args);
        attack_refused(who, "System V IPC one-shot", &run);
        if who.backend != Some(LOCKED_HOST) {
            let sb = Sandbox::start(
                who,
                &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
            );
            let mut words = vec!["python3", probe.as_str()];
            words.extend(&args);
            attack_refused(who, "System V IPC exec", &sb.exec(&words));
        }
        drop(objects.stdin.take());
        assert!(
            objects.wait().unwrap().success(),
            "{who:?}: removing the objects"
        );
    }
}

/// Watches `argv[1]` (a directory the sandbox is not granted) with inotify
/// and places a fanotify mark on it. Worked (0): an inotify event named
/// `argv[2]*` arrived (the test creates such files meanwhile) and the mark
/// was placed; refused (1): neither could be set up; broken (2): otherwise.
const WATCH: &str = r#"
import ctypes, os, select, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
directory, prefix = sys.argv[1].encode(), sys.argv[2].encode()
worked = []
fan = libc.fanotify_init(0x00000c00, os.O_RDONLY)  # FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME
libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
if fan >= 0 and libc.fanotify_mark(fan, 1, 0x40000100, -100, directory) == 0:  # ADD, CREATE | ONDIR
    worked.append("fanotify")
ino = libc.inotify_init1(os.O_NONBLOCK)
if libc.inotify_add_watch(ino, directory, 0x100 | 0x20) >= 0:  # IN_CREATE | IN_OPEN
    if not select.select([ino], [], [], 10)[0]:
        sys.exit(2)
    data = os.read(ino, 65536)
    while data:
        _, _, _, n = struct.unpack_from("iIII", data)
        if data[16:16 + n].startswith(prefix):
            worked.append("inotify")
            break
        data = data[16 + n:]
print(" ".join(worked) or "none")
sys.exit(0 if len(worked) == 2 else 1 if not worked else 2)
"#;

/// Class 8: watching a directory the sandbox was not granted does not tell
/// it the names of the files made there. The namespace backends do not show
/// the directory at all; in Landlock-only mode, which does not judge
/// watches, inotify and fanotify are refused.
#[test]
fn ungranted_directories_cannot_be_watched() {
    use std::sync::atomic::{AtomicBool, Ordering};
    for who in targets() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "watch", WATCH);
        let watched = fx.dir("watched");
        let prefix = format!("made-{}", marker());
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            // Files keep appearing there while the probes run.
            scope.spawn(|| {
                for i in 0.. {
                    if done.load(Ordering::Relaxed) {
                        break;
                    }
                    let _ = std::fs::write(format!("{watched}/{prefix}-{i}"), "");
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            });
            let args = [watched.as_str(), prefix.as_str()];
            let control = on_host(who, &probe, &args);
            let one_shot = in_sandbox(who, &fx, &probe, &args);
            let exec = (who.backend != Some(LOCKED_HOST)).then(|| {
                let sb = Sandbox::start(
                    who,
                    &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
                );
                sb.exec(&["python3", &probe, &watched, &prefix])
            });
            done.store(true, Ordering::Relaxed);
            control_works(who, &control);
            attack_refused(who, "watching one-shot", &one_shot);
            if let Some(run) = exec {
                attack_refused(who, "watching exec", &run);
            }
        });
    }
}

/// Changes the metadata of `argv[1]` (a host file the sandbox is not
/// granted) and of `argv[2]` (granted read-only) seven ways: by path
/// (mode, times, extended attribute, owner), by a descriptor opened for
/// reading, through `/proc/self/fd` and through a symlink made in `argv[3]`
/// (in a tree granted read-write; Landlock-only mode creates nothing at a
/// tree's top). Worked (0): all seven; refused (1): none; broken
/// (2): otherwise.
const METADATA: &str = r#"
import os, sys
victim, ro_victim, rw = sys.argv[1:4]
worked = []
def attempt(label, change):
    try:
        change()
        worked.append(label)
    except OSError:
        pass
attempt("chmod", lambda: os.chmod(victim, 0o4755))
attempt("utime", lambda: os.utime(victim, (1, 1)))
attempt("xattr", lambda: os.setxattr(victim, "user.cordon", b"1"))
attempt("chown", lambda: os.chown(victim, os.getuid(), os.getgid()))
attempt("fchmod", lambda: os.fchmod(os.open(ro_victim, os.O_RDONLY), 0o4755))
attempt("proc", lambda: os.chmod("/proc/self/fd/%d" % os.open(victim, os.O_PATH), 0o4755))
def by_link():
    link = os.path.join(rw, "link-%d" % os.getpid())
    os.symlink(victim, link)
    os.chmod(link, 0o4755)
attempt("symlink", by_link)
print(" ".join(worked) or "none")
sys.exit(0 if len(worked) == 7 else 1 if not worked else 2)
"#;

/// Class 8: the metadata of host files (mode, times, owner, extended
/// attributes) cannot be changed where the sandbox may not write them. The
/// namespace backends show such files read-only or not at all; in
/// Landlock-only mode, which does not judge metadata, the reaper makes each
/// change only inside writable trees (for host root's sandbox, `chmod u+s`
/// on a root-owned program would hand every local user root).
#[test]
fn host_file_metadata_stays_unchanged() {
    use std::os::unix::fs::MetadataExt;
    for who in targets() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "metadata", METADATA);
        let rw = fx.dir("rw");
        let link_dir = fx.p("rw/sub");
        let fresh = || {
            for name in ["victim", "ro-victim"] {
                let _ = std::fs::remove_file(fx.path(name));
                let path = fx.file(name, "x");
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
            let _ = std::fs::remove_dir_all(&rw);
            fx.dir("rw/sub");
        };
        let untouched = |what: &str| {
            for name in ["victim", "ro-victim"] {
                let meta = std::fs::metadata(fx.path(name)).unwrap();
                assert_eq!(
                    meta.mode() & 0o7777,
                    0o600,
                    "{who:?} {what}: {name} changed"
                );
                assert_ne!(meta.mtime(), 1, "{who:?} {what}: {name} changed");
            }
        };
        let (victim, ro_victim) = (fx.p("victim"), fx.p("ro-victim"));
        let args = [victim.as_str(), ro_victim.as_str(), link_dir.as_str()];
        fresh();
        control_works(who, &on_host(who, &probe, &args));
        fresh();
        let probes = fx.p("probes");
        let mut words = vec!["run", "--ro", &probes, "--ro", &ro_victim, "--rw", &rw];
        words.extend(["--", "python3", &probe]);
        words.extend(args);
        attack_refused(who, "metadata one-shot", &cordon(who, &words, None));
        untouched("one-shot");
        if who.backend != Some(LOCKED_HOST) {
            fresh();
            let sb = Sandbox::start(
                who,
                &json!({"filesystem": {
                    "readonlyPaths": [fx.p("probes"), ro_victim],
                    "readwritePaths": [rw],
                }}),
            );
            let mut words = vec!["python3", probe.as_str()];
            words.extend(args);
            attack_refused(who, "metadata exec", &sb.exec(&words));
            untouched("exec");
        }
    }
}

/// Retunes the host process `argv[1]` four ways: lower its priority, pin
/// it to one CPU, lower a resource limit, lower its I/O priority. Worked
/// (0): all four; refused (1): none; broken (2): otherwise.
const RETUNE: &str = r#"
import ctypes, os, resource, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
worked = []
def attempt(label, change):
    try:
        change()
        worked.append(label)
    except OSError:
        pass
def ioprio():
    # ioprio_set(IOPRIO_WHO_PROCESS, pid, best effort, level 7)
    if libc.syscall(251, 1, pid, (2 << 13) | 7) != 0:
        raise OSError(ctypes.get_errno(), "ioprio_set")
attempt("nice", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19))
attempt("affinity", lambda: os.sched_setaffinity(pid, {0}))
attempt("limit", lambda: resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0)))
attempt("ioprio", ioprio)
print(" ".join(worked) or "none")
sys.exit(0 if len(worked) == 4 else 1 if not worked else 2)
"#;

/// Class 8: the host's processes keep their priority, CPUs and limits. The
/// namespace backends do not show them; Landlock-only mode shows them, and
/// Landlock's scoping stops signals and ptrace but not these calls (a hard
/// `RLIMIT_CPU` of 0 would kill one at its next tick), so seccomp refuses
/// them for any process but the caller itself.
#[test]
fn host_processes_cannot_be_retuned() {
    for who in targets() {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "retune", RETUNE);
        let sleeper = || {
            as_user(who, "/bin/sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut host = sleeper();
        let pid = host.id().to_string();
        let control = on_host(who, &probe, &[&pid]);
        let _ = host.kill();
        let _ = host.wait();
        control_works(who, &control);
        let mut host = sleeper();
        let pid = host.id().to_string();
        let one_shot = in_sandbox(who, &fx, &probe, &[&pid]);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let _ = host.kill();
        let _ = host.wait();
        attack_refused(who, "retuning one-shot", &one_shot);
        // Field 19 of /proc/PID/stat: the nice value.
        let nice = stat.rsplit(')').next().unwrap().split_whitespace().nth(16);
        assert_eq!(nice, Some("0"), "{who:?}: the host process was reniced");
        if who.backend != Some(LOCKED_HOST) {
            let mut host = sleeper();
            let pid = host.id().to_string();
            let sb = Sandbox::start(
                who,
                &json!({"filesystem": {"readonlyPaths": [fx.p("probes")]}}),
            );
            let run = sb.exec(&["python3", &probe, &pid]);
            let _ = host.kill();
            let _ = host.wait();
            attack_refused(who, "retuning exec", &run);
        }
    }
}

const MPTCP: &str = r#"
import socket, sys, errno
port = int(sys.argv[1])
for proto in (262, 132):  # IPPROTO_MPTCP, IPPROTO_SCTP
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    except OSError as e:
        if e.errno == errno.EPERM:
            continue
        if proto == 132 and e.errno in (errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT):
            continue
        sys.exit(2)
    try:
        s.connect(("127.0.0.1", port))
        sys.exit(0)
    except OSError:
        continue
sys.exit(1)
"#;

/// Class 8: in Landlock-only mode MPTCP (and SCTP) streams would pass
/// Landlock's TCP rules to the host's loopback services; they are refused.
#[test]
fn landlock_only_refuses_stream_sockets_landlock_cannot_judge() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for who in targets()
        .into_iter()
        .filter(|t| t.backend == Some(LOCKED_HOST))
    {
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "mptcp", MPTCP);
        control_works(who, &on_host(who, &probe, &[&port]));
        let run = in_sandbox(who, &fx, &probe, &[&port]);
        attack_refused(who, "MPTCP to the host's loopback", &run);
    }
}

/// Class 10: killing cordon's whole process group in Landlock-only mode
/// (a cancelled CI job) kills the workload too.
#[test]
fn landlock_only_sandbox_dies_with_the_process_group() {
    use std::os::unix::process::CommandExt;
    for who in targets()
        .into_iter()
        .filter(|t| t.backend == Some(LOCKED_HOST))
    {
        let m = marker();
        let mut cmd = command(who);
        cmd.args([
            "run",
            "--",
            "sh",
            "-c",
            &format!("setsid sleep {m} & sleep {m}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
        let mut child = cmd.spawn().unwrap();
        // Control: the workload runs (both sleeps).
        assert!(
            wait_until(|| sleepers(&m) == 2, 10),
            "{who:?}: the workload never started"
        );
        // SAFETY: kill(2) of the process group this test just made.
        unsafe { libc::kill(-pid_of(&child), libc::SIGKILL) };
        let _ = child.wait();
        assert!(
            wait_until(|| sleepers(&m) == 0, 10),
            "{who:?}: {} sandbox processes survived the process group",
            sleepers(&m)
        );
    }
}

/// Class 11: deprovision removes whatever the sandbox left in its /tmp.
#[test]
fn deprovision_removes_links_fifos_and_locked_directories() {
    for who in identities() {
        let fx = Fixture::new(who);
        let outside = fx.file("outside/keep", "KEEP");
        let sb = Sandbox::start(who, &json!({}));
        let script = format!(
            "cd /tmp && ln -s {outside} link && ln -s {dir} dirlink && mkfifo fifo && \
             mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked && \
             mkdir ro && touch ro/f && chmod 500 ro && python3 -c 'import socket; \
             socket.socket(socket.AF_UNIX).bind(\"/tmp/sock\")'",
            dir = fx.p("outside")
        );
        let run = sb.exec(&["sh", "-c", &script]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        let token = sb.id.split_once(':').unwrap().1.to_string();
        let kept = sb.state.path(&token).join("tmp");
        // Control: the sandbox's files are there, on the host.
        assert!(
            kept.join("fifo").exists() && kept.join("locked").exists(),
            "{who:?}"
        );
        let id = sb.id.clone();
        assert_eq!(sb.cordon(&["stop", &id]).code, 0);
        let run = sb.cordon(&["deprovision", &id]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(
            std::fs::symlink_metadata(sb.state.path(&token)).is_err(),
            "{who:?}: the sandbox's directory is left"
        );
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "KEEP");
    }
}

const STATE: &str = r#"
import os, socket, sys
root = sys.argv[1]
try:
    names = os.listdir(root)
except OSError:
    sys.exit(1)
for name in names:
    path = os.path.join(root, name, "sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        sys.exit(0)
    except OSError:
        pass
sys.exit(0 if names else 2)
"#;

/// Class 3: the lifecycle state root is invisible to every sandbox, also
/// inside a granted tree (`/tmp/cordon-UID` when `XDG_RUNTIME_DIR` is unset,
/// `/run/cordon` for root); a sandbox cannot plant one of its own; a held
/// phase lock does not disable `stop`.
#[test]
fn lifecycle_state_is_out_of_every_sandboxs_reach() {
    for who in identities() {
        let root = match who.is_root() {
            true => "/run/cordon".to_string(),
            false => format!("/tmp/cordon-{}", who.uid()),
        };
        let granted = match who.is_root() {
            true => "/run",
            false => "/tmp",
        };
        let fx = Fixture::new(who);
        let probe = write_probe(&fx, "state", STATE);
        let default_env = |cmd: &mut std::process::Command| {
            cmd.env_remove("XDG_RUNTIME_DIR")
                .env_remove("CORDON_STATE_DIR")
                .stdin(Stdio::null());
        };
        // A victim in the default state root.
        let mut cmd = command(who);
        default_env(&mut cmd);
        let cfg = ConfigFile::new(&json!({"containment": who.backend}));
        let out = Run::from(
            cmd.args(["provision", "--config", cfg.path.to_str().unwrap()])
                .output()
                .unwrap(),
        );
        let doc: Value =
            serde_json::from_str(out.stdout.trim()).unwrap_or_else(|_| panic!("{out}"));
        let victim = doc["result"]["sandboxId"].as_str().unwrap().to_string();
        let phase = |args: &[&str]| {
            let mut cmd = command(who);
            default_env(&mut cmd);
            Run::from(cmd.args(args).output().unwrap())
        };
        // Removed however the test ends (it lives in the user's real state root).
        struct Victim<F: Fn(&[&str]) -> Run>(F, String);
        impl<F: Fn(&[&str]) -> Run> Drop for Victim<F> {
            fn drop(&mut self) {
                let _ = (self.0)(&["stop", &self.1]);
                let _ = (self.0)(&["deprovision", &self.1]);
            }
        }
        let _victim = Victim(phase, victim.clone());
        let phase = |args: &[&str]| {
            let mut cmd = command(who);
            default_env(&mut cmd);
            Run::from(cmd.args(args).output().unwrap())
        };
        assert_eq!(phase(&["start", &victim]).code, 0, "{who:?}");
        // Control: on the host, the user reaches the victim's exec socket.
        control_works(who, &on_host(who, &probe, &[&root]));
        // One-shot, granted the state root's parent read-write, and through
        // another long-lived sandbox granted it read-only.
        let mut cmd = command(who);
        default_env(&mut cmd);
        let args = with_backend(
            who,
            &[
                "run",
                "--rw",
                granted,
                "--ro",
                &fx.p("probes"),
                "--",
                "python3",
                &probe,
                &root,
            ],
        );
        let run = Run::from(cmd.args(&args).output().unwrap());
        attack_refused(who, "state root, one-shot", &run);
        // Landlock-only mode too (no mounts: Landlock rules keep it out).
        if who.backend == Some("native") {
            let locked = Identity {
                user: who.user,
                backend: Some(LOCKED_HOST),
            };
            let mut cmd = command(locked);
            default_env(&mut cmd);
            let run = Run::from(
                cmd.args([
                    "run",
                    "--rw",
                    granted,
                    "--ro",
                    &fx.p("probes"),
                    "--",
                    "python3",
                    &probe,
                    &root,
                ])
                .output()
                .unwrap(),
            );
            attack_refused(locked, "state root, Landlock-only", &run);
        }
        let attacker = Sandbox::start(
            who,
            &json!({"filesystem": {"readonlyPaths": [granted, fx.p("probes")]}}),
        );
        attack_refused(
            who,
            "state root, exec",
            &attacker.exec(&["python3", &probe, &root]),
        );
        // A held lock: stop still kills the sandbox, and says what it did not do.
        let token = victim.split_once(':').unwrap().1;
        let lock = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("{root}/{token}/lock"))
            .unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&lock);
        // SAFETY: flock on a descriptor this test owns.
        let locked = unsafe { libc::flock(fd, libc::LOCK_EX) };
        assert_eq!(locked, 0);
        let started = std::time::Instant::now();
        let run = phase(&["stop", &victim]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{run}"
        );
        assert!(run.stdout.contains("killed anyway"), "{who:?}\n{run}");
        let run = phase(&["exec", &victim, "--", "true"]);
        assert_ne!(run.code, 0, "{who:?}: the sandbox still runs\n{run}");
        drop(lock);
        assert_eq!(phase(&["stop", &victim]).code, 0);
        assert_eq!(phase(&["deprovision", &victim]).code, 0);
    }
}

/// Class 4: on the bubblewrap backend, a command run by `exec` can neither
/// ptrace the exec server nor read the caller's environment anywhere.
#[test]
fn bubblewrap_exec_server_is_out_of_the_commands_reach() {
    const PTRACE: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
if libc.ptrace(16, pid, 0, 0) == 0:   # PTRACE_ATTACH
    libc.ptrace(17, pid, 0, 0)        # PTRACE_DETACH
    sys.exit(0)
sys.exit(1)
"#;
    const ENVIRON: &str = r#"
import os, sys
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if sys.argv[1].encode() in open("/proc/%s/environ" % pid, "rb").read():
                sys.exit(0)
        except OSError:
            pass
sys.exit(1)
"#;
    let token = format!("tok-{}", marker());
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("bubblewrap"))
    {
        let fx = Fixture::new(who);
        let ptrace = write_probe(&fx, "ptrace", PTRACE);
        let environ = write_probe(&fx, "environ", ENVIRON);
        // Controls: the same user can ptrace its own process and read its
        // own environment on the host.
        let mut victim = as_user(who, "sleep")
            .arg("30")
            .env("CORDON_PROBE_TOKEN", &token)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        control_works(who, &on_host(who, &ptrace, &[&victim.id().to_string()]));
        control_works(who, &on_host(who, &environ, &[&token]));
        let _ = victim.kill();
        let _ = victim.wait();

        let state = Fixture::private(who);
        let phase = |args: &[&str]| {
            Run::from(
                command(who)
                    .env("CORDON_STATE_DIR", &state.root)
                    .env("CORDON_PROBE_TOKEN", &token)
                    .args(args)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap(),
            )
        };
        let cfg = ConfigFile::new(
            &json!({"containment": "bubblewrap", "filesystem": {"readonlyPaths": [fx.p("probes")]}}),
        );
        let out = phase(&["provision", "--config", cfg.path.to_str().unwrap()]);
        let doc: Value =
            serde_json::from_str(out.stdout.trim()).unwrap_or_else(|_| panic!("{out}"));
        let id = doc["result"]["sandboxId"].as_str().unwrap().to_string();
        assert_eq!(phase(&["start", &id]).code, 0);
        attack_refused(
            who,
            "ptrace PID 1",
            &phase(&["exec", &id, "--", "python3", &ptrace, "1"]),
        );
        attack_refused(
            who,
            "caller environment",
            &phase(&["exec", &id, "--", "python3", &environ, &token]),
        );
        phase(&["stop", &id]);
        phase(&["deprovision", &id]);
        // One-shot: bwrap's own PID 1 carries no caller environment either.
        let run = Run::from(
            command(who)
                .env("CORDON_PROBE_TOKEN", &token)
                .args(with_backend(
                    who,
                    &[
                        "run",
                        "--ro",
                        &fx.p("probes"),
                        "--",
                        "python3",
                        &environ,
                        &token,
                    ],
                ))
                .stdin(Stdio::null())
                .output()
                .unwrap(),
        );
        attack_refused(who, "caller environment, one-shot", &run);
    }
}

/// The writes of class 2, each reported as `name:CODE` (0 worked, 1 refused).
const HOST_CODE: &str = r##"
import os, subprocess, sys
repo, home = sys.argv[1], sys.argv[2]
def attempt(name, fn):
    try:
        fn()
        code = 0
    except OSError:
        code = 1
    print("%s:%d" % (name, code))
def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
def mkdir_write(d, f):
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, f), "{}")
def sh(cmd):
    if subprocess.call(["sh", "-c", cmd], stderr=subprocess.DEVNULL) != 0:
        raise OSError(cmd)
attempt("hook", lambda: write(repo + "/.git/hooks/pre-commit", "#!/bin/sh\ntouch /tmp/pwned\n"))
attempt("git_config", lambda: write(repo + "/.git/config", "[alias]\n\tst = !touch /tmp/pwned\n", "a"))
attempt("sub_hooks", lambda: mkdir_write(repo + "/sub/.git/hooks", "post-checkout"))
attempt("gitmodules", lambda: write(repo + "/.gitmodules", "[submodule]\n"))
attempt("vscode", lambda: mkdir_write(repo + "/.vscode", "settings.json"))
attempt("mcp", lambda: write(repo + "/.mcp.json", "{}"))
attempt("envrc", lambda: write(repo + "/.envrc", "touch /tmp/pwned\n"))
attempt("claude", lambda: mkdir_write(repo + "/.claude", "settings.json"))
attempt("bashrc", lambda: write(home + "/.bashrc", "touch /tmp/pwned\n", "a"))
# A denied file's path, and a denied path that does not exist: rename the
# parent away, recreate the path with the workload's content.
attempt("rename_denied", lambda: sh("cd %s && mv d1 d1x && mkdir d1 && echo EVIL > d1/secret" % repo))
attempt("rename_missing", lambda: sh("cd %s && mv d2 d2x && mkdir d2 && echo EVIL > d2/gone" % repo))
"##;

const HOST_CODE_ATTACKS: &[&str] = &[
    "hook",
    "git_config",
    "sub_hooks",
    "gitmodules",
    "vscode",
    "mcp",
    "envrc",
    "claude",
    "bashrc",
    "rename_denied",
    "rename_missing",
];

/// A repository and a home directory to attack (recreated for each run).
struct HostCodeFixture {
    fx: Fixture,
    repo: String,
    home: String,
}

impl HostCodeFixture {
    fn new(who: Identity) -> Self {
        let fx = Fixture::new(who);
        let repo = fx.dir("repo");
        fx.file("repo/.git/hooks/pre-commit.sample", "#!/bin/sh\n");
        fx.file("repo/.git/config", "[core]\n");
        fx.file("repo/.git/HEAD", "ref: refs/heads/main\n");
        fx.dir("repo/sub/.git");
        fx.file("repo/d1/secret", "SECRET");
        fx.dir("repo/d2");
        fx.file("repo/Makefile", "all:\n");
        let home = fx.dir("home");
        fx.file("home/.bashrc", "# rc\n");
        let _ = write_probe(&fx, "host_code", HOST_CODE);
        HostCodeFixture { fx, repo, home }
    }

    fn probe(&self) -> String {
        self.fx.p("probes/host_code.py")
    }

    fn config(&self, protected: bool) -> Value {
        let mut fs = json!({
            "readwritePaths": [self.repo, self.home],
            "readonlyPaths": [self.fx.p("probes")],
        });
        if protected {
            fs["deniedPaths"] = json!([self.fx.p("repo/d1/secret"), self.fx.p("repo/d2/gone")]);
        } else {
            fs["unprotect"] = json!(["all"]);
        }
        json!({"filesystem": fs})
    }

    /// Every attack reported `code`.
    #[track_caller]
    fn expect(&self, who: Identity, what: &str, run: &Run, code: i32) {
        for name in HOST_CODE_ATTACKS {
            assert!(
                run.has(&format!("{name}:{code}")),
                "{who:?} {what}: {name} did not report {code}\n{run}"
            );
        }
    }

    /// On the host after an attacked run: nothing of the workload's, and no
    /// placeholder left behind.
    #[track_caller]
    fn untouched(&self, who: Identity) {
        let read = |rel: &str| std::fs::read_to_string(self.fx.path(rel)).ok();
        assert_eq!(
            read("repo/.git/config").as_deref(),
            Some("[core]\n"),
            "{who:?}"
        );
        assert_eq!(read("home/.bashrc").as_deref(), Some("# rc\n"), "{who:?}");
        assert_eq!(read("repo/d1/secret").as_deref(), Some("SECRET"), "{who:?}");
        assert_eq!(read("repo/d2/gone"), None, "{who:?}");
        for gone in [
            "repo/.git/hooks/pre-commit",
            "repo/sub/.git/hooks",
            "repo/.gitmodules",
            "repo/.vscode",
            "repo/.mcp.json",
            "repo/.envrc",
            "repo/.claude",
            "repo/d1x",
            "home/.claude",
        ] {
            assert!(
                std::fs::symlink_metadata(self.fx.path(gone)).is_err(),
                "{who:?}: {gone} is on the host after the run"
            );
        }
    }
}

/// Class 2: a writable tree does not hand the host code to run later, and
/// denied paths cannot be recreated by renaming their parent away.
#[test]
fn writable_trees_do_not_hand_the_host_code_to_run() {
    let run_with = |who: Identity, h: &HostCodeFixture, protected: bool| {
        let file = ConfigFile::new(&h.config(protected));
        let mut cmd = command(who);
        cmd.env("HOME", &h.home).args(with_backend(
            who,
            &[
                "run",
                "--config",
                file.path.to_str().unwrap(),
                "--",
                "python3",
                &h.probe(),
                &h.repo,
                &h.home,
            ],
        ));
        Run::from(cmd.stdin(Stdio::null()).output().unwrap())
    };
    for who in targets() {
        // Control: with the protection lifted and nothing denied, every
        // write lands on the host.
        let control = HostCodeFixture::new(who);
        let run = run_with(who, &control, false);
        control.expect(who, "control", &run, WORKED);
        assert!(
            control.fx.path("repo/.git/hooks/pre-commit").exists(),
            "{who:?}"
        );
        assert_eq!(
            std::fs::read_to_string(control.fx.path("repo/d1/secret")).unwrap(),
            "EVIL\n"
        );

        let h = HostCodeFixture::new(who);
        let run = run_with(who, &h, true);
        h.expect(who, "one-shot", &run, REFUSED);
        h.untouched(who);
    }
    for who in identities() {
        let h = HostCodeFixture::new(who);
        let sb = Sandbox::start_with_env(who, &h.config(true), &[("HOME", &h.home)]);
        let run = sb.exec(&["python3", &h.probe(), &h.repo, &h.home]);
        h.expect(who, "exec", &run, REFUSED);
        drop(sb);
        h.untouched(who);
    }
}

/// Class 5: `exec` from the user's terminal without `--pty` does not hand
/// the terminal to the sandbox: a daemon the command leaves holds pipes
/// that end with the command, never the terminal.
#[test]
fn a_daemon_left_by_exec_does_not_keep_the_callers_terminal() {
    // The daemon records its descriptors a moment after the command ended.
    // It says it runs (in its own session) before the command ends.
    let command = "rm -f /tmp/daemon-up; (setsid sh -c 'touch /tmp/daemon-up; sleep 1; \
                   ls -l /proc/self/fd/ > /tmp/fdlist-inherited' &); \
                   while [ ! -e /tmp/daemon-up ]; do sleep 0.01; done; echo started";
    let holds_terminal = "grep -q pts /tmp/fdlist-inherited";
    for who in identities() {
        let sb = Sandbox::start(who, &json!({}));
        let env = [("CORDON_STATE_DIR", sb.state.root.as_path())];
        let recorded = |sb: &Sandbox| {
            wait_until(
                || sb.exec(&["test", "-s", "/tmp/fdlist-inherited"]).code == 0,
                10,
            )
        };
        // Control (native: bubblewrap has no --pty yet): with a terminal of
        // the sandbox, the daemon does hold a terminal, and the probe sees it.
        if who.backend == Some("native") {
            let shown = run_in_terminal(
                who,
                &["exec", &sb.id, "--pty", "--", "sh", "-c", command],
                None,
                &env,
            );
            assert!(shown.contains("started"), "{who:?}\n{shown}");
            assert!(recorded(&sb), "{who:?}: the daemon never ran");
            let run = sb.exec(&["sh", "-c", holds_terminal]);
            assert_eq!(
                run.code, 0,
                "{who:?}: control: the probe saw no terminal\n{run}"
            );
            sb.exec(&["rm", "-f", "/tmp/fdlist-inherited"]);
        }
        let shown = run_in_terminal(
            who,
            &["exec", &sb.id, "--", "sh", "-c", command],
            None,
            &env,
        );
        assert!(
            shown.contains("started") && shown.contains("rc=0"),
            "{who:?}\n{shown}"
        );
        assert!(recorded(&sb), "{who:?}: the daemon never ran");
        let run = sb.exec(&["sh", "-c", holds_terminal]);
        assert_eq!(
            run.code,
            1,
            "{who:?}: a daemon kept the caller's terminal\n{}",
            sb.exec(&["cat", "/tmp/fdlist-inherited"]).stdout
        );
    }
}
