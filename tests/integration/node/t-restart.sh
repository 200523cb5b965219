#!/bin/bash
# The agent killed with SIGKILL and started again (husk up on the same data dir, in a network
# namespace made here): running pods are re-adopted, not replaced: the same container
# process, restartCount unchanged, the log continuing in the same file with no line lost
# (lines written during the outage wait in the pipe husk-shim holds), the same address; a
# container that exited during the outage is reported with its exit code. Deleting the pod
# afterwards leaves nothing behind.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

# keep: a line every 100 ms; quit: ends with 3 on SIGTERM (sent while the agent is down).
$K run keep --image=busybox:1.36 -- sh -c 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.1; done' >/dev/null 2>&1
$K run quit --restart=Never --image=busybox:1.36 -- sh -c 'trap "exit 3" TERM; echo up; while true; do sleep 0.1; done' >/dev/null 2>&1
node_wait_phase keep Running 30
node_wait_phase quit Running 30
tap_is "$(node_pod_field keep '{.status.phase}')" "Running" "the pod runs"
uid=$(node_pod_field keep '{.metadata.uid}')
quid=$(node_pod_field quit '{.metadata.uid}')
ip_before=$(node_pod_field keep '{.status.podIP}')
# The pid of the container's sh (the only sh in its cgroup).
ctr_sh() {
  local p
  for p in $(cat "$CG/husk/pod-$1/$2/cgroup.procs" 2>/dev/null); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = sh ] && echo "$p"
  done
}
pid_before=$(ctr_sh "$uid" keep)
qpid=$(ctr_sh "$quid" quit)
sleep 1

kill -9 "$UP_PID"
wait "$UP_PID" 2>/dev/null
lines_at_kill=$(grep -c 'line ' "$D/logs/default_keep_$uid/keep/0.log")
[ -n "$qpid" ] && kill -TERM "$qpid"
sleep 2
tap_check "the container kept running while the agent was down" -- kill -0 "$pid_before"
node_launch
wait_for 30 sh -c "$K get pod keep -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Running && [ \"\$($K get pod keep -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null)\" = True ]"
wait_for 30 sh -c "$K get pod quit -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Failed"
sleep 2
tap_is "$(node_pod_field keep '{.status.phase}')" "Running" "after the agent was killed and restarted the pod is Running"
tap_is "$(ctr_sh "$uid" keep)" "$pid_before" "the same container process runs (re-adopted, not restarted)"
tap_is "$(node_pod_field keep '{.status.containerStatuses[0].restartCount}')" "0" "restartCount unchanged"
tap_is "$(node_pod_field keep '{.status.podIP}')" "$ip_before" "the same address"
tap_check "the pod answers ping" -- ip netns exec "$NS" busybox ping -c 1 -W 2 "$ip_before"
tap_is "$(ls "$D/logs/default_keep_$uid/keep")" "0.log" "the log continues in the same file"
logs=$($K logs keep 2>&1)
last=$(printf '%s\n' "$logs" | tail -n 1 | awk '{print $2}')
tap_ok "$([ "${last:-0}" -gt $((lines_at_kill + 20)) ] && echo 0 || echo 1)" "kubectl logs shows lines from before ($lines_at_kill) and after (up to $last) the restart"
tap_is "$(printf '%s\n' "$logs" | awk '$2 != NR {print "gap at " NR; exit}')" "" "no line lost during the outage"
tap_is "$(node_pod_field quit '{.status.phase}')" "Failed" "the container that exited during the outage ends its pod"
tap_is "$(node_pod_field quit '{.status.containerStatuses[0].state.terminated.exitCode}')" "3" "with its exit code"
tap_like "$($K logs quit 2>&1)" 'up' "its earlier logs are kept"
$K delete pod quit --wait=false >/dev/null 2>&1
wait_for 30 sh -c "! $K get pod quit >/dev/null 2>&1"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "1" "one address is reserved, not two"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "1" "one veth, not two"

$K delete pod keep --wait=false >/dev/null 2>&1
wait_for 60 sh -c "! $K get pod keep >/dev/null 2>&1 && ! $K get pod quit >/dev/null 2>&1"
tap_check "the pod is deleted" -- sh -c "! $K get pod keep"
tap_check "no pod cgroup left" -- test ! -e "$CG/husk/pod-$uid" -a ! -e "$CG/husk/pod-$quid"
tap_is "$(pgrep -f "husk-shim [0-9]+ $D/" | wc -l)" "0" "no shim left"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "0" "no address left reserved"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "0" "no veth left"
left=$(awk -v d="$D/node" 'index($2, d) == 1 {print $2}' /proc/self/mounts)
tap_is "$(printf '%s' "$left" | grep -c .)" "0" "no mount left${left:+: $left}"
tap_done
