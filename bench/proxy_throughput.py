#!/usr/bin/env python3
"""Bulk download (300 MiB): direct, and from inside a sandbox through
cordon's relay to the caller's proxy on the host's loopback and through
cordon's own filtering proxy (a host rule), in one run, each proxied run
paired with a direct run of the same path just before it.

Twice: with the server sending under the host's TCP congestion control (this
VM kind's is BBR, which paces) and under cubic (Debian's default, no pacing),
because the direct baseline differs a lot between the two.

The filtering proxy never connects to the host's own addresses, so its
server runs in a network namespace this script creates (root needed), at
10.204.0.2 behind a veth pair; its direct baseline uses the same path.

With CORDON_BENCH_USER=USER (root still sets up), the transfers and cordon
run as that user instead (the binary must be executable by them).

A control runs beside cordon's relay: a minimal splice relay on the host,
the least any relay can do (see MINIMAL_RELAY).

Each round runs all ten transfers once in a shuffled order (load that
changes during the run hits every path alike); a proxied transfer's share is
its throughput over its direct baseline's in the same round, and the table
gives the median share over the rounds with its quartiles. It also reports
the CPU time each transfer used per GiB (the reader's and cordon's rusage,
the server's and the control relay's /proc times): what a proxied path
costs beside its direct one, whether or not the machine had a core to spare.

Usage: [CORDON_BENCH_USER=USER] bench/proxy_throughput.py CORDON_BINARY [ROUNDS [MIB]]"""
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading

cordon = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 11
# One GiB by default: a loopback transfer of 300 MiB lasts ~0.1 s, short
# enough for one scheduling hiccup to halve it.
size = (int(sys.argv[3]) if len(sys.argv) > 3 else 1024) * 1024 * 1024
SERVER = r'''
import os, socket, sys, tempfile
size = int(sys.argv[2])
cc = sys.argv[3].encode() if len(sys.argv) > 3 else None
# Served from the page cache with sendfile: the load generator should cost
# as little CPU as possible, so that the measurement is about the path.
blob = tempfile.TemporaryFile()
blob.write(b"x" * size); blob.flush()
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((sys.argv[1], 0)); server.listen(16)
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    if cc: conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc)
    conn.recv(4096); conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
    conn.sendfile(blob, 0, size)
    conn.close()
'''


# The control for the relay: the least any relay can do, in the same place
# (host loopback to host loopback), the way cordon's relay does it (splice
# through a 1 MiB pipe, one thread per direction, Reno towards the reader).
# If cordon's relay falls short of direct where this one does too, the
# shortfall is the extra hop on this machine, not cordon.
MINIMAL_RELAY = r'''
import fcntl, os, socket, sys, threading
upstream = int(sys.argv[1])
listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0)); listener.listen(16)
print(listener.getsockname()[1], flush=True)
def pump(a, b):
    r, w = os.pipe(); fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
    try:
        while n := os.splice(a.fileno(), w, 1 << 20):
            while n: n -= os.splice(r, b.fileno(), n)
    except OSError: pass
    try: b.shutdown(socket.SHUT_WR)
    except OSError: pass
while True:
    c, _ = listener.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
'''


def start_minimal_relay(port):
    proc = subprocess.Popen([sys.executable, "-c", MINIMAL_RELAY, str(port)], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def start_server(prefix, bind, cc):
    args = [sys.executable, "-c", SERVER, bind, str(size)] + ([cc] if cc else [])
    proc = subprocess.Popen(prefix + args, stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def reader(host, port, via_proxy=False):
    connect = (
        "c.sendall(b\"CONNECT bulk.test:%d HTTP/1.1\\r\\n\\r\\n\"); h=b\"\"\n"
        "while not h.endswith(b\"\\r\\n\\r\\n\"): h+=c.recv(1)\n" % port
        if via_proxy else ""
    )
    target = ("127.0.0.1", 3128) if via_proxy else (host, port)
    return (
        "python3 -c 'import socket,time; c=socket.create_connection((\"%s\",%d))\n%s"
        "c.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\"); t=time.time(); n=0; b=bytearray(1<<20)\n"
        "while True:\n  k=c.recv_into(b)\n  if not k: break\n  n+=k\n"
        "print(round(n/(time.time()-t)/1e6))'" % (target[0], target[1], connect)
    )


def config(doc):
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(doc, f)
    f.close()
    os.chmod(f.name, 0o644)
    return f.name


# Who runs the transfers: root, or CORDON_BENCH_USER (setpriv, system PATH).
as_user = []
if os.environ.get("CORDON_BENCH_USER"):
    import pwd
    who = pwd.getpwnam(os.environ["CORDON_BENCH_USER"])
    as_user = ["setpriv", f"--reuid={who.pw_uid}", f"--regid={who.pw_gid}", "--clear-groups",
               "env", "PATH=/usr/bin:/bin", f"HOME={who.pw_dir}"]


def sh(cmd):
    subprocess.run(["sh", "-ec", cmd], check=True)


NS = f"cordon-bench-{os.getpid()}"
sh(f"ip netns add {NS}; ip link add cb-host type veth peer name cb-ns netns {NS}; "
   f"ip addr add 10.204.0.1/24 dev cb-host; ip link set cb-host up; "
   f"ip -n {NS} addr add 10.204.0.2/24 dev cb-ns; ip -n {NS} link set cb-ns up; ip -n {NS} link set lo up")
servers = []
try:
    hosts = tempfile.NamedTemporaryFile("w", delete=False)
    hosts.write("10.204.0.2 bulk.test\n")
    hosts.close()
    os.chmod(hosts.name, 0o644)
    env = dict(os.environ, CORDON_PROXY_HOSTS=hosts.name)

    tick = os.sysconf("SC_CLK_TCK")

    def server_cpu(server):
        fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def measure(helpers, args, **kw):
        """(MB/s the reader saw, CPU seconds per GiB of every process involved)."""
        before = sum(server_cpu(h) for h in helpers)
        child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, **kw)
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{args[0]} exited with {child.returncode}")
        used = usage.ru_utime + usage.ru_stime + sum(server_cpu(h) for h in helpers) - before
        return int(out), used / (size / 2**30)

    host_cc = open("/proc/sys/net/ipv4/tcp_congestion_control").read().strip()
    setups = []
    for cc in [None, "cubic"]:
        local, local_port = start_server([], "127.0.0.1", cc)
        remote, remote_port = start_server(["ip", "netns", "exec", NS], "0.0.0.0", cc)
        minimal, minimal_port = start_minimal_relay(local_port)
        servers += [local, remote, minimal]
        relay_cfg = config({"version": "0.8.0", "runtimeConfig": {"networkProxy": f"http://127.0.0.1:{local_port}"},
                            "process": {"commandLine": reader("127.0.0.1", local_port)}})
        proxy_cfg = config({"version": "0.8.0", "process": {"commandLine": reader(None, remote_port, via_proxy=True)},
                            "network": {"egress": {"allow": [{"to": [{"host": "bulk.test"}]}]}}})
        rows = {k: [] for k in ("direct-lo", "minimal-relay", "relay", "direct-veth", "proxy")}
        cpu = {k: [] for k in rows}
        setups.append((cc or f"{host_cc} (host default)", rows, cpu, {
            "direct-lo": ([local], as_user + ["sh", "-c", reader("127.0.0.1", local_port)], {}),
            "minimal-relay": ([local, minimal], as_user + ["sh", "-c", reader("127.0.0.1", minimal_port)], {}),
            "relay": ([local], as_user + [cordon, "--config", relay_cfg], {"cwd": "/"}),
            "direct-veth": ([remote], as_user + ["sh", "-c", reader("10.204.0.2", remote_port)], {}),
            "proxy": ([remote], as_user + [cordon, "--config", proxy_cfg], {"env": env, "cwd": "/"}),
        }))
    for _ in range(runs):
        order = [(setup, path) for setup in setups for path in setup[3]]
        random.shuffle(order)
        for (_, rows, cpu, paths), path in order:
            helpers, args, kw = paths[path]
            rate, used = measure(helpers, args, **kw)
            rows[path].append(rate)
            cpu[path].append(used)
finally:
    for s in servers:
        s.kill()
    subprocess.run(["ip", "netns", "del", NS])
    subprocess.run(["ip", "link", "del", "cb-host"], stderr=subprocess.DEVNULL)

load = open("/proc/loadavg").read().split()[:3]
print(f"bulk download of {size >> 20} MiB, {runs} shuffled rounds; proxied runs as a median of per-round ratios;"
      f" load average at the end {' '.join(load)}")
for cc, rows, cpu, _ in setups:
    med = {k: statistics.median(v) for k, v in rows.items()}
    ratios = lambda a, b: [x / y for x, y in zip(rows[a], rows[b])]
    share = lambda a, b: f"{100 * statistics.median(ratios(a, b)):.0f}%"
    # Quartiles of the paired ratios: how much the machine moved the figure.
    spread = lambda a, b: "–".join(f"{100 * q:.0f}%" for q in statistics.quantiles(ratios(a, b), n=4)[::2]) if runs > 1 else ""
    print()
    print(f"server sending with {cc}")
    print()
    work = {k: f"{statistics.median(v):.3f}" for k, v in cpu.items()}
    print("| path | median MB/s | share of its direct baseline | quartiles of the share | CPU s per GiB (median) |")
    print("|---|---|---|---|---|")
    print(f"| direct, host loopback | {med['direct-lo']:.0f} | 100% | | {work['direct-lo']} |")
    print(f"| control: a minimal splice relay on the host (loopback) | {med['minimal-relay']:.0f} | {share('minimal-relay', 'direct-lo')} | {spread('minimal-relay', 'direct-lo')} | {work['minimal-relay']} |")
    print(f"| through cordon's relay to the caller's proxy (loopback) | {med['relay']:.0f} | {share('relay', 'direct-lo')} | {spread('relay', 'direct-lo')} | {work['relay']} |")
    print(f"| direct, to a namespace behind a veth pair | {med['direct-veth']:.0f} | 100% | | {work['direct-veth']} |")
    print(f"| through cordon's filtering proxy (CONNECT), same server | {med['proxy']:.0f} | {share('proxy', 'direct-veth')} | {spread('proxy', 'direct-veth')} | {work['proxy']} |")
