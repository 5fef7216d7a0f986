#!/usr/bin/env bash
# A change against the build before it, in the same run: spawn latency,
# warm exec and proxy throughput of two cordon binaries, paired and
# interleaved (bench/paired.py), with bare `sh -c true` as the baseline.
# Usage: bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS]   (root; default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
old="$1"
new="$2"
rounds="${3:-300}"
work="$(mktemp -d)"
state_old="$(mktemp -d)"
state_new="$(mktemp -d)"
cleanup() {
  for s in old new; do
    state="state_$s"
    bin="$s"
    [ -n "${id[$s]:-}" ] || continue
    CORDON_STATE_DIR="${!state}" "${!bin}" stop "${id[$s]}" >/dev/null 2>&1 || true
    CORDON_STATE_DIR="${!state}" "${!bin}" deprovision "${id[$s]}" >/dev/null 2>&1 || true
  done
  rm -rf "$work" "$state_old" "$state_new"
}
declare -A id
trap cleanup EXIT
mkdir -p "$work/rw"

echo "## one-shot runs"
python3 bench/paired.py "$rounds" \
  "bare=sh -c true" \
  "old run -- true=$old run -- true" \
  "new run -- true=$new run -- true" \
  "old run -- /usr/bin/true=$old run -- /usr/bin/true" \
  "new run -- /usr/bin/true=$new run -- /usr/bin/true" \
  "old run --rw DIR -- true=$old run --rw $work/rw -- true" \
  "new run --rw DIR -- true=$new run --rw $work/rw -- true" \
  "old bubblewrap=$old run --backend bubblewrap -- /usr/bin/true" \
  "new bubblewrap=$new run --backend bubblewrap -- /usr/bin/true"

echo
echo "## one-shot runs with egress rules (network model 1: slirp4netns, nftables)"
echo '{"version": "0.8.0", "network": {"egress": {"default": "deny", "allow": [{"to": [{"cidr": "192.0.2.0/24"}], "ports": [{"protocol": "tcp", "port": 443}]}]}}}' >"$work/rules.json"
python3 bench/paired.py "$((rounds / 5 > 20 ? rounds / 5 : 20))" \
  "bare=sh -c true" \
  "old rules=$old run --config $work/rules.json -- /usr/bin/true" \
  "new rules=$new run --config $work/rules.json -- /usr/bin/true"

echo
echo "## warm exec (each binary in a sandbox it started)"
echo '{}' > "$work/sandbox.json"
for s in old new; do
  state="state_$s"
  bin="$s"
  id[$s]="$(CORDON_STATE_DIR="${!state}" "${!bin}" provision --config "$work/sandbox.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["sandboxId"])')"
  CORDON_STATE_DIR="${!state}" "${!bin}" start "${id[$s]}" >/dev/null
done
python3 bench/paired.py "$rounds" \
  "bare=env CORDON_STATE_DIR=$state_old sh -c true" \
  "old exec=env CORDON_STATE_DIR=$state_old $old exec ${id[old]} -- /usr/bin/true" \
  "new exec=env CORDON_STATE_DIR=$state_new $new exec ${id[new]} -- /usr/bin/true"

echo
echo "## proxy throughput (bench/proxy_throughput.py, alternating binaries)"
for turn in 1 2; do
  for s in old new; do
    bin="$s"
    echo "### $s (turn $turn)"
    python3 bench/proxy_throughput.py "${!bin}" 3 | tail -4
  done
done
