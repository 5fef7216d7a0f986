#!/usr/bin/env bash
# Fuzz config parsing and policy resolution (no panic on any input; every
# refusal has a reason). Stable Rust: cargo-fuzz with --sanitizer none.
# Usage: scripts/fuzz.sh [SECONDS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
mkdir -p fuzz/corpus/config
cd fuzz
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! cargo fuzz run --sanitizer none config corpus/config seeds/config -- \
  -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "fuzz: failed (crashing inputs, if any, are in fuzz/artifacts/config)" >&2
  exit 1
fi
grep -E "^(#[0-9]+.*DONE|Done )" "$log"
