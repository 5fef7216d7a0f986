#!/bin/sh
# Attempt: open a raw IP socket.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)'
}
verdict probe
