#!/usr/bin/env bash
# Whole-process spawn latency of `true`, measured in one run so the ratios
# compare like with like:
#   bare      sh -c true
#   bwrap     bwrap --unshare-all --ro-bind / / true   (plain bubblewrap)
#   native    cordon run -- true                        (default policy, native backend;
#             `true` is a shell builtin, so this runs /bin/sh)
#   native-file  cordon run -- /usr/bin/true            (the file bwrap runs, exec'd directly)
#   cordon-bwrap  cordon run --backend bubblewrap -- true  (same policy through bwrap)
#   cordon-bwrap-file  the same with /usr/bin/true (bwrap execs it, no shell)
# Run as root, it measures again as an unprivileged user (nobody), since the
# two paths differ (root's sandbox gets an owner-less baseline; unprivileged
# bwrap must create a user namespace too).
# Prints medians and ratios as Markdown tables. Usage: bench/spawn.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-500}"
./scripts/setup.sh
built="$(./scripts/build-release.sh)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# A copy any user can execute (the build tree may sit below /root).
chmod 755 "$out"
install -m 755 "$built" "$out/cordon"
cordon="$out/cordon"

measure() { # measure LABEL [PREFIX...]: one hyperfine run of every command, then its table
  local label="$1"
  shift
  (cd / && "$@" hyperfine -N --warmup 50 --runs "$runs" --export-json "$out/$label.json" \
    -n bare 'sh -c true' \
    -n bwrap 'bwrap --unshare-all --ro-bind / / true' \
    -n native "$cordon run -- true" \
    -n native-file "$cordon run -- /usr/bin/true" \
    -n cordon-bwrap "$cordon run --backend bubblewrap -- true" \
    -n cordon-bwrap-file "$cordon run --backend bubblewrap -- /usr/bin/true" \
    >/dev/null 2>"$out/hyperfine.err") || { cat "$out/hyperfine.err" >&2; exit 1; }
  python3 - "$out/$label.json" "$label" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in results.items()}
print(f"spawn latency of `true`, {len(results['bare']['times'])} runs each, as {sys.argv[2]}")
print()
print("| command | median ms | × bare | × bwrap |")
print("|---|---|---|---|")
for name in ["bare", "bwrap", "native", "native-file", "cordon-bwrap", "cordon-bwrap-file"]:
    print(f"| {name} | {med[name]:.2f} | {med[name]/med['bare']:.2f} | {med[name]/med['bwrap']:.2f} |")
print()
PY
}

measure "$(id -un)"
if [ "$(id -u)" = 0 ]; then
  chmod 777 "$out"  # hyperfine's export, written as nobody
  measure nobody setpriv --reuid=65534 --regid=65534 --clear-groups --
fi
