# Helpers for the scheduler's kubectl-driven tests: a real `husk master` (scheduler inside)
# on 127.0.0.1 with a random port and a temp data dir, killed when the script exits, and
# "hollow" nodes: Node objects with a Ready status and allocatable resources, no agent.
# Source after tests/lib/common.sh.

# sched_master_start [husk master flags...]: a master (scheduler inside) on a new data dir;
# sets DATA, MASTER_PID, KUBECONFIG, K (tests/lib/common.sh husk_master_launch).
sched_master_start() {
  DATA=$(husk_tmpdir)
  husk_master_launch "$@"
}

# hollow_node NAME CPU MEMORY PODS [LABELS_JSON] [TAINTS_JSON]
hollow_node() {
  local name=$1 cpu=$2 mem=$3 pods=$4 labels=${5:-"{}"} taints=${6:-"[]"}
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  $K create -f - >/dev/null <<J || return 1
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$name", "labels": $labels},
 "spec": {"taints": $taints}}
J
  $K patch node "$name" --subresource=status --type=merge -p "{\"status\": {
    \"capacity\": {\"cpu\": \"$cpu\", \"memory\": \"$mem\", \"pods\": \"$pods\"},
    \"allocatable\": {\"cpu\": \"$cpu\", \"memory\": \"$mem\", \"pods\": \"$pods\"},
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"KubeletReady\",
      \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"}]}}" >/dev/null || return 1
  # A fresh Lease too, so that a node lifecycle controller sees a live node (best effort).
  $K create -f - >/dev/null 2>&1 <<J
{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
 "metadata": {"name": "$name", "namespace": "kube-node-lease"},
 "spec": {"holderIdentity": "$name", "leaseDurationSeconds": 3600,
          "renewTime": "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"}}
J
  return 0
}

# pod_json NAME CPU [EXTRA_SPEC_JSON_MEMBERS]: a pod requesting CPU (e.g. 100m).
pod_json() {
  local name=$1 cpu=$2 extra=${3:-}
  [ -n "$extra" ] && extra=", $extra"
  cat <<J
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$name"},
 "spec": {"containers": [{"name": "c", "image": "busybox",
   "resources": {"requests": {"cpu": "$cpu", "memory": "64Mi"}}}]$extra}}
J
}

# node_of POD: spec.nodeName (empty while pending).
node_of() { $K get pod "$1" -o jsonpath='{.spec.nodeName}' 2>/dev/null; }
is_bound() { [ -n "$(node_of "$1")" ]; }
