# Sourced by bench scripts after they read their arguments: installs what the
# benches need, builds the static release binary and copies it, with the
# paired driver, into a fresh directory every user can read and run ($out,
# removed on exit): $out/cordon and $out/paired.py (the build tree may sit
# below /root, where an unprivileged run cannot reach it).
./scripts/setup.sh
built="$(./scripts/build-release.sh)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"
install -m 755 "$built" "$out/cordon"
install -m 644 bench/paired.py "$out/paired.py"
