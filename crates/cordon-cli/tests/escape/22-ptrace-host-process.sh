#!/bin/sh
# Attempt: ptrace a host process.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import ctypes,sys,os; sys.exit(ctypes.CDLL(None).ptrace(16, int(os.environ["HOSTPID"]), 0, 0))'
}
verdict probe
