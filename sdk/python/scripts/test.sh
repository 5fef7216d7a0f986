#!/usr/bin/env bash
# The Python SDK's whole check (run by scripts/test.sh):
#   sdk/python/scripts/test.sh
# Builds the wheel (the static cordon binary inside), installs it into a
# fresh venv with pytest and pdoc from PyPI, runs the suite against the
# wheel's own binary as root and as the unprivileged test user, renders the
# API reference, and runs the README's quick start in another fresh venv
# holding only the wheel.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/cordon-py.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# The system's Python (Debian's /usr/bin/python3) for the venvs: one the
# unprivileged test user can run (a pyenv build under /root is not).
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
pip_q() { "$@" --quiet --disable-pip-version-check --no-input; }
"$py" -m venv "$work/build"
pip_q "$work/build/bin/pip" install "maturin==1.9.6"
# A target directory of its own: maturin's build must not replace the
# release binary the rest of the suite tests.
CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-$here/../../target}")/wheel" \
  PATH="$work/build/bin:$PATH" "$here/scripts/build-wheel.sh" "$work/wheels" >/dev/null
wheel="$(ls "$work"/wheels/cordon_sandbox-*.whl)"
echo "sdk/python: built $(basename "$wheel")" >&2

"$py" -m venv "$work/venv"
# langchain-core: the framework of the integration test (its real package).
pip_q "$work/venv/bin/pip" install "$wheel" "pytest==8.4.2" "pdoc==16.0.0" "langchain-core==1.2.0" "pyflakes==4.1.0"
# Lint: no unused or undefined names in the package or the tests.
"$work/venv/bin/python" -m pyflakes "$here/python/cordon" "$here/tests"
# The API reference from the docstrings.
"$work/venv/bin/pdoc" -o "$work/api" cordon
test -s "$work/api/cordon.html"

echo "sdk/python: pytest as $(id -un)" >&2
(cd / && env -u CORDON_BIN timeout --kill-after=10 900 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests")
if [ "$(id -u)" = 0 ] && id cordon-test >/dev/null 2>&1; then
  cp -r "$here/tests" "$work/tests"
  chmod -R a+rX "$work"
  added=""
  if ! ip -4 -o addr show dev lo | grep -q ' 10.207.0.1/32'; then
    ip addr add 10.207.0.1/32 dev lo && added=1
  fi
  echo "sdk/python: pytest as cordon-test" >&2
  status=0
  (cd / && setpriv --reuid=cordon-test --regid=cordon-test --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp \
    timeout --kill-after=10 900 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$work/tests") || status=$?
  [ -z "$added" ] || ip addr del 10.207.0.1/32 dev lo
  [ "$status" = 0 ] || exit "$status"
else
  echo "sdk/python: the unprivileged run needs root (and the test user cordon-test); not run as uid $(id -u)" >&2
fi

# The README's quick start, as written, in a venv holding only the wheel.
"$py" -m venv "$work/fresh"
pip_q "$work/fresh/bin/pip" install "$wheel"
python3 - "$here/README.md" "$work/quickstart.py" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
block = re.search(r"## Quick start\n.*?```python\n(.*?)```", text, re.S).group(1)
open(sys.argv[2], "w").write(block)
PY
out="$(cd / && env -u CORDON_BIN "$work/fresh/bin/python" "$work/quickstart.py")"
echo "$out" >&2
grep -qx "1 hello from the sandbox False" <<<"$out"
grep -qx "kept between commands" <<<"$out"
grep -Eqx "denied: (PermissionError|FileNotFoundError)" <<<"$out"
echo "sdk/python: the README quick start ran from a fresh venv" >&2
# The MCP server came with the wheel: `cordon mcp` finds it beside cordon.
(cd / && "$work/fresh/bin/cordon" mcp --help) | grep -q -- "--http"
echo "sdk/python: cordon mcp runs from the wheel" >&2
