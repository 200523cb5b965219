#!/bin/bash
# kubectl port-forward against `husk master` + a separate `husk node`: WebSocket with
# SPDY/3.1 inside, proxied by the API server to the node, which connects to 127.0.0.1:port
# in the pod's network namespace. curl (inside the test's namespace) reaches busybox httpd.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/node/nodeapi-lib.sh"
require_cmd curl
nodeapi_cluster

nodeapi_pod web -- sh -c 'mkdir -p /www; echo served-by-pod >/www/index.html; head -c 2000000 /dev/urandom >/www/big; httpd -f -p 8080 -h /www & trap "exit 0" TERM; while true; do sleep 1; done'
port=$(free_port)
nodeapi_in_ns $K port-forward pod/web "$port:8080" >"$D/pf.log" 2>&1 &
PF=$!
on_exit "kill $PF 2>/dev/null"
wait_for 15 grep -q "Forwarding from" "$D/pf.log"
tap_is "$(nodeapi_in_ns curl -s --max-time 10 "http://127.0.0.1:$port/index.html")" "served-by-pod" \
  "curl through kubectl port-forward reaches httpd in the pod"
tap_is "$(nodeapi_in_ns curl -s --max-time 10 "http://127.0.0.1:$port/index.html")" "served-by-pod" \
  "a second connection over the same forward"
tap_like "$(nodeapi_in_ns curl -s --max-time 10 -w '%{http_code}' -o /dev/null "http://127.0.0.1:$port/none")" \
  "404" "httpd's own 404 comes back"
nodeapi_in_ns curl -s --max-time 30 "http://127.0.0.1:$port/big" -o "$D/big.got"
tap_is "$(stat -c %s "$D/big.got" 2>/dev/null)" "2000000" "2 MB come through whole"
ok=0
for i in 1 2 3 4 5; do
  nodeapi_in_ns curl -s --max-time 10 "http://127.0.0.1:$port/index.html" >"$D/p$i" &
done
wait_for 15 sh -c "cat $D/p1 $D/p2 $D/p3 $D/p4 $D/p5 2>/dev/null | grep -c served-by-pod | grep -qx 5"
tap_is "$(cat "$D"/p[1-5] | grep -c served-by-pod)" "5" "five parallel connections"
kill $PF 2>/dev/null
wait $PF 2>/dev/null

# A port nothing listens on: kubectl reports the node's error.
port2=$(free_port)
nodeapi_in_ns $K port-forward pod/web "$port2:9" >"$D/pf2.log" 2>&1 &
PF2=$!
on_exit "kill $PF2 2>/dev/null"
wait_for 15 grep -q "Forwarding from" "$D/pf2.log"
nodeapi_in_ns curl -s --max-time 5 "http://127.0.0.1:$port2/" >/dev/null 2>&1
wait_for 10 grep -q "error forwarding port 9" "$D/pf2.log"
tap_like "$(cat "$D/pf2.log")" "error forwarding port 9 to pod" \
  "a closed port in the pod: kubectl shows the node's error"
tap_done
