#!/bin/sh
# Attempt: rename the host.
# Exits 0 only if the attempt succeeded.
hostname pwned && [ "$(cat /proc/sys/kernel/hostname)" = pwned ] && nsenter -t 1 -u hostname | grep -q pwned
