#!/bin/sh
# Attempt: open a packet socket.
# Exits 0 only if the attempt succeeded.
python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'
