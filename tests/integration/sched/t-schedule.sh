#!/bin/bash
# The scheduler inside `husk master`, driven by kubectl against hollow nodes: binding to a node
# that fits, PodScheduled=False with upstream's words and a FailedScheduling event, retry when
# a node is added, nodeSelector, taints and tolerations, MostAllocated bin packing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
require_cmd kubectl curl python3
sched_master_start

for n in n1 n2 n3; do hollow_node $n 2 4Gi 110 "{\"zone\": \"$n\"}"; done
tap_check "three hollow nodes registered" -- test "$($K get nodes -o name | wc -l)" = 3

# A pod that fits is bound to one of the nodes.
pod_json small 100m | $K create -f - >/dev/null
wait_for 20 is_bound small
tap_like "$(node_of small)" '^n[123]$' "a pod that fits is bound to a node"
tap_is "$($K get pod small -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')" \
  True "a bound pod has PodScheduled=True"

# A pod too big for every node: PodScheduled=False, upstream's message, an event.
pod_json big 3 | $K create -f - >/dev/null
cond() { $K get pod "$1" -o jsonpath="{.status.conditions[?(@.type==\"PodScheduled\")].$2}"; }
wait_for 20 test "$(cond big status)" = False
tap_is "$(cond big status)/$(cond big reason)" "False/Unschedulable" \
  "a pod that fits nowhere gets PodScheduled=False, reason Unschedulable"
tap_like "$(cond big message)" '^0/3 nodes are available: 3 Insufficient cpu\.' \
  "its message is upstream's: 0/3 nodes are available: 3 Insufficient cpu."
evs() {
  $K get events -o jsonpath="{range .items[?(@.involvedObject.name==\"$1\")]}{.reason}/{.type}/{.source.component}: {.message}{\"\\n\"}{end}"
}
wait_for 10 sh -c "$K get events -o name | grep -q ."
tap_like "$(evs big | head -1)" '^FailedScheduling/Warning/default-scheduler: 0/3 nodes are available: 3 Insufficient cpu\.' \
  "a FailedScheduling Warning event says why"
tap_like "$($K describe pod big | grep FailedScheduling | head -1)" \
  'Warning +FailedScheduling +.* default-scheduler +0/3 nodes are available: 3 Insufficient cpu\.' \
  "kubectl describe pod shows the FailedScheduling event"
tap_is "$(node_of big)" "" "the big pod stays pending"

# A cluster change: a node big enough appears, the pod is retried and bound there.
hollow_node huge 8 16Gi 110
wait_for 30 is_bound big
tap_is "$(node_of big)" huge "after a big-enough node is added the pod is bound there"

# nodeSelector.
pod_json picky 100m '"nodeSelector": {"zone": "n2"}' | $K create -f - >/dev/null
wait_for 20 is_bound picky
tap_is "$(node_of picky)" n2 "nodeSelector is respected"
pod_json nowhere 100m '"nodeSelector": {"zone": "mars"}' | $K create -f - >/dev/null
wait_for 20 test "$(cond nowhere status)" = False
tap_like "$(cond nowhere message)" "^0/4 nodes are available: 4 node\\(s\\) didn't match Pod's node affinity/selector\\." \
  "an unmatched nodeSelector is explained in upstream's words"

# A WaitForFirstConsumer claim gets the chosen node (volume.kubernetes.io/selected-node).
$K create -f - >/dev/null <<'J'
{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
 "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"}
J
$K create -f - >/dev/null <<'J'
{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
 "spec": {"storageClassName": "local", "accessModes": ["ReadWriteOnce"],
          "resources": {"requests": {"storage": "1Gi"}}}}
J
pod_json withpvc 100m '"nodeSelector": {"zone": "n3"}, "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]' |
  $K create -f - >/dev/null
wait_for 20 is_bound withpvc
tap_is "$(node_of withpvc)" n3 "a pod with a WaitForFirstConsumer claim is bound"
tap_is "$($K get pvc data -o jsonpath='{.metadata.annotations.volume\.kubernetes\.io/selected-node}')" n3 \
  "its claim is annotated with the selected node"

# Taints and tolerations.
hollow_node gpu1 4 8Gi 110 '{"role": "gpu"}' '[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]'
pod_json intruder 100m '"nodeSelector": {"role": "gpu"}' | $K create -f - >/dev/null
wait_for 20 test "$(cond intruder status)" = False
tap_like "$(cond intruder message)" "1 node\\(s\\) had untolerated taint \\{dedicated: gpu\\}" \
  "a NoSchedule taint keeps a pod without toleration off the node"
tap_is "$(node_of intruder)" "" "the pod without toleration stays pending"
pod_json guest 100m '"nodeSelector": {"role": "gpu"}, "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]' |
  $K create -f - >/dev/null
wait_for 20 is_bound guest
tap_is "$(node_of guest)" gpu1 "a pod tolerating the taint is bound to the tainted node"

# Pods of another scheduler are left alone.
pod_json other 100m '"schedulerName": "my-scheduler"' | $K create -f - >/dev/null
sleep 2
tap_is "$(node_of other)/$(cond other status)" "/" "a pod asking for another scheduler is left alone"

# Bin packing: with MostAllocated every pod goes to the fullest node that fits.
kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
sched_master_start --scheduler-score=MostAllocated
for n in a b c; do hollow_node $n 4 8Gi 110; done
for i in 1 2 3 4 5 6; do
  pod_json pack$i 500m | $K create -f - >/dev/null
  wait_for 20 is_bound pack$i
done
nodes=$(for i in 1 2 3 4 5 6; do node_of pack$i; echo; done | sort -u | grep -c .)
tap_is "$nodes" 1 "MostAllocated packs six 500m pods onto one 4-cpu node"
pod_json pack7 3 | $K create -f - >/dev/null
wait_for 20 is_bound pack7
tap_ok $([ "$(node_of pack7)" != "$(node_of pack1)" ]; echo $?) "a pod that no longer fits the fullest node goes elsewhere"
pod_json pack8 1 | $K create -f - >/dev/null
wait_for 20 is_bound pack8
tap_is "$(node_of pack8)" "$(node_of pack1)" "then the fullest node that still fits is chosen"

# Preemption: a higher-priority pod evicts lower ones and is nominated to their node.
kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
sched_master_start
hollow_node solo 2 4Gi 110
$K create -f - >/dev/null <<J
{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000}
J
pod_json low1 1 | $K create -f - >/dev/null
pod_json low2 1 | $K create -f - >/dev/null
wait_for 20 is_bound low1
wait_for 20 is_bound low2
pod_json vip 1500m '"priorityClassName": "high"' | $K create -f - >/dev/null
nominated() { $K get pod vip -o jsonpath='{.status.nominatedNodeName}'; }
wait_for 20 test "$(nominated)" = solo
tap_is "$(nominated)" solo "a high-priority pod that fits nowhere is nominated to a node"
terminating() { $K get pod "$1" -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null | grep -q .; }
wait_for 20 terminating low2
tap_check "the lower-priority pods there are deleted (preempted)" -- sh -c "$K get pod low1 -o jsonpath='{.metadata.deletionTimestamp}' | grep -q . && $K get pod low2 -o jsonpath='{.metadata.deletionTimestamp}' | grep -q ."
# No kubelet here: finish the deletions as a node agent would.
$K delete pod low1 low2 --grace-period=0 --force >/dev/null 2>&1
wait_for 30 is_bound vip
tap_is "$(node_of vip)" solo "once the victims are gone the preemptor is bound there"

# Spread (the default) for comparison: --scheduler=false leaves pods pending.
kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
sched_master_start --scheduler=false
hollow_node solo 4 8Gi 110
pod_json idle 100m | $K create -f - >/dev/null
sleep 2
tap_is "$(node_of idle)" "" "--scheduler=false: no scheduler binds pods"
tap_done
