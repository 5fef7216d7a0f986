#!/bin/sh
# Attempt: change a kernel setting.
# Exits 0 only if the attempt succeeded.
echo 1 > /proc/sys/kernel/sysrq
