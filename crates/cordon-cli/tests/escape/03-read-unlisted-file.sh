#!/bin/sh
# Attempt: read a host file no list mentions.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat "$OUTSIDE"
}
verdict probe
