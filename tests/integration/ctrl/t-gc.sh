#!/bin/bash
# Garbage collection against a real husk master with a hollow node: background cascading,
# orphaning (--cascade=orphan, and the orphan finalizer) leaving ReplicaSets running without
# their ownerReference, foreground deletion through the foregroundDeletion finalizer (the
# owner stays, with a deletionTimestamp, until its dependents are gone, down the chain
# Deployment -> ReplicaSet -> pods), and objects whose owner no longer exists collected.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
gc_cluster # deploy, exists, gone, terminating, kubelet_finish: ctrl/lib.sh

# Background (the default).
deploy bg
rs=$($K get rs -l app=bg -o name)
$K delete deployment bg --cascade=background >/dev/null
wait_for 10 gone "$rs"
tap_ok $(gone "$rs" && echo 0 || echo 1) "background: the ReplicaSet goes with the Deployment"
kubelet_finish
wait_for 10 is_eq 0 count_pods default app=bg
tap_is "$(count_pods default app=bg)" 0 "... and its pods"

# Orphan.
deploy or
rs=$($K get rs -l app=or -o name)
$K delete deployment or --cascade=orphan >/dev/null
sleep 1
tap_ok $(exists "$rs" && echo 0 || echo 1) "orphan: the ReplicaSet stays"
tap_is "$($K get "$rs" -o jsonpath='{.metadata.ownerReferences[*].uid}')" "" "... without its ownerReference"
tap_is "$(count_pods default app=or ready)" 2 "... its pods keep running"
$K scale "$rs" --replicas=3 >/dev/null
wait_for 20 is_eq 3 count_pods default app=or ready
tap_is "$(count_pods default app=or ready)" 3 "... and the ReplicaSet controller still manages it"
$K delete "$rs" >/dev/null

# The orphan finalizer (what the API sets for propagationPolicy=Orphan upstream).
deploy or2
rs=$($K get rs -l app=or2 -o name)
$K patch deployment or2 --type=merge -p '{"metadata":{"finalizers":["orphan"]}}' >/dev/null
$K delete deployment or2 --wait=false >/dev/null
wait_for 20 gone deployment/or2
tap_ok $(gone deployment/or2 && echo 0 || echo 1) "orphan finalizer: the Deployment goes once handled"
tap_is "$($K get "$rs" -o jsonpath='{.metadata.name}/{.metadata.ownerReferences[*].uid}' 2>&1)" "${rs#*/}/" \
  "... its ReplicaSet stays, unowned"
tap_is "$(count_pods default app=or2 ready)" 2 "... with its pods"
$K delete "$rs" >/dev/null

# Foreground through the foregroundDeletion finalizer.
deploy fg
rs=$($K get rs -l app=fg -o name)
$K patch deployment fg --type=merge -p '{"metadata":{"finalizers":["foregroundDeletion"]}}' >/dev/null
$K delete deployment fg --cascade=foreground --wait=false >/dev/null
wait_for 20 terminating "$rs"
sleep 1
tap_ok $(terminating deployment/fg && echo 0 || echo 1) "foreground: the Deployment stays with a deletionTimestamp"
tap_ok $(terminating "$rs" && echo 0 || echo 1) "... its ReplicaSet is being deleted in the foreground too"
tap_like "$($K get "$rs" -o jsonpath='{.metadata.finalizers}')" foregroundDeletion "... (foregroundDeletion finalizer)"
fg_terminating_pods() { $K get pods -l app=fg -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{"\n"}{end}' | grep -c .; }
wait_for 20 is_eq 2 fg_terminating_pods # the collector goes down the chain one pass at a time
tap_is "$(fg_terminating_pods)" 2 "... and its pods are terminating"
kubelet_finish
wait_for 20 gone deployment/fg
tap_ok $(gone "$rs" && echo 0 || echo 1) "once the pods are gone, the ReplicaSet goes"
tap_ok $(gone deployment/fg && echo 0 || echo 1) "... and then the Deployment"

# Dangling owners: a ReplicaSet and a pod whose owners do not exist (as after an owner was
# removed while the master was down); an owner of an unknown kind is left alone.
deploy keep
api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"apps/v1","kind":"ReplicaSet",
 "metadata":{"name":"dangle","ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"ghost",
   "uid":"00000000-0000-0000-0000-00000000dead","controller":true,"blockOwnerDeletion":true}]},
 "spec":{"replicas":1,"selector":{"matchLabels":{"app":"dangle"}},
  "template":{"metadata":{"labels":{"app":"dangle"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}' \
  /apis/apps/v1/namespaces/default/replicasets >/dev/null
for p in lost alien; do
  kind=ReplicaSet api=apps/v1
  [ $p = alien ] && kind=Widget api=example.com/v1
  api_curl -X POST -H 'Content-Type: application/json' -d "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
   \"metadata\":{\"name\":\"$p\",\"ownerReferences\":[{\"apiVersion\":\"$api\",\"kind\":\"$kind\",\"name\":\"gone\",
     \"uid\":\"00000000-0000-0000-0000-0000000$p\"}]},
   \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}" /api/v1/namespaces/default/pods >/dev/null
done
wait_for 30 gone rs/dangle
tap_ok $(gone rs/dangle && echo 0 || echo 1) "a ReplicaSet whose Deployment is gone is collected"
gone_or_going() { gone "$1" || terminating "$1"; }
wait_for 20 gone_or_going pod/lost
kubelet_finish
tap_ok $(gone pod/lost && echo 0 || echo 1) "a pod whose ReplicaSet is gone is collected"
tap_ok $(exists pod/alien && echo 0 || echo 1) "a pod owned by an unknown kind is left alone"
tap_is "$(count_pods default app=keep ready)" 2 "pods whose owner exists are untouched"
tap_done
