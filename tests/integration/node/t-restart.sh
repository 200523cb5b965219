#!/bin/bash
# The agent killed with SIGKILL and started again (husk up on the same data dir, in a network
# namespace made here): the pod runs again with an address from the node's range, its logs
# stay readable, and deleting it afterwards leaves nothing behind (the old sandbox's address
# and veth included).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

$K run keep --image=busybox:1.36 -- sh -c 'trap "exit 0" TERM; echo started; while true; do sleep 1; done' >/dev/null 2>&1
node_wait_phase keep Running 30
tap_is "$(node_pod_field keep '{.status.phase}')" "Running" "the pod runs"
uid=$(node_pod_field keep '{.metadata.uid}')

kill -9 "$UP_PID"
wait "$UP_PID" 2>/dev/null
node_launch
wait_for 30 sh -c "$K get pod keep -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Running && [ \"\$($K get pod keep -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null)\" = True ]"
sleep 2
tap_is "$(node_pod_field keep '{.status.phase}')" "Running" "after the agent was killed and restarted the pod is Running"
tap_like "$(node_pod_field keep '{.status.podIP}')" '^10\.42\.0\.[0-9]+$' "it has an address from the node's range"
tap_check "the pod answers ping" -- ip netns exec "$NS" busybox ping -c 1 -W 2 "$(node_pod_field keep '{.status.podIP}')"
tap_like "$($K logs keep 2>&1)" 'started' "its logs are readable"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "1" "one address is reserved, not two"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "1" "one veth, not two"

$K delete pod keep --wait=false >/dev/null 2>&1
wait_for 30 sh -c "! $K get pod keep >/dev/null 2>&1"
tap_check "the pod is deleted" -- sh -c "! $K get pod keep"
tap_check "no pod cgroup left" -- test ! -e "$CG/husk/pod-$uid"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "0" "no address left reserved"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "0" "no veth left"
tap_is "$(awk -v d="$D/node" 'index($2, d) == 1' /proc/self/mounts | wc -l)" "0" "no mount left"
tap_done
