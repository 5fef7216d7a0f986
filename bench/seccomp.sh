#!/usr/bin/env bash
# Cost of cordon's seccomp filter on a CPU-bound and a syscall-heavy workload:
# the same sandbox with and without the filter (a separate benchmark build,
# feature `bench-unfiltered`), in one hyperfine run. Usage: bench/seccomp.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
./scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
filtered="$(./scripts/build-release.sh)"
host="$(rustc -vV | sed -n 's/^host: //p')"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q -p cordon \
  --features bench-unfiltered --target "$host" --target-dir target/bench-unfiltered
unfiltered="$PWD/target/bench-unfiltered/$host/release/cordon"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cpu="awk 'BEGIN { for (i = 0; i < 20000000; i++) s += i * i }'"
sys="dd if=/dev/zero of=/dev/null bs=1 count=1500000 status=none"
files="tar cf - /usr/share/doc /usr/share/man 2>/dev/null | wc -c >/dev/null"
cd /tmp
hyperfine -N --warmup 2 --runs "$runs" --export-json "$out/seccomp.json" \
  -n cpu-filtered "$filtered run -- sh -c \"$cpu\"" \
  -n cpu-unfiltered "$unfiltered run -- sh -c \"$cpu\"" \
  -n syscalls-filtered "$filtered run -- sh -c \"$sys\"" \
  -n syscalls-unfiltered "$unfiltered run -- sh -c \"$sys\"" \
  -n files-filtered "$filtered run -- sh -c \"$files\"" \
  -n files-unfiltered "$unfiltered run -- sh -c \"$files\"" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
python3 - "$out/seccomp.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
print("seccomp filter cost (medians)")
print()
print("| workload | with filter | without | overhead |")
print("|---|---|---|---|")
for w, label in [
    ("cpu", "CPU-bound (awk loop)"),
    ("files", "file-heavy (tar of /usr/share/doc and man: open, stat, read)"),
    ("syscalls", "syscall microbenchmark (dd bs=1: 3M one-byte read/write)"),
]:
    f, u = r[f"{w}-filtered"], r[f"{w}-unfiltered"]
    print(f"| {label} | {f*1000:.0f} ms | {u*1000:.0f} ms | {100*(f-u)/u:+.1f}% |")
PY
