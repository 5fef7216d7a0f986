#!/bin/sh
# Attempt: set the host's clock. The time given is invalid (EINVAL where the
# call is allowed, EPERM where it is refused), so the control changes nothing.
# Exits 0 if the syscall was reachable (succeeded or failed for a reason other than EPERM/EACCES/ENOSYS).
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import ctypes,errno,sys; libc=ctypes.CDLL(None, use_errno=True); r=libc.syscall(227, 0, (ctypes.c_long*2)(1, 2000000000)); e=ctypes.get_errno(); sys.exit(0 if r >= 0 or e not in (errno.EPERM, errno.EACCES, errno.ENOSYS) else 1)'
}
verdict probe
