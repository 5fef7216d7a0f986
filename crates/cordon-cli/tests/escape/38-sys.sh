#!/bin/sh
# Attempt: read /sys.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  ls /sys/kernel | grep -q .
}
verdict probe
