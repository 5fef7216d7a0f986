#!/usr/bin/env python3
"""Scale bench: N long-lived sandboxes running at once.

Provisions and starts N sandboxes one after another (with `--rules`, each
enforces an egress allowlist, so each has its own network namespace and
uplink), then reports:
- memory: the summed PSS of every process the sandboxes added (their
  keepers, uplinks and inits), per sandbox, and the drop in MemAvailable;
- start rate: sandboxes per second overall, and the time the last tenth took;
- exec latency at N: `cordon exec ID -- true` in every sandbox (each must
  answer), median and 95th percentile;
then stops and deprovisions them all and checks that nothing is left: no
process, sandbox record, mount, temp entry or cgroup. Exit 0 = clean.

Usage: bench/density.py CORDON_BINARY N [--rules]
Run it on an otherwise idle cordon: sandboxes of other runs are not counted
in the memory but are in MemAvailable.
"""
import glob
import json
import os
import statistics
import subprocess
import sys
import time

RULE_HOST = "10.209.0.1"  # never contacted: the allowlist only has to exist
CORDON = ""  # the binary under test, set by main()


def cordon(*args, check=True):
    done = subprocess.run([CORDON, *args], capture_output=True, text=True, cwd="/")
    if check and done.returncode != 0:
        sys.exit(f"cordon {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done


def pids():
    return {int(p.split("/")[2]) for p in glob.glob("/proc/[0-9]*")}


def own_namespaces():
    return {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("pid", "net", "mnt")}


def belongs(pid, ours, binary):
    """A sandbox's process: in a namespace of its own, the uplink, or cordon."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0]
        if argv0 == b"slirp4netns" or os.path.realpath(f"/proc/{pid}/exe") == binary:
            return True
        return any(os.readlink(f"/proc/{pid}/ns/{ns}") != ours[ns] for ns in ours)
    except OSError:
        return False


def sandbox_pids(before_pids, ours, binary):
    """Processes added since `before_pids` that belong to a sandbox."""
    return [p for p in pids() - before_pids if belongs(p, ours, binary)]


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def snapshot():
    with open("/proc/self/mountinfo") as f:
        mounts = f.read().count("\n")
    return dict(
        tmp={e for e in os.listdir("/tmp") if e.startswith("cordon")},
        mounts=mounts,
        cgroups=set(glob.glob("/sys/fs/cgroup/**/cordon*", recursive=True)),
        sandboxes={s["sandboxId"] for s in json.loads(cordon("ls", "--json").stdout)["sandboxes"]},
    )


def main():
    global CORDON
    CORDON = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2])
    rules = "--rules" in sys.argv[3:]
    binary = os.path.realpath(CORDON)
    ours = own_namespaces()
    before, before_pids, before_avail = snapshot(), pids(), mem_available_kib()
    flags = ["--allow-host", RULE_HOST] if rules else []
    ids, starts = [], []
    began = time.perf_counter()
    try:
        for _ in range(n):
            t = time.perf_counter()
            sid = json.loads(cordon("provision", *flags).stdout)["result"]["sandboxId"]
            ids.append(sid)
            cordon("start", sid)
            starts.append(time.perf_counter() - t)
        total = time.perf_counter() - began
        time.sleep(1)  # let start-up transients settle
        added = sandbox_pids(before_pids, ours, binary)
        by_comm = {}
        for p in added:
            try:
                with open(f"/proc/{p}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            by_comm[comm] = by_comm.get(comm, 0) + pss_kib(p)
        pss = sum(by_comm.values())
        avail_drop = before_avail - mem_available_kib()
        execs = []
        for sid in ids:
            t = time.perf_counter()
            done = cordon("exec", sid, "--", "true", check=False)
            execs.append(time.perf_counter() - t)
            if done.returncode != 0:
                sys.exit(f"exec in {sid} at N={n} exited {done.returncode}: {done.stderr.strip()}")
    finally:
        for sid in ids:
            cordon("stop", sid, check=False)
            cordon("deprovision", sid, check=False)
    tenth = max(1, n // 10)
    print(f"N={n} {'rule-enforcing' if rules else 'no network'} sandboxes, load {os.getloadavg()[0]:.2f}")
    print("| measure | value |\n|---|---|")
    print(f"| processes added | {len(added)} |")
    print(f"| PSS total | {pss / 1024:.1f} MiB |")
    print(f"| PSS per sandbox | {pss / 1024 / n:.2f} MiB |")
    for comm, kib in sorted(by_comm.items(), key=lambda kv: -kv[1]):
        print(f"| … of which `{comm}` | {kib / 1024 / n:.2f} MiB |")
    print(f"| MemAvailable drop per sandbox | {avail_drop / 1024 / n:.2f} MiB |")
    print(f"| start rate | {n / total:.1f} /s ({total:.1f} s for {n}) |")
    print(f"| last {tenth} started in | {sum(starts[-tenth:]):.2f} s |")
    print(f"| exec at N, median | {statistics.median(execs) * 1000:.1f} ms |")
    p95 = sorted(execs)[min(len(execs) - 1, int(len(execs) * 0.95))]
    print(f"| exec at N, p95 | {p95 * 1000:.1f} ms |")

    # Nothing left: give teardown a bounded moment before judging.
    deadline = time.time() + 10
    while time.time() < deadline:
        left = sandbox_pids(before_pids, ours, binary)
        if not left:
            break
        time.sleep(0.1)
    after = snapshot()
    problems = []
    if left:
        problems.append(f"processes left: {sorted(left)[:10]}")
    for key in ("tmp", "cgroups", "sandboxes"):
        if after[key] - before[key]:
            problems.append(f"{key} left: {sorted(after[key] - before[key])[:10]}")
    if after["mounts"] != before["mounts"]:
        problems.append(f"host mount table changed: {before['mounts']} -> {after['mounts']}")
    if problems:
        print("LEFT BEHIND:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("clean: no process, sandbox, mount, temp entry or cgroup left")


if __name__ == "__main__":
    main()
