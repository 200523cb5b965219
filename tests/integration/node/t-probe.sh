#!/bin/bash
# Probes wired into the pod lifecycle on a one-node cluster (husk up in a network namespace
# made here): an exec readiness probe holds READY until it passes, an httpGet readiness
# probe reaches the pod's IP, and a failing exec liveness probe restarts the container.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3; touch /tmp/ready; while true; do sleep 1; done']
    readinessProbe:
      exec: {command: [test, -f, /tmp/ready]}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
    livenessProbe:
      exec: {command: [test, -f, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 2
Y
node_wait_phase slow Running 30
tap_is "$(node_pod_field slow '{.status.phase} {.status.containerStatuses[0].ready}')" "Running false" \
  "a running container is not ready before its readiness probe passes"
wait_for 20 sh -c "[ \"\$($K get pod slow -o jsonpath='{.status.containerStatuses[0].ready}')\" = true ]"
tap_is "$(node_pod_field slow '{.status.containerStatuses[0].ready}')" "true" \
  "the exec readiness probe (run in the container) passes once the file exists"
tap_like "$(node_pod_field slow '{range .status.conditions[*]}{.type}={.status} {end}')" 'Ready=True' \
  "the pod's Ready condition follows"

wait_for 20 sh -c "[ \"\$($K get pod web -o jsonpath='{.status.containerStatuses[0].ready}')\" = true ]"
tap_is "$(node_pod_field web '{.status.containerStatuses[0].ready}')" "true" \
  "an httpGet readiness probe on a named port reaches the pod's IP"

wait_for 30 sh -c "[ \"\$($K get pod sick -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>/dev/null)\" -ge 1 ]"
tap_like "$(node_pod_field sick '{.status.containerStatuses[0].restartCount}')" '^[1-9]' \
  "a failing liveness probe restarts the container"
tap_is "$(node_pod_field sick '{.status.containerStatuses[0].lastState.terminated.exitCode}')" "0" \
  "it was stopped with SIGTERM first (its trap exited 0)"

uids=$(for n in slow web sick; do node_pod_field $n "{.metadata.uid} "; done)
$K delete pod slow web sick --wait=false >/dev/null 2>&1
wait_for 30 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>&1)" "" "all pods deleted"
left=0
for u in $uids; do [ -e "$CG/husk/pod-$u" ] && left=$((left + 1)); done
tap_is "$left" "0" "no pod cgroup left (exec probes included)"
tap_done
