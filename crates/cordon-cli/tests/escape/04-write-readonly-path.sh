#!/bin/sh
# Attempt: modify a read-only path.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  echo x >> "$RO/data"
}
verdict probe
