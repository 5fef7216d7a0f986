#!/bin/sh
# Attempt: chroot.
# Exits 0 only if the attempt succeeded.
chroot / true
