#!/usr/bin/env bash
# Build the release binary statically linked (glibc, crt-static): no dynamic
# loader work on every start, which is a measurable share of a sandbox spawn.
# Prints the path of the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
host="$(rustc -vV | sed -n 's/^host: //p')"
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked -q -p cordon --target "$host"
echo "$PWD/target/$host/release/cordon"
