#!/usr/bin/env bash
# The TypeScript SDK's whole check (run by scripts/test.sh):
#   sdk/ts/scripts/test.sh CORDON_BIN LIBMXC_FFI_SO
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cordon="$(realpath "${1:?usage: test.sh CORDON_BIN LIBMXC_FFI_SO}")"
lib="$(realpath "${2:?usage: test.sh CORDON_BIN LIBMXC_FFI_SO}")"
cd "$here"
npx tsc -p tsconfig.json
npx tsc -p examples/tsconfig.json
# The API reference; a broken link or undocumented export is an error.
npx typedoc --treatWarningsAsErrors --logLevel Warn
tests=(test/v0.test.mjs test/v1.test.mjs test/behaviour.test.mjs test/samples.test.mjs)
bounded() { timeout --kill-after=10 900 "$@"; }
echo "sdk/ts: node:test as $(id -un) against $cordon" >&2
CORDON_BIN="$cordon" bounded node --test --test-timeout=120000 "${tests[@]}"
if [ "$(id -u)" = 0 ] && id cordon-test >/dev/null 2>&1; then
  # The same tests as the unprivileged user, from a copy it can read.
  shared="$(mktemp -d /tmp/cordon-sdk-user.XXXXXX)"
  trap 'rm -rf "$shared"' EXIT
  mkdir "$shared/ts"
  cp -a dist dist-examples test package.json "$shared/ts/"
  cp -al node_modules "$shared/ts/node_modules" 2>/dev/null || cp -a node_modules "$shared/ts/node_modules"
  cp "$cordon" "$shared/cordon"
  cp ../../crates/cordon-cli/tests/support/lock_namespaces.py "$shared/lock_namespaces.py"
  # The network test's lab address is root's to add; the unprivileged run uses it.
  added=""
  if ! ip -4 -o addr show dev lo | grep -q ' 10.207.0.1/32'; then
    ip addr add 10.207.0.1/32 dev lo && added=1
  fi
  find "$shared" -type d -exec chmod a+rx {} +
  chmod -R a+r "$shared"
  echo "sdk/ts: node:test as cordon-test" >&2
  status=0
  (cd "$shared/ts" && setpriv --reuid=cordon-test --regid=cordon-test --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp CORDON_BIN="$shared/cordon" \
    CORDON_LOCK_SCRIPT="$shared/lock_namespaces.py" \
    timeout --kill-after=10 900 node --test --test-timeout=120000 "${tests[@]}") || status=$?
  [ -n "$added" ] && ip addr del 10.207.0.1/32 dev lo
  [ "$status" = 0 ] || exit "$status"
else
  echo "sdk/ts: the unprivileged run needs root (and the test user cordon-test); not run as uid $(id -u)" >&2
fi
./scripts/against-mxc.sh "$cordon" "$lib"
out="$(mktemp -d /tmp/cordon-sdk-pack.XXXXXX)"
./scripts/pack.sh "$cordon" "$out"
rm -rf "$out"
