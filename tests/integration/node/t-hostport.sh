#!/bin/bash
# hostPort: a pod with ports[].hostPort gets runtimeConfig.portMappings in its CNI ADD
# (husk-cni DNATs it in nftables): the node's address:hostPort reaches the pod's server.
# After the pod is deleted (CNI DEL) the port is closed again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
require_cmd curl
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
# A node address outside 127/8 (DNAT of 127.0.0.1 would need route_localnet).
HOSTIP=192.168.213.1
ip -n "$NS" addr add "$HOSTIP/32" dev lo
IN="nsenter --net=/run/netns/$NS"

$K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
 "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sh", "-c", "mkdir -p /www; echo hello-from-pod > /www/index.html; exec httpd -f -p 8080 -h /www"],
   "ports": [{"containerPort": 8080, "hostPort": 18080}]}]}}
YAML
node_wait_phase web Running 60
tap_is "$(node_pod_field web '{.status.phase}')" "Running" "the pod with a hostPort runs"
POD_IP=$(node_pod_field web '{.status.podIP}')
wait_for 20 $IN curl -sf -m 2 -o /dev/null "http://$POD_IP:8080/"
got=""
for i in $(seq 1 50); do
  got=$($IN curl -sf -m 2 "http://$HOSTIP:18080/" 2>/dev/null) && break
  sleep 0.2
done
tap_is "$got" "hello-from-pod" "node address:hostPort reaches the pod"
tap_check "the pod's own port is not the node's" -- \
  sh -c "! $IN curl -sf -m 2 http://$HOSTIP:8080/ >/dev/null 2>&1"

$K delete pod web --wait=false >/dev/null 2>&1
wait_for 40 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>/dev/null)" "" "the pod is deleted"
tap_check "the hostPort mapping is gone after CNI DEL" -- \
  sh -c "! $IN curl -sf -m 2 http://$HOSTIP:18080/ >/dev/null 2>&1"
tap_done
