#!/bin/sh
# Attempt: read a denied file through another hard link.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat "$RW/innocent"
}
verdict probe
