#!/bin/bash
# `husk master --store etcd://... --etcd-cafile/--etcd-certfile/--etcd-keyfile` against a real
# etcd member that requires client certificates (--client-cert-auth; CA, server and client
# certificates made here with certtool): objects written through the API land in etcd under
# /registry/..., and without the client certificate the master refuses to start.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/store/etcd-cluster.sh"
require_cmd etcd etcdctl ss certtool curl
[ -x "$HUSK_BUILD_DIR/husk" ] && "$HUSK_BUILD_DIR/husk" master --help 2>/dev/null |
  grep -q -- --etcd-certfile || tap_skip_all "husk master not built"

dir=$(husk_tmpdir)
on_exit "rm -rf '$dir'" # husk_tmpdir runs in a subshell: its own on_exit is lost
on_exit etcd_cluster_stop
etcd_tls_member_start "$dir/etcd" || { echo "Bail out! TLS etcd member did not start"; exit 1; }
tap_diag "etcd (client-cert-auth) at https://$ETCD_TLS_ENDPOINT"
ectl() {
  ETCDCTL_API=3 etcdctl --endpoints "https://$ETCD_TLS_ENDPOINT" --cacert "$ETCD_TLS_CA" \
    --cert "$ETCD_TLS_CERT" --key "$ETCD_TLS_KEY" --command-timeout=5s "$@"
}

# The etcd:// scheme with --etcd-cafile: TLS is implied by the flags.
DATA=$dir/master
mkdir -p "$DATA"
husk_master_launch --scheduler=false --controllers=false --store "etcd://$ETCD_TLS_ENDPOINT" \
  --etcd-cafile "$ETCD_TLS_CA" --etcd-certfile "$ETCD_TLS_CERT" --etcd-keyfile "$ETCD_TLS_KEY"
tap_ok 0 "husk master starts on etcd with client certificates"
out=$(curl -sk --max-time 20 -w '\n%{http_code}' -X POST -H "Authorization: Bearer $API_TOKEN" \
  -H 'Content-Type: application/json' "$API_URL/api/v1/namespaces/default/configmaps" \
  -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"tls-$$\"},\"data\":{\"k\":\"v\"}}")
tap_is "$(tail -n1 <<<"$out")" 201 "a ConfigMap is created through the API"
rv=$(sed -n 's/.*"resourceVersion":"\([0-9]*\)".*/\1/p' <<<"$out" | head -n1)
got=$(ectl get "/registry/configmaps/default/tls-$$" -w json 2>&1)
tap_like "$got" "\"mod_revision\":$rv[,}]" "etcd holds /registry/configmaps/default/tls-$$ at the resourceVersion the API returned ($rv)"
out=$($K get configmap "tls-$$" -o jsonpath='{.data.k}' 2>&1)
tap_is "$out" v "kubectl reads it back"
kill "$MASTER_PID" 2>/dev/null
wait "$MASTER_PID" 2>/dev/null

# Without the client certificate etcd refuses the TLS handshake: the master must not start.
out=$(timeout 60 "$HUSK_BUILD_DIR/husk" master --data-dir "$dir/nocert" --bind 127.0.0.1:0 \
  --scheduler=false --controllers=false --store "etcd://$ETCD_TLS_ENDPOINT" \
  --etcd-cafile "$ETCD_TLS_CA" 2>&1)
rc=$?
tap_ok $([ $rc != 0 ] && [ $rc != 124 ] && echo 0 || echo 1) "without --etcd-certfile the master exits with an error (status $rc)"
tap_like "$out" "store: .*etcd" "... that names the etcd store"
out=$("$HUSK_BUILD_DIR/husk" master --data-dir "$dir/nokey" --store "etcd://$ETCD_TLS_ENDPOINT" \
  --etcd-certfile "$ETCD_TLS_CERT" 2>&1)
tap_like "$out" "--etcd-certfile and --etcd-keyfile go together" "a certificate without its key is refused"
tap_done
