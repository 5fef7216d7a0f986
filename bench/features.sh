#!/usr/bin/env bash
# What the run options cost: `/usr/bin/true` under the native backend with
#   base         no option (cwd `/`)
#   ro           --ro DIR (one more read-only bind)
#   presets      --ro DIR --preset git --preset python (more binds, private caches)
#   rw           --rw DIR, an empty directory (placeholders for its missing
#                protected paths, and the janitor that removes them)
#   rw-unprotect --rw DIR --unprotect all (no placeholders, no janitor)
#   publish      --publish 127.0.0.1:PORT:3000 (a host listener)
#   rules        one egress allow rule (model 1; see bench/network.sh)
#   rules-json   the same with --json (reads the rules' hit counters at exit)
# in one paired run (bench/paired.py): medians of per-round differences to
# `base`. Run as root, it measures again as `nobody`.
# Usage: bench/features.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100}"
. bench/prepare.sh
cat >"$out/rules.json" <<'JSON'
{"version": "0.8.0", "process": {"commandLine": "/usr/bin/true"},
 "network": {"egress": {"allow": [{"to": [{"cidr": "10.0.0.0/8"}], "ports": [{"protocol": "tcp", "port": 443}]}]}}}
JSON
chmod 644 "$out/rules.json"

measure() { # measure LABEL WORKDIR PORT [PREFIX...]
  local label="$1" work="$2" port="$3"
  shift 3
  local c="$out/cordon run --cwd /"
  echo "cost of run options, \`/usr/bin/true\`, as $label, $(date -u '+%F %H:%M') UTC"
  (cd / && "$@" /usr/bin/python3 "$out/paired.py" "$runs" \
    "base=$c -- /usr/bin/true" \
    "ro=$c --ro $out/ro -- /usr/bin/true" \
    "presets=$c --ro $out/ro --preset git --preset python -- /usr/bin/true" \
    "rw=$c --rw $work -- /usr/bin/true" \
    "rw-unprotect=$c --rw $work --unprotect all -- /usr/bin/true" \
    "publish=$c --publish 127.0.0.1:$port:3000 -- /usr/bin/true" \
    "rules=$out/cordon --config $out/rules.json" \
    "rules-json=$out/cordon --config $out/rules.json --json")
  echo
}

mkdir -m 755 "$out/ro"
mkdir -m 700 "$out/root-work"
# The git preset brings the caller's git identity in: a home that has one.
mkdir -m 755 "$out/home"
printf '[user]\n\tname = bench\n\temail = bench@example.invalid\n' >"$out/home/.gitconfig"
measure "$(id -un)" "$out/root-work" 18991 env HOME="$out/home"
if [ "$(id -u)" = 0 ]; then
  mkdir -m 700 "$out/nobody-work"
  chown 65534:65534 "$out/nobody-work" "$out/home" "$out/home/.gitconfig"
  measure nobody "$out/nobody-work" 18992 setpriv --reuid=65534 --regid=65534 --clear-groups -- \
    env HOME="$out/home"
fi
