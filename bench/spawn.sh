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
# Prints medians and ratios as a Markdown table. Usage: bench/spawn.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-500}"
./scripts/setup.sh
cordon="$(./scripts/build-release.sh)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cd /tmp
hyperfine -N --warmup 50 --runs "$runs" --export-json "$out/spawn.json" \
  -n bare 'sh -c true' \
  -n bwrap 'bwrap --unshare-all --ro-bind / / true' \
  -n native "$cordon run -- true" \
  -n native-file "$cordon run -- /usr/bin/true" \
  -n cordon-bwrap "$cordon run --backend bubblewrap -- true" \
  -n cordon-bwrap-file "$cordon run --backend bubblewrap -- /usr/bin/true" >/dev/null 2>"$out/hyperfine.err" || { cat "$out/hyperfine.err" >&2; exit 1; }

python3 - "$out/spawn.json" "$(id -un)" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in results.items()}
print(f"spawn latency of `true`, {len(results['bare']['times'])} runs each, as {sys.argv[2]}")
print()
print("| command | median ms | × bare | × bwrap |")
print("|---|---|---|---|")
for name in ["bare", "bwrap", "native", "native-file", "cordon-bwrap", "cordon-bwrap-file"]:
    print(f"| {name} | {med[name]:.2f} | {med[name]/med['bare']:.2f} | {med[name]/med['bwrap']:.2f} |")
PY
