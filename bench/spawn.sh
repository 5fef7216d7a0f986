#!/usr/bin/env bash
# Whole-process spawn latency of `true`, measured in one run so the ratios
# compare like with like:
#   bare      sh -c true
#   bwrap     bwrap --unshare-all --ro-bind / / true   (plain bubblewrap)
#   native    cordon run -- true                        (default policy, native backend;
#             `true` is a shell builtin, so this runs /bin/sh)
#   native-file  cordon run -- /usr/bin/true            (the file bwrap runs, exec'd directly)
#   cordon-bwrap  cordon run --backend bubblewrap -- true  (same policy through bwrap)
#   cordon-bwrap-file  the same with /usr/bin/true (bwrap execs it, no shell)
#   bwrap-same  the bwrap command cordon-bwrap-file runs, started directly
#             (bench/bwrap_same.py): what cordon adds around bwrap
# Run as root, it measures again as an unprivileged user (nobody), since the
# two paths differ (root's sandbox gets an owner-less baseline; unprivileged
# bwrap must create a user namespace too).
# Prints medians and ratios as Markdown tables. Usage: bench/spawn.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-500}"
. bench/prepare.sh
cordon="$out/cordon"

# Paired, interleaved rounds (bench/paired.py; ratios are medians of
# per-round ratios to plain bwrap, so load that changes during the run hits
# every command alike). CORDON_BENCH_HYPERFINE=1 uses hyperfine instead, one
# block per command: absolute times on a quiet machine only.
install -m 644 bench/bwrap_same.py "$out/bwrap_same.py"
measure() { # measure LABEL [PREFIX...]
  local label="$1"
  shift
  echo "spawn latency of \`true\` as $label, $(date -u '+%F %H:%M') UTC"
  if [ -n "${CORDON_BENCH_HYPERFINE:-}" ]; then
    (cd / && "$@" hyperfine -N --warmup 50 --runs "$runs" \
      -n bwrap 'bwrap --unshare-all --ro-bind / / true' -n bare 'sh -c true' \
      -n native "$cordon run -- true" -n native-file "$cordon run -- /usr/bin/true" \
      -n cordon-bwrap "$cordon run --backend bubblewrap -- true" \
      -n cordon-bwrap-file "$cordon run --backend bubblewrap -- /usr/bin/true")
    return
  fi
  # The bwrap command cordon's bubblewrap backend runs, replayed as is
  # (bench/bwrap_same.py): cordon-bwrap-file's own baseline.
  (cd / && "$@" /usr/bin/python3 "$out/bwrap_same.py" "$cordon" "$out/same-$label.json" \
    -- /usr/bin/true)
  (cd / && "$@" /usr/bin/python3 "$out/paired.py" --also bwrap-same "$runs" \
    'bwrap=bwrap --unshare-all --ro-bind / / true' \
    "bwrap-same=@$out/same-$label.json" \
    'bare=sh -c true' \
    "native=$cordon run -- true" \
    "native-file=$cordon run -- /usr/bin/true" \
    "cordon-bwrap=$cordon run --backend bubblewrap -- true" \
    "cordon-bwrap-file=$cordon run --backend bubblewrap -- /usr/bin/true")
  echo
}

measure "$(id -un)"
if [ "$(id -u)" = 0 ]; then
  chmod 777 "$out"
  measure nobody setpriv --reuid=65534 --regid=65534 --clear-groups --
fi
