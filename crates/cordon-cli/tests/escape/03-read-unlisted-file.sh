#!/bin/sh
# Attempt: read a host file no list mentions.
# Exits 0 only if the attempt succeeded.
cat "$OUTSIDE"
