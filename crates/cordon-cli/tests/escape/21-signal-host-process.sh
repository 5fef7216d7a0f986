#!/bin/sh
# Attempt: kill a host process.
# Exits 0 only if the attempt succeeded.
kill -0 "$HOSTPID"
