"""A stand-in for the outside world in network tests: run inside a network
namespace the tests create. Every TCP port given answers "tcp PORT ADDR" and
closes; every UDP port echoes "udp PORT ADDR". IPv4 and IPv6 alike."""
import socket
import sys
import threading


def tcp(family, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    s.listen(512)
    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c, port), daemon=True).start()


def answer(c, port):
    try:
        c.sendall(f"tcp {port} {c.getsockname()[0]}\n".encode())
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    except OSError:
        pass
    c.close()


def udp(family, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"udp {port} {data.decode(errors='replace')}\n".encode(), peer)


def main():
    threads = []
    for spec in sys.argv[1:]:
        proto, port = spec.split(":")
        for family in (socket.AF_INET, socket.AF_INET6):
            fn = tcp if proto == "tcp" else udp
            threads.append(threading.Thread(target=fn, args=(family, int(port)), daemon=True))
    for t in threads:
        t.start()
    print("ready", flush=True)
    threading.Event().wait()


main()
