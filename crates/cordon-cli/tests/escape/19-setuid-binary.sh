#!/bin/sh
# Attempt: become root through a setuid binary.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need su
probe() {
  su -c true root </dev/null
}
verdict probe
