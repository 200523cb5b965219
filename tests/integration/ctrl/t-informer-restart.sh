#!/bin/bash
# After a restart the controllers' informers and the scheduler fill their caches again from
# paged LISTs (pages of 100 items: docs/api.md "A restart with 10,000 pods"). A 250-replica
# Deployment on a node that takes 250 pods spans three pages: the restarted master's
# ReplicaSet controller sees every pod (it creates and deletes none) and the scheduler counts
# every bound pod (one more pod finds the node full and stays Pending).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
require_cmd kubectl curl python3
api_start

# bound_pods NS SELECTOR: pods with a spec.nodeName.
bound_pods() {
  $K get pods -n "$1" -l "$2" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' |
    grep -c .
}
# max_pods NS SELECTOR SECS: the largest number of live pods seen over SECS seconds.
max_pods() {
  local max=0 n end=$((SECONDS + $3))
  while [ $SECONDS -lt "$end" ]; do
    n=$(count_pods "$1" "$2")
    [ "$n" -gt "$max" ] && max=$n
    sleep 0.3
  done
  echo "$max"
}

hollow_node full-$$ 64 256Gi 250
$K create deployment many --image=busybox:1.36 --replicas=250 >/dev/null
wait_for 90 is_eq 250 count_pods default app=many
wait_for 90 is_eq 250 bound_pods default app=many
tap_is "$(bound_pods default app=many)" 250 "250 pods made and bound before the restart"

api_restart
wait_for 30 grep -q "controller cache listed.*pods" "$DATA/master.log"
tap_is "$(max_pods default app=many 4)" 250 \
  "after the restart: no pod created (every page of the pod list reached the cache)"
tap_is "$(count_pods default app=many)" 250 "and none deleted"

$K create -f - >/dev/null <<'J'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one-more"},
 "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
J
sleep 3
tap_is "$(node_of one-more)" "" "one more pod stays Pending: the scheduler counts all 250 bound pods"
tap_like "$($K get events --field-selector involvedObject.name=one-more -o jsonpath='{.items[*].message}')" \
  "Too many pods" "its FailedScheduling event says the node is full"
tap_done
