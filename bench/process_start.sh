#!/usr/bin/env bash
# What starting any process costs on this machine, apart from sandboxing: the
# floor under bench/spawn.sh. Measures, in one hyperfine run, a static binary
# without libc (exec alone), /bin/true (dynamic glibc), `cordon --version`
# (the release build: static musl where Rust's musl target is installed,
# else static glibc), and the price of one CPUID instruction, which glibc's
# startup executes a few dozen times to size the caches (a trap to the
# hypervisor in a VM). Paired, interleaved rounds (bench/paired.py);
# CORDON_BENCH_HYPERFINE=1 for hyperfine blocks on a quiet machine.
# Usage: bench/process_start.sh [RUNS]
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
echo "what starting a process costs, as $(id -un), $(date -u '+%F %H:%M') UTC"
echo "one CPUID instruction: $("$work/cpuid") µs"
if [ -n "${CORDON_BENCH_HYPERFINE:-}" ]; then
  # One block per command: absolute times on a quiet machine only.
  hyperfine -N --warmup 30 --runs "$runs" \
    -n nolibc "$work/nolibc" -n true /bin/true -n cordon-version "$cordon --version"
  exit
fi
# Paired, interleaved rounds (bench/paired.py), ratios to the libc-less exec.
python3 bench/paired.py "$runs" "nolibc=$work/nolibc" "true=/bin/true" \
  "cordon-version=$cordon --version"
