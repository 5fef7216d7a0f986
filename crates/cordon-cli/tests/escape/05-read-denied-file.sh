#!/bin/sh
# Attempt: read a denied file inside a writable tree.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat "$SECRET"
}
verdict probe
