#!/bin/bash
# The cross-node shortcut (cni/fastpath-remote.c): pod-to-pod packets between nodes skip the
# bridge, routing and conntrack on both nodes (netdev ingress `fwd` in table husk-fast), for
# host-gw and vxlan. Three "nodes" (netns) on a test-made switch, husk-cni pods in the agent's
# default configuration (masquerade registers conntrack in every node namespace, so a flow
# that takes the normal path leaves an entry in /proc/net/nf_conntrack); the routes and the
# shortcut come from tests/integration/cni/cni-route-helper, as the node agent calls them.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip busybox python3 nft
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-route-helper"
NPHELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-netpol-helper"
BENCH="$HUSK_BUILD_DIR/tests/bench/cni/cni-bench"
[ -x "$CNI_BIN" ] && [ -x "$HELPER" ] && [ -x "$NPHELPER" ] && [ -x "$BENCH" ] ||
  tap_skip_all "husk-cni, cni-route-helper, cni-netpol-helper or cni-bench not built"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || tap_skip_all "no br_netfilter in this kernel"

cni_tmpdir tmp
T="husk-t$$"

# make_node LAB PREFIX I MTU: node netns $PREFIX$I (192.168.7x.I on the lab's switch) with
# husk-cni pods on 10.4x.I.0/24; pods are added with add_pod
make_node() {
  local lab=$1 p=$2 i=$3 mtu=$4 node
  cni_netns node "$p$i"
  ip -n "$lab" link add "$p$i" type veth peer name ul0 netns "$node"
  ip -n "$lab" link set "$p$i" master sw0 up
  ip -n "$node" addr add "$UNDER.$i/24" dev ul0
  ip -n "$node" link set ul0 up
  cat >"$tmp/$p$i.json" <<JSON
{"cniVersion":"1.0.0","name":"pods","type":"husk-cni","bridge":"husk0","isGateway":true,
 "isDefaultGateway":true,"ipMasq":true,"ipMasqExclude":["$CLUSTER"],"hairpinMode":true,
 "mtu":$mtu,"capabilities":{"portMappings":true},
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam-$p$i","subnet":"$PODNET.$i.0/24"}}
JSON
}
add_pod() { # add_pod NODE_NS POD_NAME CONF [RUNTIME_CONFIG_JSON]: the pod's netns is $T-POD_NAME
  local pns conf=$3
  cni_netns pns "$2"
  if [ -n "${4:-}" ]; then
    jset "$3" "$tmp/$2.json" runtimeConfig "$4"
    conf=$tmp/$2.json
  fi
  cni_exec "$1" "$CNI_BIN" ADD "ctr-$2" "$pns" "$conf" >"$tmp/$2.out"
}
ping_ok() { ip netns exec "$1" busybox ping -c 1 -W 2 "$2" >/dev/null 2>&1; }
# tracked NODE_NS SRC DST: the node's conntrack holds a flow between the two addresses
tracked() { ip netns exec "$1" grep -qE "src=$2 dst=$3 |src=$3 dst=$2 " /proc/net/nf_conntrack; }
# bulk SRC_NS DST_NS DST_ADDR PORT: one second of bulk TCP; prints "sent received" bytes
bulk() {
  ip netns exec "$2" timeout 20 "$BENCH" recv "$4" >"$tmp/recv" 2>/dev/null &
  local rpid=$! mbit sent cpu got rcpu
  sleep 0.3
  read -r mbit sent cpu < <(ip netns exec "$1" timeout 20 "$BENCH" send "$3" "$4" 1)
  wait "$rpid"
  read -r got rcpu <"$tmp/recv"
  echo "${sent:-0} ${got:-0}"
}
bulk_ok() { # bulk_ok DESC SRC_NS DST_NS DST_ADDR PORT
  local s g
  read -r s g <<<"$(bulk "$2" "$3" "$4" "$5")"
  tap_diag "$1: sent $s, received $g bytes"
  tap_ok $([ "$s" -gt 1000000 ] && [ "$s" = "$g" ]; echo $?) "$1"
}
fast_table() { ip netns exec "$1" nft list table netdev husk-fast 2>&1; }

# ---------------- host-gw: one L2 segment, three nodes ----------------
UNDER=192.168.74 PODNET=10.46 CLUSTER=10.46.0.0/16
cni_netns lab labA
ip -n "$lab" link add sw0 type bridge && ip -n "$lab" link set sw0 up
for i in 1 2 3; do make_node "$lab" a $i 1500; done
A="$T-a"
add_pod "${A}1" p1 "$tmp/a1.json" && add_pod "${A}2" p2 "$tmp/a2.json" && add_pod "${A}3" p3 "$tmp/a3.json" &&
  add_pod "${A}2" hp "$tmp/a2.json" '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}'
tap_ok $? "pods on three nodes (one with a hostPort on node 2)"
HP=$(jget "$tmp/hp.out" '["ips"][0]["address"]')
HP=${HP%/*}
for i in 1 2 3; do
  peers=()
  for k in 1 2 3; do [ $k = $i ] || peers+=("$PODNET.$k.0/24=$UNDER.$k"); done
  ip netns exec "$A$i" "$HELPER" host-gw --pod-cidr "$PODNET.$i.0/24" "${peers[@]}"
  tap_ok $? "host-gw sync with the shortcut on node $i"
done
tap_like "$(fast_table "${A}1")" "$PODNET.2.0/24 : $UNDER.2," "node 1's hop4 maps node 2's podCIDR to node 2's address"
tap_like "$(fast_table "${A}1")" "$PODNET.2.0/24 : \"ul0\"," "... and hopdev4 to the uplink"
tap_like "$(ip netns exec "${A}1" nft list chain netdev husk-fast in-ul0 2>&1)" "hook ingress device \"ul0\"" \
  "node 1 has the receiver chain on its uplink"

pod_httpd "$T-p2" 80 from-p2
pod_httpd "$T-hp" 80 from-hp
tap_is "$(pod_get "$T-p1" "$PODNET.2.2" 80)" from-p2 "host-gw: TCP from a pod on node 1 to a pod on node 2"
tap_is "$(pod_get "$T-p1" "$PODNET.2.2" 80 /cgi-bin/peer)" "$PODNET.1.2" \
  "host-gw: the remote pod sees the client pod's own address"
tap_ok $(tracked "${A}1" "$PODNET.1.2" "$PODNET.2.2"; echo $((! $?))) \
  "host-gw: no conntrack entry for the pod-to-pod flow on the sending node"
tap_ok $(tracked "${A}2" "$PODNET.1.2" "$PODNET.2.2"; echo $((! $?))) \
  "host-gw: no conntrack entry for it on the receiving node"
tap_like "$(ip netns exec "$T-p1" busybox ping -c 1 -W 2 "$PODNET.2.2" 2>&1)" "ttl=62" \
  "host-gw: the TTL drops by one per node, as when routed"
bulk_ok "host-gw: bulk TCP node 1 -> node 2 arrives whole" "$T-p1" "$T-p2" "$PODNET.2.2" 5201
bulk_ok "host-gw: bulk TCP node 2 -> node 1 arrives whole" "$T-p2" "$T-p1" "$PODNET.1.2" 5202
tap_check "host-gw: a pod reaches the other node's gateway address (its own business)" -- \
  ping_ok "$T-p1" "$PODNET.2.1"
tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "${A}1" busybox nc -w 3 "$PODNET.2.2" 80 2>/dev/null | tail -n 1)" \
  from-p2 "host-gw: node 1 itself reaches the pod on node 2 (not from a podCIDR: normal path)"
tap_is "$(pod_get "$T-p1" "$UNDER.2" 8080)" from-hp \
  "a pod on node 1 reaches node 2's hostPort (DNAT there, replies un-NATed: the target takes no shortcut)"
tap_is "$(pod_get "$T-p1" "$HP" 80)" from-hp "a pod on node 1 reaches the hostPort pod directly"

# NetworkPolicy: p2 isolated for ingress on node 2 (only p3 allowed): its traffic is tracked
# and policed there, in both directions; node 1 is untouched.
cat >"$tmp/np.json" <<JSON
{"namespaces": [{"metadata": {"name": "default"}}],
 "pods": [
  {"metadata": {"namespace": "default", "name": "p1", "labels": {"app": "p1"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$PODNET.1.2"}},
  {"metadata": {"namespace": "default", "name": "p2", "labels": {"app": "p2"}}, "spec": {"nodeName": "n2"}, "status": {"podIP": "$PODNET.2.2"}},
  {"metadata": {"namespace": "default", "name": "p3", "labels": {"app": "p3"}}, "spec": {"nodeName": "n3"}, "status": {"podIP": "$PODNET.3.2"}}],
 "policies": [{"metadata": {"namespace": "default", "name": "p2-in"}, "spec": {
   "podSelector": {"matchLabels": {"app": "p2"}},
   "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "p3"}}}]}]}}]}
JSON
ip netns exec "${A}2" "$NPHELPER" apply "$tmp/np.json" n2 >/dev/null
tap_ok $? "NetworkPolicy isolating p2 applied on node 2"
tap_like "$(ip netns exec "${A}2" nft list set netdev husk-fast tracked4 2>&1)" "$PODNET.2.2" \
  "p2 is in node 2's tracked4"
tap_ok $([ -z "$(pod_get "$T-p1" "$PODNET.2.2" 80)" ]; echo $?) \
  "isolated across nodes: p1 (node 1) no longer reaches p2 (node 2)"
tap_is "$(pod_get "$T-p3" "$PODNET.2.2" 80)" from-p2 "the allowed peer p3 (node 3) reaches p2"
tap_ok $(tracked "${A}2" "$PODNET.3.2" "$PODNET.2.2"; echo $?) \
  "the isolated pod's flow is tracked on its node (policy and ct state see it)"
ip netns exec "${A}2" "$NPHELPER" flush
tap_is "$(pod_get "$T-p1" "$PODNET.2.2" 80)" from-p2 "after the policy is gone p1 reaches p2 again"

# node 3 leaves: node 1 re-syncs with node 2 only
ip netns exec "${A}1" "$HELPER" host-gw --pod-cidr "$PODNET.1.0/24" "$PODNET.2.0/24=$UNDER.2"
tap_ok $? "node 1 re-syncs without node 3"
tap_ok $(fast_table "${A}1" | grep -q "$PODNET.3.0"; echo $((! $?))) "node 3's podCIDR left node 1's table"
tap_like "$(fast_table "${A}1")" "$PODNET.2.0/24 : $UNDER.2 " "node 2's stays"
tap_ok $(ping_ok "$T-p1" "$PODNET.3.2"; echo $((! $?))) "node 3's pods are no longer reached from node 1"
tap_is "$(pod_get "$T-p1" "$PODNET.2.2" 80)" from-p2 "node 2's still are"
ip netns exec "${A}1" "$HELPER" host-gw --pod-cidr "$PODNET.1.0/24" "$PODNET.2.0/24=$UNDER.2"
tap_is "$(fast_table "${A}1" | grep -c 'fwd ip to')" 2 \
  "a repeated sync leaves one sender and one receiver rule"
ip netns exec "${A}1" "$HELPER" host-gw --pod-cidr "$PODNET.1.0/24"
tap_ok $(fast_table "${A}1" | grep -q 'in-ul0'; echo $((! $?))) \
  "with no peer left the receiver chain is gone"
tap_like "$(fast_table "${A}1")" "chain veth" \
  "husk-cni's own chains are untouched"
tap_check "the pod still reaches its own gateway" -- ping_ok "$T-p1" "$PODNET.1.1"

# ---------------- vxlan: two nodes ----------------
UNDER=192.168.75 PODNET=10.47 CLUSTER=10.47.0.0/16
cni_netns lab labB
ip -n "$lab" link add sw0 type bridge && ip -n "$lab" link set sw0 up
for i in 1 2; do make_node "$lab" b $i 1450; done
B="$T-b"
add_pod "${B}1" v1 "$tmp/b1.json" && add_pod "${B}2" v2 "$tmp/b2.json"
tap_ok $? "pods on two vxlan nodes"
ip netns exec "${B}1" "$HELPER" vxlan "$UNDER.1" "$PODNET.1.0/24" "$PODNET.2.0/24=$UNDER.2" &&
  ip netns exec "${B}2" "$HELPER" vxlan "$UNDER.2" "$PODNET.2.0/24" "$PODNET.1.0/24=$UNDER.1"
tap_ok $? "vxlan sync with the shortcut on both nodes"
tap_like "$(fast_table "${B}1")" "$PODNET.2.0/24 : $PODNET.2.0 " "node 1's hop4 sends node 2's podCIDR to its VTEP"
tap_like "$(fast_table "${B}1")" "$PODNET.2.0/24 : \"husk-vxlan\" " "... on the VXLAN device"
tap_like "$(ip netns exec "${B}1" nft list chain netdev husk-fast in-husk-vxlan 2>&1)" \
  "hook ingress device \"husk-vxlan\"" "node 1 has the receiver chain on the VXLAN device"
pod_httpd "$T-v2" 80 from-v2
tap_is "$(pod_get "$T-v1" "$PODNET.2.2" 80)" from-v2 "vxlan: TCP from a pod on node 1 to a pod on node 2"
tap_ok $(tracked "${B}1" "$PODNET.1.2" "$PODNET.2.2"; echo $((! $?))) \
  "vxlan: no conntrack entry for the pod-to-pod flow on the sending node"
tap_ok $(tracked "${B}2" "$PODNET.1.2" "$PODNET.2.2"; echo $((! $?))) \
  "vxlan: no conntrack entry for it on the receiving node"
bulk_ok "vxlan: bulk TCP node 1 -> node 2 arrives whole" "$T-v1" "$T-v2" "$PODNET.2.2" 5203
bulk_ok "vxlan: bulk TCP node 2 -> node 1 arrives whole" "$T-v2" "$T-v1" "$PODNET.1.2" 5204
tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "${B}1" busybox nc -w 3 "$PODNET.2.2" 80 2>/dev/null | tail -n 1)" \
  from-v2 "vxlan: node 1 itself (source: its VTEP address) reaches the pod on node 2"
tap_done
