#!/usr/bin/env bash
# `cordon mcp` driven by the official MCP Python client (PyPI `mcp`, pinned)
# over stdio, as root and as the unprivileged test user:
#   crates/cordon-mcp/tests/run.sh CORDON_BIN
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cordon="$(realpath "${1:?usage: run.sh CORDON_BIN}")"
work="$(mktemp -d /tmp/cordon-mcp.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# Debian's Python (a pyenv build under /root is not runnable by the test user).
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "mcp==2.3.0" "pytest==8.4.2"
cp "$here/test_mcp.py" "$cordon" "$(dirname "$cordon")/cordon-mcp" "$work/"
chmod -R a+rX "$work"
echo "mcp: the MCP client against cordon mcp as $(id -un)" >&2
(cd / && CORDON_BIN="$work/cordon" timeout --kill-after=10 600 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$work/test_mcp.py")
if [ "$(id -u)" = 0 ] && id cordon-test >/dev/null 2>&1; then
  echo "mcp: the MCP client against cordon mcp as cordon-test" >&2
  (cd / && setpriv --reuid=cordon-test --regid=cordon-test --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp CORDON_BIN="$work/cordon" \
    timeout --kill-after=10 600 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$work/test_mcp.py")
else
  echo "mcp: the unprivileged run needs root (and the test user cordon-test); not run as uid $(id -u)" >&2
fi
