#!/bin/bash
# The node agent on a standard CNI chain instead of husk-cni: `husk node --cni-conf` naming a
# configuration list of Debian's containernetworking-plugins (bridge + host-local, portmap).
# One master and one node in a test-made netns, an "outside" netns joined to it by a veth.
# Pods get host-local addresses, reach each other over TCP, a hostPort is served by portmap
# (the portMappings capability), and deleting the pod releases its address (DEL with the
# cached result).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
node_require
for p in bridge host-local portmap; do
  [ -x "$DEBIAN_CNI/$p" ] || tap_skip_all "containernetworking-plugins not installed ($p)"
done

D=$(mktemp -d "${TMPDIR:-/tmp}/husk-agentlist-test.XXXXXX")
PIDS=()
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

cni_netns A node
cni_netns O out
ip -n "$A" link add ul0 type veth peer name ul0 netns "$O"
ip -n "$A" addr add 192.168.91.1/24 dev ul0 && ip -n "$A" link set ul0 up
ip -n "$O" addr add 192.168.91.2/24 dev ul0 && ip -n "$O" link set ul0 up
cat >"$D/chain.conflist" <<JSON
{"cniVersion":"1.0.0","name":"debchain","plugins":[
  {"type":"bridge","bridge":"cni0","isDefaultGateway":true,"ipMasq":true,"hairpinMode":true,
   "ipam":{"type":"host-local","dataDir":"$D/ipam","subnet":"10.88.7.0/24"}},
  {"type":"portmap","capabilities":{"portMappings":true}}]}
JSON
M="$D/master"
mkdir -p "$M"
nsenter --net="/run/netns/$A" "$HUSK_BUILD_DIR/husk" master --data-dir "$M" \
  --bind 192.168.91.1:6443 >"$D/master.log" 2>&1 &
PIDS+=($!)
wait_for 15 test -s "$M/admin.kubeconfig" || { cat "$D/master.log" >&2; echo "Bail out! master"; exit 1; }
"$HUSK_BUILD_DIR/husk" image import --data-dir "$D/n1" --name busybox:1.36 "$D/layout" >/dev/null 2>&1
nsenter --net="/run/netns/$A" "$HUSK_BUILD_DIR/husk" node --server https://192.168.91.1:6443 \
  --token-file "$M/node-token" --insecure --name n1 --data-dir "$D/n1" --log-dir "$D/logs" \
  --node-ip 192.168.91.1 --cni-conf "$D/chain.conflist" >"$D/n1.log" 2>&1 &
PIDS+=($!)
K="nsenter --net=/run/netns/$A kubectl --kubeconfig $M/admin.kubeconfig --request-timeout=20s"
wait_for 30 sh -c "[ \"\$($K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null)\" = True ]"

$K apply -f - >/dev/null 2>&1 <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: n1
  containers:
  - name: web
    image: busybox:1.36
    command: ["sh", "-c", "mkdir -p /www && echo web-on-chain >/www/index.html && exec httpd -f -p 80 -h /www"]
    ports: [{containerPort: 80, hostPort: 8085}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: n1
  containers:
  - {name: c, image: busybox:1.36, command: ["sleep", "3600"]}
YAML
wait_for 60 sh -c "[ \"\$($K get pods -o jsonpath='{.items[*].status.phase}' 2>/dev/null)\" = 'Running Running' ]"
node_pod_field web '{.metadata.uid}' >>"$D/uids"; echo >>"$D/uids"
node_pod_field client '{.metadata.uid}' >>"$D/uids"; echo >>"$D/uids"
ipw=$(node_pod_field web '{.status.podIP}')
ipc=$(node_pod_field client '{.status.podIP}')
tap_like "$ipw $ipc" '^10\.88\.7\.[0-9]+ 10\.88\.7\.[0-9]+$' "both pods have addresses from Debian's host-local ($ipw, $ipc)"
tap_like "$(ip -n "$A" -d link show cni0 2>&1)" "bridge" "Debian's bridge plugin made cni0 (no husk0)"
tap_ok $(ip -n "$A" link show husk0 >/dev/null 2>&1; echo $((! $?))) "husk-cni was not run"
tap_is "$($K exec client -- sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $ipw 80 | tail -n 1" 2>/dev/null)" \
  web-on-chain "TCP from one pod to the other on the chain's bridge"
tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$O" busybox nc -w 3 192.168.91.1 8085 2>/dev/null | tail -n 1)" \
  web-on-chain "hostPort 8085 from outside the node (portmap got the pod's portMappings)"
uidw=$(node_pod_field web '{.metadata.uid}')
tap_ok $([ -s "$D/n1/cni/results/debchain-$uidw-eth0" ]; echo $?) "the chain's result is cached for DEL"
$K delete pod web --wait=false >/dev/null 2>&1
wait_for 40 sh -c "! ls '$D/ipam/debchain' 2>/dev/null | grep -qx '$ipw' && [ ! -e '$D/n1/cni/results/debchain-$uidw-eth0' ]"
tap_ok $(ls "$D/ipam/debchain" 2>/dev/null | grep -qx "$ipw"; echo $((! $?))) "deleting the pod released its address (DEL through the chain)"
tap_ok $([ ! -e "$D/n1/cni/results/debchain-$uidw-eth0" ]; echo $?) "and dropped the cached result"
tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$O" busybox nc -w 3 192.168.91.1 8085 2>/dev/null | tail -n 1)" \
  "" "the hostPort is gone with the pod"
$K delete pod client --wait=false >/dev/null 2>&1
tap_done
