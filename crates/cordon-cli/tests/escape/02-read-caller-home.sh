#!/bin/sh
# Attempt: list the invoking user's home.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
probe() {
  ls "$HOME_DIR"
}
verdict probe
