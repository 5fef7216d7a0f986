#!/usr/bin/env bash
# Startup cost of network policies: `true` under cordon (native backend) with
#   none      no network section (own loopback only; the baseline)
#   rules     egress rules (model 1: nftables in the sandbox + slirp4netns uplink)
#   nat       egress.default "allow" (model 1 without rules: the NAT'd stack)
#   proxy     a host rule (model 2 through cordon's filtering proxy)
# measured in one paired run, as extra milliseconds over `none`.
# Usage: [CORDON_BENCH_USER=cordon-test] bench/network.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-100}"
./scripts/setup.sh
cordon="$(./scripts/build-release.sh)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cat >"$out/none.json" <<'JSON'
{"version": "0.8.0", "process": {"commandLine": "true"}}
JSON
cat >"$out/rules.json" <<'JSON'
{"version": "0.8.0", "process": {"commandLine": "true"}, "network": {"egress": {"default": "deny",
  "allow": [{"to": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}], "ports": [{"protocol": "tcp", "port": 443}]},
            {"to": [{"cidr": "2001:db8::/32"}], "ports": [{"protocol": "udp", "port": 53}]}],
  "deny": [{"to": [{"cidr": "10.2.0.0/16"}]}]}}}
JSON
cat >"$out/nat.json" <<'JSON'
{"version": "0.8.0", "process": {"commandLine": "true"}, "network": {"egress": {"default": "allow"}}}
JSON
cat >"$out/proxy.json" <<'JSON'
{"version": "0.8.0", "process": {"commandLine": "true"}, "network": {"egress": {"allow": [{"to": [{"host": "*.pypi.org"}]}]}}}
JSON

chmod 755 "$out"
chmod 644 "$out"/*.json
# Paired, interleaved rounds (bench/paired.py): load that changes during the
# run hits every policy alike. As an unprivileged user too when root:
# CORDON_BENCH_USER=cordon-test bench/network.sh.
bench="$(realpath bench/paired.py)"
run() { python3 "$bench" "$runs" "none=$cordon --config $out/none.json" \
  "rules=$cordon --config $out/rules.json" "nat=$cordon --config $out/nat.json" \
  "proxy=$cordon --config $out/proxy.json"; }
echo "startup of \`true\` by network policy, as $(id -un), $(date -u +%F)"
run
if [ -n "${CORDON_BENCH_USER:-}" ]; then
  echo
  echo "the same, as $CORDON_BENCH_USER"
  cp "$cordon" "$out/cordon" && chmod 755 "$out/cordon"
  cordon="$out/cordon"
  su "$CORDON_BENCH_USER" -s /bin/bash -c "$(declare -f run); runs=$runs bench=$bench cordon=$cordon out=$out run"
fi
