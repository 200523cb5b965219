#!/bin/bash
# Pod creation computes status.qosClass as upstream (Guaranteed, Burstable, BestEffort; a limit
# without a request counts as both) and spec.priority from spec.priorityClassName, the global
# default class, or 0; the built-in system-*-critical classes exist; unknown classes are 403.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

tap_is "$($K get pc system-node-critical system-cluster-critical -o jsonpath='{.items[*].value}')" \
  "2000001000 2000000000" "built-in priority classes exist"

cat >"$DATA/pods.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  priorityClassName: system-cluster-critical
  containers:
  - name: a
    image: busybox
    resources: {limits: {cpu: 100m, memory: 10Mi}}
  - name: b
    image: busybox
    resources: {limits: {cpu: "1", memory: 1Gi}, requests: {cpu: 1000m, memory: 1024Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  containers:
  - name: a
    image: busybox
    resources: {limits: {cpu: 200m, memory: 10Mi}, requests: {cpu: 100m}}
---
apiVersion: v1
kind: Pod
metadata: {name: burstable2}
spec:
  containers:
  - name: a
    image: busybox
    resources: {limits: {cpu: 100m, memory: 10Mi}}
  - name: b
    image: busybox
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  containers:
  - name: a
    image: busybox
    resources: {requests: {cpu: "0"}}
Y
$K apply -f "$DATA/pods.yaml" >/dev/null
cols='-o=custom-columns=N:.metadata.name,Q:.status.qosClass,P:.spec.priority,PP:.spec.preemptionPolicy --no-headers'
tap_is "$($K get pods $cols | tr -s ' ')" "besteffort BestEffort 0 PreemptLowerPriority
burstable Burstable 0 PreemptLowerPriority
burstable2 Burstable 0 PreemptLowerPriority
guaranteed Guaranteed 2000000000 PreemptLowerPriority" "qosClass and priority per pod"
tap_is "$($K get pod guaranteed -o jsonpath='{.spec.containers[0].resources.requests.cpu}')" "100m" \
  "a limit without a request defaults the request"

cat >"$DATA/pc.yaml" <<'Y'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
globalDefault: true
preemptionPolicy: Never
Y
$K apply -f "$DATA/pc.yaml" >/dev/null
$K run later --image=busybox >/dev/null
tap_is "$($K get pod later -o jsonpath='{.spec.priorityClassName} {.spec.priority} {.spec.preemptionPolicy}')" \
  "high 1000 Never" "the global default class applies to pods without a class"
tap_like "$($K get pc high 2>&1)" "high +1000 +true" "kubectl get pc shows VALUE and GLOBAL-DEFAULT"

out=$($K run bad --image=busybox --overrides='{"spec":{"priorityClassName":"nope"}}' 2>&1)
tap_like "$out" 'pods "bad" is forbidden: no PriorityClass with name nope was found' "unknown class: 403"
out=$($K run bad2 --image=busybox --overrides='{"spec":{"priority":5}}' 2>&1)
tap_like "$out" 'the integer value of priority \(5\) must not be provided' "a priority contradicting the class: 403"
cat >"$DATA/sys.yaml" <<'Y'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: mine}
value: 2000000000
Y
tap_like "$($K apply -f "$DATA/sys.yaml" 2>&1)" "maximum allowed value of a user defined priority is 1000000000" \
  "user classes above 1e9 are refused"
tap_done
