#!/usr/bin/env python3
"""Soak test: many sandboxed runs mixing success, failure, timeout, SIGTERM and
SIGKILL of the runner, on every backend; then check that nothing is left:
no process, mount, namespace, cgroup, temp dir, and no descriptor of the runner.

Usage: bench/soak.py CORDON_BINARY [RUNS]   (exit 0 = clean)
"""
import glob
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

cordon = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
marker = f"{100 + os.getpid() % 800}.{random.randint(1000, 9999)}"
MODES = ["ok", "fail", "timeout", "sigterm", "sigkill", "daemons", "denied", "net-sigkill", "proxy"]
BACKENDS = ["native", "bubblewrap"]


def namespaces():
    """Namespaces held by any process of this soak's sandboxes (recognised by
    the work directory or the marker on their command line)."""
    seen = set()
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{proc}/cmdline", "rb") as f:
                cmdline = f.read()
            if work.encode() not in cmdline and marker.encode() not in cmdline:
                continue
            for ns in os.listdir(f"{proc}/ns"):
                seen.add(os.readlink(f"{proc}/ns/{ns}"))
        except OSError:
            pass
    return seen


def uplinks():
    """slirp4netns processes (the uplink of network model 1)."""
    found = set()
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{proc}/cmdline", "rb") as f:
                if f.read().startswith(b"slirp4netns\0"):
                    found.add(proc)
        except OSError:
            pass
    return found


def tmp_entries():
    return {e for e in os.listdir("/tmp") if e.startswith("cordon")}


def mounts():
    with open("/proc/self/mountinfo") as f:
        return f.read().count("\n")


def cgroups():
    return set(glob.glob("/sys/fs/cgroup/**/cordon*", recursive=True))


def my_fds():
    return set(os.listdir("/proc/self/fd"))


def survivors():
    found = []
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                if marker.encode() in f.read():
                    found.append(path.split("/")[2])
        except OSError:
            pass
    return found


work = tempfile.mkdtemp(prefix="soak-")
os.makedirs(f"{work}/rw")
configs = {}
for name, network in [("net-sigkill", {"egress": {"default": "allow"}}),
                      ("proxy", {"egress": {"allow": [{"to": [{"host": "*.example.test"}]}]}})]:
    path = f"{work}/{name}.json"
    with open(path, "w") as f:
        json.dump({"version": "0.8.0", "network": network,
                   "process": {"commandLine": f"sleep {marker}" if name == "net-sigkill" else "true"}}, f)
    configs[name] = path
before = dict(ns=namespaces(), tmp=tmp_entries(), mounts=mounts(), cgroups=cgroups(), fds=my_fds(),
              uplinks=uplinks())
counts = {}
failures = []
start = time.time()
for i in range(runs):
    mode = MODES[i % len(MODES)]
    backend = BACKENDS[(i // len(MODES)) % len(BACKENDS)]
    args = [cordon, "run", "--backend", backend, "--rw", f"{work}/rw"]
    script = {
        "ok": "true",
        "fail": "exit 3",
        "timeout": f"sleep {marker}",
        "sigterm": f"setsid sleep {marker} & sleep {marker}",
        "sigkill": f"setsid sleep {marker} & (sleep {marker} &) & sleep {marker}",
        "daemons": f"setsid sleep {marker} >/dev/null 2>&1 & exit 0",
        "denied": f"mkdir -p {work}/rw/later/x 2>/dev/null; exit 0",
        "net-sigkill": None,
        "proxy": None,
    }[mode]
    if mode == "timeout":
        args += ["--timeout", "50ms"]
    if mode == "denied":
        args += ["--deny", f"{work}/rw/later/secret"]
    if script is None:
        config = configs[mode]
        with open(config) as f:
            doc = json.load(f)
        doc["containment"] = backend
        with open(config, "w") as f:
            json.dump(doc, f)
        args = [cordon, "--config", config]
    else:
        args += ["--", "sh", "-c", script]
    # stderr to a file, not a pipe: a daemon of the run may hold it open.
    with open(f"{work}/stderr", "w+") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, cwd="/")
        if mode in ("sigterm", "sigkill", "net-sigkill"):
            time.sleep(0.05 if mode != "net-sigkill" else 0.1)
            proc.send_signal(signal.SIGTERM if mode == "sigterm" else signal.SIGKILL)
        code = proc.wait()
        err.seek(0)
        said = err.read().strip()
    counts[(mode, code)] = counts.get((mode, code), 0) + 1
    if code == 125:
        # cordon itself failed: keep what it said (the first few).
        failures.append(f"run {i} ({mode}, {backend}): {said[:300]}")

# A runner killed by SIGKILL leaves its sandbox to die asynchronously (PDEATHSIG);
# give teardown a bounded moment before judging.
deadline = time.time() + 5
while (survivors() or namespaces() - before["ns"] or uplinks() - before["uplinks"]) and time.time() < deadline:
    time.sleep(0.05)
after = dict(ns=namespaces(), tmp=tmp_entries(), mounts=mounts(), cgroups=cgroups(), fds=my_fds(),
             uplinks=uplinks())
problems = []
if survivors():
    problems.append(f"surviving processes: {survivors()}")
if after["ns"] - before["ns"]:
    problems.append(f"namespaces still held: {sorted(after['ns'] - before['ns'])[:10]}")
if after["uplinks"] - before["uplinks"]:
    problems.append(f"network uplinks (slirp4netns) left: {sorted(after['uplinks'] - before['uplinks'])}")
if after["tmp"] - before["tmp"]:
    problems.append(f"temp entries left: {sorted(after['tmp'] - before['tmp'])}")
if after["mounts"] != before["mounts"]:
    problems.append(f"host mount table changed: {before['mounts']} -> {after['mounts']}")
if after["cgroups"] - before["cgroups"]:
    problems.append(f"cgroups left: {sorted(after['cgroups'] - before['cgroups'])}")
if after["fds"] != before["fds"]:
    problems.append(f"runner descriptors changed: {sorted(before['fds'])} -> {sorted(after['fds'])}")
leftover = [p for p in glob.glob(f"{work}/rw/*")]
# A SIGKILLed runner cannot remove a placeholder, but no run here kills a runner that has one.
if leftover:
    problems.append(f"files left in the writable tree: {leftover}")
expected = {"ok": 0, "fail": 3, "timeout": 124, "sigterm": 143, "sigkill": -9, "daemons": 0, "denied": 0,
            "net-sigkill": -9, "proxy": 0}
for (mode, code), n in sorted(counts.items()):
    if code != expected[mode]:
        problems.append(f"{n} {mode} runs exited {code}, expected {expected[mode]}")
problems.extend(failures[:5])
subprocess.run(["rm", "-rf", work])
print(f"{runs} runs in {time.time() - start:.1f} s on {', '.join(BACKENDS)}: "
      + ", ".join(f"{m}={sum(n for (mm, _), n in counts.items() if mm == m)}" for m in MODES))
if problems:
    print("LEAKS OR WRONG RESULTS:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("clean: no process, namespace, mount, cgroup, temp dir or runner descriptor left")
