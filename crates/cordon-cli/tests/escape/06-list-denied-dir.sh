#!/bin/sh
# Attempt: list a denied directory inside a writable tree.
# Exits 0 only if the attempt succeeded.
ls "$DENIED_DIR" | grep -q .
