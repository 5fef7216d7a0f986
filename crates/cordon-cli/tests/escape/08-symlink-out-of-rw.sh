#!/bin/sh
# Attempt: read an unlisted file through a symlink made in a writable path.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  ln -sf "$OUTSIDE" "$RW/link" && cat "$RW/link"
}
verdict probe
