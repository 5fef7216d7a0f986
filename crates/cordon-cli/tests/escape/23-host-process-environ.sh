#!/bin/sh
# Attempt: read a host process's environment.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat "/proc/$HOSTPID/environ" | grep -q .
}
verdict probe
