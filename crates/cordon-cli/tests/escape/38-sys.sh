#!/bin/sh
# Attempt: read /sys.
# Exits 0 only if the attempt succeeded.
ls /sys/kernel | grep -q .
