#!/bin/bash
# husk-cni benchmarks, each against its peer measured in the same run:
#  1. ADD+DEL latency (p50/p99) vs Debian's bridge + host-local  (target: ratio <= 0.3), with
#     the gateway keys only, then with ipMasq on both (the agent's default pods masquerade:
#     every ADD and DEL then commits an nftables transaction, the shortcut's rides in it)
#  2. pod-to-pod TCP throughput on one bridge, and across two nodes (host-gw, then vxlan over
#     the same kind of underlay), vs two netns joined by a bare veth (target: ratio >= 0.9)
# Everything runs in network namespaces created here. Prints figures, asserts nothing.
#   HUSK_BUILD_DIR=/path/to/build tests/bench/cni/run-bench.sh [--quick] [ROUNDS] [SECONDS]
#   ROUNDS ADD+DEL pairs (0: no latency part), SECONDS per TCP stream; TROUNDS=7 throughput
#   rounds; BENCH_PIN=1 pins sender/receiver to CPUs 0/1 for both paths alike.
#   --quick: 100 pairs, 5 rounds of 2 s streams (about 3 minutes).
#   CNI_BENCH_STAIRS=1: only the staircase bare veth -> husk-cni default (see below), vs veth.
#   CNI_BENCH_PPS=1: 64-byte UDP datagrams, sender CPU per datagram, instead of TCP streams.
# Throughput: every round measures each of husk's paths right next to its peer, the order
# alternating between rounds (peer first, then ours first); the figure is the median of the
# per-pair ratios. CPU per GB = sender + receiver CPU (getrusage) + all CPUs' softirq time
# during the stream, divided by the bytes received.
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3
BENCH="$HUSK_BUILD_DIR/tests/bench/cni/cni-bench"
[ -x "$BENCH" ] && [ -x "$CNI_BIN" ] || tap_skip_all "build husk-cni and tests/bench/cni/cni-bench first"
[ -x "$DEBIAN_CNI/bridge" ] || tap_skip_all "containernetworking-plugins not installed"
if [ "${1:-}" = --quick ]; then
  shift
  ROUNDS=${1:-100}
  SECS=${2:-2}
  TROUNDS=${TROUNDS:-5}
else
  ROUNDS=${1:-200}
  SECS=${2:-3}
  TROUNDS=${TROUNDS:-7}
fi

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
if [ "$ROUNDS" -gt 0 ]; then
echo "# ADD+DEL latency, $ROUNDS pairs each (microseconds: p50 p99 mean | ADD p50, DEL p50)"
h=$(ip netns exec "$node" "$BENCH" lat "$CNI_BIN" "$tmp/husk.json" "/run/netns/$lat" "$ROUNDS") || exit 1
d=$(ip netns exec "$node" "$BENCH" lat "$DEBIAN_CNI/bridge" "$tmp/debian.json" "/run/netns/$lat" "$ROUNDS") || exit 1
echo "husk-cni              $h"
echo "debian bridge+hl      $d"
read -r hp50 hp99 _ ha hd <<<"$h"
read -r dp50 dp99 _ da dd <<<"$d"
awk -v a="$hp50" -v b="$dp50" -v c="$hp99" -v e="$dp99" -v f="$ha" -v g="$da" -v i="$hd" -v j="$dd" \
  'BEGIN { printf "latency ratio husk/debian: ADD+DEL p50 %.2fx  p99 %.2fx  (target <= 0.3x); ADD alone p50 %.2fx, DEL alone p50 %.2fx\n", a/b, c/e, f/g, i/j }'
jset "$tmp/husk.json" "$tmp/husk-masq.json" ipMasq true
jset "$tmp/debian.json" "$tmp/debian-masq.json" ipMasq true
h=$(ip netns exec "$node" "$BENCH" lat "$CNI_BIN" "$tmp/husk-masq.json" "/run/netns/$lat" "$ROUNDS") || exit 1
d=$(ip netns exec "$node" "$BENCH" lat "$DEBIAN_CNI/bridge" "$tmp/debian-masq.json" "/run/netns/$lat" "$ROUNDS") || exit 1
echo "husk-cni, ipMasq      $h"
echo "debian, ipMasq        $d"
read -r hp50 hp99 _ ha hd <<<"$h"
read -r dp50 dp99 _ da dd <<<"$d"
awk -v a="$hp50" -v b="$dp50" -v c="$hp99" -v e="$dp99" -v f="$ha" -v g="$da" -v i="$hd" -v j="$dd" \
  'BEGIN { printf "latency ratio husk/debian, ipMasq: ADD+DEL p50 %.2fx  p99 %.2fx  (target <= 0.3x); ADD alone p50 %.2fx, DEL alone p50 %.2fx\n", a/b, c/e, f/g, i/j }'
fi

# --- throughput
# The pods' configuration is the one the node agent writes by default (src/node/node.c):
# gateway, masquerade of traffic leaving the cluster, hairpin, portMappings capability;
# MTU 1450 with the VXLAN overlay.
podconf() { # podconf FILE NAME SUBNET [MTU] [GSO] [nt: with notrackCIDRs | slow: fastPath off]
  local mtu=
  [ -n "${4:-}" ] && mtu="\"mtu\":$4,"
  [ -n "${5:-}" ] && mtu="$mtu\"gsoMaxSize\":$5,"
  [ "${6:-}" = nt ] && mtu="$mtu\"notrackCIDRs\":[\"10.254.0.0/16\"],"
  [ "${6:-}" = slow ] && mtu="$mtu\"fastPath\":false,"
  cat >"$1" <<JSON
{"cniVersion":"1.0.0","name":"$2","type":"husk-cni","bridge":"husk0","isGateway":true,
 "isDefaultGateway":true,"ipMasq":true,"ipMasqExclude":["10.254.0.0/16"],"hairpinMode":true,
 "capabilities":{"portMappings":true},$mtu
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam-$2","subnet":"$3"}}
JSON
}
vethpair() { # vethpair NS_A NS_B NET MTU: two netns joined by one veth, .1 and .2
  ip -n "$1" link add eth0 mtu "$4" type veth peer name eth0 mtu "$4" netns "$2" &&
    ip -n "$1" addr add "$3.1/24" dev eth0 && ip -n "$1" link set eth0 up &&
    ip -n "$2" addr add "$3.2/24" dev eth0 && ip -n "$2" link set eth0 up
}
# peers: two netns and one bare veth, at MTU 1500 and at the VXLAN pods' 1450
cni_netns va va
cni_netns vb vb
vethpair "$va" "$vb" 10.254.9 1500 || exit 1
cni_netns wa wa
cni_netns wb wb
vethpair "$wa" "$wb" 10.254.8 1450 || exit 1
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-route-helper"
[ -x "$HELPER" ] || tap_skip_all "build tests/integration/cni/cni-route-helper first"
BIG=196608 # BIG TCP: the GSO/GRO size Cilium uses for IPv4
cni_netns ba ba
cni_netns bb bb
vethpair "$ba" "$bb" 10.254.7 1500 || exit 1
ip netns exec "$ba" "$HELPER" gso eth0 $BIG && ip netns exec "$bb" "$HELPER" gso eth0 $BIG || exit 1
# husk one node: two pods on husk0 in the node netns
cni_netns p1 p1
cni_netns p2 p2
podconf "$tmp/one.json" benchone 10.254.2.0/24
cni_exec "$node" "$CNI_BIN" ADD tp1 "$p1" "$tmp/one.json" >/dev/null || exit 1
cni_exec "$node" "$CNI_BIN" ADD tp2 "$p2" "$tmp/one.json" >"$tmp/p2.json" || exit 1
p2addr=$(jget "$tmp/p2.json" '["ips"][0]["address"]')
p2addr=${p2addr%/*}
# the same without the pod-to-pod shortcut (fastPath false: bridge, br_netfilter, conntrack)
cni_netns s1 s1
cni_netns s2 s2
podconf "$tmp/slow.json" benchslow 10.254.40.0/24 "" "" slow
cni_exec "$node" "$CNI_BIN" ADD ts1 "$s1" "$tmp/slow.json" >/dev/null || exit 1
cni_exec "$node" "$CNI_BIN" ADD ts2 "$s2" "$tmp/slow.json" >"$tmp/s2.json" || exit 1
s2addr=$(jget "$tmp/s2.json" '["ips"][0]["address"]')
s2addr=${s2addr%/*}
# the same with gsoMaxSize (what the agent sets when the node's uplink takes BIG TCP)
cni_netns g1 g1
cni_netns g2 g2
podconf "$tmp/big.json" benchbig 10.254.5.0/24 "" $BIG
cni_exec "$node" "$CNI_BIN" ADD tg1 "$g1" "$tmp/big.json" >/dev/null || exit 1
cni_exec "$node" "$CNI_BIN" ADD tg2 "$g2" "$tmp/big.json" >"$tmp/g2.json" || exit 1
g2addr=$(jget "$tmp/g2.json" '["ips"][0]["address"]')
g2addr=${g2addr%/*}
# the same with notrackCIDRs (pod-to-pod TCP/UDP not tracked, cni/notrack.c; not the default)
cni_netns t1 t1
cni_netns t2 t2
podconf "$tmp/nt.json" benchnt 10.254.4.0/24 "" "" nt
cni_exec "$node" "$CNI_BIN" ADD tt1 "$t1" "$tmp/nt.json" >/dev/null || exit 1
cni_exec "$node" "$CNI_BIN" ADD tt2 "$t2" "$tmp/nt.json" >"$tmp/t2.json" || exit 1
t2addr=$(jget "$tmp/t2.json" '["ips"][0]["address"]')
t2addr=${t2addr%/*}
# husk across nodes: two node netns joined by a veth (the underlay), a pod on each, routes
# from cni/crossnode.c (host-gw; VXLAN on a second pair of nodes)
# The routes come with the cross-node shortcut, as the agent syncs them (cni/fastpath-remote.c);
# FAST=--no-fast: routes only (the paths hostgwslow / vxlanslow).
twonodes() { # twonodes PREFIX UNDERLAY_NET POD_NET_PREFIX MODE [MTU] [GSO] [nt]
  local n1 n2 q1 q2 i
  cni_netns n1 "${1}n1"
  cni_netns n2 "${1}n2"
  cni_netns q1 "${1}p1"
  cni_netns q2 "${1}p2"
  ip -n "$n1" link add ul0 type veth peer name ul0 netns "$n2" || return 1
  ip -n "$n1" addr add "$2.1/24" dev ul0 && ip -n "$n1" link set ul0 up || return 1
  ip -n "$n2" addr add "$2.2/24" dev ul0 && ip -n "$n2" link set ul0 up || return 1
  if [ -n "${6:-}" ]; then # an underlay that takes BIG TCP (a NIC configured for it)
    ip netns exec "$n1" "$HELPER" gso ul0 "$6" && ip netns exec "$n2" "$HELPER" gso ul0 "$6" || return 1
  fi
  for i in 1 2; do
    podconf "$tmp/$1$i.json" "bench$1$i" "$3$i.0/24" "${5:-}" "${6:-}" "${7:-}"
    local n=n$i q=q$i
    cni_exec "${!n}" "$CNI_BIN" ADD "t$1$i" "${!q}" "$tmp/$1$i.json" >"$tmp/$1$i.out" || { cat "$tmp/$1$i.out"; return 1; }
  done
  local fast=(--pod-cidr)
  [ "${FAST:-}" = --no-fast ] && fast=(--no-fast --pod-cidr)
  if [ "$4" = host-gw ]; then
    ip netns exec "$n1" "$HELPER" host-gw "${fast[@]}" "${3}1.0/24" "${3}2.0/24=$2.2" &&
      ip netns exec "$n2" "$HELPER" host-gw "${fast[@]}" "${3}2.0/24" "${3}1.0/24=$2.1" || return 1
  else
    ip netns exec "$n1" "$HELPER" vxlan ${FAST:-} "$2.1" "${3}1.0/24" "${3}2.0/24=$2.2" &&
      ip netns exec "$n2" "$HELPER" vxlan ${FAST:-} "$2.2" "${3}2.0/24" "${3}1.0/24=$2.1" || return 1
  fi
  printf -v "${1}_src" %s "$q1"
  printf -v "${1}_dst" %s "$q2"
}
twonodes x 192.168.99 10.254.1 host-gw || exit 1
twonodes y 192.168.97 10.254.6 host-gw "" $BIG || exit 1
twonodes v 192.168.98 10.254.3 vxlan 1450 || exit 1
twonodes z 192.168.96 10.254.5 host-gw "" "" nt || exit 1
# the same paths without the cross-node shortcut (only when PAIRS names them)
if [[ "${PAIRS:-}" == *slow* ]]; then
  FAST=--no-fast twonodes hs 192.168.91 10.254.8 host-gw || exit 1
  FAST=--no-fast twonodes vs 192.168.90 10.254.9 vxlan 1450 || exit 1
fi

# CNI_BENCH_STAIRS=1: a staircase from the bare veth to husk-cni's default path, each step
# built with ip/nft in a node netns of its own and measured next to the bare veth:
#   br     two veths on a bridge, bridge-nf-call-* 0 in that namespace (no netfilter)
#   brnf   the same with bridge-nf-call-iptables 1 (br_netfilter; no table: empty hooks)
#   ct     + an empty nat chain (registers conntrack and nat in that namespace)
#   fwd    ct + a netdev ingress chain on each host veth: `ip daddr <other pod> fwd to <its
#          veth>` (pod to pod skips the bridge, br_netfilter and conntrack)
#   huskmin husk-cni with no ipMasq/hostPort (its devices, no nat table: no conntrack)
#   one    husk-cni's default pod configuration (with the netdev shortcut, fastPath)
#   oneslow the same with fastPath false (bridge + br_netfilter + conntrack)
#   onent  the same with notrackCIDRs (no conntrack for pod-to-pod TCP/UDP)
stairnode() { # stairnode STEP NET: node netns + bridge + two "pods" NET.2, NET.3
  local n a b i
  cni_netns n "s$1"
  cni_netns a "s$1a"
  cni_netns b "s$1b"
  ip -n "$n" link add br0 type bridge && ip -n "$n" link set br0 up || return 1
  i=2
  for p in "$a" "$b"; do
    ip -n "$n" link add "v$i" type veth peer name eth0 netns "$p" &&
      ip -n "$n" link set "v$i" master br0 up && ip -n "$p" addr add "$2.$i/24" dev eth0 &&
      ip -n "$p" link set eth0 up || return 1
    i=$((i + 1))
  done
  local v=0
  [ "$1" != br ] && v=1
  if [ "$1" = fwd ]; then # netdev ingress of each host veth: the other pod's IP -> its veth
    printf 'table netdev stair {\n chain v2 { type filter hook ingress device "v2" priority 0; ip daddr %s.3 fwd to "v3"; }\n chain v3 { type filter hook ingress device "v3" priority 0; ip daddr %s.2 fwd to "v2"; }\n}\n' "$2" "$2" |
      ip netns exec "$n" nft -f - || return 1
  fi
  ip netns exec "$n" sh -c "echo $v >/proc/sys/net/bridge/bridge-nf-call-iptables &&
    echo 0 >/proc/sys/net/bridge/bridge-nf-call-ip6tables &&
    echo 0 >/proc/sys/net/bridge/bridge-nf-call-arptables" || return 1
  if [ "$1" = ct ] || [ "$1" = fwd ]; then
    printf 'table ip stair {\n chain pre { type nat hook prerouting priority -100; }\n}\n' |
      ip netns exec "$n" nft -f - || return 1
  fi
  printf -v "${1}_src" %s "$a"
  printf -v "${1}_dst" %s "$b"
}
if [ "${CNI_BENCH_STAIRS:-0}" = 1 ]; then
  require_cmd nft
  stairnode br 10.254.21 && stairnode brnf 10.254.22 && stairnode ct 10.254.23 &&
    stairnode fwd 10.254.25 || exit 1
  cni_netns mnode mnode
  cni_netns m1 m1
  cni_netns m2 m2
  cat >"$tmp/min.json" <<JSON
{"cniVersion":"1.0.0","name":"benchmin","type":"husk-cni","bridge":"husk0","isGateway":true,
 "isDefaultGateway":true,"hairpinMode":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam-min","subnet":"10.254.24.0/24"}}
JSON
  cni_exec "$mnode" "$CNI_BIN" ADD tm1 "$m1" "$tmp/min.json" >/dev/null || exit 1
  cni_exec "$mnode" "$CNI_BIN" ADD tm2 "$m2" "$tmp/min.json" >"$tmp/m2.json" || exit 1
  m2addr=$(jget "$tmp/m2.json" '["ips"][0]["address"]')
  m2addr=${m2addr%/*}
  PAIRS=${PAIRS:-"br:veth brnf:veth ct:veth fwd:veth huskmin:veth one:veth oneslow:veth onent:veth"}
fi

# Sender on CPU 0 and receiver on CPU 1 (when there are two), for every path alike, so the
# scheduler's placement does not decide the ratio; BENCH_PIN=0 lets it place them.
pin() { "${@:2}"; }
[ "${BENCH_PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] &&
  pin() { taskset -c "$1" "${@:2}"; }
HZ=$(getconf CLK_TCK)
softirq() { awk '$1 == "cpu" { print $8 }' /proc/stat; }
stream() { # stream SRC_NS DST_NS DST_ADDR -> "Mbit/s CPU_ms_per_GB"
  local s0 s1 mbit bytes scpu rbytes rcpu rpid
  s0=$(softirq)
  pin 1 ip netns exec "$2" "$BENCH" recv 5201 >"$tmp/recv" 2>/dev/null &
  rpid=$!
  read -r mbit bytes scpu < <(pin 0 ip netns exec "$1" "$BENCH" send "$3" 5201 "$SECS")
  wait "$rpid"
  s1=$(softirq)
  read -r rbytes rcpu <"$tmp/recv"
  [ -n "$mbit" ] && [ -n "$rbytes" ] && [ "$rbytes" -gt 0 ] || { echo "0 0"; return; }
  awk -v m="$mbit" -v b="$rbytes" -v c=$((scpu + rcpu)) -v s=$((s1 - s0)) -v hz="$HZ" \
    'BEGIN { printf "%d %.0f\n", m, (c / 1e3 + s * 1e3 / hz) / (b / 1e9) }'
}
# CNI_BENCH_PPS=1: instead of TCP streams, 64-byte UDP datagrams sent as fast as send()
# goes (PPS_COUNT, default 100000): "kpps ns_per_datagram", the CPU time of the sender, in
# whose softirq the whole forward path runs. A per-packet cost, steady under load: the
# figure that tells the staircase's steps apart (a TCP stream's 64 KiB GSO packets hide them).
if [ "${CNI_BENCH_PPS:-0}" = 1 ]; then
  stream() { # stream SRC_NS DST_NS DST_ADDR -> "kpps CPU_ns_per_datagram"
    local n=${PPS_COUNT:-100000} kpps sent cpu got rcpu
    pin 1 ip netns exec "$2" "$BENCH" udp-recv 5301 >"$tmp/recv" 2>/dev/null &
    read -r kpps sent cpu < <(pin 0 ip netns exec "$1" "$BENCH" udp-send "$3" 5301 "$n" 64)
    wait
    read -r got rcpu <"$tmp/recv"
    [ -n "$sent" ] && [ "${got:-0}" -gt 0 ] || { echo "0 0"; return; }
    echo "$kpps $((cpu * 1000 / sent))"
  }
  UNITS="kpps, sender CPU ns per datagram"
fi
# paths: name src dst addr; pairs: ours + its peer
declare -A SRC=([fwd]=${fwd_src:-} [br]=${br_src:-} [brnf]=${brnf_src:-} [ct]=${ct_src:-} [huskmin]=${m1:-}
                [onent]=$t1 [hostgwnt]=$z_src [oneslow]=$s1
                [veth]=$va [veth1450]=$wa [vethbig]=$ba [one]=$p1 [onebig]=$g1 [hostgw]=$x_src
                [hostgwbig]=$y_src [vxlan]=$v_src [hostgwslow]=${hs_src:-} [vxlanslow]=${vs_src:-})
declare -A DST=([fwd]=${fwd_dst:-} [br]=${br_dst:-} [brnf]=${brnf_dst:-} [ct]=${ct_dst:-} [huskmin]=${m2:-}
                [onent]=$t2 [hostgwnt]=$z_dst [oneslow]=$s2
                [veth]=$vb [veth1450]=$wb [vethbig]=$bb [one]=$p2 [onebig]=$g2 [hostgw]=$x_dst
                [hostgwbig]=$y_dst [vxlan]=$v_dst [hostgwslow]=${hs_dst:-} [vxlanslow]=${vs_dst:-})
declare -A ADDR=([fwd]=10.254.25.3 [br]=10.254.21.3 [brnf]=10.254.22.3 [ct]=10.254.23.3 [huskmin]=${m2addr:-}
                 [onent]=$t2addr [hostgwnt]=10.254.52.2 [oneslow]=$s2addr
                 [veth]=10.254.9.2 [veth1450]=10.254.8.2 [vethbig]=10.254.7.2 [one]=$p2addr
                 [onebig]=$g2addr [hostgw]=10.254.12.2 [hostgwbig]=10.254.62.2 [vxlan]=10.254.32.2
                 [hostgwslow]=10.254.82.2 [vxlanslow]=10.254.92.2)
PAIRS=${PAIRS:-"one:veth oneslow:veth hostgw:veth vxlan:veth1450 onebig:veth hostgwbig:veth onebig:vethbig"}
if [ "${CNI_BENCH_PPS:-0}" = 1 ]; then
  echo "# pod-to-pod 64-byte UDP, ${PPS_COUNT:-100000} datagrams, $TROUNDS rounds, each path next to its peer ($UNITS; rounds show kpps)"
else
  echo "# pod-to-pod TCP throughput, ${SECS}s streams, $TROUNDS rounds, each path next to its peer (Mbit/s, CPU ms per GB)"
fi
for r in $(seq "$TROUNDS"); do
  line="round $r:"
  for pair in $PAIRS; do
    ours=${pair%:*} peer=${pair#*:}
    if [ $((r % 2)) = 1 ]; then order="$peer $ours"; else order="$ours $peer"; fi
    for p in $order; do
      read -r m c <<<"$(stream "${SRC[$p]}" "${DST[$p]}" "${ADDR[$p]}")"
      echo "$m $c" >>"$tmp/$pair.$p"
    done
    read -r om oc < <(tail -1 "$tmp/$pair.$ours")
    read -r pm pc < <(tail -1 "$tmp/$pair.$peer")
    awk -v a="$om" -v b="$pm" -v c="$oc" -v d="$pc" 'BEGIN { if (b > 0 && d > 0) print a / b, c / d }' \
      >>"$tmp/$pair.ratio"
    line="$line  $ours $om/$peer $pm"
  done
  echo "$line"
done
col_med() { # col_med FILE COLUMN
  awk -v k="$2" '{ print $k }' "$1" | sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; else print 0 }'
}
col_range() { awk -v k="$2" '{ print $k }' "$1" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
declare -A LABEL=([fwd]="stairs: netdev fwd" [br]="stairs: bridge" [brnf]="stairs: +br_netfilter" [ct]="stairs: +conntrack"
                  [huskmin]="stairs: husk-cni, no nat"
                  [one]="one node (shortcut)" [oneslow]="one node, fastPath off" [onent]="one node, notrackCIDRs" [hostgwnt]="host-gw, notrackCIDRs"
                  [hostgw]="across nodes, host-gw" [vxlan]="across nodes, vxlan"
                  [hostgwslow]="host-gw, no shortcut" [vxlanslow]="vxlan, no shortcut"
                  [onebig]="one node, gsoMaxSize" [hostgwbig]="host-gw, gsoMaxSize")
for pair in $PAIRS; do
  ours=${pair%:*} peer=${pair#*:}
  [ -s "$tmp/$pair.ratio" ] || continue
  fmt='%-22s vs %-8s: %5.0f / %5.0f Mbit/s, CPU %4.0f / %4.0f ms/GB; ratio median %.2fx (range %s, target >= 0.9x), CPU/GB ratio median %.2fx\n'
  [ "${CNI_BENCH_PPS:-0}" = 1 ] &&
    fmt='%-22s vs %-8s: %5.0f / %5.0f kpps, CPU %5.0f / %5.0f ns per datagram; kpps ratio median %.2fx (range %s), CPU per datagram ratio median %.2fx\n'
  printf "$fmt" \
    "${LABEL[$ours]}" "$peer" "$(col_med "$tmp/$pair.$ours" 1)" "$(col_med "$tmp/$pair.$peer" 1)" \
    "$(col_med "$tmp/$pair.$ours" 2)" "$(col_med "$tmp/$pair.$peer" 2)" \
    "$(col_med "$tmp/$pair.ratio" 1)" "$(col_range "$tmp/$pair.ratio" 1)" "$(col_med "$tmp/$pair.ratio" 2)"
done
echo "# veth1450: the peer at the VXLAN pods' MTU; vethbig: the peer with the same BIG TCP sizes;"
echo "# gsoMaxSize $BIG: pods (and, host-gw, the underlay) with BIG TCP, as the agent sets it"
echo "# when the node's uplink takes it. CPU/GB is the steadier figure on a loaded machine."
cni_exec "$node" "$CNI_BIN" DEL tp1 "$p1" "$tmp/one.json" >/dev/null
cni_exec "$node" "$CNI_BIN" DEL tp2 "$p2" "$tmp/one.json" >/dev/null
echo "# load average at end: $(cut -d" " -f1-3 /proc/loadavg)"
