#!/bin/sh
# Attempt: make a new hard link to a denied file.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  ln "$SECRET" "$RW/newlink" && cat "$RW/newlink"
}
verdict probe
