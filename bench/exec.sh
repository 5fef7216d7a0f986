#!/usr/bin/env bash
# Warm exec in a running sandbox against bare `sh -c true` and a one-shot run
# of the same command, in one paired run; `true` is a shell builtin (so it
# runs /bin/sh), `/usr/bin/true` a file cordon execs directly. As root with
# CORDON_BENCH_USER=cordon-test, again as that user (the two paths differ).
# CORDON_BENCH_HYPERFINE=1: hyperfine blocks instead (absolute times, quiet
# machine only). Usage: [CORDON_BENCH_USER=USER] bench/exec.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-500}"
. bench/prepare.sh

# measure: provision and start a sandbox in a private state directory, time
# it (paired rounds, ratios to bare `sh -c true`), stop and deprovision it.
measure() {
  local cordon="$out/cordon" id
  export CORDON_STATE_DIR="$(mktemp -d)"
  echo '{}' > "$CORDON_STATE_DIR/sandbox.json"
  id="$("$cordon" provision --config "$CORDON_STATE_DIR/sandbox.json" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sandboxId"])')"
  "$cordon" start "$id" >/dev/null
  echo "warm exec of \`true\` as $(id -un), $(date -u '+%F %H:%M') UTC"
  if [ -n "${CORDON_BENCH_HYPERFINE:-}" ]; then
    (cd / && hyperfine -N --warmup 50 --runs "$runs" -n bare 'sh -c true' \
      -n warm-exec "$cordon exec $id -- true" \
      -n warm-exec-file "$cordon exec $id -- /usr/bin/true" -n one-shot "$cordon run -- true")
  else
    /usr/bin/python3 "$out/paired.py" "$runs" 'bare=sh -c true' \
      "warm-exec=$cordon exec $id -- true" \
      "warm-exec-file=$cordon exec $id -- /usr/bin/true" \
      "one-shot=$cordon run -- true"
  fi
  "$cordon" stop "$id" >/dev/null
  "$cordon" deprovision "$id" >/dev/null
  rm -rf "$CORDON_STATE_DIR"
}

measure
if [ -n "${CORDON_BENCH_USER:-}" ] && [ "$(id -u)" = 0 ]; then
  echo
  su "$CORDON_BENCH_USER" -s /bin/bash -c \
    "$(declare -f measure); out=$out runs=$runs CORDON_BENCH_HYPERFINE=${CORDON_BENCH_HYPERFINE:-} measure"
fi
