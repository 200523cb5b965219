# Helpers shared by the husk-cni integration tests (sourced after tests/lib/common.sh).

# husk_netns_new and husk_tmpdir register their cleanup from inside $(...), a subshell, so
# it is lost; these set a variable instead and clean up from the script's own shell.
cni_netns() { # cni_netns VAR NAME
  local ns="husk-t$$-$2"
  ip netns del "$ns" 2>/dev/null
  ip netns add "$ns" || return 1
  on_exit "ip netns del '$ns'"
  ip -n "$ns" link set lo up
  printf -v "$1" %s "$ns"
}
cni_tmpdir() { # cni_tmpdir VAR
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/husk-cni-test.XXXXXX") || return 1
  on_exit "rm -rf '$d'"
  printf -v "$1" %s "$d"
}

CNI_BIN="$HUSK_BUILD_DIR/husk-cni"
DEBIAN_CNI=/usr/lib/cni

# jget FILE EXPR: prints the JSON value at a Python subscript path (e.g. '["ips"][0]["address"]').
jget() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
try:
    v = eval("d" + sys.argv[2])
except Exception:
    v = ""
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"
}

# jset IN OUT KEY JSONVALUE: a copy of a configuration with one top-level key set.
jset() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); d[sys.argv[3]] = json.loads(sys.argv[4])
json.dump(d, open(sys.argv[2], "w"))' "$@"
}

# cni_exec NODE_NS PLUGIN CMD ID POD_NS CONF [IFNAME]: runs a plugin inside the node netns
# as a runtime would; stdout is the plugin's.
cni_exec() {
  local node=$1 plugin=$2 cmd=$3 id=$4 pod=$5 conf=$6 ifname=${7:-eth0} nsp=
  [ -n "$pod" ] && nsp=/run/netns/$pod
  CNI_COMMAND=$cmd CNI_CONTAINERID=$id CNI_NETNS=$nsp CNI_IFNAME=$ifname \
    CNI_PATH="$HUSK_BUILD_DIR:$DEBIAN_CNI" ip netns exec "$node" "$plugin" <"$conf"
}

# Starts busybox httpd serving TEXT on PORT inside NS (stopped on exit).
pod_httpd() { # pod_httpd NS PORT TEXT
  local www
  cni_tmpdir www
  echo "$3" >"$www/index.html"
  mkdir -p "$www/cgi-bin"
  printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR" | sed "s/^\\[::ffff://; s/^\\[//; s/\\]\$//"\n' >"$www/cgi-bin/peer"
  chmod +x "$www/cgi-bin/peer"
  ip netns exec "$1" busybox httpd -f -p "$2" -h "$www" &
  on_exit "kill $!"
  local i
  for i in $(seq 50); do
    [ -n "$(pod_get "$1" 127.0.0.1 "$2")" ] && return 0
    sleep 0.1
  done
  return 1
}

# pod_get NS HOST PORT [PATH]: the body of GET PATH from inside NS (busybox nc; its wget
# crashes on some builds). Prints nothing when the connection fails. /cgi-bin/peer answers
# the client address the server saw.
pod_get() {
  printf 'GET %s HTTP/1.0\r\n\r\n' "${4:-/}" | ip netns exec "$1" busybox nc -w 3 "$2" "$3" 2>/dev/null |
    sed -n '/^\r\{0,1\}$/,$p' | tail -n +2
}

# nftables assertions need the nft CLI (tests only; the product never runs it). Without it
# they are reported as skipped.
nft_table() { ip netns exec "$1" nft list table inet husk-cni 2>/dev/null; }
tap_nft() { # tap_nft DESC -- command...   (like tap_check)
  local desc=$1
  shift
  [ "$1" = -- ] && shift
  if ! command -v nft >/dev/null 2>&1; then
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - $desc # SKIP nft not installed"
    return
  fi
  "$@" >/dev/null 2>&1
  tap_ok $? "$desc"
}

# policy_b_in A B C: the NetworkPolicy applier's input (cni-netpol-helper apply) for pods a, b
# and c of node n1 at those addresses, with b isolated for ingress: only a may reach it, on
# port 80.
policy_b_in() {
  cat <<JSON
{"namespaces": [{"metadata": {"name": "default"}}],
 "pods": [
  {"metadata": {"namespace": "default", "name": "a", "labels": {"app": "a"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$1"}},
  {"metadata": {"namespace": "default", "name": "b", "labels": {"app": "b"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$2"}},
  {"metadata": {"namespace": "default", "name": "c", "labels": {"app": "c"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$3"}}],
 "policies": [{"metadata": {"namespace": "default", "name": "b-in"}, "spec": {
  "podSelector": {"matchLabels": {"app": "b"}},
  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]}]}}]}
JSON
}
