#!/bin/bash
# `husk master` and `husk node --server --token-file --ca-file` as separate processes in a
# network namespace made here: the node joins, runs a pod bound to it, and keeps working
# across a master restart (its watch resumes, its Lease is renewed again).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require

NS="husk-t$$-join"
ip netns del "$NS" 2>/dev/null
ip netns add "$NS" || tap_skip_all "cannot create a network namespace"
on_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up
D=$(mktemp -d "${TMPDIR:-/tmp}/husk-node-test.XXXXXX")
on_exit 'kill $MASTER_PID 2>/dev/null; node_scrub'
husk_oci_layout "$D/layout" 1.36 >/dev/null 2>&1 &&
  "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/node" --name busybox:1.36 "$D/layout" >/dev/null 2>&1 ||
  { echo "Bail out! cannot import busybox"; exit 1; }

start_master() {
  rm -f "$D/master/admin.kubeconfig"
  nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" \
    --bind 127.0.0.1:6443 --cluster-cidr 10.77.0.0/16 >>"$D/master.log" 2>&1 &
  MASTER_PID=$!
  wait_for 10 test -s "$D/master/admin.kubeconfig" || { cat "$D/master.log" >&2; echo "Bail out! master"; exit 1; }
}
start_master
nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:6443 \
  --token-file "$D/master/node-token" --ca-file "$D/master/pki/ca.crt" --name n1 \
  --data-dir "$D/node" --log-dir "$D/logs" --node-ip 127.0.0.1 \
  --reserved cpu=500m,memory=256Mi >"$D/node.log" 2>&1 &
UP_PID=$!
K="nsenter --net=/run/netns/$NS kubectl --kubeconfig $D/master/admin.kubeconfig --request-timeout=20s"

wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
tap_is "$($K get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True" \
  "husk node joins with the master's node-token and CA and is Ready"
tap_is "$($K get node n1 -o jsonpath='{.spec.podCIDR}')" 10.77.0.0/24 \
  "it takes the podCIDR the master allocated from --cluster-cidr"
# allocatable = capacity - --reserved - hard eviction thresholds (memory.available 100Mi)
cap_cpu=$($K get node n1 -o jsonpath='{.status.capacity.cpu}')
cap_mem=$($K get node n1 -o jsonpath='{.status.capacity.memory}')
tap_is "$($K get node n1 -o jsonpath='{.status.allocatable.cpu}')" "$((cap_cpu * 1000 - 500))m" \
  "--reserved cpu=500m is subtracted from allocatable cpu"
tap_is "$($K get node n1 -o jsonpath='{.status.allocatable.memory}')" "$((${cap_mem%Ki} - 262144 - 102400))Ki" \
  "--reserved memory=256Mi and the 100Mi eviction threshold are subtracted from allocatable memory"

pod() { # pod NAME: a pod already bound to n1 (no scheduler involved)
  $K run "$1" --image=busybox:1.36 --overrides='{"spec":{"nodeName":"n1"}}' -- \
    sh -c 'trap "exit 0" TERM; echo up; while true; do sleep 1; done' >/dev/null 2>&1
}
pod one
node_wait_phase one Running 30
tap_is "$(node_pod_field one '{.status.phase}')" "Running" "a pod bound to the node runs"

renew1=$($K -n kube-node-lease get lease n1 -o jsonpath='{.spec.renewTime}')
kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
sleep 2
start_master
pod two
node_wait_phase two Running 40
tap_is "$(node_pod_field two '{.status.phase}')" "Running" \
  "after a master restart the node's watch resumes: a new pod runs"
tap_is "$(node_pod_field one '{.status.phase}')" "Running" "the first pod kept running"
wait_for 15 sh -c "[ \"\$($K -n kube-node-lease get lease n1 -o jsonpath='{.spec.renewTime}' 2>/dev/null)\" != '$renew1' ]"
tap_check "the Lease is renewed again" -- \
  test "$($K -n kube-node-lease get lease n1 -o jsonpath='{.spec.renewTime}')" != "$renew1"

uids=$(for n in one two; do node_pod_field $n "{.metadata.uid} "; done)
$K delete pod one two --wait=false >/dev/null 2>&1
wait_for 30 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>&1)" "" "both pods stopped and deleted"
left=0
for u in $uids; do [ -e "$CG/husk/pod-$u" ] && left=$((left + 1)); done
tap_is "$left" "0" "no pod cgroup left"
tap_done
