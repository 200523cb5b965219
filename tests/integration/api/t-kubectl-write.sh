#!/bin/bash
# kubectl writes against a real husk master: apply (twice, multi-document), server-side apply,
# imperative create (protobuf bodies), label, annotate, patch (strategic, merge, json), scale,
# edit, delete (cascading, namespaces, finalizers), 409 on stale updates, service allocation.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

cat >"$DATA/app.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  a: "1"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
Y
out=$($K apply -f "$DATA/app.yaml" 2>&1 | tr '\n' ' ')
tap_is "$out" "configmap/cfg created deployment.apps/web created service/web created " "apply -f creates three objects"
out=$($K apply -f "$DATA/app.yaml" 2>&1 | tr '\n' ' ')
tap_is "$out" "configmap/cfg unchanged deployment.apps/web unchanged service/web unchanged " "second apply changes nothing"
gen1=$($K get deploy web -o jsonpath='{.metadata.generation}')
sed -i 's/a: "1"/a: "2"/; s/replicas: 2/replicas: 3/; s/value: "1"/value: "2"/' "$DATA/app.yaml"
out=$($K apply -f "$DATA/app.yaml" 2>&1 | tr '\n' ' ')
tap_is "$out" "configmap/cfg configured deployment.apps/web configured service/web unchanged " "third apply patches what changed"
tap_is "$($K get cm cfg -o jsonpath='{.data.a}')" "2" "the configmap has the new value"
out=$($K get deploy web -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].env[0].value} {.metadata.generation}')
tap_is "$out" "3 2 $((gen1 + 1))" "strategic merge updated replicas and env by name; generation moved once"

ip=$($K get svc web -o jsonpath='{.spec.clusterIP}')
np=$($K get svc web -o jsonpath='{.spec.ports[0].nodePort}')
tap_like "$ip" '^10\.43\.[0-9]+\.[0-9]+$' "the service got a ClusterIP from 10.43.0.0/16"
[ "$np" -ge 30000 ] && [ "$np" -le 32767 ]
tap_ok $? "the service got a NodePort in 30000-32767 ($np)"
cat >"$DATA/svc2.yaml" <<Y
apiVersion: v1
kind: Service
metadata: {name: clash}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: $np}]
Y
tap_like "$($K create -f "$DATA/svc2.yaml" 2>&1)" 'provided port is already allocated' "a taken NodePort is refused"
$K delete svc web >/dev/null 2>&1
tap_like "$($K create -f "$DATA/svc2.yaml" 2>&1)" 'service/clash created' "deleting the service released its NodePort"

# imperative creates send protobuf bodies
out=$($K create deployment d2 --image=nginx --replicas=2 2>&1; $K create ns team 2>&1;
  $K create cm c2 --from-literal=k=v 2>&1; $K create secret generic s2 --from-literal=p=hunter2 2>&1;
  $K create service clusterip svc2 --tcp=80:8080 2>&1; $K create job j2 --image=busybox -- true 2>&1)
tap_is "$(echo "$out" | tr '\n' ' ')" "deployment.apps/d2 created namespace/team created configmap/c2 created secret/s2 created service/svc2 created job.batch/j2 created " "kubectl create deployment|ns|cm|secret|service|job (protobuf)"
tap_is "$($K get deploy d2 -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image}')" "2 nginx" "the protobuf deployment decoded"
tap_is "$($K get secret s2 -o jsonpath='{.data.p}' | base64 -d)" "hunter2" "the protobuf secret decoded"
tap_is "$($K get svc svc2 -o jsonpath='{.spec.ports[0].targetPort}')" "8080" "the protobuf service decoded"

$K run p1 --image=busybox >/dev/null 2>&1
$K label pod p1 env=prod >/dev/null 2>&1
$K annotate pod p1 note=hello >/dev/null 2>&1
tap_is "$($K get pod p1 -o jsonpath='{.metadata.labels.env} {.metadata.annotations.note}')" "prod hello" "label and annotate"
$K patch pod p1 -p '{"metadata":{"labels":{"s":"1"}}}' >/dev/null 2>&1
$K patch pod p1 --type=merge -p '{"metadata":{"labels":{"m":"1","env":null}}}' >/dev/null 2>&1
$K patch pod p1 --type=json -p '[{"op":"add","path":"/metadata/labels/j","value":"1"}]' >/dev/null 2>&1
tap_is "$($K get pod p1 -o jsonpath='{.metadata.labels}')" '{"j":"1","m":"1","run":"p1","s":"1"}' "strategic, merge and json patches"
tap_like "$($K patch pod p1 --type=json -p '[{"op":"test","path":"/metadata/name","value":"x"}]' 2>&1)" 'test at "/metadata/name" failed' "a failing json-patch test is refused"
$K patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}' >/dev/null 2>&1
tap_is "$($K get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')" "nginx side" "strategic merge adds a container by merge key"
$K patch deploy web -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}' >/dev/null 2>&1
tap_is "$($K get deploy web -o jsonpath='{.spec.template.spec.containers[*].name}')" "nginx" "\$patch: delete removes a list element"

$K scale deploy web --replicas=5 >/dev/null 2>&1
tap_is "$($K get deploy web -o jsonpath='{.spec.replicas}')" "5" "kubectl scale through the scale subresource"
tap_like "$($K scale deploy web --replicas=6 --current-replicas=5 2>&1)" 'scaled' "scale with --current-replicas (GET + PUT Scale)"
scale=$(api_curl /apis/apps/v1/namespaces/default/deployments/web/scale)
tap_like "$scale" '"kind":"Scale","apiVersion":"autoscaling/v1".*"replicas":6.*"selector":"app=web"' "GET scale returns autoscaling/v1 Scale with the selector"

EDITOR="sed -i s/k:\ v/k:\ edited/" $K edit cm c2 >/dev/null 2>&1
tap_is "$($K get cm c2 -o jsonpath='{.data.k}')" "edited" "kubectl edit via EDITOR"

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: one\n' >"$DATA/ssa.yaml"
out=$($K apply --server-side -f "$DATA/ssa.yaml" 2>&1)
sed -i 's/k: one/k: two/' "$DATA/ssa.yaml"
out="$out $($K apply --server-side -f "$DATA/ssa.yaml" 2>&1)"
tap_is "$out" "configmap/ssa serverside-applied configmap/ssa serverside-applied" "apply --server-side creates then updates"
tap_is "$($K get cm ssa -o jsonpath='{.data.k}')" "two" "server-side apply result"

# HPAs: kubectl autoscale posts autoscaling/v1 (protobuf); v2 serves the same object converted
tap_like "$($K autoscale deploy d2 --min=1 --max=4 --cpu-percent=60 2>&1)" 'autoscaled' "kubectl autoscale"
tap_like "$(api_curl /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/d2)" '"metrics":\[\{"type":"Resource","resource":\{"name":"cpu","target":\{"type":"Utilization","averageUtilization":60\}' "the v1 HPA reads as v2 with a cpu metric"
tap_like "$(api_curl /apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/d2)" '"targetCPUUtilizationPercentage":60.*"apiVersion":"autoscaling/v1"' "and as v1 with targetCPUUtilizationPercentage"
tap_like "$($K get hpa d2 2>&1)" 'd2 +Deployment/d2 +cpu: <unknown>/60% +1 +4 +0 ' "get hpa prints upstream's columns"

# optimistic concurrency: PUT with a stale resourceVersion -> 409
obj=$(api_curl /api/v1/namespaces/default/configmaps/cfg)
$K label cm cfg bump=1 >/dev/null
code=$(api_code -X PUT -H 'Content-Type: application/json' -d "$obj" /api/v1/namespaces/default/configmaps/cfg)
tap_is "$code" "409" "update with a stale resourceVersion -> 409 Conflict"
tap_like "$(api_curl -X PUT -H 'Content-Type: application/json' -d "$obj" /api/v1/namespaces/default/configmaps/cfg)" '"reason":"Conflict"' "the 409 is a Status with reason Conflict"

# generateName, dryRun
out=$(api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"gen-"}}' /api/v1/namespaces/default/configmaps)
tap_like "$out" '"name":"gen-[a-z0-9]{5}"' "generateName makes a name"
code=$(api_code -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}' "/api/v1/namespaces/default/configmaps?dryRun=All")
tap_is "$code/$(api_code /api/v1/namespaces/default/configmaps/dry)" "201/404" "dryRun=All stores nothing"

# status subresource: a main-resource update does not change status; /status does
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"status":{"phase":"Running"}}' /api/v1/namespaces/default/pods/p1 >/dev/null
tap_is "$($K get pod p1 -o jsonpath='{.status.phase}')" "Pending" "status is ignored on the main resource"
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"status":{"phase":"Running"}}' /api/v1/namespaces/default/pods/p1/status >/dev/null
tap_is "$($K get pod p1 -o jsonpath='{.status.phase}')" "Running" "status changes through /status"

# cascading delete through ownerReferences
uid=$($K get deploy web -o jsonpath='{.metadata.uid}')
cat >"$DATA/rs.yaml" <<Y
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: $uid, controller: true}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
Y
$K create -f "$DATA/rs.yaml" >/dev/null 2>&1
rsuid=$($K get rs web-1 -o jsonpath='{.metadata.uid}')
cat >"$DATA/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: web-1-abcde
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: $rsuid, controller: true}]
spec: {containers: [{name: c, image: busybox}]}
Y
$K create -f "$DATA/pod.yaml" >/dev/null 2>&1
$K delete deploy web >/dev/null 2>&1
tap_is "$($K get rs,pods -l app=web -o name 2>&1)" "" "deleting a deployment deletes its replicaset and pods"

# finalizers hold deletion until removed
$K create cm fin --from-literal=a=b >/dev/null
$K patch cm fin --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
$K delete cm fin --wait=false >/dev/null 2>&1
tap_like "$($K get cm fin -o jsonpath='{.metadata.deletionTimestamp}')" '^20' "a finalizer keeps the object with a deletionTimestamp"
$K patch cm fin --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
tap_like "$($K get cm fin 2>&1)" 'not found' "removing the last finalizer deletes it"

# nodes: cordon/drain (strategic merge on spec.unschedulable, evictions), roles column
printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {node-role.kubernetes.io/worker: ""}\n' | $K apply -f - >/dev/null
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: onnode\nspec:\n  nodeName: n1\n  containers: [{name: c, image: busybox}]\n' | $K apply -f - >/dev/null
$K delete pod onnode --wait=false >/dev/null 2>&1
tap_like "$($K get pod onnode -o jsonpath='{.metadata.deletionTimestamp}')" '^20' "deleting a pod on an existing node only marks it (its agent stops it)"
tap_like "$($K get nodes 2>&1)" 'n1 +Unknown +worker ' "get nodes shows status and roles"
out=$($K drain n1 --force --grace-period=0 --timeout=20s 2>&1)
tap_like "$out" 'node/n1 drained' "kubectl drain cordons and evicts"
tap_like "$($K get nodes 2>&1)" 'n1 +Unknown,SchedulingDisabled ' "the drained node is unschedulable"
tap_is "$($K get pods --field-selector spec.nodeName=n1 -o name 2>&1)" "" "no pod is left on the drained node"

# namespaces: contents go with them; default may not be deleted
$K -n team create cm inside --from-literal=a=b >/dev/null
$K delete ns team >/dev/null 2>&1
tap_is "$($K get ns team -o name 2>&1 | grep -c '^namespace/')" "0" "namespace deleted"
tap_is "$(api_code /api/v1/namespaces/team/configmaps/inside)" "404" "its contents are gone"
tap_like "$($K delete ns default 2>&1)" 'may not be deleted' "default namespace may not be deleted"
tap_like "$($K -n nowhere create cm x 2>&1)" 'namespaces "nowhere" not found' "creating in a missing namespace -> NotFound"

tap_done
