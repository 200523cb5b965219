#!/bin/bash
# Lifecycle hooks: postStart runs right after the container started (its main process sees
# what the hook wrote, and it is not Running before the hook returned); a failing postStart
# kills the container with a FailedPostStartHook event; preStop runs before SIGTERM on
# deletion (its marker lands in a hostPath volume seen after the pod is gone); a failing
# preStop is a FailedPreStopHook event and the pod is still deleted.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up_ready
HP="$D/hostpath"
mkdir -p "$HP"

$K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "post"},
 "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sh", "-c", "for i in \$(seq 1 100); do [ -f /tmp/hook ] && break; sleep 0.1; done; echo main sees: \$(cat /tmp/hook 2>/dev/null || echo nothing); sleep 3600"],
   "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "echo written-by-poststart > /tmp/hook.new; mv /tmp/hook.new /tmp/hook"]}}}}]}}
YAML
node_wait_phase post Running 60
tap_is "$(node_pod_field post '{.status.phase}')" "Running" "the pod with a postStart hook runs"
wait_for 20 sh -c "$K logs post 2>/dev/null | grep -q 'main sees'"
tap_is "$($K logs post 2>/dev/null)" "main sees: written-by-poststart" \
  "the main process reads the file postStart wrote"

$K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "postfail"},
 "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sleep", "3600"],
   "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}}}]}}
YAML
wait_for 60 sh -c "$K get pod postfail -o jsonpath='{.status.phase}' 2>/dev/null | grep -qx Failed"
tap_is "$(node_pod_field postfail '{.status.phase}')" "Failed" "a failing postStart kills the container"
ev() { # ev POD: the reasons of its events
  $K get events -o jsonpath='{range .items[*]}{.involvedObject.name} {.reason}{"\n"}{end}' 2>/dev/null |
    awk -v p="$1" '$1 == p {print $2}'
}
for i in $(seq 1 100); do ev postfail | grep -q FailedPostStartHook && break; sleep 0.2; done
tap_like "$(ev postfail)" "FailedPostStartHook" "with a FailedPostStartHook event"

$K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pre"},
 "spec": {"terminationGracePeriodSeconds": 20, "containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sh", "-c", "trap 'echo term >> /hp/order; exit 0' TERM; while true; do sleep 0.1; done"],
   "volumeMounts": [{"name": "hp", "mountPath": "/hp"}],
   "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /hp/order"]}}}}],
  "volumes": [{"name": "hp", "hostPath": {"path": "$HP", "type": "Directory"}}]}}
YAML
$K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prefail"},
 "spec": {"terminationGracePeriodSeconds": 20, "containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sleep", "3600"],
   "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "exit 4"]}}}}]}}
YAML
node_wait_phase pre Running 60
node_wait_phase prefail Running 60
sleep 1
$K delete pod pre prefail --wait=false >/dev/null 2>&1
wait_for 40 sh -c "[ -z \"\$($K get pod pre prefail -o name 2>/dev/null)\" ]"
tap_is "$($K get pod pre prefail -o name 2>/dev/null)" "" "the pods with preStop hooks are deleted"
tap_is "$(cat "$HP/order" 2>/dev/null)" "prestop
term" "preStop ran before SIGTERM"
for i in $(seq 1 100); do ev prefail | grep -q FailedPreStopHook && break; sleep 0.2; done
tap_like "$(ev prefail)" "FailedPreStopHook" "a failing preStop is a FailedPreStopHook event"

$K delete pod post postfail --wait=false >/dev/null 2>&1
wait_for 40 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>/dev/null)" "" "the pods are deleted"
tap_done
