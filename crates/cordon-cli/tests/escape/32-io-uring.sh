#!/bin/sh
# Attempt: reach io_uring_setup().
# Exits 0 if the syscall was reachable (succeeded or failed for a reason other than EPERM/EACCES/ENOSYS).
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import ctypes,errno,sys; libc=ctypes.CDLL(None, use_errno=True); r=libc.syscall(425, 4, ctypes.create_string_buffer(120)); e=ctypes.get_errno(); sys.exit(0 if r >= 0 or e not in (errno.EPERM, errno.EACCES, errno.ENOSYS) else 1)'
}
verdict probe
