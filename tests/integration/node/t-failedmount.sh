#!/bin/bash
# A volume whose ConfigMap or Secret is missing (and not optional) on a one-node cluster (husk
# up in a netns): the pod stays Pending with its container waiting in ContainerCreating, a
# Warning event FailedMount from the kubelet says `MountVolume.SetUp failed for volume "V" :
# configmap "X" not found` (upstream's shape), and the pod starts once the object is created,
# with its content mounted. An optional one that is missing does not hold the pod. A missing
# key of an item and a hostPath type mismatch are FailedMount too, with kubelet's messages.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up_ready

kx() { timeout 30 $K exec "$@" 2>&1; }
# events_of POD: "<type> <reason> <component>|<message>" of each of its events, one a line
events_of() {
  $K get events --field-selector "involvedObject.name=$1" \
    -o jsonpath='{range .items[*]}{.type} {.reason} {.source.component}|{.message}{"\n"}{end}' 2>/dev/null
}
wait_event() { # wait_event POD REASON SECS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    events_of "$1" | grep -q "^[A-Za-z]* $2 " && return 0
    sleep 0.1
  done
  return 1
}

$K create configmap partial --from-literal=a=1 >/dev/null
cat <<Y | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: needs-key}
spec:
  volumes: [{name: cfg, configMap: {name: partial, items: [{key: nokey, path: x}]}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: cfg, mountPath: /etc/app}]
---
apiVersion: v1
kind: Pod
metadata: {name: needs-dir}
spec:
  volumes: [{name: h, hostPath: {path: /nonexistent-husk-$$, type: Directory}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: h, mountPath: /h}]
Y
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: needs-cm}
spec:
  volumes: [{name: cfg, configMap: {name: app-config}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: cfg, mountPath: /etc/app}]
---
apiVersion: v1
kind: Pod
metadata: {name: needs-secret}
spec:
  volumes: [{name: creds, secret: {secretName: app-secret}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: creds, mountPath: /etc/creds}]
---
apiVersion: v1
kind: Pod
metadata: {name: optional-cm}
spec:
  volumes: [{name: cfg, configMap: {name: not-there, optional: true}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: cfg, mountPath: /etc/app}]
Y

wait_event needs-cm FailedMount 40 || tap_diag "no FailedMount event for needs-cm: $(events_of needs-cm)"
tap_like "$(events_of needs-cm)" \
  '(^|'$'\n'')Warning FailedMount kubelet\|MountVolume\.SetUp failed for volume "cfg" : configmap "app-config" not found('$'\n''|$)' \
  'a missing ConfigMap: Warning FailedMount from the kubelet, upstream message'
tap_is "$(node_pod_field needs-cm '{.status.phase} {.status.containerStatuses[0].state.waiting.reason}')" \
  "Pending ContainerCreating" "the pod stays Pending, its container waiting in ContainerCreating"
tap_is "$(node_pod_field needs-cm '{.status.containerStatuses[0].state.waiting.message}')" "" \
  "with no message on the container (the event carries it)"
tap_like "$($K get pod needs-cm --no-headers 2>&1)" '^needs-cm +0/1 +ContainerCreating +0 ' \
  "kubectl get pod shows ContainerCreating"
tap_check "no Failed event (the start is not an error)" \
  bash -c '! grep -q "^Warning Failed " <<<"$1"' _ "$(events_of needs-cm)"
wait_event needs-secret FailedMount 40
tap_like "$(events_of needs-secret)" \
  'Warning FailedMount kubelet\|MountVolume\.SetUp failed for volume "creds" : secret "app-secret" not found' \
  'a missing Secret: FailedMount, upstream message'
wait_event needs-key FailedMount 40
tap_like "$(events_of needs-key)" \
  'Warning FailedMount kubelet\|MountVolume\.SetUp failed for volume "cfg" : configmap references non-existent config key: nokey' \
  'an item naming a key the ConfigMap lacks: FailedMount, upstream message'
wait_event needs-dir FailedMount 40
tap_like "$(events_of needs-dir)" \
  "Warning FailedMount kubelet\\|MountVolume\\.SetUp failed for volume \"h\" : hostPath type check failed: /nonexistent-husk-$$ " \
  'a hostPath of type Directory that does not exist: FailedMount naming the path'
tap_is "$(node_pod_field needs-dir '{.status.phase} {.status.containerStatuses[0].state.waiting.reason}')" \
  "Pending ContainerCreating" "that pod too stays Pending in ContainerCreating"
node_wait_phase optional-cm Running 40
tap_is "$(node_pod_field optional-cm '{.status.phase}')" "Running" \
  "a missing optional ConfigMap does not hold the pod"
tap_is "$(events_of optional-cm | grep -c FailedMount)" "0" "and records no FailedMount"

# The object appears: the pod starts with it mounted.
$K create configmap app-config --from-literal=greeting=hello-mount >/dev/null
t0=$(date +%s%N)
$K create secret generic app-secret --from-literal=token=s3cret >/dev/null
node_wait_phase needs-cm Running 60
tap_diag "ConfigMap created -> pod Running (polling): $((($(date +%s%N) - t0) / 1000000)) ms (retries every 2 s doubling to 16 s)"
tap_is "$(node_pod_field needs-cm '{.status.phase} {.status.containerStatuses[0].ready}')" "Running true" \
  "once the ConfigMap is created the pod starts"
tap_is "$(kx needs-cm -- cat /etc/app/greeting)" "hello-mount" "with the ConfigMap's content mounted"
node_wait_phase needs-secret Running 60
tap_is "$(kx needs-secret -- cat /etc/creds/token)" "s3cret" \
  "once the Secret is created that pod starts with it mounted"
tap_is "$(node_pod_field needs-cm '{.status.containerStatuses[0].restartCount}')" "0" \
  "the waiting did not count as restarts"

tap_done
