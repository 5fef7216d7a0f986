#!/bin/sh
# Attempt: read the host's password hashes.
# Exits 0 only if the attempt succeeded.
cat /etc/shadow
