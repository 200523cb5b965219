#!/bin/bash
# Bad input gets the right metav1.Status and leaves the server unharmed: malformed JSON and
# YAML, unknown fields (Strict/Warn), wrong types, invalid objects (422 with causes),
# oversized bodies (413), bad or missing tokens (401), unknown patch types (415).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl python3
api_start
CM=/api/v1/namespaces/default/configmaps

out=$(api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1",' $CM)
tap_like "$out" '"kind":"Status".*"reason":"BadRequest".*"code":400' "malformed JSON -> 400 Status"
out=$(api_curl -X POST -H 'Content-Type: application/yaml' --data-binary $'kind: ConfigMap\nmetadata: [\n' $CM)
tap_like "$out" 'yaml: line 3.*"reason":"BadRequest"' "malformed YAML -> 400 naming the line"
out=$(api_curl -X POST -H 'Content-Type: application/json' -d '[1,2]' $CM)
tap_like "$out" '"code":400' "a JSON array body -> 400"

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\n  bogus: 1\ndata:\n  a: b\n' >"$DATA/u.yaml"
out=$($K create -f "$DATA/u.yaml" 2>&1)
tap_like "$out" 'strict decoding error: unknown field "metadata.bogus"' "unknown field under Strict (kubectl default) -> 400"
hdr=$(curl -sk -D - -o /dev/null -H "Authorization: Bearer $API_TOKEN" -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w","bogus":1}}' "$API_URL$CM?fieldValidation=Warn")
tap_like "$hdr" 'Warning: 299 - "unknown field \\"metadata.bogus\\""' "fieldValidation=Warn stores and warns"
tap_is "$(api_curl $CM/w | python3 -c 'import json,sys; print("bogus" in json.load(sys.stdin)["metadata"])')" "False" "the unknown field was dropped"
out=$(api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"i"}}' "$CM?fieldValidation=Bogus")
tap_like "$out" '"code":400' "an invalid fieldValidation value -> 400"

out=$(echo '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":"no"}}' | $K create -f - 2>&1)
tap_like "$out" 'cannot unmarshal string into field of type array "spec.containers"' "wrong JSON type -> 400 naming the field"
out=$(echo '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c"}],"restartPolicy":"Sometimes"}}' | $K create -f - 2>&1)
tap_like "$out" 'The Pod "x" is invalid' "invalid pod -> 422 printed by kubectl"
tap_like "$out" 'spec.containers\[0\].image: Required value' "the 422 names the missing image"
tap_like "$out" 'spec.restartPolicy: Unsupported value: "Sometimes"' "the 422 names the bad enum"
out=$(api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c"}]}}' /api/v1/namespaces/default/pods)
tap_like "$out" '"reason":"Invalid","code":422,.*"causes":\[\{"reason":"FieldValueRequired","message":"Required value","field":"spec.containers\[0\].image"\}\]' "422 Status carries causes"
out=$(api_curl -X POST -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}' $CM)
tap_like "$out" 'metadata.name: Invalid value: \\"Bad_Name\\"' "an invalid name -> 422"

head -c 4000000 /dev/zero | tr '\0' 'a' >"$DATA/big"
tap_is "$(api_code -X POST -H 'Content-Type: application/json' --data-binary @"$DATA/big" $CM)" "413" "a body over 3 MiB -> 413"
tap_is "$(api_code -X POST -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$DATA/big" $CM)" "413" "a chunked body over 3 MiB -> 413"

tap_is "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$API_URL/api/v1/pods")" "401" "a bad token -> 401"
tap_is "$(curl -sk -o /dev/null -w '%{http_code}' "$API_URL/api/v1/pods")" "401" "no token -> 401"
tap_like "$($K --token=wrong get pods 2>&1)" 'You must be logged in to the server \(Unauthorized\)' "kubectl prints Unauthorized"
tap_is "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$DATA/node-token")" "$API_URL/api/v1/nodes")" "200" "the node join token is accepted"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://${API_URL#https://}/version")
[ "$code" != 200 ]
tap_ok $? "plain HTTP on the TLS port is not served (got $code)"

tap_is "$(api_code -X PATCH -H 'Content-Type: text/plain' -d x $CM/w)" "415" "unknown patch content type -> 415"
tap_is "$(api_code /api/v1/nosuch)" "404" "unknown resource -> 404"
tap_is "$(api_code /apis/apps/v1/namespaces/default/deployments/x/bogus)" "404" "unknown subresource -> 404"

tap_is "$($K get cm w -o name 2>&1)" "configmap/w" "the server still answers after all of the above"
tap_done
