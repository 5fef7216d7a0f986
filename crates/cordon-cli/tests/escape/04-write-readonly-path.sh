#!/bin/sh
# Attempt: modify a read-only path.
# Exits 0 only if the attempt succeeded.
echo x >> "$RO/data"
