#!/bin/sh
# Attempt: list a denied directory inside a writable tree.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  ls "$DENIED_DIR" | grep -q .
}
verdict probe
