#!/bin/bash
# DaemonSet controller against a real husk master with hollow nodes (Node objects; pods bound
# by the scheduler are marked Ready here): one pod per eligible node following node additions
# and removals, a tainted node skipped unless tolerated, cordoned nodes still served, a
# RollingUpdate observed step by step (maxUnavailable, then maxSurge), ControllerRevisions
# for `kubectl rollout history/undo`, OnDelete.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start
hollow_start_bound default

ds_yaml() { # ds_yaml NAME [TOLERATIONS_JSON]
  cat <<J
{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "$1"},
 "spec": {"selector": {"matchLabels": {"app": "$1"}},
  "template": {"metadata": {"labels": {"app": "$1"}},
   "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}],
            "tolerations": ${2:-[]}}}}}
J
}
# nodes_of APP: the nodes its live pods are bound to, sorted, space separated.
nodes_of() {
  $K get pods -l app="$1" -o json | python3 -c '
import json, sys
print(" ".join(sorted(p["spec"].get("nodeName", "-") for p in json.load(sys.stdin)["items"]
                      if not p["metadata"].get("deletionTimestamp"))))'
}
# images_of APP: "<image>:<count> ..." over its pods not being deleted.
images_of() {
  $K get pods -l app="$1" -o json | python3 -c '
import collections, json, sys
c = collections.Counter(p["spec"]["containers"][0]["image"] for p in json.load(sys.stdin)["items"]
                        if not p["metadata"].get("deletionTimestamp"))
print("".join("%s:%d " % kv for kv in sorted(c.items())), end="")'
}

hollow_node n1 2 4Gi 110
hollow_node n2 2 4Gi 110
ds_yaml agent | $K create -f - >/dev/null
wait_for 20 is_eq "n1 n2" nodes_of agent
tap_is "$(nodes_of agent)" "n1 n2" "one pod per node, bound by the scheduler"
tap_like "$($K get pods -l app=agent -o jsonpath='{.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key}')" \
  '^metadata.name$' "pods are pinned by node affinity (matchFields metadata.name)"
tap_like "$($K get pods -l app=agent -o jsonpath='{.items[0].spec.tolerations[*].key}')" \
  'node.kubernetes.io/not-ready.*node.kubernetes.io/unreachable.*node.kubernetes.io/unschedulable' \
  "pods carry the automatic DaemonSet tolerations"
tap_check "kubectl rollout status ds" -- $K rollout status ds/agent --timeout=30s

hollow_node n3 2 4Gi 110
wait_for 20 is_eq "n1 n2 n3" nodes_of agent
tap_is "$(nodes_of agent)" "n1 n2 n3" "a new node gets a pod"
hollow_node n4 2 4Gi 110 '{}' '[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]'
$K cordon n1 >/dev/null
sleep 2
tap_is "$(nodes_of agent)" "n1 n2 n3" "a tainted node is skipped; a cordoned node keeps its pod"
ds_yaml tolerant '[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]' |
  $K create -f - >/dev/null
wait_for 20 is_eq "n1 n2 n3 n4" nodes_of tolerant
tap_is "$(nodes_of tolerant)" "n1 n2 n3 n4" "a DaemonSet tolerating the taint runs there, and on the cordoned node"
$K delete node n3 >/dev/null
wait_for 20 is_eq "n1 n2" nodes_of agent
tap_is "$(nodes_of agent)" "n1 n2" "a removed node's pod goes"
$K delete ds tolerant >/dev/null
$K uncordon n1 >/dev/null
hollow_node n5 2 4Gi 110
hollow_node n6 2 4Gi 110
wait_for 20 is_eq "n1 n2 n5 n6" nodes_of agent
tap_check "4 nodes served and available" -- $K rollout status ds/agent --timeout=30s
tap_is "$($K get ds agent -o jsonpath='{.status.desiredNumberScheduled}/{.status.currentNumberScheduled}/{.status.numberReady}/{.status.numberAvailable}/{.status.updatedNumberScheduled}')" \
  4/4/4/4/4 "status: desired/current/ready/available/updated"

# RollingUpdate, maxUnavailable 1 (the default): never more than 4 pods, never fewer than 3 ready.
monitor=$DATA/monitor1
pod_monitor default app=agent "$monitor"
wait_for 10 test -s "$monitor"
$K set image ds/agent c=busybox:1.36 >/dev/null
tap_check "rolling update completes" -- $K rollout status ds/agent --timeout=60s
sleep 0.5
kill $MONITOR_PID
read -r max_total min_ready < <(awk 'NR==4 {mx=$1; mn=$2} NR>4 {if ($1>mx) mx=$1; if ($2<mn) mn=$2} END {print mx, mn}' "$monitor")
tap_diag "rollout observed in $(wc -l <"$monitor") pod events: at most $max_total pods, at least $min_ready ready"
tap_ok $(($(wc -l <"$monitor") >= 12 ? 0 : 1)) "the watch saw the rollout's pod events"
tap_ok $((max_total <= 4 && min_ready >= 3 ? 0 : 1)) "maxUnavailable 1: <= 4 pods, >= 3 ready throughout"
tap_is "$(images_of agent)" "busybox:1.36:4 " "every pod runs the new image"
tap_is "$($K get controllerrevisions -l app=agent --no-headers | wc -l)" 2 "two ControllerRevisions"
tap_like "$($K rollout history ds/agent)" '1 .*
2 ' "rollout history lists revisions 1 and 2"

$K rollout undo ds/agent >/dev/null
tap_check "rollout undo completes" -- $K rollout status ds/agent --timeout=60s
tap_is "$(images_of agent)" "busybox:1.35:4 " "undo brings back the old image"
tap_like "$($K rollout history ds/agent)" '2 .*
3 ' "the restored template is revision 3"

# maxSurge 1, maxUnavailable 0: at most 5 pods, never fewer than 4 ready.
$K patch ds agent --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}' >/dev/null
tap_check "strategy change settles" -- $K rollout status ds/agent --timeout=30s
monitor=$DATA/monitor2
pod_monitor default app=agent "$monitor"
wait_for 10 test -s "$monitor"
$K set image ds/agent c=busybox:1.37 >/dev/null
tap_check "surge rollout completes" -- $K rollout status ds/agent --timeout=60s
sleep 0.5
kill $MONITOR_PID
read -r max_total min_ready < <(awk 'NR==4 {mx=$1; mn=$2} NR>4 {if ($1>mx) mx=$1; if ($2<mn) mn=$2} END {print mx, mn}' "$monitor")
tap_diag "surge rollout: at most $max_total pods, at least $min_ready ready"
tap_ok $((max_total == 5 && min_ready >= 4 ? 0 : 1)) "maxSurge 1: a 5th pod appears, >= 4 ready throughout"
# rollout status may finish while the surge's last old pod is still being replaced.
wait_for 20 is_eq "busybox:1.37:4 " images_of agent
tap_is "$(images_of agent)" "busybox:1.37:4 " "every pod runs busybox:1.37"

# OnDelete: a new template reaches only pods deleted by hand.
$K patch ds agent --type=merge -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' >/dev/null
$K set image ds/agent c=busybox:1.38 >/dev/null
sleep 2
tap_is "$(images_of agent)" "busybox:1.37:4 " "OnDelete: pods keep the old image"
victim=$($K get pods -l app=agent --field-selector spec.nodeName=n2 -o jsonpath='{.items[0].metadata.name}')
$K delete pod "$victim" --wait=false >/dev/null
wait_for 20 is_eq "busybox:1.37:3 busybox:1.38:1 " images_of agent
tap_is "$(images_of agent)" "busybox:1.37:3 busybox:1.38:1 " "the pod deleted by hand comes back with the new image"
tap_is "$($K get ds agent -o jsonpath='{.status.updatedNumberScheduled}')" 1 "updatedNumberScheduled 1"

$K delete ds agent >/dev/null
wait_for 20 is_eq 0 count_pods default app=agent
tap_is "$(count_pods default app=agent)" 0 "deleting the DaemonSet deletes its pods"
tap_is "$($K get controllerrevisions --no-headers 2>/dev/null | wc -l)" 0 "... and its ControllerRevisions"
tap_done
