#!/usr/bin/env bash
# What Landlock-only mode's metadata broker costs (docs/security.md: its
# reaper makes each chmod/chown/utimes/xattr change for the workload). One
# paired run (bench/paired.py) on the native backend, where the kernel makes
# them directly, and in Landlock-only mode:
#   chmod-0 / chmod-2000   a Python loop making 0 or 2000 chmod(2) calls (the
#                          broker's cost per call: the difference of the two
#                          differences, over 2000)
#   tar                    extracting /usr/share/doc (thousands of files:
#                          modes, owners and times set)
# Landlock-only mode runs under tests/support/lock_namespaces.py, which makes
# namespaces unavailable the way a locked-down container does.
# Usage: bench/metadata.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
. bench/prepare.sh
install -m 644 crates/cordon-cli/tests/support/lock_namespaces.py "$out/lock.py"
# Landlock-only mode creates nothing at a writable tree's top: work below.
mkdir -p "$out/w/x"
tar cf "$out/doc.tar" -C /usr/share doc 2>/dev/null || true
touch "$out/w/x/f"
cat >"$out/chmod.py" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    os.chmod(sys.argv[1], 0o644 if i % 2 else 0o600)
PY
cat >"$out/extract.sh" <<SH
cd "$out/w/x" && rm -rf doc && tar xf "$out/doc.tar"
SH
chmod -R a+rX "$out"
echo "metadata changes, native vs Landlock-only, $(date -u '+%F %H:%M') UTC," \
  "$(tar tf "$out/doc.tar" | wc -l) entries in the tar"
c="$out/cordon run --ro $out --rw $out/w"
l="/usr/bin/python3 $out/lock.py $c"
(cd / && /usr/bin/python3 "$out/paired.py" "$runs" \
  "native-chmod-0=$c -- python3 $out/chmod.py $out/w/x/f 0" \
  "native-chmod-2000=$c -- python3 $out/chmod.py $out/w/x/f 2000" \
  "landlock-only-chmod-0=$l -- python3 $out/chmod.py $out/w/x/f 0" \
  "landlock-only-chmod-2000=$l -- python3 $out/chmod.py $out/w/x/f 2000")
(cd / && /usr/bin/python3 "$out/paired.py" "$runs" \
  "tar-native=$c -- sh $out/extract.sh" \
  "tar-landlock-only=$l -- sh $out/extract.sh")
