#!/bin/bash
# Pods on different nodes reach each other: three "nodes" (netns) each with husk-cni on its own
# podCIDR, joined by a test-made "lab" netns. host-gw: the lab is a switch (one L2 segment).
# vxlan: the lab is a router between three subnets with no route to any podCIDR, so only
# encapsulated traffic gets through. The cross-node library (cni/crossnode.c) is driven by
# tests/integration/cni/cni-route-helper, as the node agent will call it.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip busybox python3
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-route-helper"
[ -x "$CNI_BIN" ] && [ -x "$HELPER" ] || tap_skip_all "husk-cni or cni-route-helper not built"
cni_netns probe probe
ip -n "$probe" link add vx type vxlan id 1 dstport 4789 2>/dev/null || tap_skip_all "no vxlan support in this kernel"

cni_tmpdir tmp

# make_node PREFIX I UNDERLAY_ADDR GW MTU: node netns $PREFIX$I with a pod on 10.4I.I.0/24
make_node() {
  local p=$1 i=$2 addr=$3 gw=$4 mtu=$5 node pod
  cni_netns node "$p$i"
  cni_netns pod "$p${i}pod"
  ip -n "$lab" link add "$p$i" type veth peer name ul0 netns "$node"
  ip -n "$lab" link set "$p$i" up
  [ -n "$LAB_BRIDGE" ] && ip -n "$lab" link set "$p$i" master sw0
  ip -n "$node" addr add "$addr" dev ul0
  ip -n "$node" link set ul0 up
  [ -n "$gw" ] && ip -n "$node" route add default via "$gw"
  cat >"$tmp/$p$i.json" <<JSON
{"cniVersion":"1.0.0","name":"pods","type":"husk-cni","isDefaultGateway":true,"mtu":$mtu,
 "ipMasq":true,"ipMasqExclude":["10.42.0.0/16"],
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam-$p$i","subnet":"10.42.$i.0/24"}}
JSON
  cni_exec "$node" "$CNI_BIN" ADD "ctr-$p$i" "$pod" "$tmp/$p$i.json" >/dev/null
}
ping_ok() { ip netns exec "$1" busybox ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

# ---------------- host-gw: one L2 segment ----------------
cni_netns lab labA
ip -n "$lab" link add sw0 type bridge && ip -n "$lab" link set sw0 up
LAB_BRIDGE=1
for i in 1 2 3; do make_node a $i "192.168.77.$i/24" "" 1500; done
A="husk-t$$-a"
tap_ok $(ping_ok "${A}1pod" 10.42.2.2; echo $((! $?))) "host-gw: no cross-node reachability before routes exist"
for i in 1 2 3; do
  peers=()
  for k in 1 2 3; do [ $k = $i ] || peers+=("10.42.$k.0/24=192.168.77.$k"); done
  ip netns exec "$A$i" "$HELPER" host-gw "${peers[@]}"
  tap_ok $? "host-gw sync on node $i"
done
tap_like "$(ip -n "${A}1" route show proto 77)" "10.42.2.0/24 via 192.168.77.2" "node 1 routes node 2's podCIDR via node 2"
tap_check "host-gw: pod on node 1 pings pod on node 2" -- ping_ok "${A}1pod" 10.42.2.2
tap_check "host-gw: pod on node 1 pings pod on node 3" -- ping_ok "${A}1pod" 10.42.3.2
tap_check "host-gw: pod on node 3 pings pod on node 2" -- ping_ok "${A}3pod" 10.42.2.2
pod_httpd "${A}2pod" 80 from-node-2
tap_is "$(pod_get "${A}1pod" 10.42.2.2 80)" from-node-2 "host-gw: TCP across nodes"
tap_is "$(pod_get "${A}1pod" 10.42.2.2 80 /cgi-bin/peer)" 10.42.1.2 \
  "ipMasqExclude: the remote pod sees the client pod's own address"
pod_httpd "${A}2" 8081 node-2
tap_is "$(pod_get "${A}1pod" 192.168.77.2 8081 /cgi-bin/peer)" 192.168.77.1 \
  "ipMasq: beyond the excluded CIDRs the pod is masqueraded behind its node"
ip netns exec "${A}1" "$HELPER" host-gw 10.42.2.0/24=192.168.77.2
tap_ok $? "host-gw re-sync with node 3 gone"
tap_is "$(ip -n "${A}1" route show proto 77 | wc -l)" 1 "the departed node's route is removed"
tap_ok $(ping_ok "${A}1pod" 10.42.3.2; echo $((! $?))) "node 3's pods are no longer routed"
ip netns exec "${A}1" "$HELPER" host-gw 10.42.2.0/24=192.168.77.2
tap_ok $? "sync is idempotent"

# ---------------- vxlan: three subnets behind a router ----------------
cni_netns lab labB
LAB_BRIDGE=
ip netns exec "$lab" sysctl -qw net.ipv4.ip_forward=1
for i in 1 2 3; do
  make_node b $i "192.168.7$i.2/24" "192.168.7$i.1" 1400
  ip -n "$lab" addr add "192.168.7$i.1/24" dev "b$i"
done
B="husk-t$$-b"
tap_check "vxlan: node 1 reaches node 2's underlay address through the router" -- ping_ok "${B}1" 192.168.72.2
tap_ok $(ip netns exec "${B}1" "$HELPER" host-gw 10.42.2.0/24=192.168.72.2 2>/dev/null; echo $((! $?))) \
  "host-gw refuses a peer that is not on the same segment"
tap_ok $(ping_ok "${B}1pod" 10.42.2.2; echo $((! $?))) "vxlan: no cross-node reachability before the overlay exists"
for i in 1 2 3; do
  peers=()
  for k in 1 2 3; do [ $k = $i ] || peers+=("10.42.$k.0/24=192.168.7$k.2"); done
  ip netns exec "$B$i" "$HELPER" vxlan "192.168.7$i.2" "10.42.$i.0/24" "${peers[@]}"
  tap_ok $? "vxlan sync on node $i"
done
tap_like "$(ip -n "${B}1" -d link show husk-vxlan)" "vxlan id 42" "VXLAN device with the configured VNI"
tap_like "$(ip -n "${B}1" route show proto 77)" "10.42.2.0/24 via 10.42.2.0 dev husk-vxlan" "route over the VXLAN device"
tap_check "vxlan: pod on node 1 pings pod on node 2" -- ping_ok "${B}1pod" 10.42.2.2
tap_check "vxlan: pod on node 2 pings pod on node 3" -- ping_ok "${B}2pod" 10.42.3.2
pod_httpd "${B}3pod" 80 from-node-3
tap_is "$(pod_get "${B}1pod" 10.42.3.2 80)" from-node-3 "vxlan: TCP across routed nodes"
tap_ok $(ip -n "$lab" route | grep -q 10.42; echo $((! $?))) "the router never learned a podCIDR (traffic was encapsulated)"
ip netns exec "${B}1" "$HELPER" vxlan 192.168.71.2 10.42.1.0/24 10.42.2.0/24=192.168.72.2 10.42.3.0/24=192.168.73.2
tap_ok $? "vxlan sync is idempotent"
tap_done
