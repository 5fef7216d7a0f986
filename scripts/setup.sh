#!/usr/bin/env bash
# Install what cordon needs to build, test and benchmark on a fresh Debian
# machine. Idempotent: installs only what is missing.
set -euo pipefail

packages=(
  bubblewrap   # the bubblewrap backend and the benchmark baseline
  hyperfine    # bench/
  iproute2     # network tests
  slirp4netns  # the uplink of network model 1 (packet rules, NAT'd stack)
  passt        # pasta: bench/uplink_memory.sh compares it with slirp4netns
  nftables     # nft: tests compare cordon's packet filter with what nft installs
  curl         # network tests
  python3      # test probes inside the sandbox, bench report
  python3-venv # the python preset's tests and examples/day-one (a project's .venv)
  python3-pytest # examples/day-one and the working-directory tests
  util-linux   # setpriv (unprivileged test runs), mount, unshare
  passwd       # useradd for the unprivileged test user
  procps       # ps, pgrep
  bash
  g++          # libFuzzer, built by the fuzz target (scripts/fuzz.sh)
  coreutils
)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# slirp4netns opens /dev/net/tun to give a sandbox its uplink. Debian's udev rules
# make it 0666; minimal VMs without udev leave it 0600 (root only).
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ] && [ "$(id -u)" = 0 ]; then
  echo "setup: /dev/net/tun is $(stat -c %a /dev/net/tun); setting Debian's default 0666" >&2
  chmod 0666 /dev/net/tun
fi

# MXC's own SDKs (0.8 and 1.0) and MXC 1.0.1's runner (lxc-exec, shipped in
# the npm package) for the side-by-side tests: compat/mxc, pinned by its lock.
if ! command -v npm >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing nodejs and npm" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
compat="$(dirname "$0")/../compat/mxc"
if [ ! -x "$compat/node_modules/mxc-sdk-1/bin/x64/lxc-exec" ] ||
  [ "$compat/package-lock.json" -nt "$compat/node_modules/.package-lock.json" ]; then
  echo "setup: installing MXC's SDKs into compat/mxc (npm ci)" >&2
  # No install scripts: node-pty ships prebuilt binaries for linux-x64, and
  # MXC 1.0's native library (koffi) is not what these tests drive.
  (cd "$compat" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
# cordon's own TypeScript SDK (sdk/ts): its compiler, typedoc and the
# optional node-pty (prebuilt for linux-x64, so no install scripts).
sdk_ts="$(dirname "$0")/../sdk/ts"
if [ ! -d "$sdk_ts/node_modules/typescript" ] ||
  [ "$sdk_ts/package-lock.json" -nt "$sdk_ts/node_modules/.package-lock.json" ]; then
  echo "setup: installing the TypeScript SDK's tools into sdk/ts (npm ci)" >&2
  (cd "$sdk_ts" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

if ! command -v cargo >/dev/null 2>&1; then
  for dir in "$HOME/.cargo/bin" /usr/local/cargo/bin; do
    [ -x "$dir/cargo" ] && export PATH="$dir:$PATH"
  done
fi
command -v cargo >/dev/null 2>&1 || {
  echo "setup: cordon needs a Rust toolchain (cargo 1.88 or newer); install it with rustup" >&2
  exit 1
}

# The test script checks formatting and lints; rustup's default profile has
# both components, a minimal one does not.
if command -v rustup >/dev/null 2>&1; then
  for component in clippy rustfmt; do
    cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 ||
      timeout 120 rustup component add "$component" >/dev/null 2>&1 ||
      echo "setup: rustup could not add $component; scripts/test.sh needs it" >&2
  done
fi

# Release builds link against musl when its Rust target is installed: glibc's
# start-up probes the CPU with dozens of CPUID instructions, which cost ≈ 1 ms
# per process on VMs (docs/performance.md). Optional: without it,
# scripts/build-release.sh links glibc statically.
if command -v rustup >/dev/null 2>&1 &&
  ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl &&
  [ "$(uname -m)" = x86_64 ]; then
  timeout 120 rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 ||
    echo "setup: the musl target could not be installed; release builds use static glibc" >&2
fi
