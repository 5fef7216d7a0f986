"""Open N CONNECT tunnels through the sandbox's proxy at once and keep them
open; print how many got "200" and how many "503"; then close them all and
print whether one more tunnel works."""
import socket
import sys

target, count = sys.argv[1], int(sys.argv[2])
proxy = ("127.0.0.1", 3128)


def tunnel():
    s = socket.create_connection(proxy, timeout=10)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(64)
        if not chunk:
            break
        head += chunk
    return s, head.split(b" ")[1].decode() if b" " in head else "closed"


held, statuses = [], {}
for _ in range(count):
    s, status = tunnel()
    statuses[status] = statuses.get(status, 0) + 1
    held.append(s)
print("statuses", sorted(statuses.items()))
for s in held:
    s.close()
import time
time.sleep(0.5)
print("after", tunnel()[1])
