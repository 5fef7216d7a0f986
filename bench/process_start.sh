#!/usr/bin/env bash
# What starting any process costs on this machine, apart from sandboxing: the
# floor under bench/spawn.sh. Measures, in one hyperfine run, a static binary
# without libc (exec alone), /bin/true (dynamic glibc), `cordon --version`
# (static glibc), and the price of one CPUID instruction, which glibc's
# startup executes a few dozen times to size the caches (a trap to the
# hypervisor in a VM). Usage: bench/process_start.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-300}"
./scripts/setup.sh
cordon="$(./scripts/build-release.sh)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/nolibc.c" <<'C'
void _start(void) { __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }
C
cat >"$work/cpuid.c" <<'C'
#include <cpuid.h>
#include <stdio.h>
#include <time.h>
int main(void) {
    unsigned a, b, c, d, n = 2000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < n; i++) __cpuid_count(4, i & 3, a, b, c, d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.2f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n);
    return 0;
}
C
gcc -O2 -static -nostdlib -o "$work/nolibc" "$work/nolibc.c"
gcc -O2 -o "$work/cpuid" "$work/cpuid.c"
hyperfine -N --warmup 30 --runs "$runs" --export-json "$work/start.json" \
  -n nolibc "$work/nolibc" -n true /bin/true -n cordon-version "$cordon --version" \
  >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
python3 - "$work/start.json" "$("$work/cpuid")" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"one CPUID instruction: {float(sys.argv[2]):.2f} µs")
print()
print("| process | median ms |")
print("|---|---|")
for name, label in [("nolibc", "static, no libc (exec + exit only)"), ("true", "/bin/true (dynamic glibc)"),
                    ("cordon-version", "cordon --version (static glibc)")]:
    print(f"| {label} | {r[name]:.2f} |")
PY
