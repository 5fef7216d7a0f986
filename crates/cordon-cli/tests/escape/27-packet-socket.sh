#!/bin/sh
# Attempt: open a packet socket.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'
}
verdict probe
