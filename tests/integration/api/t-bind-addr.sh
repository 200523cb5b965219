#!/bin/bash
# A master bound to one address (--bind ADDR:PORT, not loopback) runs its scheduler and
# controllers against that address: they used to dial 127.0.0.1 and found nothing there.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
require_root
require_cmd kubectl ip nsenter
ns=$(husk_netns_new bind) || { echo "Bail out! cannot make a network namespace"; exit 1; }
addr=10.203.$(($$ % 250)).1
ip -n "$ns" link add hb0 type veth peer name hb1
ip -n "$ns" addr add "$addr/24" dev hb0
ip -n "$ns" link set hb0 up
ip -n "$ns" link set hb1 up
DATA=$(husk_tmpdir)
nsenter --net="/run/netns/$ns" "$HUSK_BUILD_DIR/husk" master --data-dir "$DATA" \
  --bind "$addr:6443" >>"$DATA/master.log" 2>&1 &
MASTER_PID=$!
on_exit "kill $MASTER_PID 2>/dev/null; wait $MASTER_PID 2>/dev/null"
wait_for 20 test -s "$DATA/admin.kubeconfig" || { echo "Bail out! master did not start: $(tail -3 "$DATA/master.log")"; exit 1; }
K="ip netns exec $ns kubectl --kubeconfig $DATA/admin.kubeconfig --cache-dir $DATA/kube-cache --request-timeout=20s"

tap_like "$(cat "$DATA/admin.kubeconfig")" "server: https://$addr:6443" "the kubeconfig names the bound address"
wait_for 20 $K get ns default >/dev/null 2>&1
$K create deployment web --image=busybox:1.36 >/dev/null
tap_check "the controllers act: the Deployment gets its ReplicaSet" \
  wait_for 30 sh -c "$K get rs -l app=web -o name | grep -q replicaset"
$K run lone --image=busybox:1.36 >/dev/null
tap_check "the scheduler acts: a pod with no node to go to is marked Unschedulable" \
  wait_for 30 sh -c "$K get pod lone -o jsonpath='{.status.conditions[?(@.type==\"PodScheduled\")].reason}' | grep -q Unschedulable"
tap_done
