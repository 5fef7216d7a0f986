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
  # The operator's ceiling over an unprivileged user's server: root's
  # /etc/cordon/ceiling.json (bound over /etc/cordon in a private mount
  # namespace, so the host never sees it) allows BASE/work only.
  base="$work/ceiling-base"
  mkdir -p "$base/work" "$base/other" "$work/etc-cordon"
  echo -n public > "$base/work/notes"
  echo -n other > "$base/other/x"
  printf '{"version": 1, "filesystem": {"readonly": ["%s/work"], "readwrite": []}}\n' "$base" \
    > "$work/etc-cordon/ceiling.json"
  chmod -R a+rX,go-w "$base" "$work/etc-cordon"
  # The mount point, removed again if this test made it.
  made_etc_cordon=
  [ -d /etc/cordon ] || { mkdir /etc/cordon && made_etc_cordon=1; }
  echo "mcp: cordon mcp as cordon-test under root's /etc/cordon/ceiling.json" >&2
  out="$(cd / && unshare -m --propagation private sh -c \
    'mount --bind "$1" /etc/cordon && shift && exec "$@"' sh "$work/etc-cordon" \
    setpriv --reuid=cordon-test --regid=cordon-test --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp CORDON_BIN="$work/cordon" CORDON_MCP_SYSTEM_CEILING="$base" \
    timeout --kill-after=10 600 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    -k test_the_system_ceiling_holds_an_unprivileged_server "$work/test_mcp.py" 2>&1)" ||
    { echo "$out" >&2; [ -z "$made_etc_cordon" ] || rmdir /etc/cordon; exit 1; }
  [ -z "$made_etc_cordon" ] || rmdir /etc/cordon
  echo "$out" >&2
  # Not skipped: it ran, and passed.
  grep -q "^1 passed" <<<"$out" || { echo "mcp: the system-ceiling test did not run" >&2; exit 1; }
else
  echo "mcp: the unprivileged run needs root (and the test user cordon-test); not run as uid $(id -u)" >&2
fi
