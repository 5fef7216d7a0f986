#!/bin/sh
# Attempt: create a mount namespace.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need unshare
probe() {
  unshare -m true
}
verdict probe
