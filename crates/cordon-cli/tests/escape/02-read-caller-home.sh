#!/bin/sh
# Attempt: list the invoking user's home.
# Exits 0 only if the attempt succeeded.
ls "$HOME_DIR"
