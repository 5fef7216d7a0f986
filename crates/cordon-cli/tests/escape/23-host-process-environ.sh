#!/bin/sh
# Attempt: read a host process's environment.
# Exits 0 only if the attempt succeeded.
cat "/proc/$HOSTPID/environ" | grep -q .
