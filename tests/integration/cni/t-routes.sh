#!/bin/bash
# Cross-node pod traffic through the node agent's routes loop (src/node/net/routes.c): one
# `husk master` and two `husk node` processes, each node in its own network namespace, the
# two joined by a veth. Each node routes the other's podCIDR (host-gw, then --overlay vxlan
# on a fresh pair of namespaces); a pod on n1 reaches a pod on n2 (ping and TCP) and back.
# Each node is given its podCIDR with --pod-cidr and pods their nodeName: the master, bound to
# the netns address only, runs its node IPAM and scheduler against 127.0.0.1 (docs/cni.md).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
node_require

D=$(mktemp -d "${TMPDIR:-/tmp}/husk-routes-test.XXXXXX")
PIDS=()
# Only what this script made: its processes, the cgroups of its pods, mounts under $D.
scrub() {
  local p u m
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for u in $(cat "$D"/uids 2>/dev/null); do
    for m in "$CG/husk/pod-$u"/*/; do [ -f "$m/cgroup.kill" ] && echo 1 >"$m/cgroup.kill"; done
  done
  sleep 0.2
  awk -v d="$D" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  for u in $(cat "$D"/uids 2>/dev/null); do
    for m in "$CG/husk/pod-$u"/*/; do rmdir "$m" 2>/dev/null; done
    rmdir "$CG/husk/pod-$u" 2>/dev/null
  done
  rm -rf "$D"
}
on_exit scrub
husk_oci_layout "$D/layout" 1.36 >/dev/null 2>&1 || { echo "Bail out! cannot make the busybox layout"; exit 1; }

# cluster MODE: master + node n1 in netns A, node n2 in netns B, veth between them.
cluster() {
  local mode=$1 i
  cni_netns A "$mode-1"
  cni_netns B "$mode-2"
  ip -n "$A" link add ul0 type veth peer name ul0 netns "$B"
  ip -n "$A" addr add 192.168.90.1/24 dev ul0 && ip -n "$A" link set ul0 up
  ip -n "$B" addr add 192.168.90.2/24 dev ul0 && ip -n "$B" link set ul0 up
  M="$D/$mode/master"
  mkdir -p "$M"
  nsenter --net="/run/netns/$A" "$HUSK_BUILD_DIR/husk" master --data-dir "$M" \
    --bind 192.168.90.1:6443 >"$D/$mode/master.log" 2>&1 &
  PIDS+=($!)
  wait_for 15 test -s "$M/admin.kubeconfig" || { cat "$D/$mode/master.log" >&2; echo "Bail out! master"; exit 1; }
  for i in 1 2; do
    local ns=$A
    [ $i = 2 ] && ns=$B
    "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/$mode/n$i" --name busybox:1.36 "$D/layout" >/dev/null 2>&1
    nsenter --net="/run/netns/$ns" "$HUSK_BUILD_DIR/husk" node --server https://192.168.90.1:6443 \
      --token-file "$M/node-token" --insecure --name "n$i" --data-dir "$D/$mode/n$i" \
      --log-dir "$D/$mode/logs$i" --node-ip "192.168.90.$i" --overlay "$mode" \
      --pod-cidr "10.42.$i.0/24" >"$D/$mode/n$i.log" 2>&1 &
    PIDS+=($!)
  done
  K="nsenter --net=/run/netns/$A kubectl --kubeconfig $M/admin.kubeconfig --request-timeout=20s"
}

pod_on() { # pod_on NAME NODE: a busybox httpd answering NAME, bound to NODE
  $K run "$1" --image=busybox:1.36 --overrides="{\"spec\":{\"nodeName\":\"$2\"}}" -- \
    sh -c "mkdir -p /www/cgi-bin && echo $1 >/www/index.html &&
      printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \$REMOTE_ADDR\\n' >/www/cgi-bin/peer &&
      chmod +x /www/cgi-bin/peer && exec httpd -f -p 80 -h /www" >/dev/null 2>&1
}
in_pod() { # in_pod POD CMD...: runs CMD in the pod's network namespace (any process of it)
  local uid pid
  uid=$(node_pod_field "$1" '{.metadata.uid}')
  pid=$(cat "$CG/husk/pod-$uid"/*/cgroup.procs "$CG/husk/pod-$uid/cgroup.procs" 2>/dev/null | head -1)
  [ -n "$pid" ] && nsenter --net="/proc/$pid/ns/net" "${@:2}"
}

run_mode() {
  local mode=$1
  cluster "$mode"
  wait_for 30 sh -c "[ \"\$($K get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{end}' 2>/dev/null)\" = TrueTrue ]"
  local c1 c2
  c1=$($K get node n1 -o jsonpath='{.spec.podCIDR}')
  c2=$($K get node n2 -o jsonpath='{.spec.podCIDR}')
  tap_ok $([ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" != "$c2" ]; echo $?) "$mode: two nodes Ready with podCIDRs $c1 and $c2"
  wait_for 15 sh -c "ip -n $A route show proto 77 | grep -q '^$c2'"
  if [ "$mode" = vxlan ]; then
    tap_like "$(ip -n "$A" route show proto 77)" "^$c2 via [0-9.]+ dev husk-vxlan" "vxlan: n1 routes n2's podCIDR over husk-vxlan"
  else
    tap_like "$(ip -n "$A" route show proto 77)" "^$c2 via 192.168.90.2 dev ul0" "host-gw: n1 routes n2's podCIDR via n2's InternalIP"
  fi
  wait_for 15 sh -c "ip -n $B route show proto 77 | grep -q '^$c1'"
  tap_like "$(ip -n "$B" route show proto 77)" "^$c1 via" "$mode: n2 routes n1's podCIDR"
  pod_on "a-$mode" n1
  pod_on "b-$mode" n2
  node_wait_phase "a-$mode" Running 40
  node_wait_phase "b-$mode" Running 40
  node_pod_field "a-$mode" '{.metadata.uid}' >>"$D/uids"; echo >>"$D/uids"
  node_pod_field "b-$mode" '{.metadata.uid}' >>"$D/uids"; echo >>"$D/uids"
  local ipa ipb
  ipa=$(node_pod_field "a-$mode" '{.status.podIP}')
  ipb=$(node_pod_field "b-$mode" '{.status.podIP}')
  tap_ok $([ -n "$ipa" ] && [ -n "$ipb" ]; echo $?) "$mode: pods running on n1 ($ipa) and n2 ($ipb)"
  # the cross-node shortcut (cni/fastpath-remote.c): sender map and, once the pods' bridge
  # exists, the receiver chain on the device peers' packets arrive on
  local dev=ul0
  [ "$mode" = vxlan ] && dev=husk-vxlan
  for ns in "$A" "$B"; do wait_for 15 sh -c "ip netns exec $ns nft list chain netdev husk-fast in-$dev >/dev/null 2>&1"; done
  tap_like "$(ip netns exec "$A" nft list map netdev husk-fast hopdev4 2>&1)" "$c2 : \"$dev\"" \
    "$mode: n1's agent sends n2's podCIDR straight to $dev (cross-node shortcut)"
  tap_like "$(ip netns exec "$B" nft list chain netdev husk-fast in-$dev 2>&1)" "ip daddr $c2 ip saddr @peers4 goto remote-in" \
    "$mode: n2's agent takes n1's pods' packets straight from $dev to its bridge"
  tap_check "$mode: pod on n1 pings pod on n2" -- in_pod "a-$mode" busybox ping -c 1 -W 3 "$ipb"
  tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | in_pod "a-$mode" busybox nc -w 3 "$ipb" 80 2>/dev/null | tail -n 1)" \
    "b-$mode" "$mode: TCP from the pod on n1 to the pod on n2"
  tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | in_pod "b-$mode" busybox nc -w 3 "$ipa" 80 2>/dev/null | tail -n 1 | sed "s/^\[::ffff://; s/\]\$//")" \
    "a-$mode" "$mode: TCP back from n2 to n1"
  tap_is "$(printf 'GET /cgi-bin/peer HTTP/1.0\r\n\r\n' | in_pod "b-$mode" busybox nc -w 3 "$ipa" 80 2>/dev/null | tail -n 1 | sed "s/^\[::ffff://; s/\]\$//")" \
    "$ipb" "$mode: the default CNI config keeps the cluster CIDR unmasqueraded (source is the pod's own address)"
  tap_ok $({ ip netns exec "$A" cat /proc/net/nf_conntrack; ip netns exec "$B" cat /proc/net/nf_conntrack; } 2>/dev/null |
    grep -qE "src=($ipa|$ipb) dst=($ipa|$ipb) "; echo $((! $?))) "$mode: the pods' flows left no conntrack entry on either node"
  $K delete node n2 >/dev/null 2>&1
  wait_for 15 sh -c "! ip -n $A route show proto 77 | grep -q '^$c2'"
  tap_is "$(ip -n "$A" route show proto 77 | grep -c "^$c2")" 0 "$mode: a deleted Node's route is removed"
  wait_for 15 sh -c "! ip netns exec $A nft list table netdev husk-fast | grep -q '$c2'"
  tap_ok $(ip netns exec "$A" nft list table netdev husk-fast | grep -q "$c2"; echo $((! $?))) \
    "$mode: ... and its podCIDR's shortcut"
  $K delete pod "a-$mode" "b-$mode" --wait=false >/dev/null 2>&1
}
run_mode host-gw
run_mode vxlan
tap_done
