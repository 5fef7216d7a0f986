"""Run a command the way a locked-down container would: creating namespaces is
refused. Installs a seccomp filter like Docker's default profile (clone3 ->
ENOSYS; unshare, setns, and clone with namespace flags -> EPERM), then execs.

Usage: python3 lock_namespaces.py COMMAND [ARGS...]
"""
import ctypes
import os
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
SYS_CLONE, SYS_UNSHARE, SYS_SETNS, SYS_CLONE3 = 56, 272, 308, 435
# NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
EPERM, ENOSYS = 1, 38
RET_ALLOW, RET_ERRNO, RET_KILL = 0x7FFF0000, 0x00050000, 0
LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06


def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


PROGRAM = [
    insn(LD_W_ABS, 0, 0, 4),                # 0  arch
    insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),   # 1  -> 3
    insn(RET_K, 0, 0, RET_KILL),            # 2
    insn(LD_W_ABS, 0, 0, 0),                # 3  syscall number
    insn(JEQ_K, 0, 1, SYS_CLONE3),          # 4  -> 5 / 6
    insn(RET_K, 0, 0, RET_ERRNO | ENOSYS),  # 5
    insn(JEQ_K, 4, 0, SYS_UNSHARE),         # 6  -> 11
    insn(JEQ_K, 3, 0, SYS_SETNS),           # 7  -> 11
    insn(JEQ_K, 0, 3, SYS_CLONE),           # 8  -> 9 / 12
    insn(LD_W_ABS, 0, 0, 16),               # 9  clone flags, low word
    insn(JSET_K, 0, 1, NAMESPACE_FLAGS),    # 10 -> 11 / 12
    insn(RET_K, 0, 0, RET_ERRNO | EPERM),   # 11
    insn(RET_K, 0, 0, RET_ALLOW),           # 12
]


def main():
    if os.uname().machine != "x86_64":
        sys.exit("lock_namespaces.py: x86_64 only")
    code = b"".join(PROGRAM)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("HxxxxxxQ", len(PROGRAM), ctypes.addressof(buf))
    prog_buf = ctypes.create_string_buffer(prog, len(prog))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        sys.exit(f"no_new_privs: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(22, 2, ctypes.addressof(prog_buf), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        sys.exit(f"seccomp: {os.strerror(ctypes.get_errno())}")
    os.execvp(sys.argv[1], sys.argv[1:])


main()
