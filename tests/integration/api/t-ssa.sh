#!/bin/bash
# Server-side apply through kubectl: managedFields (Apply and Update operations, FieldsV1),
# two managers sharing a field, a conflict (409 with causes naming the other manager),
# --force-conflicts taking ownership, fields a manager stops applying removed unless another
# manager owns them, list items by their keys (containers by name, ports by port+protocol).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

# mf OBJ: "manager/operation[/subresource]: path path ..." per managedFields entry, via python.
mf() {
  $K get "$@" -o json --show-managed-fields | python3 -c '
import json, sys
o = json.load(sys.stdin)
def paths(n, p):
    out = []
    for k, v in n.items():
        if k == ".":
            continue
        q = p + ("." + k[2:] if k.startswith("f:") else "[" + k + "]")
        if not v or "." in v:
            out.append(q)
        out += paths(v, q)
    return out
for e in o["metadata"].get("managedFields", []):
    name = e["manager"] + "/" + e["operation"] + ("/" + e["subresource"] if e.get("subresource") else "")
    print(name + ": " + " ".join(sorted(paths(e.get("fieldsV1", {}), ""))))
'
}

cat >"$DATA/a.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: c1
  labels: {app: x}
data:
  a: "1"
  b: "2"
Y
cat >"$DATA/b.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: c1
data:
  b: "2"
  c: "3"
Y
cat >"$DATA/b2.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: c1
data:
  b: "20"
  c: "3"
Y
cat >"$DATA/a2.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: c1
data:
  a: "1"
Y

tap_is "$($K apply --server-side -f "$DATA/a.yaml" 2>&1)" "configmap/c1 serverside-applied" "first apply creates"
tap_is "$(mf cm c1)" "kubectl/Apply: .data.a .data.b .metadata.labels.app" "managedFields: the applier owns what it applied"
tap_check "get -o yaml hides managedFields unless asked" \
  test -z "$($K get cm c1 -o yaml | grep managedFields)"
tap_check "--show-managed-fields shows FieldsV1 entries" \
  bash -c "$K get cm c1 -o yaml --show-managed-fields | grep -q 'fieldsType: FieldsV1'"

tap_is "$($K apply --server-side --field-manager=other -f "$DATA/b.yaml" 2>&1)" \
  "configmap/c1 serverside-applied" "a second manager applying the same value shares the field"
tap_is "$(mf cm c1)" "kubectl/Apply: .data.a .data.b .metadata.labels.app
other/Apply: .data.b .data.c" "both managers own .data.b"

out=$($K apply --server-side --field-manager=other -f "$DATA/b2.yaml" 2>&1)
tap_like "$out" 'Apply failed with 1 conflict: conflict with "kubectl": .data.b' "changing a field another manager owns is a conflict"
tap_is "$($K get cm c1 -o jsonpath='{.data.b}')" "2" "a conflict changes nothing"
body=$(api_curl -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
  --data-binary "@$DATA/b2.yaml" "/api/v1/namespaces/default/configmaps/c1?fieldManager=other")
tap_is "$(echo "$body" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["code"], s["reason"], [(c["reason"], c["field"], c["message"]) for c in s["details"]["causes"]])')" \
  "409 Conflict [('FieldManagerConflict', '.data.b', 'conflict with \"kubectl\"')]" "409 Status with one cause per conflicting field"

tap_is "$($K apply --server-side --field-manager=other --force-conflicts -f "$DATA/b2.yaml" 2>&1)" \
  "configmap/c1 serverside-applied" "--force-conflicts applies"
tap_is "$(mf cm c1)" "kubectl/Apply: .data.a .metadata.labels.app
other/Apply: .data.b .data.c" "--force-conflicts took .data.b from kubectl"

$K apply --server-side -f "$DATA/a2.yaml" >/dev/null 2>&1
tap_is "$($K get cm c1 -o json | python3 -c 'import json,sys; o=json.load(sys.stdin); print(sorted(o["data"].items()), o["metadata"].get("labels"))')" \
  "[('a', '1'), ('b', '20'), ('c', '3')] None" "a field no longer applied is removed; others' fields stay"

# Update operations: create, label, scale record their managers; SSA conflicts with them.
cat >"$DATA/dep.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx
        ports: [{containerPort: 80}]
      - name: d
        image: busybox
Y
$K apply --server-side -f "$DATA/dep.yaml" >/dev/null 2>&1
$K label deploy web tier=front >/dev/null
$K scale deploy web --replicas=3 >/dev/null
tap_like "$(mf deploy web)" 'kubectl-label/Update: .metadata.labels .metadata.labels.tier' \
  "label records an Update by kubectl-label (the new labels map is a member itself)"
tap_like "$(mf deploy web)" 'kubectl/Update/scale: .spec.replicas' "scale records an Update on the scale subresource"
tap_like "$(mf deploy web)" '\.spec\.template\.spec\.containers\[k:\{"name":"c"\}\]\.ports\[k:\{"containerPort":80,"protocol":"TCP"\}\]\.containerPort' \
  "list items by key: containers by name, ports by containerPort+protocol"
out=$($K apply --server-side -f "$DATA/dep.yaml" 2>&1)
tap_like "$out" 'conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas' "apply conflicts with the scale's manager"
sed -i '/- name: d/,$d' "$DATA/dep.yaml"
tap_is "$($K apply --server-side --force-conflicts -f "$DATA/dep.yaml" 2>&1)" "deployment.apps/web serverside-applied" "forced apply"
tap_is "$($K get deploy web -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[*].name} {.metadata.labels.tier}')" \
  "2 c front" "forced value set, container d removed, the label's owner keeps it"

# Update of a field an applier owns takes it (updates always force).
$K patch cm c1 --type=merge -p '{"data":{"a":"9"}}' >/dev/null
tap_is "$(mf cm c1 | grep kubectl-patch)" "kubectl-patch/Update: .data.a" "a merge patch takes ownership"
tap_is "$(mf cm c1 | grep -c kubectl/Apply)" "0" "and the applier, owning nothing else now, left managedFields"

# A no-op apply writes nothing.
rv=$($K get cm c1 -o jsonpath='{.metadata.resourceVersion}')
$K apply --server-side --field-manager=other -f "$DATA/b2.yaml" >/dev/null 2>&1
tap_is "$($K get cm c1 -o jsonpath='{.metadata.resourceVersion}')" "$rv" "a no-op apply keeps the resourceVersion"

tap_is "$(api_code -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$DATA/b.yaml" \
  /api/v1/namespaces/default/configmaps/c1)" "422" "apply without fieldManager is refused (422)"

tap_done
