#!/bin/sh
# Attempt: reach the host root through /proc/1/root, or through a host
# process's /proc/PID/root.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  cat /proc/1/root/etc/shadow || cat "/proc/$HOSTPID/root/etc/shadow" || ls -a /proc/1/root/root | grep -qv '^\.\.\?$'
}
verdict probe
