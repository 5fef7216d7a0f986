#!/bin/sh
# Attempt: walk out of a writable path with ...
# Exits 0 only if the attempt succeeded.
cd "$RW" && cat ../../../"$(basename "$OUTSIDE")" 2>/dev/null || cat "$RW/../$(basename "$OUTSIDE")"
