#!/bin/bash
# A pod's managedFields as upstream keeps them (fields admission sets and status written
# through the main resource are nobody's; /status writes own only status), and its Table
# rows, which the server writes straight from the stored text: READY, STATUS, RESTARTS,
# IP, NODE, NOMINATED NODE and READINESS GATES from status, row objects without
# managedFields for includeObject=Metadata and Object.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

# owned MANAGER[/SUBRESOURCE] POD: the top-level fields and spec/status members the entry owns.
owned() {
  api_curl "/api/v1/namespaces/default/pods/$2" | python3 -c '
import json, sys
want = sys.argv[1]
for e in json.load(sys.stdin)["metadata"].get("managedFields", []):
    name = e["manager"] + ("/" + e["subresource"] if e.get("subresource") else "")
    if name != want:
        continue
    out = []
    for k, v in e["fieldsV1"].items():
        out.append(k)
        if k in ("f:spec", "f:status"):
            out += [k + "." + c for c in v if c != "."]
    print(" ".join(sorted(out)))
' "$1"
}

pod='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","labels":{"app":"x"}},
"spec":{"containers":[{"name":"a","image":"busybox"},{"name":"b","image":"busybox"}],
"readinessGates":[{"conditionType":"example.com/gate"}]},
"status":{"phase":"Running","podIP":"10.42.0.9"}}'
code=$(api_code -X POST -H 'Content-Type: application/json' -d "$pod" \
  "/api/v1/namespaces/default/pods?fieldManager=maker")
tap_is "$code" 201 "pod created with a status through the main resource"
got=$(owned maker p1)
tap_like "$got" 'f:spec\.f:containers .*f:spec\.f:dnsPolicy .*f:spec\.f:readinessGates' \
  "the creator owns what it sent and what defaulting added"
tap_ok "$([[ "$got" != *f:status* ]]; echo $?)" "the creator owns no status (reset field of the main resource): $got"
tap_ok "$([[ "$got" != *f:tolerations* && "$got" != *f:priority* && "$got" != *f:preemptionPolicy* ]]; echo $?)" \
  "fields admission set (tolerations, priority, preemptionPolicy) are nobody's"
tap_is "$($K get pod p1 -o jsonpath='{.spec.tolerations[0].key} {.spec.serviceAccountName} {.status.qosClass}')" \
  "node.kubernetes.io/not-ready default BestEffort" "admission did set them"

st='{"status":{"phase":"Running","podIP":"10.42.0.9","nominatedNodeName":"n9",
"conditions":[{"type":"Ready","status":"False"},{"type":"example.com/gate","status":"True"}],
"containerStatuses":[
 {"name":"a","ready":true,"restartCount":2,"image":"busybox","imageID":"","state":{"running":{}}},
 {"name":"b","ready":false,"restartCount":3,"image":"busybox","imageID":"",
  "state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}'
code=$(api_code -X PATCH -H 'Content-Type: application/merge-patch+json' -d "$st" \
  "/api/v1/namespaces/default/pods/p1/status?fieldManager=kubelet")
tap_is "$code" 200 "status patched through /status"
got=$(owned kubelet/status p1)
tap_like "$got" '^f:status f:status\.f:conditions f:status\.f:containerStatuses f:status\.f:nominatedNodeName$' \
  "a /status write owns only the status fields it changed"

api_curl -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p1"},"target":{"kind":"Node","name":"n1"}}' \
  /api/v1/namespaces/default/pods/p1/binding >/dev/null
out=$($K get pods -o wide --no-headers | tr -s ' ')
tap_like "$out" '^p1 1/2 CrashLoopBackOff 5 [0-9]+s 10\.42\.0\.9 n1 n9 1/1$' \
  "kubectl get pods -o wide: READY, STATUS, RESTARTS, AGE, IP, NODE, NOMINATED NODE, GATES"

table() {
  api_curl -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' "/api/v1/namespaces/default/pods$1" |
    python3 -c '
import json, sys
t = json.load(sys.stdin)
for r in t["rows"]:
    o = r["object"]
    m = (o or {}).get("metadata", {})
    print(json.dumps(r["cells"]), (o or {}).get("kind"), m.get("name"), "managedFields" in m,
          "spec" in (o or {}), o is None)
'
}
cells='["p1", "1/2", "CrashLoopBackOff", 5,'
tap_like "$(table '')" "^\\$cells .* PartialObjectMetadata p1 False False False$" \
  "Table list: cells, PartialObjectMetadata without managedFields"
tap_like "$(table '?includeObject=Object')" "^\\$cells .* Pod p1 False True False$" \
  "includeObject=Object: the pod without managedFields"
tap_like "$(table '?includeObject=None')" "^\\$cells .* None None False False True$" \
  "includeObject=None: no object"
tap_done
