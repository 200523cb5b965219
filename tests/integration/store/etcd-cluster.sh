# Sourced: start and stop a 3-member etcd cluster on 127.0.0.1 (Debian's etcd-server).
#   etcd_cluster_start DIR   -> sets ETCD_ENDPOINTS (a,b,c), ETCD_PIDS (array), ETCD_URL
#   etcd_cluster_stop        -> kills every member it started (also call it from a trap)
# Ports: a free block of 6 ports picked at random in 20000-29999.

ETCD_PIDS=()

_etcd_port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

etcd_cluster_start() {
  local dir=$1 base i cluster="" tries=0
  mkdir -p "$dir" || return 1
  while :; do
    base=$((20000 + (RANDOM % 1600) * 6))
    local all_free=1
    for i in 0 1 2 3 4 5; do _etcd_port_free $((base + i)) || all_free=0; done
    [ $all_free = 1 ] && break
    tries=$((tries + 1))
    [ $tries -lt 50 ] || return 1
  done
  for i in 1 2 3; do cluster="${cluster:+$cluster,}m$i=http://127.0.0.1:$((base + 2 + i))"; done
  ETCD_ENDPOINTS=""
  for i in 1 2 3; do
    local cport=$((base - 1 + i)) pport=$((base + 2 + i))
    etcd --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
      --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "husk-$$-$base" \
      --logger zap --log-outputs "$dir/m$i.log" >/dev/null 2>&1 &
    ETCD_PIDS+=($!)
    disown $! # no "Killed" job notices when a test kills a member
    ETCD_ENDPOINTS="${ETCD_ENDPOINTS:+$ETCD_ENDPOINTS,}127.0.0.1:$cport"
  done
  ETCD_URL="etcd://$ETCD_ENDPOINTS"
  export ETCD_ENDPOINTS ETCD_URL
  # healthy when every member answers and a leader exists (at most ~15 s)
  local deadline=$((SECONDS + 15)) p
  while [ $SECONDS -lt $deadline ]; do
    for p in "${ETCD_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { tail -3 "$dir"/m*.log >&2; return 1; }; done
    if ETCDCTL_API=3 etcdctl --dial-timeout=300ms --command-timeout=1s \
      --endpoints "$ETCD_ENDPOINTS" endpoint health >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

etcd_cluster_stop() {
  local p
  for p in "${ETCD_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${ETCD_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  ETCD_PIDS=()
}

# etcd_tls_member_start DIR -> one member serving clients over TLS with client-cert auth;
# sets ETCD_TLS_ENDPOINT, ETCD_TLS_CA, ETCD_TLS_CERT, ETCD_TLS_KEY (certs made with certtool).
etcd_tls_member_start() {
  local dir=$1 cport pport
  mkdir -p "$dir" || return 1
  (
    cd "$dir" || exit 1
    key() { certtool --generate-privkey --key-type=ecdsa --outfile "$1" 2>/dev/null; }
    key ca.key && key server.key && key client.key || exit 1
    printf 'cn = husk-test-ca\nca\ncert_signing_key\nexpiration_days = 1\n' >ca.tmpl
    # tls_www_client too: etcd's JSON gateway dials its own gRPC port with this certificate
    printf 'cn = etcd\nip_address = 127.0.0.1\ntls_www_server\ntls_www_client\nsigning_key\nexpiration_days = 1\n' >server.tmpl
    printf 'cn = husk-master\ntls_www_client\nsigning_key\nexpiration_days = 1\n' >client.tmpl
    certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl --outfile ca.crt 2>/dev/null || exit 1
    for c in server client; do
      certtool --generate-certificate --load-privkey $c.key --load-ca-certificate ca.crt \
        --load-ca-privkey ca.key --template $c.tmpl --outfile $c.crt 2>/dev/null || exit 1
    done
  ) || return 1
  while :; do
    cport=$((20000 + (RANDOM % 9000) * 1)) pport=$((cport + 1))
    _etcd_port_free $cport && _etcd_port_free $pport && break
  done
  etcd --name tls --data-dir "$dir/data" \
    --listen-client-urls "https://127.0.0.1:$cport" --advertise-client-urls "https://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "tls=http://127.0.0.1:$pport" --initial-cluster-state new \
    --cert-file "$dir/server.crt" --key-file "$dir/server.key" \
    --client-cert-auth --trusted-ca-file "$dir/ca.crt" \
    --logger zap --log-outputs "$dir/etcd.log" >/dev/null 2>&1 &
  ETCD_PIDS+=($!)
  disown $!
  ETCD_TLS_ENDPOINT=127.0.0.1:$cport ETCD_TLS_CA=$dir/ca.crt
  ETCD_TLS_CERT=$dir/client.crt ETCD_TLS_KEY=$dir/client.key
  export ETCD_TLS_ENDPOINT ETCD_TLS_CA ETCD_TLS_CERT ETCD_TLS_KEY
  local deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ]; do
    if ETCDCTL_API=3 etcdctl --dial-timeout=300ms --command-timeout=1s --endpoints "https://$ETCD_TLS_ENDPOINT" \
      --cacert "$ETCD_TLS_CA" --cert "$ETCD_TLS_CERT" --key "$ETCD_TLS_KEY" endpoint health >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}
