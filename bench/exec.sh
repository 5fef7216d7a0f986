#!/usr/bin/env bash
# Warm exec in a running sandbox against bare `sh -c true` and a one-shot run
# of the same command, in one paired run; `true` is a shell builtin (so it
# runs /bin/sh), `/usr/bin/true` a file cordon execs directly. Usage:
# bench/exec.sh [ROUNDS]
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

# Paired, interleaved rounds (bench/paired.py), ratios to bare `sh -c true`;
# CORDON_BENCH_HYPERFINE=1: hyperfine blocks (absolute times, quiet machine).
echo "warm exec of \`true\` as $(id -un), $(date -u '+%F %H:%M') UTC"
if [ -n "${CORDON_BENCH_HYPERFINE:-}" ]; then
  (cd / && hyperfine -N --warmup 50 --runs "$runs" -n bare 'sh -c true' \
    -n warm-exec "$cordon exec $id -- true" -n warm-exec-file "$cordon exec $id -- /usr/bin/true" \
    -n one-shot "$cordon run -- true")
  exit 0
fi
python3 bench/paired.py "$runs" 'bare=sh -c true' \
  "warm-exec=$cordon exec $id -- true" \
  "warm-exec-file=$cordon exec $id -- /usr/bin/true" \
  "one-shot=$cordon run -- true"
