#!/bin/sh
# Attempt: join the host's mount namespace through /proc.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import os,ctypes,sys
for pid in ("1", os.environ["HOSTPID"]):
    try:
        fd = os.open("/proc/%s/ns/mnt" % pid, os.O_RDONLY)
    except OSError:
        continue
    if ctypes.CDLL(None).setns(fd, 0) == 0:
        sys.exit(0)
sys.exit(1)'
}
verdict probe
