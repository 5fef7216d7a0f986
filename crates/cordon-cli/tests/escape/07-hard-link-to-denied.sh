#!/bin/sh
# Attempt: read a denied file through another hard link.
# Exits 0 only if the attempt succeeded.
cat "$RW/innocent"
