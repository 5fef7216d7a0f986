//! What a developer meets in the first hour (issue: day one for agent
//! builders): `cordon run` works in the caller's directory, the sandbox has
//! a private home, presets bring toolchains and the git identity in
//! read-only with private caches, ports can be published on the host's
//! loopback, and `provision`/`validate`/`ls`/`stop` speak plainly. Each
//! runs as root and as an unprivileged user, on native and bubblewrap.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// `cordon ARGS` as `who`, from `dir`, with `env` added.
fn run_in(who: Identity, dir: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(who);
    cmd.current_dir(dir)
        .envs(env.iter().copied())
        .args(with_backend(who, args))
        .stdin(Stdio::null());
    Run::from(cmd.output().unwrap())
}

#[test]
fn a_flag_run_works_in_the_callers_directory_or_says_how_to_grant_it() {
    for who in identities() {
        let fx = Fixture::new(who);
        let proj = fx.dir("proj");
        let build = fx.dir("proj/build");
        fx.file(
            "proj/test_where.py",
            &format!(
                "import os\n\ndef test_runs_in_the_project():\n    \
                 assert os.getcwd() == {proj:?}\n    \
                 open('build/out.txt', 'w').write('built')\n"
            ),
        );
        let run = run_in(
            who,
            &proj,
            &[
                "run", "--ro", &proj, "--rw", &build, "--", "python3", "-m", "pytest", "-q",
            ],
            &[],
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(run.stdout.contains("1 passed"), "{who:?}\n{run}");
        assert_eq!(
            std::fs::read_to_string(fx.path("proj/build/out.txt")).unwrap(),
            "built"
        );

        // A directory the sandbox cannot see: refused, with the way to grant it.
        let elsewhere = fx.dir("elsewhere");
        let run = run_in(who, &elsewhere, &["run", "--ro", &proj, "--", "pwd"], &[]);
        assert_eq!(run.code, 125, "{who:?}\n{run}");
        assert!(
            run.stderr
                .contains(&format!("the current directory {elsewhere}"))
                && run.stderr.contains(&format!("--ro {elsewhere}"))
                && run.stderr.contains("--cwd"),
            "{who:?}\n{run}"
        );
        // --cwd still chooses; a config file keeps MXC's default.
        let run = run_in(who, &elsewhere, &["run", "--cwd", "/tmp", "--", "pwd"], &[]);
        assert_eq!(run.stdout, "/tmp\n", "{who:?}\n{run}");
    }
}

#[test]
fn validate_reports_a_cwd_the_sandbox_cannot_see() {
    let fx = Fixture::new(Identity::CALLER);
    let hidden = fx.dir("hidden");
    let cfg = serde_json::json!({"process": {"commandLine": "true", "cwd": hidden}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(
        Identity::CALLER,
        &["validate", file.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(
        run.stderr.contains("process.cwd") && run.stderr.contains("not visible"),
        "{run}"
    );
    // The control: granted, the same config is valid.
    let cfg = serde_json::json!({"process": {"commandLine": "true", "cwd": hidden},
        "filesystem": {"readonlyPaths": [hidden]}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(
        Identity::CALLER,
        &["validate", file.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
}

/// `home/.gitconfig` with an identity, and a repository `repo` owned by `who`.
fn git_fixture(who: Identity) -> Fixture {
    let fx = Fixture::new(who);
    fx.dir("home");
    fx.file(
        "home/.gitconfig",
        "[user]\n\tname = Day One\n\temail = day-one@example.test\n",
    );
    let repo = fx.dir("repo");
    let status = as_user(who, "git")
        .args(["init", "-q", &repo])
        .status()
        .unwrap();
    assert!(status.success());
    fx.file("repo/a.txt", "a\n");
    fx
}

#[test]
fn git_commit_works_with_the_git_preset_and_fails_cleanly_without() {
    for who in identities() {
        let fx = git_fixture(who);
        let (repo, home) = (fx.p("repo"), fx.p("home"));
        let commit = "git add a.txt && git commit -qm first && git log --format=%an";
        let without = run_in(
            who,
            &repo,
            &["run", "--rw", &repo, "--", "sh", "-c", commit],
            &[("HOME", &home)],
        );
        assert_eq!(without.code, 128, "{who:?}\n{without}");
        assert!(
            without.stderr.contains("Author identity unknown"),
            "{who:?}\n{without}"
        );
        let with = run_in(
            who,
            &repo,
            &[
                "run", "--rw", &repo, "--preset", "git", "--", "sh", "-c", commit,
            ],
            &[("HOME", &home)],
        );
        assert_eq!(with.code, 0, "{who:?}\n{with}");
        assert_eq!(with.stdout, "Day One\n", "{who:?}\n{with}");
        // The identity is read-only inside (the control: it is readable).
        let probes = format!(
            "{}{}",
            probe("read", "cat \"$GIT_CONFIG_GLOBAL\""),
            probe("write", "echo '[alias] x = !id' >> \"$GIT_CONFIG_GLOBAL\"")
        );
        let run = run_in(
            who,
            &repo,
            &[
                "run", "--ro", &repo, "--preset", "git", "--", "sh", "-c", &probes,
            ],
            &[("HOME", &home)],
        );
        run.expect(&["read=ok", "write=fail"]);
        assert!(!std::fs::read_to_string(fx.path("home/.gitconfig"))
            .unwrap()
            .contains("alias"));
        // Without a git configuration the preset says how to make one.
        let bare = fx.dir("bare-home");
        let run = run_in(
            who,
            &repo,
            &["run", "--ro", &repo, "--preset", "git", "--", "true"],
            &[("HOME", &bare)],
        );
        assert_eq!(run.code, 125, "{who:?}\n{run}");
        assert!(
            run.stderr.contains("--preset") && run.stderr.contains("git config --global"),
            "{who:?}\n{run}"
        );
    }
}

#[test]
fn the_sandbox_has_a_private_writable_home() {
    for who in identities() {
        let fx = Fixture::new(who);
        let host_home = fx.dir("home");
        let run = run_in(
            who,
            "/",
            &[
                "run",
                "--",
                "sh",
                "-c",
                "echo $HOME; echo mine > ~/note && cat ~/note; ls -ld ~ | cut -c1-10",
            ],
            &[("HOME", &host_home)],
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert_eq!(
            run.stdout, "/tmp/home\nmine\ndrwx------\n",
            "{who:?}\n{run}"
        );
        assert!(!fx.path("home/note").exists());
    }
}

/// A write into a tool cache inside the sandbox never reaches the host's
/// cache, which the sandbox does not even see. The control: the write works
/// inside (the sandbox's own cache).
#[test]
fn preset_caches_are_private_to_the_sandbox() {
    for who in identities() {
        let fx = Fixture::new(who);
        let home = fx.dir("home");
        fx.file("home/.cache/pip/host-wheel", "host");
        fx.file("home/.npm/host-entry", "host");
        let script = "ls ~/.cache/pip ~/.npm 2>/dev/null; \
                      mkdir -p ~/.cache/pip ~/.npm ~/.cargo/registry && \
                      echo poison > ~/.cache/pip/host-wheel && echo poison > ~/.npm/host-entry && \
                      echo poison > ~/.cargo/registry/crate && cat ~/.cache/pip/host-wheel";
        let run = run_in(
            who,
            "/",
            &[
                "run", "--preset", "python", "--preset", "node", "--", "sh", "-c", script,
            ],
            &[("HOME", &home)],
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert_eq!(run.stdout, "poison\n", "{who:?}\n{run}");
        assert_eq!(
            std::fs::read_to_string(fx.path("home/.cache/pip/host-wheel")).unwrap(),
            "host"
        );
        assert_eq!(
            std::fs::read_to_string(fx.path("home/.npm/host-entry")).unwrap(),
            "host"
        );
        assert!(!fx.path("home/.cargo").exists());
    }
}

/// The rust preset: the toolchain read-only (a write into it fails, the
/// control reads it), cargo's caches private, a project builds.
#[test]
fn the_rust_preset_builds_a_project() {
    for who in identities() {
        let fx = Fixture::new(who);
        let proj = fx.dir("hello");
        fx.file(
            "hello/Cargo.toml",
            "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        );
        fx.file(
            "hello/src/main.rs",
            "fn main() { println!(\"hello from cargo\"); }\n",
        );
        let home = who.home();
        let toolchain = home.join(".rustup");
        let has_toolchain = toolchain.is_dir()
            && as_user(who, "test")
                .arg("-r")
                .arg(&toolchain)
                .status()
                .unwrap()
                .success();
        let script = format!(
            "cargo build -q && ./target/debug/hello && {}{}{}",
            probe("read_toolchain", "ls \"$RUSTUP_HOME\"/toolchains"),
            probe("write_toolchain", "touch \"$RUSTUP_HOME\"/poison"),
            probe(
                "own_cache",
                "mkdir -p ~/.cargo/registry && touch ~/.cargo/registry/poison"
            ),
        );
        let run = run_in(
            who,
            &proj,
            &[
                "run", "--rw", &proj, "--preset", "rust", "--", "sh", "-c", &script,
            ],
            &[],
        );
        if !has_toolchain && !Path::new("/usr/bin/cargo").exists() {
            // This user has no Rust: the preset says so instead of running.
            assert_eq!(run.code, 125, "{who:?}\n{run}");
            assert!(run.stderr.contains("no Rust toolchain"), "{who:?}\n{run}");
            continue;
        }
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        run.expect(&["hello from cargo", "own_cache=ok"]);
        if has_toolchain {
            run.expect(&["read_toolchain=ok", "write_toolchain=fail"]);
            assert!(!toolchain.join("poison").exists());
        }
        assert!(!home.join(".cargo/registry/poison").exists());
    }
}

/// A wheel of package `dayone` (module `dayone`, `VALUE = 42`) in `dir`.
fn build_wheel(dir: &Path) {
    let script = r#"
import base64, hashlib, sys, zipfile, os
files = {
    "dayone/__init__.py": b"VALUE = 42\n",
    "dayone-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: dayone\nVersion: 1.0\n",
    "dayone-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: cordon-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(data)}")
record.append("dayone-1.0.dist-info/RECORD,,")
path = os.path.join(sys.argv[1], "dayone-1.0-py3-none-any.whl")
with zipfile.ZipFile(path, "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr("dayone-1.0.dist-info/RECORD", "\n".join(record) + "\n")
os.chmod(path, 0o644)
"#;
    let status = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The python preset: a project's virtual environment comes first, so
/// `pip install -r requirements.txt` installs into it (here from a local
/// wheel directory; `examples/` does it through a local index).
#[test]
fn the_python_preset_installs_requirements_into_the_projects_venv() {
    for who in identities() {
        let fx = Fixture::new(who);
        let proj = fx.dir("app");
        fx.file("app/requirements.txt", "dayone==1.0\n");
        let wheels = fx.dir("app/wheels");
        build_wheel(Path::new(&wheels));
        let venv = run_in(
            who,
            &proj,
            &[
                "run", "--rw", &proj, "--preset", "python", "--", "python3", "-m", "venv", ".venv",
            ],
            &[],
        );
        assert_eq!(venv.code, 0, "{who:?}\n{venv}");
        let run = run_in(
            who,
            &proj,
            &[
                "run",
                "--rw",
                &proj,
                "--preset",
                "python",
                "--",
                "sh",
                "-c",
                "pip install -q --no-index --find-links wheels -r requirements.txt && \
                 python -c 'import dayone; print(dayone.VALUE)' && echo $VIRTUAL_ENV",
            ],
            &[],
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert_eq!(run.stdout, format!("42\n{proj}/.venv\n"), "{who:?}\n{run}");
    }
}

#[test]
fn the_node_preset_runs_npm_ci_on_a_project() {
    for who in identities() {
        let fx = Fixture::new(who);
        let proj = fx.dir("web");
        fx.file(
            "web/package.json",
            r#"{"name": "web", "version": "1.0.0", "scripts": {"test": "node -e \"console.log('node ok')\""}}"#,
        );
        fx.file(
            "web/package-lock.json",
            r#"{"name": "web", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
                "packages": {"": {"name": "web", "version": "1.0.0"}}}"#,
        );
        let run = run_in(
            who,
            &proj,
            &[
                "run",
                "--rw",
                &proj,
                "--preset",
                "node",
                "--",
                "sh",
                "-c",
                "npm ci --no-audit && npm test",
            ],
            &[],
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(run.stdout.contains("node ok"), "{who:?}\n{run}");
    }
}

#[test]
fn an_unknown_preset_is_refused_with_the_list() {
    let run = cordon(
        Identity::CALLER,
        &["run", "--preset", "java", "--", "true"],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(
        run.stderr.contains("--preset: \"java\" is not a preset")
            && run.stderr.contains("git, rust, python, node, go"),
        "{run}"
    );
}

/// A free port on the host's loopback (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Send `message` to the host's 127.0.0.1:`port`; what came back, if a
/// connection was made.
fn ask(port: u16, message: &str) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let _ = stream.write_all(message.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    Some(answer)
}

/// Ask until the answer is `want` (the sandbox's server may still be
/// starting), for up to 20 s.
fn wait_for_answer(port: u16, want: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if ask(port, "hello").as_deref() == Some(want) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Two servers on the sandbox's loopback, 3000 ("published") and 3001
/// ("hidden"); a "quit" message to either ends both.
const SERVERS: &str = r#"
import os, socket, threading
def serve(port, text):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    while True:
        c, _ = s.accept()
        got = c.recv(100)
        c.sendall(text.encode())
        c.close()
        if got.startswith(b"quit"):
            os._exit(0)
threading.Thread(target=serve, args=(3001, "hidden"), daemon=True).start()
serve(3000, "published")
"#;

#[test]
fn a_published_port_answers_on_the_host_and_no_other_sandbox_port_does() {
    for who in identities() {
        let fx = Fixture::new(who);
        let dir = fx.dir("srv");
        fx.file("srv/servers.py", SERVERS);
        let host_port = free_port();
        let hidden_port = 3001;
        let publish = format!("127.0.0.1:{host_port}:3000");
        let child = command(who)
            .args(with_backend(
                who,
                &[
                    "run",
                    "--ro",
                    &dir,
                    "--publish",
                    &publish,
                    "--timeout",
                    "60s",
                    "--",
                    "python3",
                    "servers.py",
                ],
            ))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let answered = wait_for_answer(host_port, "published");
        // Attack: the sandbox's other port is not on the host's loopback.
        let hidden = ask(hidden_port, "hello");
        let _ = ask(host_port, "quit");
        let out = child.wait_with_output().unwrap();
        let run = Run::from(out);
        assert!(
            answered,
            "{who:?}: the published port did not answer\n{run}"
        );
        assert_ne!(hidden.as_deref(), Some("hidden"), "{who:?}");
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        // Gone with the sandbox.
        assert_eq!(ask(host_port, "hello"), None, "{who:?}");
    }
}

#[test]
fn publishing_is_refused_where_it_cannot_be_kept_to_one_port() {
    let who = Identity::CALLER;
    let run = cordon(
        who,
        &[
            "run",
            "--net",
            "host",
            "--publish",
            "8080:3000",
            "--",
            "true",
        ],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(
        run.stderr.contains("--publish") && run.stderr.contains("host's network"),
        "{run}"
    );
    let run = cordon(
        who,
        &["run", "--publish", "192.0.2.1:8080:3000", "--", "true"],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("not a loopback address"), "{run}");
    let run = cordon(who, &["run", "--publish", "8080:http", "--", "true"], None);
    assert_eq!(run.code, 125, "{run}");
    assert!(run.stderr.contains("--publish 8080:http"), "{run}");
}

/// `cordon` with its own state directory (owned by `who`).
struct Lifecycle {
    who: Identity,
    state: Fixture,
}

impl Lifecycle {
    fn new(who: Identity) -> Lifecycle {
        Lifecycle {
            who,
            state: Fixture::private(who),
        }
    }

    fn cordon(&self, args: &[&str]) -> Run {
        let mut cmd = command(self.who);
        cmd.env("CORDON_STATE_DIR", &self.state.root)
            .args(args)
            .stdin(Stdio::null());
        Run::from(cmd.output().unwrap())
    }

    fn provision(&self, args: &[&str]) -> String {
        let mut all = vec!["provision"];
        if let Some(b) = self.who.backend {
            all.extend(["--backend", b]);
        }
        all.extend_from_slice(args);
        let run = self.cordon(&all);
        assert_eq!(run.code, 0, "{:?}\n{run}", self.who);
        let doc: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        doc["result"]["sandboxId"].as_str().unwrap().to_string()
    }
}

/// `provision` takes `run`'s policy flags; the home is kept across execs and
/// stops; `ls` and `stop` say "stopped" to people while the wire form keeps
/// MXC's "provisioned"; a published port lives exactly as long as the
/// sandbox runs.
#[test]
fn provision_takes_run_flags_and_ls_says_stopped() {
    for who in identities() {
        let lc = Lifecycle::new(who);
        let fx = Fixture::new(who);
        let dir = fx.dir("srv");
        fx.file("srv/servers.py", SERVERS);
        let host_port = free_port();
        let publish = format!("127.0.0.1:{host_port}:3000");
        let id = lc.provision(&["--ro", &dir, "--publish", &publish]);
        let run = lc.cordon(&["start", &id]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(run.stderr.contains(&format!("started {id}")), "{run}");
        let run = lc.cordon(&[
            "exec",
            &id,
            "--",
            "sh",
            "-c",
            "echo kept > ~/note; echo $HOME",
        ]);
        assert_eq!(run.stdout, "/tmp/home\n", "{who:?}\n{run}");
        let server = format!("cd {dir} && setsid python3 servers.py >/dev/null 2>&1 &");
        let run = lc.cordon(&["exec", &id, "--", "sh", "-c", &server]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(wait_for_answer(host_port, "published"), "{who:?}");
        assert_ne!(ask(3001, "hello").as_deref(), Some("hidden"), "{who:?}");

        let run = lc.cordon(&["stop", &id]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(run.stdout.contains("\"provisioned\""), "{run}");
        assert!(run.stderr.contains(&format!("stopped {id}")), "{run}");
        // The sandbox's network keeper ends with its init, just after stop.
        assert!(
            wait_until(|| ask(host_port, "hello").is_none(), 10),
            "{who:?}: still published after stop"
        );
        let ls = lc.cordon(&["ls"]);
        let line = ls
            .stdout
            .lines()
            .find(|l| l.starts_with(&id))
            .unwrap_or_default();
        assert!(line.contains("stopped"), "{ls}");
        let ls = lc.cordon(&["ls", "--json"]);
        let doc: Value = serde_json::from_str(ls.stdout.trim()).unwrap();
        let entry = doc["sandboxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sandboxId"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(entry["state"], "provisioned");
        assert_eq!(entry["stopped"], true);

        let run = lc.cordon(&["start", &id]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        let run = lc.cordon(&["exec", &id, "--", "cat", "/tmp/home/note"]);
        assert_eq!(run.stdout, "kept\n", "{who:?}\n{run}");
        let _ = lc.cordon(&["stop", &id]);
        let run = lc.cordon(&["deprovision", &id]);
        assert_eq!(run.code, 0, "{who:?}\n{run}");

        // A command does not belong to provision: it says where it goes.
        let run = lc.cordon(&["provision", "--", "ls"]);
        assert_eq!(run.code, 125, "{run}");
        assert!(run.stderr.contains("cordon exec ID -- ls"), "{run}");
    }
}

#[test]
fn validate_accepts_a_provisioning_config() {
    let fx = Fixture::new(Identity::CALLER);
    let dir = fx.dir("work");
    let cfg = serde_json::json!({"filesystem": {"readwritePaths": [dir]}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(
        Identity::CALLER,
        &["validate", file.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["provisioning"], true);
    assert!(run.stderr.contains("provisioning config"), "{run}");
    let cfg = serde_json::json!({"version": "1.0.0", "phase": "provision", "containment": "process",
        "filesystem": {"readwritePaths": [dir]}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(
        Identity::CALLER,
        &["validate", file.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{run}");
    // The control: a real error in one is still an error.
    let cfg = serde_json::json!({"filesystem": {"readwritePaths": ["/does/not/exist"]}});
    let file = ConfigFile::new(&cfg);
    let run = cordon(
        Identity::CALLER,
        &["validate", file.path.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 125, "{run}");
}
