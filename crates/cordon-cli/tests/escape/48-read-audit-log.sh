#!/bin/sh
# Attempt: read the operator's audit log, which lies inside a read-write path.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  grep -q spawn "$AUDIT_LOG"
}
verdict probe
