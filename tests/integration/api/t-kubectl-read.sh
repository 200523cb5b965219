#!/bin/bash
# kubectl against a real husk master: discovery, get (tables, wide, yaml, json, name, -l,
# --field-selector, -A), describe, explain, api-resources, watch, version, health.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

out=$($K version -o json 2>&1)
tap_like "$out" '"minor": "32"' "kubectl version sees server minor 32"
tap_is "$(curl -sk "$API_URL/readyz")" "ok" "/readyz answers ok without a token"
tap_is "$(curl -sk "$API_URL/livez")" "ok" "/livez answers ok"

ct=$(curl -sk -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $API_TOKEN" \
  -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' "$API_URL/apis")
tap_is "$ct" "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" \
  "aggregated discovery has the v2 content type"
tap_like "$(api_curl /api/v1)" '"name":"pods/status"' "legacy discovery lists subresources"
tap_like "$(api_curl /apis)" '"kind":"APIGroupList".*\{"groupVersion":"apps/v1","version":"v1"\}' "legacy APIGroupList"
tap_like "$(api_curl /apis/autoscaling)" '"preferredVersion":\{"groupVersion":"autoscaling/v2"' "legacy APIGroup prefers autoscaling/v2"
tap_like "$(api_curl /apis/apps/v1)" '"name":"deployments/scale".*"group":"autoscaling","version":"v1"' "legacy scale subresource names autoscaling/v1"

out=$($K get ns --no-headers 2>&1 | awk '{print $1}' | tr '\n' ' ')
tap_is "$out" "default kube-node-lease kube-public kube-system " "the four namespaces exist from the start"

out=$($K api-resources 2>&1)
tap_like "$out" 'deployments +deploy +apps/v1 +true +Deployment' "api-resources lists deployments with short name"
tap_like "$out" 'pods +po +v1 +true +Pod' "api-resources lists pods"

cat >"$DATA/pods.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: alpha
  labels: {app: web, tier: front}
spec:
  nodeName: n1
  containers:
  - {name: c, image: "busybox:1.36"}
---
apiVersion: v1
kind: Pod
metadata:
  name: beta
  labels: {app: db}
spec:
  containers:
  - {name: c, image: "busybox:1.36"}
  - {name: d, image: "busybox:1.36"}
Y
$K create ns other >/dev/null
$K apply -f "$DATA/pods.yaml" >/dev/null 2>&1
$K -n other run gamma --image=busybox --labels=app=web >/dev/null 2>&1

out=$($K get pods 2>&1)
tap_like "$out" '^NAME +READY +STATUS +RESTARTS +AGE' "get pods prints upstream's columns"
tap_like "$out" 'beta +0/2 +Pending +0 ' "a pod's row shows READY 0/2 and Pending"
out=$($K get pods -o wide 2>&1)
tap_like "$out" 'IP +NODE +NOMINATED NODE +READINESS GATES' "-o wide adds IP, NODE, NOMINATED NODE, READINESS GATES"
tap_like "$out" 'alpha .* n1 ' "-o wide shows the node"
tap_is "$($K get pods -l app=web -o name 2>&1)" "pod/alpha" "-l app=web selects one pod (-o name)"
tap_is "$($K get pods -l 'app in (web,db),tier' -o name 2>&1)" "pod/alpha" "set-based selector with exists"
tap_is "$($K get pods -l 'app!=web' -o name 2>&1)" "pod/beta" "!= selector"
tap_is "$($K get pods -l '!tier' -o name 2>&1 | tr '\n' ' ')" "pod/beta " "!key selector"
tap_is "$($K get pods --field-selector spec.nodeName=n1 -o name 2>&1)" "pod/alpha" "field selector spec.nodeName"
tap_is "$($K get pods --field-selector metadata.name=beta -o name 2>&1)" "pod/beta" "field selector metadata.name"
out=$($K get pods -A -l app=web --no-headers 2>&1 | awk '{print $1"/"$2}' | tr '\n' ' ')
tap_is "$out" "default/alpha other/gamma " "-A lists across namespaces"
out=$($K get pod alpha -o yaml 2>&1)
tap_like "$out" 'uid: [0-9a-f-]{36}' "-o yaml shows a uid"
tap_like "$out" 'creationTimestamp: "20' "-o yaml shows creationTimestamp"
tap_like "$out" 'restartPolicy: Always' "defaults are filled (restartPolicy)"
out=$($K get pod alpha -o json 2>&1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["kind"], d["spec"]["containers"][0]["image"], d["metadata"]["resourceVersion"].isdigit())')
tap_is "$out" "Pod busybox:1.36 True" "-o json decodes with kind, image and a numeric resourceVersion"
out=$($K get pods --show-labels 2>&1)
tap_like "$out" 'alpha .*app=web,tier=front' "--show-labels reads row metadata"
out=$($K get pods --chunk-size=1 -o name 2>&1 | tr '\n' ' ')
tap_is "$out" "pod/alpha pod/beta " "limit/continue pages through all pods"
tap_like "$($K get pods -l 'a in (b' 2>&1)" 'unable to parse requirement' "bad label selector -> 400 with message"
tap_like "$($K get pods --field-selector bogus=1 2>&1)" 'field label not supported: bogus' "unsupported field selector -> 400"
tap_like "$($K get pod nope 2>&1)" 'pods "nope" not found' "missing pod -> NotFound"

buid=$($K get pod beta -o jsonpath='{.metadata.uid}')
printf 'apiVersion: v1\nkind: Event\nmetadata:\n  name: e1\ninvolvedObject: {kind: Pod, name: beta, namespace: default, uid: %s}\nreason: Pulled\nmessage: image pulled\ntype: Normal\nsource: {component: kubelet, host: n1}\ncount: 1\n' "$buid" | $K create -f - >/dev/null 2>&1
tap_like "$($K get events 2>&1)" '^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE' "get events prints upstream's columns (no NAME)"
tap_like "$($K events 2>&1)" 'Normal +Pulled +Pod/beta +image pulled' "kubectl events (events.k8s.io/v1) sees a core/v1 event"
tap_like "$(api_curl /apis/events.k8s.io/v1/namespaces/default/events/e1)" '"regarding":\{"kind":"Pod","name":"beta".*"note":"image pulled"' "events.k8s.io/v1 converts note/regarding"
out=$($K describe pod beta 2>&1)
tap_like "$out" 'Name: +beta' "describe pod shows the name"
tap_like "$out" 'Image: +busybox:1.36' "describe pod shows images"
tap_like "$out" 'Normal +Pulled .* image pulled' "describe pod lists its events (field selectors on involvedObject)"
out=$($K explain deployment.spec.replicas 2>&1)
tap_like "$out" 'replicas.*<integer>' "explain reads the openapi v3 schema"

# watch: a list then events; the informer-style name watch used by wait/rollout.
$K create cm w0 --from-literal=a=b >/dev/null
$K get cm -w --output-watch-events >"$DATA/watch.out" 2>&1 &
wpid=$!
wait_for 30 grep -q w0 "$DATA/watch.out"
$K create cm w1 --from-literal=a=b >/dev/null
$K label cm w1 x=y >/dev/null
$K delete cm w1 >/dev/null
wait_for 30 grep -q 'DELETED.*w1' "$DATA/watch.out"
kill $wpid 2>/dev/null
wait $wpid 2>/dev/null
$K delete cm w0 >/dev/null
out=$(awk '{print $1, $2}' "$DATA/watch.out" | grep w1 | tr '\n' ' ')
tap_is "$out" "ADDED w1 MODIFIED w1 DELETED w1 " "kubectl get -w sees ADDED, MODIFIED, DELETED"

$K create cm gone --from-literal=a=b >/dev/null
$K wait --for=delete cm/gone --timeout=10s >"$DATA/wait.out" 2>&1 &
wpid=$!
sleep 1
$K delete cm gone --wait=false >/dev/null
wait $wpid
tap_ok $? "kubectl wait --for=delete returns once the object is gone"

# A selector watch sees an object that stops matching as DELETED (the scheduler's view of
# unscheduled pods when one gets bound) and one that starts matching as ADDED.
rv=$(api_curl /api/v1/pods | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
api_curl "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3D&resourceVersion=$rv&timeoutSeconds=8" >"$DATA/sel.out" &
wpid=$!
sleep 2
api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"beta"},"target":{"kind":"Node","name":"n2"}}' /api/v1/namespaces/default/pods/beta/binding >/dev/null
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"spec":{"nodeName":null}}' /api/v1/namespaces/default/pods/beta >/dev/null
$K run delta --image=busybox >/dev/null 2>&1
wait $wpid
out=$(python3 -c 'import json,sys
for l in open(sys.argv[1]): e=json.loads(l); print(e["type"], e["object"]["metadata"]["name"], end=" ")' "$DATA/sel.out")
# (a scheduler running in the master may then report delta as unschedulable: MODIFIED)
tap_like "$out" '^DELETED beta ADDED delta ' "selector watch: bound pod leaves as DELETED, new pod ADDED"
tap_is "$($K get pod beta -o jsonpath='{.spec.nodeName}')" "n2" "binding set spec.nodeName (and it cannot be patched away)"
tap_like "$($K patch pod beta -p '{"spec":{"hostname":"x"}}' 2>&1)" 'pod updates may not change fields' "pod spec is immutable but for images and a few fields"
$K set image pod/beta c=busybox:1.37 >/dev/null 2>&1
tap_is "$($K get pod beta -o jsonpath='{.spec.containers[0].image}')" "busybox:1.37" "kubectl set image changes a pod's image"
$K delete pod delta >/dev/null 2>&1

# After a restart the watch history starts at the current revision: older ones are gone.
api_restart
rv=$(api_curl /api/v1/namespaces/default/configmaps | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
out=$(api_curl "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2&timeoutSeconds=2")
tap_like "$out" '"type":"ERROR".*"code":410' "a watch from a revision older than history gets 410 Gone"
tap_is "$($K get pods -o name 2>&1 | tr '\n' ' ')" "pod/alpha pod/beta " "objects survive a restart"
out=$(api_curl "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=2")
tap_like "$out" '^\{"type":"BOOKMARK","object":\{"kind":"ConfigMap","apiVersion":"v1","metadata":\{"resourceVersion":"[0-9]+"\}\}\}$' "a quiet watch with allowWatchBookmarks gets a BOOKMARK and ends at timeoutSeconds"
out=$(api_curl "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$rv&timeoutSeconds=2")
tap_is "$out" "" "without allowWatchBookmarks a quiet watch ends with nothing"

tap_done
