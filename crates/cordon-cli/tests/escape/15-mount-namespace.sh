#!/bin/sh
# Attempt: create a mount namespace.
# Exits 0 only if the attempt succeeded.
unshare -m true
