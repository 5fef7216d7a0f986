#!/bin/sh
# Attempt: regain capabilities in a nested user namespace.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need unshare
probe() {
  unshare -Ur true
}
verdict probe
