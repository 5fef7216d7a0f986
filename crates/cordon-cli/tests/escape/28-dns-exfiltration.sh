#!/bin/sh
# Attempt: send a DNS query out (TEST-NET address, never routed).
# Exits 0 only if the attempt succeeded.
# control: none (it needs an address outside this machine, which tests never contact)
. "${0%/*}/probe.lib"
need python3 timeout
probe() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04leak\x00\x00\x01\x00\x01", ("192.0.2.53", 53)); s.recv(512)'
}
verdict probe
