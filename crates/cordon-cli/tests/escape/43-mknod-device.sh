#!/bin/sh
# Attempt: create a device node.
# Exits 0 only if the attempt succeeded.
# control: none (root on a container host (such as CI's) may not make or open device nodes)
. "${0%/*}/probe.lib"
need mknod
probe() {
  mknod "$RW/mem" c 1 1 && head -c1 "$RW/mem"
}
verdict probe
