#!/bin/sh
# Attempt: trigger sysrq.
# Exits 0 only if the attempt succeeded.
echo h > /proc/sysrq-trigger
