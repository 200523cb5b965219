#!/bin/bash
# Namespace deletion: the namespace turns Terminating, refuses new content, deletes what it
# holds (objects with finalizers wait for them), and goes once empty; Service ClusterIPs and
# NodePorts are released when their services go (with the namespace or alone).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start

$K create ns t1 >/dev/null
$K -n t1 create cm a >/dev/null
$K -n t1 create cm b >/dev/null
$K -n t1 patch cm b -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
$K -n t1 create service nodeport np --tcp=80:80 --node-port=30111 >/dev/null
ip=$($K -n t1 get svc np -o jsonpath='{.spec.clusterIP}')
tap_is "$($K get ns t1 -o jsonpath='{.spec.finalizers}')" '["kubernetes"]' "namespaces carry the kubernetes finalizer"
tap_is "$($K delete ns t1 --wait=false 2>&1)" 'namespace "t1" deleted' "delete answers at once"
tap_is "$($K get ns t1 -o jsonpath='{.status.phase}')" "Terminating" "the namespace is Terminating while content remains"
tap_is "$($K -n t1 get cm -o name 2>&1)" "configmap/b" "content without finalizers is gone; b waits for its finalizer"
tap_check "b is marked for deletion" test -n "$($K -n t1 get cm b -o jsonpath='{.metadata.deletionTimestamp}')"
tap_like "$($K -n t1 create cm c 2>&1)" "unable to create new content in namespace t1 because it is being terminated" \
  "no new content in a Terminating namespace"
$K -n t1 patch cm b --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
tap_check "the namespace goes once its last object does" $K wait --for=delete ns/t1 --timeout=15s
tap_is "$($K get ns t1 2>&1)" 'Error from server (NotFound): namespaces "t1" not found' "namespace gone"

# the NodePort and ClusterIP are free again
tap_is "$($K create service nodeport np2 --tcp=80:80 --node-port=30111 2>&1)" "service/np2 created" "NodePort released with its namespace"
$K delete svc np2 >/dev/null
tap_is "$($K create service nodeport np3 --tcp=80:80 --node-port=30111 2>&1)" "service/np3 created" "NodePort released on service delete"
tap_is "$(api_curl -X POST -H 'Content-Type: application/json' \
  -d "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"again\"},\"spec\":{\"clusterIP\":\"$ip\",\"ports\":[{\"port\":80}]}}" \
  /api/v1/namespaces/default/services | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["clusterIP"])')" \
  "$ip" "ClusterIP released with its namespace"

$K create ns t2 >/dev/null
$K -n t2 create deploy x --image=nginx >/dev/null
$K -n t2 create sa s >/dev/null
tap_is "$($K delete ns t2 2>&1)" 'namespace "t2" deleted' "a namespace without finalized content goes at once"
tap_is "$($K get ns t2 -o name 2>&1)" 'Error from server (NotFound): namespaces "t2" not found' "t2 gone"
tap_like "$($K delete ns kube-system 2>&1)" "this namespace may not be deleted" "kube-system may not be deleted"
tap_done
