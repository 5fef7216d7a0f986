#!/bin/sh
# Attempt: move a denied file out of the way.
# Exits 0 only if the attempt succeeded.
mv "$SECRET" "$RW/moved"
