#!/bin/bash
# A one-node cluster (husk up) inside a network namespace made here: the Node registers
# Ready with its Lease, `kubectl run` starts a pod that gets an IP on husk0 and logs,
# init containers and an emptyDir, env from a ConfigMap, exit codes and restarts reported,
# and a deleted pod leaves no process, mount, cgroup, veth or state behind.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up

# ---- the Node ----
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
tap_is "$($K get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True" \
  "node n1 registers and is Ready"
tap_is "$($K get node n1 -o jsonpath='{.spec.podCIDR} {.status.capacity.pods} {.status.addresses[0].address}')" \
  "10.42.0.0/24 110 127.0.0.1" "node has a podCIDR, 110 pods of capacity and its InternalIP"
tap_like "$($K get node n1 -o jsonpath='{.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.ephemeral-storage}')" \
  '^[0-9]+ [0-9]+Ki [0-9]+Ki$' "capacity lists cpu, memory and ephemeral-storage"
tap_like "$($K get node n1 -o jsonpath='{.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion} {.status.nodeInfo.operatingSystem}')" \
  '^v1\.32\..* husk://.* linux$' "nodeInfo names the agent, the runtime and the OS"
conds=$($K get node n1 -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}')
tap_like "$conds" 'MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True' \
  "conditions MemoryPressure, DiskPressure, PIDPressure, Ready"
ctl=$(cat "$CG/cgroup.controllers" 2>/dev/null)
if [[ $ctl == *memory* ]]; then want=enforced; else want=not-enforced; fi
tap_is "$($K get node n1 -o jsonpath='{.metadata.annotations.husk\.dev/cgroup-limits}')" "$want" \
  "the node says whether cgroup limits are enforced here ($want)"
tap_is "$($K -n kube-node-lease get lease n1 -o jsonpath='{.spec.holderIdentity} {.spec.leaseDurationSeconds}')" \
  "n1 40" "a Lease in kube-node-lease holds the node's name"

# ---- a pod from kubectl run ----
t0=$(date +%s%N)
$K run web --image=busybox:1.36 -- sh -c 'trap "exit 0" TERM; echo hello-husk; echo to-stderr >&2; hostname; while true; do sleep 1; done' >/dev/null 2>&1
node_wait_phase web Running 30
t1=$(date +%s%N)
tap_is "$(node_pod_field web '{.status.phase}')" "Running" "kubectl run: the pod is Running"
tap_diag "create -> Running (kubectl, polling): $(((t1 - t0) / 1000000)) ms"
ip=$(node_pod_field web '{.status.podIP}')
tap_like "$ip" '^10\.42\.0\.[0-9]+$' "the pod has an IP from the node's podCIDR ($ip)"
tap_is "$(node_pod_field web '{.status.hostIP} {.spec.nodeName} {.status.qosClass}')" "127.0.0.1 n1 BestEffort" \
  "hostIP, nodeName and qosClass reported"
tap_like "$(node_pod_field web '{.status.containerStatuses[0].containerID} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].imageID}')" \
  '^husk://.* true docker.io/library/busybox@sha256:' "container status: containerID, ready, imageID"
tap_like "$(node_pod_field web '{range .status.conditions[*]}{.type}={.status} {end}')" \
  'Initialized=True Ready=True ContainersReady=True' "pod conditions Initialized, Ready, ContainersReady"
wait_for 10 sh -c "$K logs web 2>/dev/null | grep -q hello-husk"
# stdout and stderr are separate pipes: their relative order is not kept.
tap_is "$($K logs web 2>&1 | head -3 | sort | tr '\n' ' ')" "hello-husk to-stderr web " \
  "kubectl logs shows stdout and stderr, and the hostname is the pod's name"
tap_like "$($K logs web --timestamps 2>&1 | head -1)" '^20[0-9-]+T[0-9:.]+Z hello-husk$' \
  "kubectl logs --timestamps"
logf=$(ls "$D"/logs/default_web_*/web/0.log 2>/dev/null)
tap_like "$(head -1 "$logf" 2>/dev/null)" '^20[0-9-]+T[0-9:.]+Z stdout F hello-husk$' \
  "the log file is in the CRI format under <log-dir>/<ns>_<pod>_<uid>/<container>/0.log"
tap_check "the pod answers ping on its IP inside the cluster's netns" -- \
  ip netns exec "$NS" busybox ping -c 1 -W 2 "$ip"
ev=$($K get events -o jsonpath='{range .items[?(@.involvedObject.name=="web")]}{.reason}:{.source.component} {end}' 2>&1)
tap_like "$ev" 'Pulled:kubelet Created:kubelet Started:kubelet' "Events Pulled, Created, Started recorded for the pod"
tap_check "the pod's address is held in the IPAM state" -- test -f "$D/node/cni/husk/$ip"
uid=$(node_pod_field web '{.metadata.uid}')
tap_check "the pod has its cgroup under husk/pod-<uid>" -- test -d "$CG/husk/pod-$uid/web"

# ---- init containers, emptyDir, env from a ConfigMap, exit codes ----
$K create configmap settings --from-literal=greeting=bonjour >/dev/null
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: staged}
spec:
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: first
    image: busybox:1.36
    command: [sh, -c, 'echo one > /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: busybox:1.36
    command: [sh, -c, 'echo two >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, 'cat /work/order; echo "$GREETING $(POD)"; exit 3']
    env:
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
    volumeMounts: [{name: work, mountPath: /work}]
Y
node_wait_phase staged Failed 30
tap_is "$(node_pod_field staged '{.status.phase}')" "Failed" "restartPolicy Never and exit 3: phase Failed"
tap_is "$(node_pod_field staged '{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}')" \
  "3 Error" "the exit code and reason Error are reported"
tap_is "$(node_pod_field staged '{.status.initContainerStatuses[*].state.terminated.reason}')" \
  "Completed Completed" "both init containers Completed"
tap_is "$($K logs staged -c main 2>&1 | tr '\n' ' ')" "one two bonjour staged " \
  "init containers ran in order into the emptyDir; env from a ConfigMap and fieldRef"

# ---- restarts ----
$K run crash --image=busybox:1.36 -- sh -c 'echo attempt; exit 1' >/dev/null 2>&1
wait_for 30 sh -c "[ \"\$($K get pod crash -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>/dev/null)\" -ge 1 ]"
tap_like "$(node_pod_field crash '{.status.containerStatuses[0].restartCount}')" '^[1-9]' \
  "a crashing container is restarted (restartCount >= 1)"
tap_is "$(node_pod_field crash '{.status.containerStatuses[0].lastState.terminated.exitCode}')" "1" \
  "lastState.terminated keeps the exit code"
wait_for 30 sh -c "$K get pod crash -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q CrashLoopBackOff"
tap_is "$(node_pod_field crash '{.status.containerStatuses[0].state.waiting.reason}')" "CrashLoopBackOff" \
  "then it waits in CrashLoopBackOff"
tap_is "$($K logs crash --previous 2>&1)" "attempt" "kubectl logs --previous reads the last run"
tap_like "$($K get events -o jsonpath='{range .items[?(@.involvedObject.name=="crash")]}{.reason}:{.type} {end}' 2>&1)" \
  'BackOff:Warning' "a BackOff warning Event is recorded"

# ---- hostNetwork ----
veths=$(ip -n "$NS" -o link show type veth | wc -l)
$K run hostnet --image=busybox:1.36 --overrides='{"spec":{"hostNetwork":true}}' -- sh -c 'trap "exit 0" TERM; while true; do sleep 1; done' >/dev/null 2>&1
node_wait_phase hostnet Running 30
tap_is "$(node_pod_field hostnet '{.status.phase} {.status.podIP}')" "Running 127.0.0.1" \
  "a hostNetwork pod runs with the node's IP"
tap_is "$(ip -n "$NS" -o link show type veth | wc -l)" "$veths" "and gets no veth"

# ---- bad specs surface as upstream's reasons ----
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: noimg}
spec:
  containers: [{name: c, image: "busybox:9.9", imagePullPolicy: Never}]
---
apiVersion: v1
kind: Pod
metadata: {name: nocm}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "100"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: settings, key: missing}}}]
Y
wait_for 20 sh -c "$K get pod noimg -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q ErrImageNeverPull"
tap_is "$(node_pod_field noimg '{.status.phase} {.status.containerStatuses[0].state.waiting.reason}')" \
  "Pending ErrImageNeverPull" "a missing image with imagePullPolicy Never: ErrImageNeverPull"
wait_for 20 sh -c "$K get pod nocm -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q CreateContainerConfigError"
tap_is "$(node_pod_field nocm '{.status.containerStatuses[0].state.waiting.reason}')" \
  "CreateContainerConfigError" "a missing ConfigMap key: CreateContainerConfigError"
tap_like "$(node_pod_field nocm '{.status.containerStatuses[0].state.waiting.message}')" \
  'missing' "its message names the missing key"

# ---- deletion leaves nothing behind ----
uids="$uid $(node_pod_field staged '{.metadata.uid}') $(node_pod_field crash '{.metadata.uid}') $(node_pod_field hostnet '{.metadata.uid}') $(node_pod_field noimg '{.metadata.uid}') $(node_pod_field nocm '{.metadata.uid}')"
$K delete pod web --wait=false >/dev/null 2>&1
wait_for 30 sh -c "! $K get pod web >/dev/null 2>&1"
tap_check "deleting the pod stops it and removes the object" -- sh -c "! $K get pod web"
$K delete pod staged crash hostnet noimg nocm --wait=false >/dev/null 2>&1
wait_for 30 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>&1)" "" "every pod deleted"
left=0
for u in $uids; do [ -e "$CG/husk/pod-$u" ] && left=$((left + 1)); done
tap_is "$left" "0" "no pod cgroup left"
tap_is "$(awk -v d="$D/node" 'index($2, d) == 1' /proc/self/mounts | wc -l)" "0" "no rootfs or volume mount left"
tap_is "$(ip -n "$NS" -o link show type veth 2>/dev/null | wc -l)" "0" "no veth left in the netns"
tap_is "$(ls "$D/node/pods" "$D/node/runtime" 2>/dev/null | grep -v ':$' | grep -c .)" "0" \
  "no pod directory or runtime state left"
tap_is "$(pgrep -f 'hello-husk' | wc -l)" "0" "no container process left"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "0" "no IP address left reserved"
tap_is "$(ls "$D/logs" 2>/dev/null | wc -l)" "0" "the pods' log directories are removed"

# ---- the daemon stops on SIGTERM ----
kill "$UP_PID"
wait_for 10 sh -c "! kill -0 $UP_PID 2>/dev/null"
tap_check "husk up exits on SIGTERM" -- sh -c "! kill -0 $UP_PID"
tap_done
