#!/bin/sh
# Attempt: give a file away to another owner.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  touch "$RW/own" && chown 0:0 "$RW/own" && [ "$(id -u)" != 0 ] || chown 12345 "$RW/own"
}
verdict probe
