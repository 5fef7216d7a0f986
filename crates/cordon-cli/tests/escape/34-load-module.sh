#!/bin/sh
# Attempt: reach finit_module().
# Exits 0 if the syscall was reachable (succeeded or failed for a reason other than EPERM/EACCES/ENOSYS).
# control: none (root on a container host (such as CI's) lacks CAP_SYS_MODULE: EPERM there too)
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import ctypes,errno,sys; libc=ctypes.CDLL(None, use_errno=True); r=libc.syscall(313, -1, b"", 0); e=ctypes.get_errno(); sys.exit(0 if r >= 0 or e not in (errno.EPERM, errno.EACCES, errno.ENOSYS) else 1)'
}
verdict probe
