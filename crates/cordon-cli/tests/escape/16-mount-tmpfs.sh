#!/bin/sh
# Attempt: mount over /tmp.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need mount
probe() {
  mount -t tmpfs none /tmp
}
verdict probe
