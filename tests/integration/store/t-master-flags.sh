#!/bin/bash
# The store flags of `husk master`, end to end through the API:
#   --store-durable-volatile: a Lease survives a restart only with the flag (Leases are kept
#     in memory by default);
#   --store-watch-history N: a watch from an old resourceVersion gets a 410 ERROR event when
#     the history is tiny, and the events when it is large.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
. "$top_srcdir/tests/lib/common.sh"
require_cmd curl
[ -x "$HUSK_BUILD_DIR/husk" ] && "$HUSK_BUILD_DIR/husk" master --help 2>/dev/null |
  grep -q -- --store-watch-history || tap_skip_all "husk master not built"

DATA=$(husk_tmpdir)
on_exit "rm -rf '$DATA'" # husk_tmpdir runs in a subshell: its own on_exit is lost

api() { # api METHOD PATH [BODY]: prints the body, then the HTTP code on the last line
  curl -sk --max-time 20 -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $API_TOKEN" \
    -H 'Content-Type: application/json' "$API_URL$2" ${3:+-d "$3"}
}
code() { tail -n1 <<<"$1"; }
rv_of() { sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"$1" | head -n1; }
stop_master() { kill "$MASTER_PID" 2>/dev/null; wait "$MASTER_PID" 2>/dev/null; }
launch() { husk_master_launch --scheduler=false --controllers=false "$@"; }

leases=/apis/coordination.k8s.io/v1/namespaces/default/leases
lease() { # lease NAME
  printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s"},"spec":{"holderIdentity":"node-%s","leaseDurationSeconds":40}}' "$1" "$1"
}

# ---- volatile kinds: memory by default, disk with --store-durable-volatile ----
launch
out=$(api POST $leases "$(lease mem-$$)")
tap_is "$(code "$out")" 201 "a Lease is created (default: volatile)"
stop_master
launch
tap_is "$(code "$(api GET $leases/mem-$$)")" 404 "without --store-durable-volatile the Lease is gone after a restart"
stop_master

launch --store-durable-volatile
out=$(api POST $leases "$(lease disk-$$)")
tap_is "$(code "$out")" 201 "a Lease is created with --store-durable-volatile"
rv=$(rv_of "$out")
stop_master
launch --store-durable-volatile
out=$(api GET $leases/disk-$$)
tap_is "$(code "$out")" 200 "with --store-durable-volatile the Lease survives a restart"
tap_is "$(rv_of "$out")" "$rv" "... with its resourceVersion"
stop_master

# ---- watch history ----
# watch_from RV: the event types a watch of configmaps from RV delivers within 3 s.
cms=/api/v1/namespaces/default/configmaps
watch_from() {
  curl -sk --max-time 10 -H "Authorization: Bearer $API_TOKEN" \
    "$API_URL$cms?watch=1&resourceVersion=$1&timeoutSeconds=3" |
    sed -n 's/^{"type":"\([A-Z]*\)".*/\1/p' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}'
}
history_case() { # history_case N: creates 21 ConfigMaps, watches from the first one's RV
  local n=$1 i first=
  launch --store-watch-history "$n"
  for i in $(seq 0 20); do
    out=$(api POST $cms "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"h$n-$i\"}}")
    [ "$(code "$out")" = 201 ] || { tap_diag "create h$n-$i: $out"; break; }
    [ -n "$first" ] || first=$(rv_of "$out")
  done
  got=$(watch_from "$first")
  stop_master
}
history_case 5
tap_like "$got" "^ERROR=1 $" "--store-watch-history 5: a watch from 20 writes ago gets only a 410 ERROR event ($got)"
history_case 1000
tap_like "$got" "^ADDED=20 $" "--store-watch-history 1000: the same watch gets the 20 later ADDED events ($got)"

out=$("$HUSK_BUILD_DIR/husk" master --data-dir "$DATA" --store-watch-history 0 2>&1)
tap_ok $([ $? = 2 ] && echo 0 || echo 1) "--store-watch-history 0 is refused with status 2"
tap_like "$out" "bad --store-watch-history 0" "... naming the flag and value"
tap_done
