# Helpers for the node API tests (t-exec.sh, t-attach.sh, t-portforward.sh,
# t-logs-remote.sh): `husk master` and a separate `husk node` in a network namespace made
# here, so that kubectl's logs/exec/port-forward go master -> node API over TLS.
# Source after tests/lib/common.sh and tests/integration/node/lib.sh.
#
# nodeapi_cluster: sets NS, D, K (kubectl inside NS), MASTER_PID, UP_PID (the node) and
# waits for node n1 to be Ready. Everything is removed on exit, even when a test fails.

nodeapi_cluster() {
  node_require
  NS="husk-t$$-napi"
  ip netns del "$NS" 2>/dev/null
  ip netns add "$NS" || tap_skip_all "cannot create a network namespace"
  on_exit "ip netns del '$NS'"
  ip -n "$NS" link set lo up
  D=$(mktemp -d "${TMPDIR:-/tmp}/husk-nodeapi-test.XXXXXX")
  on_exit 'kill $MASTER_PID 2>/dev/null; wait $MASTER_PID 2>/dev/null; node_scrub'
  husk_oci_layout "$D/layout" 1.36 >/dev/null 2>&1 &&
    "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/node" --name busybox:1.36 "$D/layout" \
      >/dev/null 2>&1 || { echo "Bail out! cannot import busybox"; exit 1; }
  nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" \
    --bind 127.0.0.1:6443 >>"$D/master.log" 2>&1 &
  MASTER_PID=$!
  wait_for 10 test -s "$D/master/admin.kubeconfig" ||
    { cat "$D/master.log" >&2; echo "Bail out! husk master did not start"; exit 1; }
  nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:6443 \
    --token-file "$D/master/node-token" --ca-file "$D/master/pki/ca.crt" --name n1 \
    --data-dir "$D/node" --log-dir "$D/logs" --node-ip 127.0.0.1 >"$D/node.log" 2>&1 &
  UP_PID=$!
  # Runs first at exit: stops node and master with a bounded wait (SIGKILL after 5 s), so
  # that a daemon slow to stop cannot hang the test.
  on_exit 'nodeapi_stop_daemons'
  K="nsenter --net=/run/netns/$NS kubectl --kubeconfig $D/master/admin.kubeconfig --request-timeout=30s"
  wait_for 30 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null | grep -qx True" ||
    { cat "$D/node.log" >&2; echo "Bail out! node n1 is not Ready"; exit 1; }
}

nodeapi_stop_daemons() {
  local p i
  for p in ${UP_PID:-} ${MASTER_PID:-}; do
    kill "$p" 2>/dev/null || continue
    for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  UP_PID=
}

# nodeapi_pod NAME [kubectl run flags...] -- CMD...: a busybox pod bound to n1, Running.
nodeapi_pod() {
  local name=$1
  shift
  $K run "$name" --image=busybox:1.36 --overrides='{"spec":{"nodeName":"n1"}}' "$@" >/dev/null 2>&1
  node_wait_phase "$name" Running 40
}

# nodeapi_in_ns CMD...: runs CMD inside the test's network namespace.
nodeapi_in_ns() {
  nsenter --net="/run/netns/$NS" "$@"
}
