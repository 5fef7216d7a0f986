#!/bin/sh
# Attempt: rename the host.
# Exits 0 only if the attempt succeeded.
# control: none (on the host it would rename the host)
. "${0%/*}/probe.lib"
need hostname nsenter
probe() {
  hostname pwned && [ "$(cat /proc/sys/kernel/hostname)" = pwned ] && nsenter -t 1 -u hostname | grep -q pwned
}
verdict probe
