#!/usr/bin/env bash
# Warm exec in a running sandbox against bare `sh -c true` and a one-shot run
# of the same command, in one hyperfine run; `true` is a shell builtin (so it
# runs /bin/sh), `/usr/bin/true` a file cordon execs directly. Usage:
# bench/exec.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-500}"
./scripts/setup.sh
cordon="$(./scripts/build-release.sh)"
state="$(mktemp -d)"
out="$(mktemp -d)"
export CORDON_STATE_DIR="$state"
echo '{}' > "$out/sandbox.json"
id="$("$cordon" provision --config "$out/sandbox.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sandboxId"])')"
cleanup() {
  "$cordon" stop "$id" >/dev/null 2>&1 || true
  "$cordon" deprovision "$id" >/dev/null 2>&1 || true
  rm -rf "$state" "$out"
}
trap cleanup EXIT
"$cordon" start "$id" >/dev/null

cd /
hyperfine -N --warmup 50 --runs "$runs" --export-json "$out/exec.json" \
  -n bare 'sh -c true' \
  -n warm-exec "$cordon exec $id -- true" \
  -n warm-exec-file "$cordon exec $id -- /usr/bin/true" \
  -n one-shot "$cordon run -- true" >/dev/null 2>"$out/hyperfine.err" || { cat "$out/hyperfine.err" >&2; exit 1; }

python3 - "$out/exec.json" "$(id -un)" <<'PY'
import json, sys
r = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1]))["results"]}
print(f"warm exec of `true`, medians, as {sys.argv[2]}")
print()
print("| command | median ms | × bare | × one-shot |")
print("|---|---|---|---|")
for name in ["bare", "warm-exec", "warm-exec-file", "one-shot"]:
    print(f"| {name} | {r[name]:.2f} | {r[name]/r['bare']:.2f} | {r[name]/r['one-shot']:.2f} |")
PY
