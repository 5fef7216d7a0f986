#!/usr/bin/env python3
"""Bulk download over loopback: direct, from inside a sandbox through cordon's
relay to the caller's proxy (network model 2), and through cordon's own
filtering proxy (model 2 with a host rule), in one run.

Usage: bench/proxy_throughput.py CORDON_BINARY [RUNS]"""
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
chunk = b"x" * 65536

server = socket.socket()
server.bind(("0.0.0.0", 0))
server.listen()
port = server.getsockname()[1]


def serve():
    while True:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
        sent = 0
        while sent < size:
            conn.sendall(chunk)
            sent += len(chunk)
        conn.close()


threading.Thread(target=serve, daemon=True).start()
reader = (
    "python3 -c 'import socket,time; c=socket.create_connection((\"127.0.0.1\",%d)); "
    "c.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\"); t=time.time(); n=0\n"
    "while True:\n  d=c.recv(1<<20)\n  if not d: break\n  n+=len(d)\n"
    "print(round(n/(time.time()-t)/1e6))'" % port
)
config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump({"version": "0.8.0", "runtimeConfig": {"networkProxy": f"http://127.0.0.1:{port}"},
           "process": {"commandLine": reader}}, config)
config.close()
# The filtering proxy never connects to the host's loopback: it reaches the
# server through the host's own non-loopback address.
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.connect(("192.0.2.1", 9))  # no packet is sent; this only picks a source address
local = probe.getsockname()[0]
hosts = tempfile.NamedTemporaryFile("w", delete=False)
hosts.write(f"{local} bulk.test\n")
hosts.close()
via_proxy = (
    "python3 -c 'import socket,time; c=socket.create_connection((\"127.0.0.1\",3128)); "
    "c.sendall(b\"CONNECT bulk.test:%d HTTP/1.1\\r\\n\\r\\n\"); h=b\"\"\n"
    "while not h.endswith(b\"\\r\\n\\r\\n\"): h+=c.recv(1)\n"
    "c.sendall(b\"GET / HTTP/1.0\\r\\n\\r\\n\"); t=time.time(); n=0\n"
    "while True:\n  d=c.recv(1<<20)\n  if not d: break\n  n+=len(d)\n"
    "print(round(n/(time.time()-t)/1e6))'" % port
)
filtering = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump({"version": "0.8.0", "process": {"commandLine": via_proxy},
           "network": {"egress": {"allow": [{"to": [{"host": "bulk.test"}]}]}}}, filtering)
filtering.close()
env = dict(os.environ, CORDON_PROXY_HOSTS=hosts.name)
direct, relayed, filtered = [], [], []
for _ in range(runs):
    direct.append(int(subprocess.run(["sh", "-c", reader], capture_output=True, text=True, check=True).stdout))
    out = subprocess.run([cordon, "--config", config.name], capture_output=True, text=True, check=True)
    relayed.append(int(out.stdout))
    out = subprocess.run([cordon, "--config", filtering.name], capture_output=True, text=True, check=True, env=env)
    filtered.append(int(out.stdout))
d, r, f = statistics.median(direct), statistics.median(relayed), statistics.median(filtered)
# Paired ratios (each proxied run against the direct run just before it)
# cancel the VM's slow drifts better than a ratio of medians.
pr = statistics.median(x / y for x, y in zip(relayed, direct))
pf = statistics.median(x / y for x, y in zip(filtered, direct))
print(f"bulk download of {size >> 20} MiB over loopback, median of {runs}")
print()
print("| path | median MB/s | median of paired ratios to direct |")
print("|---|---|---|")
print(f"| direct | {d:.0f} | 100% |")
print(f"| through cordon's relay to the caller's proxy | {r:.0f} | {100 * pr:.0f}% |")
print(f"| through cordon's filtering proxy (CONNECT) | {f:.0f} | {100 * pf:.0f}% |")
