#!/bin/sh
# Attempt: connect to an abstract unix socket of the host.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import socket,os; s=socket.socket(socket.AF_UNIX); s.connect("\0"+os.environ["ABSTRACT"])'
}
verdict probe
