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

Usage: [CORDON_BENCH_USER=USER] bench/proxy_throughput.py CORDON_BINARY [RUNS]"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading

cordon = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
size = 300 * 1024 * 1024
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

    def measure(args, **kw):
        return int(subprocess.run(args, capture_output=True, text=True, check=True, **kw).stdout)

    host_cc = open("/proc/sys/net/ipv4/tcp_congestion_control").read().strip()
    setups = []
    for cc in [None, "cubic"]:
        local, local_port = start_server([], "127.0.0.1", cc)
        remote, remote_port = start_server(["ip", "netns", "exec", NS], "0.0.0.0", cc)
        servers += [local, remote]
        relay_cfg = config({"version": "0.8.0", "runtimeConfig": {"networkProxy": f"http://127.0.0.1:{local_port}"},
                            "process": {"commandLine": reader("127.0.0.1", local_port)}})
        proxy_cfg = config({"version": "0.8.0", "process": {"commandLine": reader(None, remote_port, via_proxy=True)},
                            "network": {"egress": {"allow": [{"to": [{"host": "bulk.test"}]}]}}})
        rows = {k: [] for k in ("direct-lo", "relay", "direct-veth", "proxy")}
        setups.append((cc or f"{host_cc} (host default)", local_port, remote_port, relay_cfg, proxy_cfg, rows))
    for _ in range(runs):
        for _, local_port, remote_port, relay_cfg, proxy_cfg, rows in setups:
            rows["direct-lo"].append(measure(as_user + ["sh", "-c", reader("127.0.0.1", local_port)]))
            rows["relay"].append(measure(as_user + [cordon, "--config", relay_cfg], cwd="/"))
            rows["direct-veth"].append(measure(as_user + ["sh", "-c", reader("10.204.0.2", remote_port)]))
            rows["proxy"].append(measure(as_user + [cordon, "--config", proxy_cfg], env=env, cwd="/"))
finally:
    for s in servers:
        s.kill()
    subprocess.run(["ip", "netns", "del", NS])
    subprocess.run(["ip", "link", "del", "cb-host"], stderr=subprocess.DEVNULL)

print(f"bulk download of {size >> 20} MiB, median of {runs}; proxied runs as a median of paired ratios")
for cc, _, _, _, _, rows in setups:
    med = {k: statistics.median(v) for k, v in rows.items()}
    ratios = lambda a, b: [x / y for x, y in zip(rows[a], rows[b])]
    share = lambda a, b: f"{100 * statistics.median(ratios(a, b)):.0f}%"
    # Quartiles of the paired ratios: how much the machine moved the figure.
    spread = lambda a, b: "–".join(f"{100 * q:.0f}%" for q in statistics.quantiles(ratios(a, b), n=4)[::2]) if runs > 1 else ""
    print()
    print(f"server sending with {cc}")
    print()
    print("| path | median MB/s | share of its direct baseline | quartiles of the share |")
    print("|---|---|---|---|")
    print(f"| direct, host loopback | {med['direct-lo']:.0f} | 100% | |")
    print(f"| through cordon's relay to the caller's proxy (loopback) | {med['relay']:.0f} | {share('relay', 'direct-lo')} | {spread('relay', 'direct-lo')} |")
    print(f"| direct, to a namespace behind a veth pair | {med['direct-veth']:.0f} | 100% | |")
    print(f"| through cordon's filtering proxy (CONNECT), same server | {med['proxy']:.0f} | {share('proxy', 'direct-veth')} | {spread('proxy', 'direct-veth')} |")
