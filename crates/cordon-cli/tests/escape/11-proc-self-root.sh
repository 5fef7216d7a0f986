#!/bin/sh
# Attempt: reach an unlisted file through /proc/self/root.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat "/proc/self/root$OUTSIDE"
}
verdict probe
