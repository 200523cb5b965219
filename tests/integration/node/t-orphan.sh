#!/bin/bash
# A pod deleted while its agent was down (kill -9, then `kubectl delete --force
# --grace-period=0` against the master alone) is torn down completely when the agent comes
# back: container and shim processes killed, CNI DEL (address released, veth gone), mounts,
# cgroups, pod dir and logs removed. A pod still in the API is re-adopted as before.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up_ready

$K run gone --image=busybox:1.36 -- sh -c 'trap "" TERM; while true; do sleep 0.2; done' >/dev/null 2>&1
$K run kept --image=busybox:1.36 -- sh -c 'while true; do sleep 0.2; done' >/dev/null 2>&1
node_wait_phase gone Running 40
node_wait_phase kept Running 40
tap_is "$(node_pod_field gone '{.status.phase}')" "Running" "the pod runs"
uid=$(node_pod_field gone '{.metadata.uid}')
kuid=$(node_pod_field kept '{.metadata.uid}')
ctr_pids() { cat "$CG/husk/pod-$1"/*/cgroup.procs 2>/dev/null; }
pids=$(ctr_pids "$uid")
tap_ok "$([ -n "$pids" ] && echo 0 || echo 1)" "its processes are found in its cgroup"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "2" "two addresses reserved"

kill -9 "$UP_PID"
wait "$UP_PID" 2>/dev/null
# The master alone (the agent stays down) takes the forced deletion.
nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" \
  --bind 127.0.0.1:6443 >>"$D/master.log" 2>&1 &
MPID=$!
on_exit "kill $MPID 2>/dev/null"
wait_for 20 sh -c "$K get pod gone >/dev/null 2>&1"
$K delete pod gone --force --grace-period=0 >/dev/null 2>&1
tap_check "the pod is gone from the API" -- sh -c "! $K get pod gone >/dev/null 2>&1"
kill "$MPID"
wait "$MPID" 2>/dev/null
tap_check "its container kept running while the agent was down" -- kill -0 ${pids%%[[:space:]]*}

node_launch
wait_for 30 sh -c "test ! -e '$CG/husk/pod-$uid' && test ! -e '$D/node/pods/$uid'"
alive=0
for p in $pids; do
  # a zombie waiting for its parent is not a process left running
  st=$(awk '/^State:/ {print $2}' /proc/$p/status 2>/dev/null)
  [ -n "$st" ] && [ "$st" != Z ] && { alive=$((alive + 1)); echo "# left: $p $(tr '\0' ' ' </proc/$p/cmdline) state $st"; }
done
tap_is "$alive" "0" "no process of the deleted pod is left"
tap_check "no pod cgroup left" -- test ! -e "$CG/husk/pod-$uid"
tap_check "no pod dir left" -- test ! -e "$D/node/pods/$uid"
tap_is "$(ls -d "$D/logs/default_gone_$uid" 2>/dev/null | wc -l)" "0" "no log dir left"
tap_is "$(pgrep -f "husk-shim [0-9]+ $D/node/pods/$uid" | wc -l)" "0" "no shim left"
wait_for 10 sh -c "[ \$(ls '$D/node/cni/husk' 2>/dev/null | grep -c '^10\.') = 1 ]"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "1" "its address is released (the other pod's is kept)"
wait_for 10 sh -c "[ \$(ip -n $NS -o link show type veth 2>/dev/null | wc -l) = 1 ]"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "1" "its veth is gone"
left=$(awk -v d="$D/node/pods/$uid" 'index($2, d) == 1 {print $2}' /proc/self/mounts)
tap_is "$(printf '%s' "$left" | grep -c .)" "0" "no mount left${left:+: $left}"
wait_for 30 sh -c "$K get pod kept -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Running"
tap_is "$(node_pod_field kept '{.status.containerStatuses[0].restartCount}')" "0" "the other pod is re-adopted, not restarted"
tap_check "and keeps its cgroup" -- test -d "$CG/husk/pod-$kuid"
tap_done
