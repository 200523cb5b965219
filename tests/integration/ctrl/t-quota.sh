#!/bin/bash
# ResourceQuota and LimitRange admission through kubectl against a real husk master:
# counts and compute resources refused with upstream's 403 messages, status.used kept up to
# date (also after deletions), LimitRange defaults filled into containers and min/max/ratio
# enforced.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

$K create namespace q >/dev/null
$K -n q apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {pods: "3", requests.cpu: "1", requests.memory: 1Gi, limits.memory: 2Gi}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: objects}
spec:
  hard: {configmaps: "2", services: "1", count/deployments.apps: "1", persistentvolumeclaims: "1"}
Y
used() { $K -n q get quota "$1" -o jsonpath="{.status.used.${2//./\\.}}"; }
wait_for 10 is_eq 0 used compute pods
tap_is "$(used compute pods)/$(used compute requests\.cpu)" "0/0" "the quota controller fills status.used"
tap_is "$($K -n q get quota compute -o jsonpath='{.status.hard.pods}')" 3 "and status.hard"

pod() { # pod NAME CPU MEMREQ MEMLIMIT
  $K -n q apply -f - 2>&1 <<Y
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: "$2", memory: "$3"}, limits: {memory: "$4"}}
Y
}
tap_like "$(pod a 400m 256Mi 512Mi)" "created" "a pod within the quota is created"
tap_is "$(used compute requests\.cpu)/$(used compute requests\.memory)/$(used compute pods)" \
  "400m/256Mi/1" "status.used is charged at once"
out=$(pod b 700m 256Mi 512Mi)
tap_like "$out" 'Error from server \(Forbidden\).*pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=700m, used: requests.cpu=400m, limited: requests.cpu=1$' \
  "over requests.cpu: 403 with upstream's message"
out=$(pod c 100m 256Mi 2Gi)
tap_like "$out" 'exceeded quota: compute, requested: limits.memory=2Gi, used: limits.memory=512Mi, limited: limits.memory=2Gi' \
  "over limits.memory"
out=$($K -n q run nolimits --image=busybox 2>&1)
tap_like "$out" 'pods "nolimits" is forbidden: failed quota: compute: must specify limits.memory,requests.cpu,requests.memory' \
  "a pod without the constrained requests/limits: must specify"
code=$(api_code -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"2","memory":"1Mi"},"limits":{"memory":"1Mi"}}}]}}' \
  /api/v1/namespaces/q/pods)
tap_is "$code" 403 "the API answers 403"
body=$(api_curl -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"2","memory":"1Mi"},"limits":{"memory":"1Mi"}}}]}}' \
  /api/v1/namespaces/q/pods)
tap_is "$(echo "$body" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["kind"], s["reason"], s["code"], s["details"]["kind"])')" \
  "Status Forbidden 403 pods" "a metav1.Status Forbidden"

pod b2 100m 64Mi 64Mi >/dev/null
pod b3 100m 64Mi 64Mi >/dev/null
out=$(pod b4 100m 64Mi 64Mi)
tap_like "$out" 'exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3' "pods count is enforced"
$K -n q delete pod b3 --wait=false >/dev/null
wait_for 20 is_eq 2 used compute pods
tap_is "$(used compute pods)" 2 "a deleted pod is no longer counted"
tap_like "$(pod b4 100m 64Mi 64Mi)" created "and there is room again"

$K -n q create configmap c1 >/dev/null
$K -n q create configmap c2 >/dev/null
tap_like "$($K -n q create configmap c3 2>&1)" \
  'configmaps "c3" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=2, limited: configmaps=2' \
  "configmaps count"
$K -n q create deployment d1 --image=busybox >/dev/null
tap_like "$($K -n q create deployment d2 --image=busybox 2>&1)" \
  'exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1' \
  "count/deployments.apps"
$K -n q create service clusterip s1 --tcp=80 >/dev/null
tap_like "$($K -n q create service clusterip s2 --tcp=80 2>&1)" 'exceeded quota: objects, requested: services=1' "services"
tap_is "$(used objects configmaps)/$(used objects services)" "2/1" "status.used of the object counts"

# Scopes: a BestEffort quota counts only pods without requests and limits.
$K create namespace be >/dev/null
$K -n be apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: ResourceQuota
metadata: {name: besteffort}
spec:
  hard: {pods: "1"}
  scopes: [BestEffort]
Y
$K -n be run be1 --image=busybox >/dev/null
tap_like "$($K -n be run be2 --image=busybox 2>&1)" \
  'exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1' \
  "scope BestEffort: a second best-effort pod is refused"
tap_like "$($K -n be run burst --image=busybox --overrides='{"spec":{"containers":[{"name":"burst","image":"busybox","resources":{"requests":{"cpu":"100m"}}}]}}' 2>&1)" \
  created "a pod with requests is outside the scope"
sleep 3 # a controller pass or more
tap_is "$($K -n be get quota besteffort -o jsonpath='{.status.used.pods}')" 1 \
  "the controller counts only the pods in scope"

# Updates are charged as upstream's quota admission on Update: what grows in a claim's or a
# service's usage is checked and charged; object counts do not change on update.
$K create namespace qu >/dev/null
$K -n qu apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: ResourceQuota
metadata: {name: upd}
spec:
  hard: {requests.storage: 3Gi, persistentvolumeclaims: "1", services.nodeports: "1", services.loadbalancers: "0"}
Y
wait_for 10 is_eq 0 $K -n qu get quota upd -o jsonpath='{.status.used.services\.nodeports}'
$K -n qu apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
Y
uused() { $K -n qu get quota upd -o jsonpath="{.status.used.${1//./\\.}}"; }
claim_size() {
  $K -n qu patch pvc data --type=merge -p "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"$1\"}}}}" 2>&1
}
tap_like "$(claim_size 2Gi)" "patched" "a claim grown within the quota is updated"
tap_is "$(uused requests.storage)" 2Gi "the growth is charged to status.used at once"
tap_like "$(claim_size 4Gi)" \
  'persistentvolumeclaims "data" is forbidden: exceeded quota: upd, requested: requests.storage=2Gi, used: requests.storage=2Gi, limited: requests.storage=3Gi$' \
  "a claim grown past requests.storage: 403 with upstream's message (the growth requested)"
tap_is "$($K -n qu get pvc data -o jsonpath='{.spec.resources.requests.storage}')" 2Gi \
  "the refused update is not stored"
tap_like "$($K -n qu label pvc data tier=gold 2>&1)" "labeled" \
  "an update of a claim at its count limit passes (counts are charged on create only)"
$K -n qu create service clusterip s1 --tcp=80 >/dev/null
$K -n qu create service clusterip s2 --tcp=80 >/dev/null
svc_type() { $K -n qu patch service "$1" --type=merge -p "{\"spec\":{\"type\":\"$2\"}}" 2>&1; }
tap_like "$(svc_type s1 NodePort)" "patched" "ClusterIP -> NodePort within services.nodeports"
tap_is "$(uused services.nodeports)" 1 "the node port is charged"
tap_like "$(svc_type s2 NodePort)" \
  'services "s2" is forbidden: exceeded quota: upd, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1$' \
  "a second ClusterIP -> NodePort update is refused"
tap_like "$(svc_type s1 LoadBalancer)" \
  'services "s1" is forbidden: exceeded quota: upd, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0$' \
  "NodePort -> LoadBalancer charges services.loadbalancers (its node ports were already counted)"
svc_type s1 ClusterIP >/dev/null
wait_for 20 is_eq 0 uused services.nodeports
tap_is "$(uused services.nodeports)" 0 "the controller recomputes status.used after an update that released"
tap_like "$(svc_type s2 NodePort)" "patched" "and the freed node port can be taken by another service"

# LimitRange
$K create namespace lr >/dev/null
$K -n lr apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 200m, memory: 128Mi}
    min: {cpu: 100m}
    max: {cpu: "1", memory: 1Gi}
    maxLimitRequestRatio: {memory: "4"}
Y
$K -n lr run plain --image=busybox >/dev/null
tap_is "$($K -n lr get pod plain -o jsonpath='{.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.requests.memory}/{.spec.containers[0].resources.limits.cpu}/{.spec.containers[0].resources.limits.memory}')" \
  "200m/128Mi/500m/256Mi" "defaultRequest and default are filled in"
tap_is "$($K -n lr get pod plain -o jsonpath='{.metadata.annotations.kubernetes\.io/limit-ranger}')" \
  "LimitRanger plugin set: cpu, memory request for container plain; cpu, memory limit for container plain" \
  "the kubernetes.io/limit-ranger annotation says what was set"
lr_pod() { # lr_pod NAME RESOURCES_JSON
  $K -n lr run "$1" --image=busybox --overrides="{\"spec\":{\"containers\":[{\"name\":\"$1\",\"image\":\"busybox\",\"resources\":$2}]}}" 2>&1
}
tap_like "$(lr_pod big '{"limits":{"cpu":"2"}}')" \
  'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2$' "max enforced"
tap_like "$(lr_pod tiny '{"requests":{"cpu":"50m"}}')" \
  'pods "tiny" is forbidden: minimum cpu usage per Container is 100m, but request is 50m$' "min enforced"
tap_like "$(lr_pod ratio '{"requests":{"memory":"64Mi"},"limits":{"memory":"512Mi"}}')" \
  'pods "ratio" is forbidden: memory max limit to request ratio per Container is 4, but provided ratio is 8.000000$' \
  "maxLimitRequestRatio enforced"
tap_like "$(lr_pod two '{"requests":{"cpu":"50m"},"limits":{"cpu":"2"}}')" \
  'is forbidden: \[minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 1, but limit is 2\]$' \
  "several violations are listed together"
tap_done
