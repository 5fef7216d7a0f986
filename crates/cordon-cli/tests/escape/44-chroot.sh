#!/bin/sh
# Attempt: chroot.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need chroot
probe() {
  chroot / true
}
verdict probe
