#!/bin/sh
# Attempt: read the operator's audit log, which lies inside a read-write path.
# Exits 0 only if the attempt succeeded.
grep -q spawn "$AUDIT_LOG"
