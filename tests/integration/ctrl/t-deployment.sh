#!/bin/bash
# Deployment and ReplicaSet controllers against a real husk master with no node agent (pods
# are marked Ready here as a hollow node would): a Deployment makes a ReplicaSet named by its
# pod-template-hash and its pods; scale up and down; a new image rolls out through a second
# ReplicaSet within maxSurge/maxUnavailable; rollout undo returns to the first ReplicaSet as
# revision 3; deleting the Deployment removes its ReplicaSets and pods.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

rs_field() { # rs_field JSONPATH: over the ReplicaSets of app=web
  $K get rs -l app=web -o jsonpath="$1"
}

$K create deployment web --image=busybox:1.35 --replicas=3 >/dev/null
wait_for 20 is_eq 3 count_pods default app=web
tap_is "$(count_pods default app=web)" 3 "create deployment: 3 pods"
hash=$(rs_field '{.items[0].metadata.labels.pod-template-hash}')
tap_like "$hash" '^[bcdfghjklmnpqrstvwxz2456789]+$' "the ReplicaSet carries a pod-template-hash label"
tap_is "$(rs_field '{.items[*].metadata.name}')" "web-$hash" "the ReplicaSet is named web-<hash>"
tap_is "$(rs_field '{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')" \
  "Deployment/web" "the ReplicaSet is owned by the Deployment"
tap_is "$($K get pods -l pod-template-hash="$hash" -o name | wc -l)" 3 \
  "the pods carry the hash label"
tap_is "$($K get pods -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}')" ReplicaSet \
  "the pods are owned by the ReplicaSet"

scale_to web app=web 5 20
tap_is "$(count_pods default app=web)" 5 "scale up to 5"
scale_to web app=web 2 20
tap_is "$(count_pods default app=web)" 2 "scale down to 2"

# A deleted pod is replaced.
victim=$($K get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
$K delete pod "$victim" --wait=false >/dev/null
wait_for 20 is_eq 2 count_pods default app=web
sleep 0.5
tap_is "$(count_pods default app=web)" 2 "a deleted pod is replaced"

# Rolling update: 4 replicas, maxSurge 1, maxUnavailable 0.
hollow_start default
$K patch deployment web --type=merge -p \
  '{"spec":{"replicas":4,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}' \
  >/dev/null
wait_for 30 is_eq 4 count_pods default app=web ready
tap_check "4 replicas ready before the rollout" -- \
  $K rollout status deployment/web --timeout=20s
monitor=$DATA/monitor
pod_monitor default app=web "$monitor"
wait_for 10 test -s "$monitor"
$K set image deployment/web busybox=busybox:1.36 >/dev/null
tap_check "rollout status reports the rollout done" -- \
  $K rollout status deployment/web --timeout=60s
sleep 0.5
kill $MONITOR_PID
# The watch starts with the 4 existing pods; the states after that are the rollout's.
read -r max_total min_ready < <(awk 'NR==4 {mx=$1; mn=$2} NR>4 {if ($1>mx) mx=$1; if ($2<mn) mn=$2}
  END {print mx, mn}' "$monitor")
tap_diag "rollout observed in $(wc -l <"$monitor") pod events: at most $max_total pods, at least $min_ready ready"
tap_ok $(($(wc -l <"$monitor") >= 12 ? 0 : 1)) "the watch saw the rollout's pod events"
tap_ok $((max_total <= 5 ? 0 : 1)) "rollout never exceeds replicas + maxSurge pods ($max_total <= 5)"
tap_ok $((min_ready >= 4 ? 0 : 1)) "rollout never goes below replicas - maxUnavailable ready ($min_ready >= 4)"
tap_is "$($K get rs -l app=web --no-headers | wc -l)" 2 "the new image made a second ReplicaSet"
tap_is "$($K get rs "web-$hash" -o jsonpath='{.spec.replicas}')" 0 "the old ReplicaSet is scaled to 0"
new=$($K get rs -l app=web -o jsonpath='{range .items[?(@.spec.replicas==4)]}{.metadata.name}{end}')
tap_is "$($K get rs "$new" -o jsonpath='{.spec.template.spec.containers[0].image}')" busybox:1.36 \
  "the new ReplicaSet runs the new image with 4 replicas"
tap_is "$($K get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}' | tr ' ' '\n' | sort -u)" \
  busybox:1.36 "every pod runs the new image"
tap_is "$($K get deployment web -o jsonpath='{.status.updatedReplicas}/{.status.availableReplicas}')" \
  4/4 "status: 4 updated, 4 available"

# Rollback to revision 1: the first ReplicaSet comes back as revision 3.
$K rollout undo deployment/web >/dev/null
tap_check "rollout undo completes" -- $K rollout status deployment/web --timeout=60s
tap_is "$($K get deployment web -o jsonpath='{.spec.template.spec.containers[0].image}')" busybox:1.35 \
  "undo restores the old image"
tap_is "$($K get rs -l app=web --no-headers | wc -l)" 2 "undo reuses the old ReplicaSet"
tap_is "$($K get rs "web-$hash" -o jsonpath='{.spec.replicas} {.metadata.annotations.deployment\.kubernetes\.io/revision}')" \
  "4 3" "the old ReplicaSet has 4 replicas and revision 3"
tap_like "$($K rollout history deployment/web)" '2 .*
3 ' "rollout history lists revisions 2 and 3"

# Cascading deletion.
$K delete deployment web >/dev/null
wait_for 20 is_eq 0 count_pods default app=web
tap_is "$(count_pods default app=web)" 0 "deleting the Deployment deletes its pods"
tap_is "$($K get rs -l app=web --no-headers 2>/dev/null | wc -l)" 0 "... and its ReplicaSets"
tap_done
