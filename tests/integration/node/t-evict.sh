#!/bin/bash
# Eviction under pressure (--eviction-hard): a memory.available threshold above what any host
# has puts the node under memory pressure without exhausting anything. The Node reports
# MemoryPressure and gets the node.kubernetes.io/memory-pressure:NoSchedule taint; pods are
# evicted one per period in kubelet's order (BestEffort, then Burstable above its requests,
# then Guaranteed), each ending Failed with reason Evicted and kubelet's message, its
# processes and cgroup gone; the pod object stays until deleted. Without the pressure the
# condition and the taint go away.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up_ready
pod() { # pod NAME RESOURCES-JSON [SCRIPT]
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sh","-c","%swhile true; do sleep 0.2; done"],"resources":%s}]}}\n' "$1" "${3:-}" "$2"
}
# Ranking is kubelet's (usage above requests first, then by how much): the BestEffort pod
# holds 8 MB of shell variable, so it goes first whatever the others' few hundred KB do.
{
  pod be '{}' 'x=$(seq 1 1200000); '
  pod bu '{"requests":{"memory":"1Mi"}}'
  pod gu '{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"100m","memory":"64Mi"}}'
} | $K apply -f - >/dev/null
for p in be bu gu; do node_wait_phase $p Running 40; done
tap_is "$(node_pod_field be '{.status.qosClass}') $(node_pod_field bu '{.status.qosClass}') $(node_pod_field gu '{.status.qosClass}')" \
  "BestEffort Burstable Guaranteed" "three pods, one per QoS class, run"
cond() { $K get node n1 -o jsonpath="{.status.conditions[?(@.type==\"$1\")].status}" 2>/dev/null; }
taints() { $K get node n1 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{" "}{end}' 2>/dev/null; }
tap_is "$(cond MemoryPressure)" "False" "no memory pressure with the default thresholds"
beuid=$(node_pod_field be '{.metadata.uid}')

# The agent again (pods re-adopted), now with a threshold no host reaches.
kill -9 "$UP_PID"
wait "$UP_PID" 2>/dev/null
NODE_UP_ARGS="--eviction-hard memory.available<1000Ti,nodefs.available<1%"
node_launch
wait_for 30 sh -c "[ \"\$($K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"MemoryPressure\")].status}')\" = True ]"
tap_is "$(cond MemoryPressure)" "True" "MemoryPressure follows --eviction-hard"
tap_is "$(cond DiskPressure)" "False" "DiskPressure does not (nodefs.available<1%)"
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.spec.taints[*].key}' | grep -q memory-pressure"
tap_like "$(taints)" 'node.kubernetes.io/memory-pressure:NoSchedule' "the node is tainted memory-pressure:NoSchedule"

wait_for 60 sh -c "$K get pod be -o jsonpath='{.status.phase}' | grep -qx Failed"
tap_is "$(node_pod_field be '{.status.phase}') $(node_pod_field bu '{.status.phase}') $(node_pod_field gu '{.status.phase}')" \
  "Failed Running Running" "the BestEffort pod is evicted first"
tap_is "$(node_pod_field be '{.status.reason}')" "Evicted" "reason Evicted"
tap_like "$(node_pod_field be '{.status.message}')" '^The node was low on resource: memory\. Threshold quantity: [0-9]+Ki, available: [0-9]+Ki\. Container c was using [0-9]+Ki, request is 0, has larger consumption of memory\. $' "kubelet's message"
wait_for 20 sh -c "test ! -e '$CG/husk/pod-$beuid'"
tap_check "its cgroup (and so its processes) is gone" -- test ! -e "$CG/husk/pod-$beuid"
tap_check "its pod dir is gone" -- test ! -e "$D/node/pods/$beuid"
tap_like "$($K get events --field-selector involvedObject.name=be -o jsonpath='{range .items[*]}{.reason}{" "}{end}' 2>/dev/null)" 'Evicted' "an Evicted event on the pod"

wait_for 60 sh -c "$K get pod bu -o jsonpath='{.status.phase}' | grep -qx Failed"
tap_is "$(node_pod_field bu '{.status.phase}') $(node_pod_field gu '{.status.phase}')" "Failed Running" "then the Burstable pod, before the Guaranteed one"
wait_for 60 sh -c "$K get pod gu -o jsonpath='{.status.phase}' | grep -qx Failed"
tap_is "$(node_pod_field gu '{.status.reason}')" "Evicted" "the Guaranteed pod goes last"
tap_is "$(node_pod_field be '{.status.phase}')" "Failed" "an evicted pod stays, Failed"
$K delete pod be --wait=false >/dev/null 2>&1
wait_for 30 sh -c "! $K get pod be >/dev/null 2>&1"
tap_check "and goes when deleted" -- sh -c "! $K get pod be >/dev/null 2>&1"

kill "$UP_PID"
wait "$UP_PID" 2>/dev/null
NODE_UP_ARGS=""
node_launch
wait_for 30 sh -c "[ \"\$($K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"MemoryPressure\")].status}')\" = False ] && ! $K get node n1 -o jsonpath='{.spec.taints[*].key}' | grep -q memory-pressure"
tap_is "$(cond MemoryPressure)" "False" "without the pressure the condition clears"
tap_unlike_taint=$(taints | grep -c memory-pressure)
tap_is "$tap_unlike_taint" "0" "and the taint is removed"
tap_is "$(node_pod_field gu '{.status.phase}')" "Failed" "evicted pods stay Failed after an agent restart"
tap_done
