#!/bin/bash
# terminationMessagePath and terminationMessagePolicy: what a container writes to
# /dev/termination-log (or its own path) becomes state.terminated.message; with
# FallbackToLogsOnError a failed container that wrote nothing there gets its log's tail; a
# successful one does not.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

pod() { # pod NAME EXTRA-CONTAINER-JSON COMMAND
  $K apply -f - >/dev/null <<YAML
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$1"},
 "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36",
   "command": ["sh", "-c", "$3"] $2}]}}
YAML
}
pod file '' 'echo all good > /dev/termination-log; exit 0'
pod custom ', "terminationMessagePath": "/tmp/why"' 'echo custom path > /tmp/why; exit 2'
pod fallback ', "terminationMessagePolicy": "FallbackToLogsOnError"' 'echo first; echo boom; exit 1'
pod fine ', "terminationMessagePolicy": "FallbackToLogsOnError"' 'echo quiet; exit 0'
for p in file custom fallback fine; do
  wait_for 60 sh -c "$K get pod $p -o jsonpath='{.status.phase}' 2>/dev/null | grep -qE '^(Succeeded|Failed)$'"
done
msg() { node_pod_field "$1" '{.status.containerStatuses[0].state.terminated.message}'; }
tap_is "$(msg file)" "all good" "/dev/termination-log becomes the termination message"
tap_is "$(msg custom)" "custom path" "terminationMessagePath is honoured"
tap_is "$(node_pod_field custom '{.status.containerStatuses[0].state.terminated.exitCode}')" "2" "with the exit code"
tap_is "$(msg fallback)" "first
boom" "FallbackToLogsOnError: a failed container's log tail"
tap_is "$(msg fine)" "" "FallbackToLogsOnError: nothing for a successful container"
$K delete pod file custom fallback fine --wait=false >/dev/null 2>&1
wait_for 30 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>/dev/null)" "" "the pods are deleted"
tap_done
