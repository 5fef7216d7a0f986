#!/usr/bin/env bash
# Build the wheel that carries the static cordon binary (maturin,
# bindings = "bin"). Usage: scripts/build-wheel.sh OUTDIR [TARGET] [maturin flags]
# TARGET defaults to this machine's musl target (x86_64-unknown-linux-musl).
# Needs maturin (pip install maturin) and the target's Rust std
# (rustup target add TARGET); aarch64 from x86_64 also needs a linker:
# pass --zig with cargo-zigbuild installed (pip install ziglang).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:?usage: build-wheel.sh OUTDIR [TARGET] [maturin flags]}")"
target="${2:-$(uname -m)-unknown-linux-musl}"
shift $(( $# >= 2 ? 2 : 1 ))
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
cd "$here"
# The MCP server (`cordon mcp` runs the cordon-mcp beside cordon) goes into
# the wheel's scripts too, through maturin's data directory.
cargo build --release --locked --target "$target" -p cordon-mcp \
  --manifest-path "$here/../../Cargo.toml" >&2
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/../../target}")"
rm -rf "$here/wheel-data" && mkdir -p "$here/wheel-data/scripts"
install -m 0755 "$target_dir/$target/release/cordon-mcp" "$here/wheel-data/scripts/cordon-mcp"
strip "$here/wheel-data/scripts/cordon-mcp" 2>/dev/null || true
maturin build --release --locked --target "$target" --out "$out" "$@" >&2
ls "$out"/cordon_sandbox-*.whl
