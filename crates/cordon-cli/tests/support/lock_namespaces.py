"""Run a command the way a locked-down container would: creating namespaces is
refused. Installs a seccomp filter like Docker's default profile (clone3 ->
ENOSYS; unshare, setns, and clone with namespace flags -> EPERM), then execs.

Usage: python3 lock_namespaces.py [--no-landlock] [--allow-namespaces] COMMAND [ARGS...]
  --no-landlock       also make the Landlock syscalls fail with ENOSYS (a kernel without Landlock)
  --allow-namespaces  do not lock namespaces (with --no-landlock: only Landlock is missing)
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


SYS_LANDLOCK = (444, 445, 446)


def program(lock_namespaces, lock_landlock):
    body = []
    if lock_landlock:
        for nr in SYS_LANDLOCK:
            body += [insn(JEQ_K, 0, 1, nr), insn(RET_K, 0, 0, RET_ERRNO | ENOSYS)]
    if lock_namespaces:
        body += [
            insn(JEQ_K, 0, 1, SYS_CLONE3),          # -> +1 / +2
            insn(RET_K, 0, 0, RET_ERRNO | ENOSYS),
            insn(JEQ_K, 4, 0, SYS_UNSHARE),         # -> EPERM
            insn(JEQ_K, 3, 0, SYS_SETNS),           # -> EPERM
            insn(JEQ_K, 0, 3, SYS_CLONE),           # -> flags / ALLOW
            insn(LD_W_ABS, 0, 0, 16),               # clone flags, low word
            insn(JSET_K, 0, 1, NAMESPACE_FLAGS),    # -> EPERM / ALLOW
            insn(RET_K, 0, 0, RET_ERRNO | EPERM),
        ]
    return [
        insn(LD_W_ABS, 0, 0, 4),                # arch
        insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        insn(RET_K, 0, 0, RET_KILL),
        insn(LD_W_ABS, 0, 0, 0),                # syscall number
    ] + body + [insn(RET_K, 0, 0, RET_ALLOW)]


def main():
    if os.uname().machine != "x86_64":
        sys.exit("lock_namespaces.py: x86_64 only")
    args = sys.argv[1:]
    lock_landlock = "--no-landlock" in args
    lock_namespaces = "--allow-namespaces" not in args
    args = [a for a in args if a not in ("--no-landlock", "--allow-namespaces")]
    filt = program(lock_namespaces, lock_landlock)
    code = b"".join(filt)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("HxxxxxxQ", len(filt), ctypes.addressof(buf))
    prog_buf = ctypes.create_string_buffer(prog, len(prog))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        sys.exit(f"no_new_privs: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(22, 2, ctypes.addressof(prog_buf), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        sys.exit(f"seccomp: {os.strerror(ctypes.get_errno())}")
    os.execvp(args[0], args)


main()
