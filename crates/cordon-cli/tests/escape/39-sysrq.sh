#!/bin/sh
# Attempt: trigger sysrq.
# Exits 0 only if the attempt succeeded.
# control: none (/proc/sysrq-trigger is read-only to root on a container host (such as CI's))
. "${0%/*}/probe.lib"
probe() {
  echo h > /proc/sysrq-trigger
}
verdict probe
