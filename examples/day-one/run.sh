#!/usr/bin/env bash
# Day one, end to end: a Python project whose tests start a local HTTP
# server and use a dependency installed from a package index, run with one
# `cordon run` line.
#
# The index is a local one, served from a network namespace this script
# creates (10.205.0.2, reached through a veth pair); nothing here contacts
# the internet. Needs root (the namespace and the veth pair).
#
# usage: examples/day-one/run.sh [PATH_TO_CORDON]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cordon="${1:-$("$here/../../scripts/build-release.sh")}"
if [ "$(id -u)" != 0 ]; then
  echo "day-one: needs root (it creates a network namespace for the package index)" >&2
  exit 2
fi
ns=cordon-ex-index
veth=cx-host
peer=cx-peer
index_ip=10.205.0.2

remove_network() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
}
remove_network # a leftover of an interrupted run
work="$(mktemp -d /tmp/cordon-day-one.XXXXXX)"
trap 'remove_network; rm -rf "$work"' EXIT

# The package index: a wheel of `dayone` and its PEP 503 pages, on
# 10.205.0.2:8080 in a namespace of its own ("the internet").
python3 "$here/make_index.py" "$here/dayone" "$work/index"
ip netns add "$ns"
ip link add "$veth" type veth peer name "$peer" netns "$ns"
ip addr add 10.205.0.1/24 dev "$veth"
ip link set "$veth" up
ip -n "$ns" addr add "$index_ip/24" dev "$peer"
ip -n "$ns" link set "$peer" up
ip -n "$ns" link set lo up
ip netns exec "$ns" python3 -m http.server 8080 --bind "$index_ip" --directory "$work/index" \
  >/dev/null 2>&1 &
for _ in $(seq 100); do
  curl -sf --noproxy '*' -o /dev/null "http://$index_ip:8080/simple/" && break
  sleep 0.1
done

# The project, as a developer has it.
cp -r "$here/project" "$work/project"
cd "$work/project"

# The one line: the project writable, Python's preset (private pip cache,
# the project's venv), the index the only host the sandbox may reach.
"$cordon" run --rw . --preset python --allow-host "$index_ip" --timeout 5m \
  --env PIP_INDEX_URL="http://$index_ip:8080/simple/" --env PIP_TRUSTED_HOST="$index_ip" \
  -- sh -c 'python3 -m venv --system-site-packages .venv &&
            .venv/bin/pip install -q -r requirements.txt &&
            .venv/bin/python -m pytest -q -p no:cacheprovider tests'

# What the run left on the host: the venv, with the dependency, in the project.
test -f .venv/lib/python3*/site-packages/dayone/__init__.py
echo "day-one: ok (dependency installed from the local index, tests passed in the sandbox)"
