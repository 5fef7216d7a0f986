#!/bin/sh
# Attempt: walk out of a writable path with ...
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cd "$RW" && cat ../../../"$(basename "$OUTSIDE")" 2>/dev/null || cat "$RW/../$(basename "$OUTSIDE")"
}
verdict probe
