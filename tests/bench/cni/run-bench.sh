#!/bin/bash
# husk-cni benchmarks, each against its peer measured in the same run:
#  1. ADD+DEL latency (p50/p99) vs Debian's bridge + host-local  (target: ratio <= 0.3)
#  2. pod-to-pod TCP throughput on one bridge, and across two nodes (host-gw, then vxlan over
#     the same kind of underlay), vs two netns joined by a bare veth (target: ratio >= 0.9)
# Everything runs in network namespaces created here. Prints figures, asserts nothing.
#   HUSK_BUILD_DIR=/path/to/build tests/bench/cni/run-bench.sh [ROUNDS] [SECONDS]
#   (TROUNDS=5 throughput rounds, BENCH_PIN=1 pins sender/receiver to CPUs 0/1)
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3
BENCH="$HUSK_BUILD_DIR/tests/bench/cni/cni-bench"
[ -x "$BENCH" ] && [ -x "$CNI_BIN" ] || tap_skip_all "build husk-cni and tests/bench/cni/cni-bench first"
[ -x "$DEBIAN_CNI/bridge" ] || tap_skip_all "containernetworking-plugins not installed"
ROUNDS=${1:-200}
SECS=${2:-3}

cni_netns node node
cni_netns lat lat
cni_tmpdir tmp
export CNI_PATH="$DEBIAN_CNI"

cat >"$tmp/husk.json" <<JSON
{"cniVersion":"1.0.0","name":"benchhusk","type":"husk-cni","bridge":"husk0","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.254.0.0/24"}}
JSON
cat >"$tmp/debian.json" <<JSON
{"cniVersion":"1.0.0","name":"benchdeb","type":"bridge","bridge":"cnibench0","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.254.1.0/24"}}
JSON

echo "# load average at start: $(cut -d" " -f1-3 /proc/loadavg) ($(nproc) CPUs)"
echo "# ADD+DEL latency, $ROUNDS pairs each (microseconds: p50 p99 mean | ADD p50, DEL p50)"
h=$(ip netns exec "$node" "$BENCH" lat "$CNI_BIN" "$tmp/husk.json" "/run/netns/$lat" "$ROUNDS") || exit 1
d=$(ip netns exec "$node" "$BENCH" lat "$DEBIAN_CNI/bridge" "$tmp/debian.json" "/run/netns/$lat" "$ROUNDS") || exit 1
echo "husk-cni              $h"
echo "debian bridge+hl      $d"
read -r hp50 hp99 _ ha hd <<<"$h"
read -r dp50 dp99 _ da dd <<<"$d"
awk -v a="$hp50" -v b="$dp50" -v c="$hp99" -v e="$dp99" -v f="$ha" -v g="$da" -v i="$hd" -v j="$dd" \
  'BEGIN { printf "latency ratio husk/debian: ADD+DEL p50 %.2fx  p99 %.2fx  (target <= 0.3x); ADD alone p50 %.2fx, DEL alone p50 %.2fx\n", a/b, c/e, f/g, i/j }'

# --- throughput: peer = two netns and one veth
cni_netns va va
cni_netns vb vb
ip -n "$va" link add eth0 type veth peer name eth0 netns "$vb"
ip -n "$va" addr add 10.254.9.1/30 dev eth0 && ip -n "$va" link set eth0 up
ip -n "$vb" addr add 10.254.9.2/30 dev eth0 && ip -n "$vb" link set eth0 up
# --- husk: two pods on husk0 in the node netns
cni_netns p1 p1
cni_netns p2 p2
cni_exec "$node" "$CNI_BIN" ADD tp1 "$p1" "$tmp/husk.json" >"$tmp/p1.json" || exit 1
cni_exec "$node" "$CNI_BIN" ADD tp2 "$p2" "$tmp/husk.json" >"$tmp/p2.json" || exit 1
p2addr=$(jget "$tmp/p2.json" '["ips"][0]["address"]')
p2addr=${p2addr%/*}

# Sender and receiver pinned to CPUs 0 and 1 (when there are two) for both setups alike, so
# the scheduler's placement does not decide the ratio; BENCH_PIN=0 lets it place them.
pin() { "${@:2}"; }
[ "${BENCH_PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] &&
  pin() { taskset -c "$1" "${@:2}"; }
stream() { # stream SRC_NS DST_NS DST_ADDR -> Mbit/s
  pin 1 ip netns exec "$2" "$BENCH" recv 5201 2>/dev/null &
  local rpid=$!
  pin 0 ip netns exec "$1" "$BENCH" send "$3" 5201 "$SECS"
  wait "$rpid"
}
# --- husk across nodes: two node netns joined by a veth, host-gw routes (cni/crossnode.c)
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-route-helper"
cni_netns xn1 xn1
cni_netns xn2 xn2
cni_netns xp1 xp1
cni_netns xp2 xp2
ip -n "$xn1" link add ul0 type veth peer name ul0 netns "$xn2"
ip -n "$xn1" addr add 192.168.99.1/24 dev ul0 && ip -n "$xn1" link set ul0 up
ip -n "$xn2" addr add 192.168.99.2/24 dev ul0 && ip -n "$xn2" link set ul0 up
for i in 1 2; do
  cat >"$tmp/x$i.json" <<JSON
{"cniVersion":"1.0.0","name":"benchx$i","type":"husk-cni","bridge":"husk0","isDefaultGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipamx","subnet":"10.254.1$i.0/24"}}
JSON
done
cni_exec "$xn1" "$CNI_BIN" ADD tx1 "$xp1" "$tmp/x1.json" >/dev/null || exit 1
cni_exec "$xn2" "$CNI_BIN" ADD tx2 "$xp2" "$tmp/x2.json" >/dev/null || exit 1
XNODE=
if [ -x "$HELPER" ]; then
  ip netns exec "$xn1" "$HELPER" host-gw 10.254.12.0/24=192.168.99.2 &&
    ip netns exec "$xn2" "$HELPER" host-gw 10.254.11.0/24=192.168.99.1 && XNODE=1
fi
# --- husk across nodes over VXLAN: a second pair of node netns, husk-vxlan devices
# (cni_vxlan_sync), pods with MTU 1450 (the VXLAN device's: 50 bytes of encapsulation)
cni_netns vn1 vn1
cni_netns vn2 vn2
cni_netns vp1 vp1
cni_netns vp2 vp2
ip -n "$vn1" link add ul0 type veth peer name ul0 netns "$vn2"
ip -n "$vn1" addr add 192.168.98.1/24 dev ul0 && ip -n "$vn1" link set ul0 up
ip -n "$vn2" addr add 192.168.98.2/24 dev ul0 && ip -n "$vn2" link set ul0 up
for i in 1 2; do
  cat >"$tmp/v$i.json" <<JSON
{"cniVersion":"1.0.0","name":"benchv$i","type":"husk-cni","bridge":"husk0","isDefaultGateway":true,
 "mtu":1450,"ipam":{"type":"host-local","dataDir":"$tmp/ipamv","subnet":"10.254.2$i.0/24"}}
JSON
done
cni_exec "$vn1" "$CNI_BIN" ADD tv1 "$vp1" "$tmp/v1.json" >/dev/null || exit 1
cni_exec "$vn2" "$CNI_BIN" ADD tv2 "$vp2" "$tmp/v2.json" >/dev/null || exit 1
VXNODE=
if [ -x "$HELPER" ]; then
  ip netns exec "$vn1" "$HELPER" vxlan 192.168.98.1 10.254.21.0/24 10.254.22.0/24=192.168.98.2 &&
    ip netns exec "$vn2" "$HELPER" vxlan 192.168.98.2 10.254.22.0/24 10.254.21.0/24=192.168.98.1 &&
    VXNODE=1
fi
TROUNDS=${TROUNDS:-5}
echo "# pod-to-pod TCP throughput, ${SECS}s streams, $TROUNDS alternating rounds (Mbit/s)"
: >"$tmp/tv"
: >"$tmp/th"
: >"$tmp/tx"
: >"$tmp/tvx"
for r in $(seq "$TROUNDS"); do
  v=$(stream "$va" "$vb" 10.254.9.2)
  h=$(stream "$p1" "$p2" "$p2addr")
  x=
  [ -n "$XNODE" ] && x=$(stream "$xp1" "$xp2" 10.254.12.2)
  y=
  [ -n "$VXNODE" ] && y=$(stream "$vp1" "$vp2" 10.254.22.2)
  echo "round $r: veth peer $v   husk-cni bridge $h   across nodes host-gw ${x:-n/a}   vxlan ${y:-n/a}"
  echo "${v:-0}" >>"$tmp/tv"
  echo "${h:-0}" >>"$tmp/th"
  echo "${x:-0}" >>"$tmp/tx"
  echo "${y:-0}" >>"$tmp/tvx"
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
best() { sort -n "$1" | tail -1; }
awk -v a="$(med "$tmp/th")" -v b="$(med "$tmp/tv")" -v c="$(best "$tmp/th")" -v d="$(best "$tmp/tv")" \
  'BEGIN { printf "throughput husk-cni vs veth peer: median %d / %d Mbit/s = %.2fx, best %d / %d = %.2fx (target >= 0.9x)\n", a, b, a/b, c, d, c/d }'
[ -n "$XNODE" ] &&
  awk -v a="$(med "$tmp/tx")" -v b="$(med "$tmp/tv")" -v c="$(best "$tmp/tx")" -v d="$(best "$tmp/tv")" \
    'BEGIN { printf "throughput across nodes (host-gw) vs veth peer: median %d / %d Mbit/s = %.2fx, best %d / %d = %.2fx (target >= 0.9x)\n", a, b, a/b, c, d, c/d }'
[ -n "$VXNODE" ] &&
  awk -v a="$(med "$tmp/tvx")" -v b="$(med "$tmp/tv")" -v c="$(best "$tmp/tvx")" -v d="$(best "$tmp/tv")" \
    'BEGIN { printf "throughput across nodes (vxlan) vs veth peer: median %d / %d Mbit/s = %.2fx, best %d / %d = %.2fx (target >= 0.9x)\n", a, b, a/b, c, d, c/d }'
cni_exec "$node" "$CNI_BIN" DEL tp1 "$p1" "$tmp/husk.json" >/dev/null
cni_exec "$node" "$CNI_BIN" DEL tp2 "$p2" "$tmp/husk.json" >/dev/null
cni_exec "$xn1" "$CNI_BIN" DEL tx1 "$xp1" "$tmp/x1.json" >/dev/null
cni_exec "$xn2" "$CNI_BIN" DEL tx2 "$xp2" "$tmp/x2.json" >/dev/null
cni_exec "$vn1" "$CNI_BIN" DEL tv1 "$vp1" "$tmp/v1.json" >/dev/null
cni_exec "$vn2" "$CNI_BIN" DEL tv2 "$vp2" "$tmp/v2.json" >/dev/null
echo "# load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
