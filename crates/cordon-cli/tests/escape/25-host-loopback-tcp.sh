#!/bin/sh
# Attempt: connect to a service on the host's loopback.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3 timeout
probe() {
  python3 -c 'import socket,os; socket.create_connection(("127.0.0.1", int(os.environ["HOSTPORT"])), timeout=2)'
}
verdict probe
