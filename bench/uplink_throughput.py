#!/usr/bin/env python3
"""Bulk TCP throughput through the user-mode uplinks network model 1 could
use, against a direct transfer on the host, in paired, interleaved rounds:
each round downloads SIZE MiB once directly, once through pasta (cordon's
uplink until issue #20, its flags) and once through slirp4netns (cordon's
uplink since, its flags), in a shuffled order. The server listens on a lab
address on the loopback device (10.207.0.9, added and removed here); each
uplink is attached to a fresh user + network namespace (`unshare -Urn`).

Usage (root): bench/uplink_throughput.py [ROUNDS] [SIZE_MIB]
Reports the median MB/s of each and the median per-round ratio to direct.
"""
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

LAB = "10.207.0.9"
PORT = 18555

CLIENT = """
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
start = time.perf_counter(); n = 0
while True:
    d = s.recv(1 << 20)
    if not d: break
    n += len(d)
print(n, time.perf_counter() - start)
"""


def serve(size):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((LAB, PORT))
    srv.listen(8)
    chunk = b"x" * (1 << 20)

    def one(c):
        for _ in range(size):
            c.sendall(chunk)
        c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def namespace():
    """A fresh user + network namespace held by a sleeping process."""
    return subprocess.Popen(["unshare", "-Urn", "sleep", "600"])


def start_uplink(kind, holder):
    pid = str(holder.pid)
    if kind == "pasta":
        args = ["pasta", "--config-net", "--foreground", "--quiet", "--tcp-ports", "none",
                "--udp-ports", "none", "--tcp-ns", "none", "--udp-ns", "none", "--no-map-gw",
                "--no-dhcp", "--no-dhcpv6", "--no-ra", "--log-file", "/dev/null",
                "--runas", "0:0", "--userns", f"/proc/{pid}/ns/user",
                "--netns", f"/proc/{pid}/ns/net"]
        if not default_route():
            # As cordon's template did on a host without a default route.
            args += ["--interface", "lo", "--ns-ifname", "eth0", "--address", "169.254.77.2",
                     "--netmask", "255.255.255.252", "--gateway", "169.254.77.1",
                     "--mac-addr", "02:c0:d0:00:00:01"]
    else:
        args = ["slirp4netns", "--configure", "--mtu=65520", "--cidr=169.254.77.0/24",
                "--enable-ipv6", "--disable-host-loopback", "--disable-dns", "--enable-seccomp",
                pid, "tap0"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def default_route():
    with open("/proc/net/route") as f:
        return any(l.split()[1] == "00000000" for l in list(f)[1:])


def transfer(prefix):
    out = subprocess.run(prefix + ["python3", "-c", CLIENT, LAB, str(PORT)],
                         capture_output=True, text=True, check=True, cwd="/")
    n, secs = out.stdout.split()
    return int(n) / float(secs) / 1e6


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    subprocess.run(["ip", "addr", "add", f"{LAB}/32", "dev", "lo"], check=True)
    holders, uplinks = [], []
    try:
        threading.Thread(target=serve, args=(size,), daemon=True).start()
        time.sleep(0.2)
        prefixes = {"direct": []}
        for kind in ["pasta", "slirp4netns"]:
            holder = namespace()
            holders.append(holder)
            time.sleep(0.3)
            uplinks.append(start_uplink(kind, holder))
            prefixes[kind] = ["nsenter", "-t", str(holder.pid), "-U", "-n",
                              "--preserve-credentials"]
        time.sleep(1.5)
        rates = {k: [] for k in prefixes}
        for _ in range(rounds):
            order = list(prefixes)
            random.shuffle(order)
            for kind in order:
                rates[kind].append(transfer(prefixes[kind]))
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        print(f"{rounds} paired rounds of {size} MiB, shuffled order; load average {load}")
        print()
        print("| path | median MB/s | median per-round ratio to direct |")
        print("|---|---|---|")
        for kind in prefixes:
            ratios = [r / d for r, d in zip(rates[kind], rates["direct"])]
            print(f"| {kind} | {statistics.median(rates[kind]):.0f} "
                  f"| {statistics.median(ratios):.3f} |")
    finally:
        for p in uplinks + holders:
            p.kill()
            p.wait()
        subprocess.run(["ip", "addr", "del", f"{LAB}/32", "dev", "lo"])


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: it adds a lab address to the loopback device")
    main()
