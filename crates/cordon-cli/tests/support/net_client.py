"""Network probes run inside the sandbox by the network tests. Each argument
is LABEL=MODE:TARGET and prints one line "LABEL=ok ..." or "LABEL=blocked ...".

MODE: tcp (HOST:PORT, direct), udp (HOST:PORT, direct), ping (HOST),
connect / http / socks5 (HOST:PORT through the proxy in $HTTPS_PROXY)."""
import os
import socket
import struct
import sys

TIMEOUT = 3


def split(target):
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp(target):
    host, port = split(target)
    try:
        return tcp_once(host, port, TIMEOUT)
    except socket.timeout:
        # A connection the rules deny is reset at once; a first contact that
        # times out is a loaded host (an IPv6 neighbour the uplink answered
        # late): one more, longer try before calling it blocked.
        return tcp_once(host, port, 2 * TIMEOUT)


def tcp_once(host, port, timeout):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s.recv(200).decode().strip()


def udp(target):
    host, port = split(target)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.sendto(b"hello", (host, port))
    return s.recv(200).decode().strip()


def ping(host):
    v6 = ":" in host
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    s = socket.socket(family(host), socket.SOCK_DGRAM, proto)
    s.settimeout(TIMEOUT)
    kind = 128 if v6 else 8
    s.sendto(struct.pack("!BBHHH", kind, 0, 0, 0, 1) + b"cordon", (host, 0))
    reply = s.recv(200)
    return f"icmp type {reply[0]}"


def proxy():
    url = os.environ["HTTPS_PROXY"]
    return split(url.split("://", 1)[1].rstrip("/"))


def connect(target):
    s = socket.create_connection(proxy(), timeout=TIMEOUT)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    status = head.split(b" ", 2)[1].decode() if head else "none"
    if status != "200":
        body = s.recv(500).decode().strip()
        raise OSError(f"status {status}: {body}")
    return s.recv(200).decode().strip()


def http(target):
    s = socket.create_connection(proxy(), timeout=TIMEOUT)
    s.sendall(f"GET http://{target}/x HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    text = data.decode(errors="replace").strip()
    if text.startswith("HTTP/1.1 403") or text.startswith("HTTP/1.1 502"):
        raise OSError(text.replace("\r\n", " | "))
    return text


def socks5(target):
    host, port = split(target)
    s = socket.create_connection(proxy(), timeout=TIMEOUT)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise OSError("socks5 greeting refused")
    name = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
    reply = s.recv(10)
    if reply[1] != 0:
        raise OSError(f"socks5 reply {reply[1]}")
    return s.recv(200).decode().strip()


def main():
    modes = {"tcp": tcp, "udp": udp, "ping": ping, "connect": connect, "http": http, "socks5": socks5}
    for arg in sys.argv[1:]:
        label, spec = arg.split("=", 1)
        mode, target = spec.split(":", 1)
        try:
            print(f"{label}=ok {modes[mode](target)}", flush=True)
        except Exception as e:  # every failure is the answer "blocked"
            print(f"{label}=blocked {type(e).__name__}: {e}", flush=True)


main()
