#!/bin/sh
# Attempt: rewrite the operator's audit log (truncate it, or replace it by a
# file of the sandbox's own) from inside a read-write path.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  # A subshell: a failed redirection of a special builtin would end the probe.
  (: > "$AUDIT_LOG") 2>/dev/null && exit 0
  echo forged > "$RW/forged" && mv -f "$RW/forged" "$AUDIT_LOG"
}
verdict probe
