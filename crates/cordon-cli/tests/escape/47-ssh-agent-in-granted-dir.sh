#!/bin/sh
# Attempt: use the caller's SSH agent, whose socket lies inside a directory the
# policy grants read-write (cordon was started with SSH_AUTH_SOCK naming it).
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'import socket,os; socket.socket(socket.AF_UNIX).connect(os.environ["AGENT_SOCK"])'
}
verdict probe
