#!/usr/bin/env bash
# The whole test suite: unit tests, and the integration suites that attack
# the sandbox from inside. As root it also runs every policy test as an
# unprivileged user (created on first use), because the two paths differ.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

cargo build --workspace --all-targets --locked
cargo test --workspace --locked
# Config parsing and resolution under the fuzzer, for a bounded time.
./scripts/fuzz.sh 20
