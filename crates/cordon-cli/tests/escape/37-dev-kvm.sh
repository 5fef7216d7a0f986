#!/bin/sh
# Attempt: open /dev/kvm.
# Exits 0 only if the attempt succeeded.
# control: root
. "${0%/*}/probe.lib"
need python3
probe() {
  python3 -c 'open("/dev/kvm", "rb")'
}
verdict probe
