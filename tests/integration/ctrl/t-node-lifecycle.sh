#!/bin/bash
# Node lifecycle against a real husk master (--node-monitor-grace-period 5) with two hollow
# nodes whose Leases this script renews: one goes silent -> Ready=Unknown (NodeStatusUnknown),
# taints node.kubernetes.io/unreachable NoSchedule+NoExecute, its Deployment pods (tolerating
# the taint for 2 s) evicted and recreated on the other node, a bare pod with the default
# 300 s toleration kept; the node comes back and the taints go. Default tolerations are added
# by admission; a node reporting Ready=False gets node.kubernetes.io/not-ready.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
DATA=$(husk_tmpdir)
husk_master_launch --node-monitor-grace-period 5

ALIVE="$DATA/alive"
for n in n1 n2; do
  hollow_node $n 4 8Gi 110 "{\"kubernetes.io/hostname\": \"$n\"}"
  $K -n kube-node-lease patch lease $n --type=merge -p '{"spec":{"leaseDurationSeconds":1}}' >/dev/null
  echo $n >>"$ALIVE"
done
renew_lease() {
  api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d "{\"spec\":{\"renewTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)\"}}" \
    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$1" >/dev/null
}
# The nodes' agents: renew the Lease of every node listed in $ALIVE every half second.
(while :; do
  for n in $(cat "$ALIVE"); do renew_lease "$n"; done
  sleep 0.5
done) >/dev/null 2>&1 &
on_exit "kill $! 2>/dev/null"
hollow_start default

$K apply -f - >/dev/null <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - {name: c, image: busybox, resources: {requests: {cpu: 100m, memory: 64Mi}}}
Y
# nodes_of SELECTOR: the node of each live pod, sorted.
nodes_of() {
  $K get pods -l "$1" -o json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    if not p["metadata"].get("deletionTimestamp"):
        print(p["spec"].get("nodeName", "-"))' | sort
}
wait_for 30 is_eq 4 count_pods default app=web ready
tap_is "$(count_pods default app=web ready)" 4 "4 web pods run"
silent=$(nodes_of app=web | head -1)
other=n2
[ "$silent" = n2 ] && other=n1
tap_like "$silent" '^n[12]$' "a web pod runs on $silent"

$K create namespace solo >/dev/null
$K -n solo run bare --image=busybox --overrides="{\"spec\":{\"nodeName\":\"$silent\"}}" >/dev/null
pod_status solo bare 10.9.9.9 True >/dev/null
K="$K -n solo"
tap_is "$($K get pod bare -o jsonpath='{range .spec.tolerations[*]}{.key}:{.effect}:{.tolerationSeconds} {end}')" \
  "node.kubernetes.io/not-ready:NoExecute:300 node.kubernetes.io/unreachable:NoExecute:300 " \
  "admission adds the default not-ready/unreachable tolerations (300 s)"
K=${K% -n solo}
tap_is "$($K get pod -l app=web -o jsonpath='{.items[0].spec.tolerations[*].tolerationSeconds}')" \
  "2 300" "a pod's own unreachable toleration is kept, not-ready defaulted"
bare_ready() { $K -n solo get pod bare -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
tap_is "$(bare_ready)" True "the bare pod is Ready"

taints_of() { $K get node "$1" -o jsonpath='{range .spec.taints[*]}{.key}:{.effect} {end}'; }
ready_of() { $K get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}'; }

sleep 6
tap_is "$(ready_of "$silent")" "True/KubeletReady" "a node renewing its Lease stays Ready past the grace period"
tap_is "$(taints_of "$silent")" "" "and untainted"

grep -v "^$silent\$" "$ALIVE" >"$ALIVE.new" && mv "$ALIVE.new" "$ALIVE"
t0=$(date +%s)
wait_for 20 is_eq "Unknown/NodeStatusUnknown" ready_of "$silent"
tap_is "$(ready_of "$silent")" "Unknown/NodeStatusUnknown" "the silent node's Ready turns Unknown (NodeStatusUnknown)"
tap_diag "Ready=Unknown $(($(date +%s) - t0)) s after the last renewal (grace 5 s)"
wait_for 10 is_eq "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute " taints_of "$silent"
tap_is "$(taints_of "$silent")" "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute " \
  "it is tainted unreachable (NoSchedule and NoExecute)"
tap_is "$(ready_of "$other")" "True/KubeletReady" "the other node stays Ready"

want=$(printf '%s\n' $other $other $other $other)
wait_for 30 is_eq "$want" nodes_of app=web
tap_is "$(nodes_of app=web | tr '\n' ' ')" "$other $other $other $other " \
  "the evicted web pods are recreated on $other"
wait_for 20 is_eq 4 count_pods default app=web ready
tap_is "$(count_pods default app=web ready)" 4 "4 web pods Ready again"
tap_is "$($K -n solo get pod bare -o jsonpath='{.metadata.deletionTimestamp}')" "" \
  "the bare pod (300 s toleration) is not evicted yet"
tap_is "$(bare_ready)" False "but it is marked not Ready (Endpoints drop it)"
tap_like "$($K get events --field-selector reason=TaintManagerEviction -o jsonpath='{.items[*].message}')" \
  "Marking for deletion Pod default/web-" "evictions are recorded as TaintManagerEviction events"

# The agent comes back: it renews its Lease, then reports its status.
echo "$silent" >>"$ALIVE"
renew_lease "$silent"
sleep 2.5
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
$K patch node "$silent" --subresource=status --type=merge -p "{\"status\": {\"conditions\": [
  {\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"KubeletReady\",
   \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"}]}}" >/dev/null
wait_for 15 is_eq "" taints_of "$silent"
tap_is "$(taints_of "$silent")" "" "the node is back: its taints go"
sleep 5
tap_is "$(ready_of "$silent")" "True/KubeletReady" "and it stays Ready while it renews"

# A node that reports Ready=False is tainted not-ready.
$K patch node "$other" --subresource=status --type=merge -p "{\"status\": {\"conditions\": [
  {\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"KubeletNotReady\",
   \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"}]}}" >/dev/null
wait_for 15 is_eq "node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute " taints_of "$other"
tap_is "$(taints_of "$other")" "node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute " \
  "a node reporting Ready=False is tainted not-ready"
tap_done
