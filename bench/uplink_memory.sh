#!/bin/bash
# Idle memory of the user-mode uplinks a rule-enforcing sandbox could use,
# each attached to a fresh user+network namespace the way cordon would:
# pasta (cordon's uplink until issue #20, its flags) and slirp4netns
# (cordon's uplink since, its flags; MXC's too). Prints PSS and its anonymous part per uplink process, N of each
# side by side (file-backed pages are shared, so PSS falls as N grows).
# Usage: bench/uplink_memory.sh [N]   (needs pasta and slirp4netns)
set -euo pipefail
n="${1:-5}"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
# A fresh user+network namespace, its process in $t (no subshell: the
# EXIT trap must stay with this shell).
target() { unshare -Urn sleep 600 </dev/null >/dev/null 2>&1 & t=$!; pids+=("$t"); sleep 0.2; }
runas=()
[ "$(id -u)" = 0 ] && runas=(--runas 0:0)
pasta_pids=() slirp_pids=()
for _ in $(seq "$n"); do
  target
  pasta --config-net --foreground --quiet --tcp-ports none --udp-ports none --tcp-ns none \
    --udp-ns none --no-map-gw --no-dhcp --no-dhcpv6 --no-ra --log-file /dev/null "${runas[@]}" \
    --userns "/proc/$t/ns/user" --netns "/proc/$t/ns/net" >/dev/null 2>&1 &
  pasta_pids+=($!) pids+=($!)
  target
  slirp4netns --configure --mtu=65520 --cidr=169.254.77.0/24 --enable-ipv6 \
    --disable-host-loopback --disable-dns --enable-seccomp "$t" tap0 >/dev/null 2>&1 &
  slirp_pids+=($!) pids+=($!)
done
sleep 1
report() {
  local name="$1"; shift
  local pss=0 anon=0
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null || { echo "$name ($p) is not running" >&2; exit 1; }
    if ! [ -r "/proc/$p/smaps_rollup" ] || ! head -c1 "/proc/$p/smaps_rollup" >/dev/null 2>&1; then
      # pasta makes itself non-dumpable: only root reads its memory map.
      printf '| %s | %d | unreadable as uid %d: run as root |\n' "$name" "$#" "$(id -u)"
      return
    fi
    pss=$((pss + $(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")))
    anon=$((anon + $(awk '/^Pss_Anon:/{print $2}' "/proc/$p/smaps_rollup")))
  done
  printf '| %s | %d | %.2f MiB | %.2f MiB |\n' "$name" "$#" \
    "$(echo "$pss / 1024 / $#" | bc -l)" "$(echo "$anon / 1024 / $#" | bc -l)"
}
echo "| uplink | instances | PSS each | of which anonymous |"
echo "|---|---|---|---|"
report "pasta $(dpkg-query -W -f '${Version}' passt 2>/dev/null || echo '?')" "${pasta_pids[@]}"
report "slirp4netns $(slirp4netns --version | awk 'NR==1{print $3}')" "${slirp_pids[@]}"
