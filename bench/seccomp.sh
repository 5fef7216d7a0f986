#!/usr/bin/env bash
# Cost of cordon's seccomp filter on a CPU-bound and a syscall-heavy workload:
# the same sandbox with and without the filter (a separate benchmark build,
# feature `bench-unfiltered`); plus a null-syscall microbenchmark that also
# runs under the smallest possible filter, which separates the kernel's fixed
# price of seccomp from cordon's list. Runs are interleaved (filtered and
# unfiltered back to back, order alternating) and compared in pairs, since
# this VM drifts by more than the effect between consecutive blocks of runs.
# Usage: bench/seccomp.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-20}"
./scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
filtered="$(./scripts/build-release.sh)"
unfiltered="$(CARGO_TARGET_DIR=target/bench-unfiltered ./scripts/build-release.sh --features bench-unfiltered)"
# The least any seccomp filter costs: an arch check and "allow", installed by
# a small C wrapper (no interpreter start-up in the measurement).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/minimal.c" <<'C'
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
    if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("minimal filter");
        return 125;
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
C
gcc -O2 -static -o "$work/minimal" "$work/minimal.c"
cd /
python3 - "$rounds" "$filtered" "$unfiltered" "$work" <<'PY'
import os, resource, statistics, subprocess, sys, time
rounds, filtered, unfiltered, work = int(sys.argv[1]), *sys.argv[2:]
cpu = "awk 'BEGIN { for (i = 0; i < 20000000; i++) s += i * i }'"
files = "tar cf - /usr/share/doc /usr/share/man 2>/dev/null | wc -c >/dev/null"
nulls = "dd if=/dev/zero of=/dev/null bs=1 count=1500000 status=none"  # 3 M syscalls
variants = {
    "filtered": lambda w: [filtered, "run", "--", "sh", "-c", w],
    "unfiltered": lambda w: [unfiltered, "run", "--", "sh", "-c", w],
    "minimal": lambda w: [unfiltered, "run", "--ro", work, "--", f"{work}/minimal", "sh", "-c", w],
}
workloads = {"cpu": (cpu, ["filtered", "unfiltered"]),
             "files": (files, ["filtered", "unfiltered", "minimal"]),
             "nulls": (nulls, ["filtered", "unfiltered", "minimal"])}

def timed(argv):
    """Wall seconds, and CPU seconds (user, system) of the whole process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime

samples = {(w, v): [] for w, (_, vs) in workloads.items() for v in vs}
for name, (cmd, vs) in workloads.items():
    for v in vs:
        timed(variants[v](cmd))  # warm-up
for r in range(rounds):
    for name, (cmd, vs) in workloads.items():
        for v in (vs if r % 2 == 0 else vs[::-1]):
            samples[(name, v)].append(timed(variants[v](cmd)))

def paired(name, a, b, field):
    return statistics.median(x[field] / y[field] for x, y in zip(samples[(name, a)], samples[(name, b)])) - 1

def cpu_time(s):
    return s[1] + s[2]

for key in samples:
    samples[key] = [(w, u, s, u + s) for w, u, s in samples[key]]
print(f"seccomp filter cost: {rounds} interleaved rounds; overhead = median of paired ratios against no filter")
print()
print("| workload | kernel share of CPU | median wall, no filter | cordon's filter: wall | CPU time | minimal filter: wall |")
print("|---|---|---|---|---|---|")
for name, label in [("cpu", "CPU-bound (awk loop)"),
                    ("files", "syscall-heavy (tar of /usr/share/doc and man: ~210 k open/stat/read/write)"),
                    ("nulls", "null-syscall microbenchmark (dd bs=1: 3 M one-byte read/write)")]:
    base = samples[(name, "unfiltered")]
    share = statistics.median(s[2] / s[3] for s in base)
    minimal_wall = (f"{100 * paired(name, 'minimal', 'unfiltered', 0):+.1f}%"
                    if (name, "minimal") in samples else "—")
    print(f"| {label} | {100 * share:.0f}% | {1000 * statistics.median(s[0] for s in base):.0f} ms "
          f"| {100 * paired(name, 'filtered', 'unfiltered', 0):+.1f}% | {100 * paired(name, 'filtered', 'unfiltered', 3):+.1f}% "
          f"| {minimal_wall} |")
per_call = lambda a: 1e9 * statistics.median(x[0] - y[0] for x, y in zip(samples[("nulls", a)], samples[("nulls", "unfiltered")])) / 3e6
print()
print(f"null syscalls, wall per call: minimal filter (arch check + allow) {per_call('minimal'):+.1f} ns, "
      f"cordon's filter {per_call('filtered'):+.1f} ns")
PY
