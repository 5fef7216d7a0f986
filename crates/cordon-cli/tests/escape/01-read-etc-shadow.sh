#!/bin/sh
# Attempt: read the host's password hashes.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat /etc/shadow
}
verdict probe
