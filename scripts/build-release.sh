#!/usr/bin/env bash
# Build the release binary statically linked, and print its path. Against
# musl when its Rust target is installed (scripts/setup.sh tries): glibc's
# start-up probes the CPU with dozens of CPUID instructions, ≈ 1 ms per
# process on VMs, and a sandbox start holds one cordon start
# (docs/performance.md). Otherwise against glibc (crt-static). Extra
# arguments go to cargo, and CARGO_TARGET_DIR is honoured (bench/seccomp.sh
# builds a variant so); CORDON_LIBC=glibc forces the glibc build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
target="$(rustc -vV | sed -n 's/^host: //p')"
musl="${target%-gnu}-musl"
if [ "${CORDON_LIBC:-}" != glibc ] && [ "$musl" != "$target-musl" ] &&
  rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
  target="$musl"
fi
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q -p cordon --target "$target" "$@"
# The MCP server (`cordon mcp` runs it) beside it, a binary of its own
# (not for variant builds: their extra arguments are cordon's features).
if [ "$#" = 0 ]; then
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q -p cordon-mcp --target "$target"
fi
echo "$(realpath -m "${CARGO_TARGET_DIR:-target}")/$target/release/cordon"
