#!/usr/bin/env bash
# Startup cost of network policies: `true` under cordon (native backend) with
#   none      no network section (own loopback only; the baseline)
#   rules     egress rules (model 1: nftables in the sandbox + pasta uplink)
#   nat       egress.default "allow" (model 1 without rules: the NAT'd stack)
#   proxy     a host rule (model 2 through cordon's filtering proxy)
# measured in one run, as extra milliseconds over `none`.
# Usage: bench/network.sh [RUNS]
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

cd /
hyperfine -N --warmup 10 --runs "$runs" --export-json "$out/net.json" \
  -n none "$cordon --config $out/none.json" \
  -n rules "$cordon --config $out/rules.json" \
  -n nat "$cordon --config $out/nat.json" \
  -n proxy "$cordon --config $out/proxy.json" >/dev/null 2>"$out/hyperfine.err" || { cat "$out/hyperfine.err" >&2; exit 1; }

python3 - "$out/net.json" "$(id -un)" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in results.items()}
print(f"startup of `true` by network policy, {len(results['none']['times'])} runs each, as {sys.argv[2]}")
print()
print("| policy | median ms | extra over none (ms) |")
print("|---|---|---|")
for name in ["none", "rules", "nat", "proxy"]:
    print(f"| {name} | {med[name]:.2f} | {med[name] - med['none']:+.2f} |")
PY
