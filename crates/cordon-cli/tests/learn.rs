//! `cordon learn`: on real workloads, the suggested policy is sufficient
//! (the command passes under it) and minimal (removing any one grant makes
//! the command fail), the observed command gets no more than the policy
//! under observation (its first round fails on what was not granted), and
//! each refusal is reported once, in order.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// `cordon ARGS` as `who`, in `dir`.
fn cordon_in(who: Identity, dir: &str, args: &[&str]) -> Run {
    let mut cmd = command(who);
    cmd.current_dir(dir).args(args);
    Run::from(cmd.output().unwrap())
}

/// Learn a policy for `command` in `dir`; the suggested config.
fn learn(who: Identity, dir: &str, flags: &[&str], command: &[&str], out: &str) -> (Run, Value) {
    let mut args = vec!["learn", "--output", out];
    args.extend(flags);
    args.push("--");
    args.extend(command);
    let run = cordon_in(who, dir, &args);
    let doc = std::fs::read_to_string(out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (run, doc)
}

/// The strings of a JSON array (none if it is not one).
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn list(doc: &Value, key: &str) -> Vec<String> {
    strings(&doc["filesystem"][key])
}

/// Run the suggested config as `who`.
fn run_config_file(who: Identity, doc: &Value, fx: &Fixture, name: &str) -> Run {
    let path = fx.file(name, &doc.to_string());
    cordon_in(who, "/", &["--config", &path])
}

/// Sufficient and minimal: the config passes; without any one grant it fails.
fn sufficient_and_minimal(who: Identity, doc: &Value, fx: &Fixture) {
    let passes = run_config_file(who, doc, fx, "suggested.json");
    assert_eq!(
        passes.code, 0,
        "{who:?}: the suggested policy must pass\n{passes}"
    );
    for key in ["readonlyPaths", "readwritePaths"] {
        for path in list(doc, key) {
            let mut less = doc.clone();
            let kept: Vec<String> = list(doc, key).into_iter().filter(|p| *p != path).collect();
            less["filesystem"][key] = serde_json::json!(kept);
            let r = run_config_file(who, &less, fx, "less.json");
            assert_ne!(
                r.code, 0,
                "{who:?}: without {key} {path} the command still passed: not minimal\n{r}"
            );
        }
    }
}

#[test]
fn learns_a_python_test_suite() {
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let fx = Fixture::new(who);
        let data = fx.file("data/fixtures.json", r#"{"answer": 42}"#);
        fx.file("data/unused.txt", "never read");
        let project = fx.dir("project");
        fx.file(
            "project/tests/test_app.py",
            &format!(
                "import json, os, unittest\n\
                 class T(unittest.TestCase):\n\
                 \x20   def test_reads_and_writes(self):\n\
                 \x20       with open({data:?}) as f: self.assertEqual(json.load(f)['answer'], 42)\n\
                 \x20       os.makedirs('out', exist_ok=True)\n\
                 \x20       with open('out/report.txt', 'w') as f: f.write('ok')\n"
            ),
        );
        let out = fx.p("policy.json");
        let (run, doc) = learn(
            who,
            &project,
            &[],
            &["python3", "-B", "-m", "unittest", "discover", "-s", "tests"],
            &out,
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        // Round 1 ran under the policy alone: the data file was not there.
        assert!(run.stderr.contains("No such file or directory"), "{run}");
        // Each refusal once, in the order the command made them.
        let read = format!("read {data} (not granted)");
        let wrote = format!("wrote in {project} (not writable)");
        assert_eq!(run.stderr.matches(&read).count(), 1, "{run}");
        assert_eq!(run.stderr.matches(&wrote).count(), 1, "{run}");
        assert!(run.stderr.find(&read) < run.stderr.find(&wrote), "{run}");
        assert!(list(&doc, "readonlyPaths").contains(&data), "{doc}");
        assert!(list(&doc, "readwritePaths").contains(&project), "{doc}");
        // Nothing it did not reach for.
        assert!(!doc.to_string().contains("unused.txt"), "{doc}");
        assert_eq!(doc["_comment"]["passed"], true, "{doc}");
        assert!(
            doc["_comment"]["executables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().ends_with("/python3")),
            "{doc}"
        );
        sufficient_and_minimal(who, &doc, &fx);
    }
}

#[test]
fn a_denied_path_stays_denied_and_is_never_suggested() {
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let fx = Fixture::new(who);
        let secret = fx.file("project/secret/key", "sk-1");
        let project = fx.dir("project");
        let out = fx.p("policy.json");
        let script = format!("cat {secret} || true; echo done");
        let (run, doc) = learn(
            who,
            &project,
            &["--ro", &project, "--deny", &fx.p("project/secret")],
            &["sh", "-c", &script],
            &out,
        );
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        // Control: the command did reach for it, and was refused.
        assert!(
            run.stderr.contains("denied by the policy; kept denied"),
            "{run}"
        );
        assert!(!run.stdout.contains("sk-1"), "{run}");
        assert!(
            !list(&doc, "readonlyPaths")
                .iter()
                .any(|p| p.contains("secret")),
            "{doc}"
        );
        assert!(
            list(&doc, "deniedPaths")
                .iter()
                .any(|p| p.contains("secret")),
            "{doc}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn learns_a_cargo_build_with_a_path_dependency() {
    assert_eq!(
        current_uid(),
        0,
        "run as root: the toolchain is root's (~/.rustup)"
    );
    let who = Identity {
        user: User::Caller,
        backend: Some("native"),
    };
    let fx = Fixture::new(who);
    fx.file(
        "lib/Cargo.toml",
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    fx.file("lib/src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
    fx.file(
        "app/Cargo.toml",
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nhelper = {{ path = {:?} }}\n",
            fx.p("lib")
        ),
    );
    fx.file(
        "app/src/main.rs",
        "fn main() { println!(\"{}\", helper::answer()); }\n",
    );
    let app = fx.p("app");
    let out = fx.p("policy.json");
    let (run, doc) = learn(
        who,
        &app,
        &["--preset", "rust"],
        &["cargo", "build", "--offline", "--quiet"],
        &out,
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(list(&doc, "readwritePaths").contains(&app), "{doc}");
    assert!(
        list(&doc, "readonlyPaths")
            .iter()
            .any(|p| Path::new(&fx.p("lib")).starts_with(p) || p.starts_with(&fx.p("lib"))),
        "the path dependency: {doc}"
    );
    // Built from scratch under the suggestion alone.
    std::fs::remove_dir_all(fx.path("app/target")).unwrap();
    sufficient_and_minimal(who, &doc, &fx);
}

/// An address of the host (on lo) for a local package registry; removed on drop.
struct LabAddress(&'static str, bool);

impl LabAddress {
    fn add(addr: &'static str) -> Self {
        let shown = std::process::Command::new("ip")
            .args(["-4", "-o", "addr", "show", "dev", "lo"])
            .output()
            .unwrap();
        let have = String::from_utf8_lossy(&shown.stdout).contains(&format!(" {addr}/32"));
        if !have {
            let ok = std::process::Command::new("ip")
                .args(["addr", "add", &format!("{addr}/32"), "dev", "lo"])
                .status()
                .unwrap();
            assert!(ok.success(), "ip addr add {addr}/32 dev lo");
        }
        LabAddress(addr, !have)
    }
}

impl Drop for LabAddress {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::process::Command::new("ip")
                .args(["addr", "del", &format!("{}/32", self.0), "dev", "lo"])
                .status();
        }
    }
}

/// A package registry on `addr` serving one package from `dir` (npm's
/// metadata document and the tarball); killed on drop.
struct Registry {
    child: std::process::Child,
    url: String,
}

impl Registry {
    fn start(addr: &str, dir: &str) -> Self {
        let script = r#"
import http.server, os, sys
root = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, self.path.strip("/").replace("/-/", "/"))
        if os.path.isdir(path):
            path = os.path.join(path, "index.json")
        if not os.path.isfile(path):
            self.send_response(404); self.end_headers(); return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if path.endswith(".json") else "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer((sys.argv[1], 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
        let mut child = std::process::Command::new("python3")
            .args(["-c", script, addr, dir])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port: u16 = line.trim().parse().expect("registry port");
        Registry {
            child,
            url: format!("http://{addr}:{port}/"),
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hosts(doc: &Value) -> Vec<String> {
    strings(&doc["network"]["allowedHosts"])
}

#[test]
#[ignore = "needs root"]
fn learns_npm_ci_against_a_local_registry() {
    assert_eq!(
        current_uid(),
        0,
        "run as root: the registry needs a lab address on lo"
    );
    if std::process::Command::new("npm")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("npm is not installed (scripts/setup.sh installs it)");
    }
    let lab = LabAddress::add("10.208.0.1");
    for who in identities()
        .into_iter()
        .filter(|i| i.backend == Some("native"))
    {
        let fx = Fixture::new(who);
        // The package, packed by npm itself, and its metadata document.
        fx.file(
            "pkg/package.json",
            r#"{"name": "leftpad-local", "version": "1.0.0", "main": "index.js"}"#,
        );
        fx.file(
            "pkg/index.js",
            "module.exports = (s, n) => s.padStart(n);\n",
        );
        let registry_dir = fx.dir("registry/leftpad-local");
        let packed = std::process::Command::new("npm")
            .args(["pack", "--json", "--pack-destination", &registry_dir])
            .current_dir(fx.p("pkg"))
            // Packed by the test runner: a cache of its own, not the user's.
            .env("npm_config_cache", fx.p("pack-cache"))
            .output()
            .unwrap();
        assert!(
            packed.status.success(),
            "{}",
            String::from_utf8_lossy(&packed.stderr)
        );
        let info: Value = serde_json::from_slice(&packed.stdout).unwrap();
        let (integrity, shasum) = (
            info[0]["integrity"].as_str().unwrap().to_string(),
            info[0]["shasum"].as_str().unwrap().to_string(),
        );
        let registry = Registry::start(lab.0, &fx.p("registry"));
        let tarball = format!("{}leftpad-local/-/leftpad-local-1.0.0.tgz", registry.url);
        fx.file(
            "registry/leftpad-local/index.json",
            &serde_json::json!({
                "name": "leftpad-local",
                "dist-tags": {"latest": "1.0.0"},
                "versions": {"1.0.0": {
                    "name": "leftpad-local", "version": "1.0.0",
                    "dist": {"tarball": tarball, "integrity": integrity, "shasum": shasum},
                }},
            })
            .to_string(),
        );
        // The project and its lock file, made outside any sandbox.
        let project = fx.dir("project");
        fx.file(
            "project/package.json",
            r#"{"name": "app", "version": "1.0.0", "dependencies": {"leftpad-local": "1.0.0"}}"#,
        );
        fx.file(
            "project/.npmrc",
            &format!(
                "registry={}\nfetch-retries=0\naudit=false\nfund=false\n",
                registry.url
            ),
        );
        let mut install = as_user(who, "npm");
        install
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(&project)
            .env("npm_config_cache", fx.p("npm-cache"))
            .env("HOME", fx.p(""));
        let done = install.output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        std::fs::remove_dir_all(fx.path("project/node_modules")).unwrap();

        let out = fx.p("policy.json");
        let (run, doc) = learn(who, &project, &[], &["npm", "ci"], &out);
        assert_eq!(run.code, 0, "{who:?}\n{run}");
        assert!(hosts(&doc).contains(&lab.0.to_string()), "{doc}");
        assert!(list(&doc, "readwritePaths").contains(&project), "{doc}");
        assert!(fx
            .path("project/node_modules/leftpad-local/index.js")
            .is_file());
        // Sufficient and minimal, the host included.
        std::fs::remove_dir_all(fx.path("project/node_modules")).unwrap();
        sufficient_and_minimal(who, &doc, &fx);
        for host in hosts(&doc) {
            let mut less = doc.clone();
            let kept: Vec<String> = hosts(&doc).into_iter().filter(|h| *h != host).collect();
            less["network"]["allowedHosts"] = serde_json::json!(kept);
            let _ = std::fs::remove_dir_all(fx.path("project/node_modules"));
            let r = run_config_file(who, &less, &fx, "less-host.json");
            assert_ne!(
                r.code, 0,
                "{who:?}: without host {host} npm ci still passed\n{r}"
            );
        }
        drop(registry);
    }
}
