#!/bin/bash
# kubectl delete --cascade=foreground|orphan as upstream's API does it: the DELETE adds the
# foregroundDeletion (or orphan) finalizer and a deletionTimestamp instead of removing the
# owner at once; the garbage collector then deletes the dependents (the owner goes last) or
# strips their ownerReference (the dependents stay). A hollow node runs the pods.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
gc_cluster # deploy, exists, gone, terminating, kubelet_finish: ctrl/lib.sh
all_pods() { $K get pods -l app="$1" -o name | grep -c .; }
terminating_pods() { $K get pods -l app="$1" -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{"\n"}{end}' | grep -c .; }

# Foreground: no finalizer set beforehand; the DELETE itself sets it.
deploy fg
rs=$($K get rs -l app=fg -o name)
tap_is "$($K get deployment fg -o jsonpath='{.metadata.finalizers}')" "" "foreground: no finalizer before the delete"
$K delete deployment fg --cascade=foreground --wait=false >/dev/null
tap_ok $(terminating deployment/fg && echo 0 || echo 1) "foreground: the Deployment stays with a deletionTimestamp"
tap_like "$($K get deployment fg -o jsonpath='{.metadata.finalizers}')" foregroundDeletion \
  "... and the foregroundDeletion finalizer"
tap_ok $(exists "$rs" && echo 0 || echo 1) "... while its ReplicaSet exists"
tap_is "$(all_pods fg)" 2 "... and its pods"
wait_for 20 terminating "$rs"
tap_ok $(terminating "$rs" && echo 0 || echo 1) "the ReplicaSet is deleted in the foreground too"
wait_for 20 is_eq 2 terminating_pods fg
tap_is "$(terminating_pods fg)" 2 "... and its pods are terminating"
kubelet_finish
wait_for 20 gone deployment/fg
tap_is "$(all_pods fg)" 0 "once the pods are gone"
tap_ok $(gone "$rs" && echo 0 || echo 1) "... the ReplicaSet goes"
tap_ok $(gone deployment/fg && echo 0 || echo 1) "... and then the Deployment"

# Orphan: the finalizer is set by the DELETE; the RS stays, unowned, with its pods.
deploy or
rs=$($K get rs -l app=or -o name)
api_curl -X DELETE -H 'Content-Type: application/json' -d '{"propagationPolicy":"Orphan"}' \
  /apis/apps/v1/namespaces/default/deployments/or >/tmp/t-cascade.$$
tap_like "$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metadata"]; print(m.get("deletionTimestamp"), m.get("finalizers"))' /tmp/t-cascade.$$)" \
  "Z \\['orphan'\\]" "orphan: the DELETE answers the Deployment marked, with the orphan finalizer"
rm -f /tmp/t-cascade.$$
wait_for 20 gone deployment/or
tap_ok $(gone deployment/or && echo 0 || echo 1) "orphan: the Deployment goes once the collector handled it"
tap_is "$($K get "$rs" -o jsonpath='{.metadata.name}/{.metadata.ownerReferences[*].uid}' 2>&1)" "${rs#*/}/" \
  "... its ReplicaSet stays, without its ownerReference"
tap_is "$(count_pods default app=or ready)" 2 "... its pods keep running"
$K delete "$rs" --cascade=orphan --wait=false >/dev/null
wait_for 20 gone "$rs"
tap_ok $(gone "$rs" && echo 0 || echo 1) "kubectl --cascade=orphan on the ReplicaSet: it goes"
tap_is "$($K get pods -l app=or -o jsonpath='{.items[*].metadata.ownerReferences[*].uid}')" "" \
  "... its pods stay, unowned"
tap_is "$(all_pods or)" 2 "... both of them"

# Background stays immediate; a non-owner kind with Foreground is deleted at once.
deploy bg
$K delete deployment bg --cascade=background --wait=false >/dev/null
tap_ok $(gone deployment/bg && echo 0 || echo 1) "background: the Deployment goes at once"
$K create configmap cm --from-literal=a=b >/dev/null
$K delete configmap cm --cascade=foreground --wait=false >/dev/null
tap_ok $(gone configmap/cm && echo 0 || echo 1) "foreground on a kind that owns nothing: deleted at once"
tap_done
