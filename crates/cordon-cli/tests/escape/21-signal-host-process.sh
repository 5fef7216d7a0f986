#!/bin/sh
# Attempt: kill a host process.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  kill -0 "$HOSTPID"
}
verdict probe
