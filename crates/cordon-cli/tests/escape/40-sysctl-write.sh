#!/bin/sh
# Attempt: write a kernel setting (its own value back, so the control
# changes nothing).
# Exits 0 only if the attempt succeeded.
# control: none (/proc/sys is read-only to root on a container host (such as CI's))
. "${0%/*}/probe.lib"
probe() {
  v=$(cat /proc/sys/kernel/sysrq) && echo "$v" > /proc/sys/kernel/sysrq
}
verdict probe
