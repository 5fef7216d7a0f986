#!/bin/sh
# Attempt: make a new hard link to a denied file.
# Exits 0 only if the attempt succeeded.
ln "$SECRET" "$RW/newlink" && cat "$RW/newlink"
