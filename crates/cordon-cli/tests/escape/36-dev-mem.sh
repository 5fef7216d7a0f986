#!/bin/sh
# Attempt: read physical memory.
# Exits 0 only if the attempt succeeded.
# control: none (/dev/mem is closed to root on a container host (such as CI's))
. "${0%/*}/probe.lib"
probe() {
  head -c1 /dev/mem
}
verdict probe
