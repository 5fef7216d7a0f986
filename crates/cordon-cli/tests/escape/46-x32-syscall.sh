#!/bin/sh
# Attempt: use the x32 syscall ABI.
# Exits 0 if the syscall was reachable (succeeded or failed for a reason other than EPERM/EACCES/ENOSYS).
# control: none (kernels disable the x32 ABI by default: ENOSYS on the host too)
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import ctypes,errno,sys; libc=ctypes.CDLL(None, use_errno=True); r=libc.syscall(1073741863); e=ctypes.get_errno(); sys.exit(0 if r >= 0 or e not in (errno.EPERM, errno.EACCES, errno.ENOSYS) else 1)'
}
verdict probe
