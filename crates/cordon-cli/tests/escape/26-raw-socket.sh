#!/bin/sh
# Attempt: open a raw IP socket.
# Exits 0 only if the attempt succeeded.
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)'
