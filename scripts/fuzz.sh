#!/usr/bin/env bash
# Fuzz the parsers of hostile bytes: config parsing and policy resolution,
# the filtering proxy's HTTP request head and SOCKS5 handshake, and the
# lifecycle exec request. No panic on any input; every refusal has a reason.
# Stable Rust: cargo-fuzz with --sanitizer none.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 15, all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(config proxy_http proxy_socks5 exec_request)
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
cd fuzz
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo fuzz build --sanitizer none >/dev/null 2>"$log" || {
  tail -40 "$log" >&2
  echo "fuzz: building the targets failed" >&2
  exit 1
}
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed (crashing inputs, if any, are in fuzz/artifacts/$target)" >&2
    exit 1
  fi
  echo "fuzz: $target: $(grep -E "^(#[0-9]+.*DONE|Done )" "$log" | tail -1)"
done
