#!/bin/bash
# The controllers' shared informer caches (docs/scheduler.md): during scale-ups, scale-downs
# and a rolling update of a 150-replica Deployment, the controllers list pods from the cache
# (the master's log at shutdown counts the LISTs they sent over HTTP: at most a handful of
# pods, against one per ReplicaSet/endpoints/... pass without the cache), never create more
# pods than asked (they read their own writes), and a controller's view follows deletes and
# deletions made behind its back.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

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

$K create deployment big --image=busybox:1.35 --replicas=150 >/dev/null
wait_for 60 is_eq 150 count_pods default app=big
tap_is "$(count_pods default app=big)" 150 "150 pods made"
tap_is "$(max_pods default app=big 3)" 150 "and no more: the ReplicaSet controller reads its own creates"

scale_to big app=big 200 60
tap_is "$(max_pods default app=big 3)" 200 "scale up to 200, never more"
scale_to big app=big 60 60
tap_is "$(count_pods default app=big)" 60 "scale down to 60"

# Pods deleted behind the controller's back: the cache follows, they are replaced.
victims=$($K get pods -l app=big -o jsonpath='{.items[0].metadata.name} {.items[1].metadata.name}')
# shellcheck disable=SC2086
$K delete pod $victims --wait=false >/dev/null
sleep 1
wait_for 30 is_eq 60 count_pods default app=big
tap_is "$(count_pods default app=big)" 60 "deleted pods are replaced"

# A rolling update with pods made Ready as a hollow node would.
hollow_start default
wait_for 60 is_eq 60 count_pods default app=big ready
$K set image deployment/big busybox=busybox:1.36 >/dev/null
tap_check "the rollout completes" -- $K rollout status deployment/big --timeout=120s
tap_is "$($K get pods -l app=big -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" \
  busybox:1.36 "every pod runs the new image"

# The log line the controller manager writes when it stops.
kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
line=$(grep 'controller lists' "$DATA/master.log" | tail -1)
tap_like "$line" 'pods_over_http' "the controller manager reports its lists at exit"
num() { sed -n "s/.*$1[=\": ]*\([0-9][0-9]*\).*/\1/p" <<<"$line"; }
pods_http=$(num pods_over_http) cached=$(num from_cache) relists=$(num pod_cache_lists)
echo "# $line"
tap_check "pods listed over HTTP by the controllers: ${pods_http:-?} (<= 5)" -- \
  test "${pods_http:-999}" -le 5
tap_check "lists served from the caches: ${cached:-?} (> 100)" -- test "${cached:-0}" -gt 100
tap_check "the pod cache was listed once (no relist): ${relists:-?}" -- test "${relists:-0}" -eq 1
tap_done
