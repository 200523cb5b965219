#!/bin/bash
# The GET fast path (issue 6): a small reply leaves as one TLS record (cork.c) and stays
# whole for clients that close the connection after it (Connection: close, HTTP/1.0); large
# replies are not held; a GET sees every write at once through the GET cache (getcache.c),
# over HTTPS and the plain loopback port alike.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl
BENCH=$HUSK_BUILD_DIR/tests/bench/api/api-bench
[ -x "$BENCH" ] || { echo "Bail out! $BENCH not built (make check TESTS=)"; exit 1; }
api_start
CM=/api/v1/namespaces/default/configmaps

out=$("$BENCH" "$API_URL" "$API_TOKEN" records /api/v1/namespaces/default)
tap_is "$out" "records per reply: 1" "a GET's reply (header and body) is one TLS record"

out=$(curl -sk --max-time 20 -H "Authorization: Bearer $API_TOKEN" -H 'Connection: close' \
  "$API_URL/api/v1/namespaces/default")
tap_like "$out" '"name":"default".*"kind":"Namespace"' "Connection: close gets the whole reply"
out=$(curl -0 -sk --max-time 20 -H "Authorization: Bearer $API_TOKEN" "$API_URL/api/v1/namespaces/default")
tap_like "$out" '"name":"default".*"kind":"Namespace"' "an HTTP/1.0 client gets the whole reply"
out=$(curl -sk --max-time 20 -H 'Authorization: Bearer wrong' "$API_URL/api/v1/namespaces/default")
tap_like "$out" '"code":401' "a bad token still gets its 401 Status"

# 40 ConfigMaps of ~600 bytes: a LIST of ~30 KiB is not held in one record, and arrives whole.
big=$(head -c 600 /dev/zero | tr '\0' x)
for i in $(seq 40); do
  api_curl -X POST -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"big-$i\"},\"data\":{\"k\":\"$big\"}}" $CM >/dev/null
done
n=$(api_curl $CM | grep -o '"name":"big-[0-9]*"' | wc -l)
tap_is "$n" 40 "a ~30 KiB LIST arrives whole"
out=$("$BENCH" "$API_URL" "$API_TOKEN" records $CM)
tap_like "$out" "records per reply: ([2-9]|[1-9][0-9])$" "a large reply is not held for one record ($out)"

# Reads after writes, through the cache: update, patch, delete, re-create.
api_curl -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"v":"1"}}' $CM >/dev/null
tap_like "$(api_curl $CM/c)" '"v":"1"' "GET after create"
tap_like "$(api_curl $CM/c)" '"v":"1"' "GET again (from the cache)"
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"data":{"v":"2"}}' $CM/c >/dev/null
tap_like "$(api_curl $CM/c)" '"v":"2"' "GET right after a patch sees it"
tap_like "$($K get cm c -o jsonpath='{.data.v}')" '^2$' "kubectl get sees it"
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"data":{"v":"3"}}' $CM/big-1 >/dev/null
tap_like "$(api_curl $CM/c)" '"v":"2"' "a write of another ConfigMap leaves c as it is"
api_curl -X DELETE $CM/c >/dev/null
tap_is "$(api_code $CM/c)" 404 "GET after delete: 404"
api_curl -X POST -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"v":"4"}}' $CM >/dev/null
tap_like "$(api_curl $CM/c)" '"v":"4"' "GET after re-create sees the new object"
tap_done
