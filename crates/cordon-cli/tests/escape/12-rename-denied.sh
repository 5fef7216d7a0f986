#!/bin/sh
# Attempt: move a denied file out of the way.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  mv "$SECRET" "$RW/moved"
}
verdict probe
