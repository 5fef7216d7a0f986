#!/bin/sh
# Attempt: join the host's mount namespace through /proc.
# Exits 0 only if the attempt succeeded.
python3 -c 'import os,ctypes,sys; fd=os.open("/proc/1/ns/mnt", os.O_RDONLY); sys.exit(ctypes.CDLL(None).setns(fd, 0))'
