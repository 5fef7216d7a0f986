#!/bin/sh
# Attempt: read a denied file inside a writable tree.
# Exits 0 only if the attempt succeeded.
cat "$SECRET"
