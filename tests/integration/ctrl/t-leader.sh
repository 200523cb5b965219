#!/bin/bash
# Leader election: two husk masters on one real etcd cluster. Only the holder of the Lease
# kube-system/husk-master runs the scheduler and the controllers; kill -9 the leader and the
# other takes over within the lease duration (15 s, plus a retry period) and keeps
# reconciling and scheduling; a leader stopped with SIGTERM releases the Lease and the other
# takes over at once.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
. "$top_srcdir/tests/integration/store/etcd-cluster.sh"
require_cmd kubectl curl python3 etcd etcdctl ss
dir=$(husk_tmpdir)
on_exit etcd_cluster_stop
etcd_cluster_start "$dir/etcd" || { echo "Bail out! etcd cluster did not come up"; exit 1; }

# master NAME: starts a master on its own data dir and the shared etcd; sets <NAME>_PID,
# <NAME>_K (kubectl for it) and <NAME>_LOG.
master() {
  DATA="$dir/$1"
  mkdir -p "$DATA"
  husk_master_launch --store "$ETCD_URL"
  printf -v "$1_PID" %s "$MASTER_PID"
  disown "$MASTER_PID" # no "Killed" notice when the test kills it
  printf -v "$1_K" %s "kubectl --kubeconfig $DATA/admin.kubeconfig --cache-dir $DATA/kc --request-timeout=10s"
  printf -v "$1_LOG" %s "$DATA/master.log"
}
leads() { grep -q "became the leader" "$1"; }
holder() { $K -n kube-system get lease husk-master -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
identity_of() { sed -n 's/.*became the leader.*identity[=":]*\([^" ,}]*\).*/\1/p' "$1" | tail -1; }

master a
wait_for 20 leads "$a_LOG"
tap_check "the first master becomes the leader" -- leads "$a_LOG"
master b
K=$a_K
id_a=$(identity_of "$a_LOG")
tap_like "$(holder)" "^.+_[0-9a-f]{8}$" "the Lease names a holder (<host>_<random>)"
tap_is "$(holder)" "$id_a" "the holder is the first master"
tap_is "$($K -n kube-system get lease husk-master -o jsonpath='{.spec.leaseDurationSeconds}')" 15 \
  "leaseDurationSeconds 15"
sleep 5
tap_check "the second master does not lead while the first renews" -- bash -c "! grep -q 'became the leader' '$b_LOG'"
tap_is "$(holder)" "$id_a" "the Lease stays with the first master"

hollow_node n1 4 8Gi 110
K=$b_K
$K create deployment web --image=busybox --replicas=2 >/dev/null
wait_for 20 is_eq 2 count_pods default app=web
tap_is "$(count_pods default app=web)" 2 "a Deployment made through the second master is reconciled (by the leader)"

kill -9 "$a_PID"
t0=$SECONDS
wait_for 40 leads "$b_LOG"
took=$((SECONDS - t0))
tap_check "kill -9 the leader: the second master takes over" -- leads "$b_LOG"
tap_ok $([ $took -le 25 ] && echo 0 || echo 1) "within the lease duration and two retry periods, with slack for load ($took s <= 25 s)"
tap_diag "takeover $took s after kill -9 (lease 15 s, retry 2 s)"
id_b=$(identity_of "$b_LOG")
tap_is "$(holder)" "$id_b" "the Lease names the second master"
tap_is "$($K -n kube-system get lease husk-master -o jsonpath='{.spec.leaseTransitions}')" 1 "leaseTransitions 1"
$K scale deployment web --replicas=4 >/dev/null
wait_for 20 is_eq 4 count_pods default app=web
tap_is "$(count_pods default app=web)" 4 "the new leader's controllers reconcile (scale to 4)"
$K run late --image=busybox >/dev/null
wait_for 20 is_bound late
tap_is "$(node_of late)" n1 "the new leader's scheduler binds pods"

master c
sleep 3
tap_check "a restarted master waits as a candidate" -- bash -c "! grep -q 'became the leader' '$c_LOG'"
kill -TERM "$b_PID"
t0=$SECONDS
wait_for 20 leads "$c_LOG"
took=$((SECONDS - t0))
tap_check "SIGTERM the leader: it releases the Lease and the candidate takes over" -- leads "$c_LOG"
tap_ok $([ $took -le 10 ] && echo 0 || echo 1) "at once, without waiting for the 15 s expiry ($took s)"
tap_done
