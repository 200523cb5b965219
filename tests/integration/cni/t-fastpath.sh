#!/bin/bash
# The pod-to-pod shortcut (fastPath, cni/fastpath.c): frames between two pods of one node go
# veth -> veth past the bridge and conntrack, except for pods with hostPorts and pods a
# NetworkPolicy isolates. One node netns with the agent's default pod configuration (dual
# stack); a bridge-family counter (a test table) shows what the bridge forwarded, and the
# node's /proc/net/nf_conntrack what conntrack saw.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip ss busybox python3 nft
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-netpol-helper"
[ -x "$CNI_BIN" ] && [ -x "$HELPER" ] || tap_skip_all "husk-cni or cni-netpol-helper not built"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || tap_skip_all "no br_netfilter in this kernel"

cni_tmpdir tmp
cni_netns node node
conf() { # conf FILE NAME SUBNET4 SUBNET6 [EXTRA_KEYS]: the agent's default pod configuration
  cat >"$1" <<JSON
{"cniVersion":"1.1.0","name":"$2","type":"husk-cni","bridge":"husk0","isDefaultGateway":true,
 "ipMasq":true,"ipMasqExclude":["10.42.0.0/16"],"hairpinMode":true,${5:-}
 "capabilities":{"portMappings":true},
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","ranges":[[{"subnet":"$3"}],[{"subnet":"$4"}]]}}
JSON
}
conf "$tmp/net.json" pods 10.42.7.0/24 fd42:0:0:7::/64
jset "$tmp/net.json" "$tmp/net-pm.json" runtimeConfig \
  '{"portMappings":[{"hostPort":18080,"containerPort":80,"protocol":"tcp"}]}'
jset "$tmp/net.json" "$tmp/net-slow.json" fastPath false
# a second subnet on the same bridge: its pods are reached through the gateway (its MAC)
conf "$tmp/other.json" other 10.42.8.0/24 fd42:0:0:8::/64

# add_pod VAR NAME CONF: VAR = the pod's IPv4 address, VAR6 its IPv6 address
add_pod() {
  local pns out
  cni_netns pns "p-$2"
  out=$(cni_exec "$node" "$CNI_BIN" ADD "ctr-$2" "$pns" "$3") || { echo "$out"; return 1; }
  echo "$out" >"$tmp/$2.result"
  printf -v "$1" %s "$(jget "$tmp/$2.result" '["ips"][0]["address"]' | cut -d/ -f1)"
  printf -v "${1}6" %s "$(jget "$tmp/$2.result" '["ips"][1]["address"]' | cut -d/ -f1)"
}
add_pod A a "$tmp/net.json" && add_pod B b "$tmp/net.json" && add_pod C c "$tmp/net.json" &&
  add_pod H h "$tmp/net-pm.json" && add_pod S s "$tmp/net-slow.json" &&
  add_pod O o "$tmp/other.json" || { echo "Bail out! ADD failed"; exit 1; }
tap_diag "pods: a=$A b=$B c=$C h=$H (hostPort 18080) s=$S (fastPath false) o=$O (other subnet)"
P="husk-t$$-p"
GW=10.42.7.1
fast() { ip netns exec "$node" nft "$@"; }
veth_of() { jget "$tmp/$1.result" '["interfaces"][1]["name"]'; }
mac_of() { jget "$tmp/$1.result" '["interfaces"][2]["mac"]'; }
# counters of IP frames the bridge forwards (family bridge: the bridge's own forward hook)
fast -f - <<NFT || { echo "Bail out! test table"; exit 1; }
table bridge t$$ {
  chain fw { type filter hook forward priority 0; policy accept;
    ip saddr $A ip daddr $B counter; ip saddr $B ip daddr $A counter
    ip6 saddr $A6 ip6 daddr $B6 counter; ip6 saddr $B6 ip6 daddr $A6 counter
    ip saddr $A ip daddr $S counter; ip saddr $S ip daddr $A counter
  }
}
NFT
bridged() { # bridged SRC DST: packets of SRC -> DST the bridge forwarded
  fast list chain bridge "t$$" fw | grep -E "saddr $1 ip6? daddr $2 " | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}
tracked() { # tracked SRC DST DPORT: the node's conntrack holds a flow SRC -> DST:DPORT
  ip netns exec "$node" grep -qE "src=$1 dst=$2 sport=[0-9]+ dport=$3 " /proc/net/nf_conntrack
}
# xfer SRC_NS DST_NS DST_ADDR PORT: 4 MiB over TCP, prints ok when it arrived whole
xfer() {
  local out=$tmp/xfer.$$.$RANDOM
  ip netns exec "$2" python3 - "$4" "$out" <<'PY' &
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
open(sys.argv[2], "w").write("%d %s\n" % (n, h.hexdigest()))
PY
  local spid=$! i
  for i in $(seq 50); do
    ip netns exec "$2" ss -Hltn "sport = :$4" | grep -q . && break
    sleep 0.1
  done
  ip netns exec "$1" python3 - "$3" "$4" "$out.sent" <<'PY'
import hashlib, os, socket, sys
data = os.urandom(4 << 20)
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
c.sendall(data); c.close()
open(sys.argv[3], "w").write("%d %s\n" % (len(data), hashlib.sha256(data).hexdigest()))
PY
  wait "$spid"
  [ -s "$out" ] && cmp -s "$out" "$out.sent" && echo ok
}

# --- the table
tap_check "table netdev husk-fast with the chain of a's veth" -- fast list chain netdev husk-fast "$(veth_of a)"
tap_check "ports4 holds a's address and MAC" -- eval "fast list map netdev husk-fast ports4 | grep -q '$A . $(mac_of a) '"
tap_check "ports6 holds a's IPv6 address and MAC" -- eval "fast list map netdev husk-fast ports6 | grep -q '$A6 . $(mac_of a) '"
tap_check "h (hostPort) has no chain" -- eval "! fast list chain netdev husk-fast $(veth_of h)"
tap_check "... and no element" -- eval "! fast list table netdev husk-fast | grep -q '$H '"
tap_check "s (fastPath false) has no chain" -- eval "! fast list chain netdev husk-fast $(veth_of s)"

# --- pod to pod on the shortcut: a real transfer, nothing bridged, nothing tracked
tap_is "$(xfer "$P-a" "$P-b" "$B" 5001)" ok "TCP a -> b: 4 MiB arrive whole"
tap_is "$(bridged "$A" "$B")" 0 "... the bridge forwarded no packet a -> b"
tap_is "$(bridged "$B" "$A")" 0 "... nor b -> a"
tap_check "... conntrack never saw the flow" -- eval "! tracked $A $B 5001"
tap_is "$(xfer "$P-b" "$P-a" "$A6" 5002)" ok "TCP b -> a over IPv6: 4 MiB arrive whole"
tap_is "$(bridged "$B6" "$A6")" 0 "... the bridge forwarded no packet b -> a (IPv6)"
tap_check "... conntrack never saw the flow (IPv6)" -- eval "! ip netns exec $node grep -q 'dport=5002 ' /proc/net/nf_conntrack"
tap_check "ping a -> c (ICMP on the shortcut)" -- ip netns exec "$P-a" busybox ping -c 1 -W 2 "$C"
# the same pair of pods without the shortcut (s has fastPath false): bridged and tracked
tap_is "$(xfer "$P-a" "$P-s" "$S" 5003)" ok "TCP a -> s (fastPath false) arrives whole"
tap_check "... through the bridge" -- test "$(bridged "$S" "$A")" -gt 0
tap_check "... tracked" -- tracked "$A" "$S" 5003
# L2: a pod of another subnet on the same bridge is reached through the gateway (frames
# addressed to the bridge's MAC, which the shortcut must not hand to o's veth)
tap_is "$(xfer "$P-a" "$P-o" "$O" 5004)" ok "TCP a -> o (other subnet, via the gateway) arrives whole"
tap_check "... on the normal path (tracked)" -- tracked "$A" "$O" 5004

# --- hostPort: h's flows stay on the normal path (its replies are un-NATed)
for p in a b h; do pod_httpd "$P-$p" 80 "$p-80"; done
tap_is "$(pod_get "$P-a" "$GW" 18080)" h-80 "a reaches h through its hostPort (DNAT, reply un-NATed)"
tap_is "$(pod_get "$P-b" "$H" 80)" h-80 "b reaches h directly"
tap_check "... tracked (h is a DNAT target: both directions on the normal path)" -- tracked "$B" "$H" 80
tap_is "$(pod_get "$P-h" "$A" 80)" a-80 "h reaches a"
tap_check "... tracked" -- tracked "$H" "$A" 80

# --- NetworkPolicy: b isolated for ingress, only a may reach it on port 80
policy_b_in "$A" "$B" "$C" >"$tmp/in.json"
ip netns exec "$node" "$HELPER" apply "$tmp/in.json" n1 >/dev/null
tap_ok $? "policy b-in applied"
tap_check "tracked4 of husk-fast holds b" -- eval "fast list set netdev husk-fast tracked4 | grep -qE '[{ ]$B[ ,}]'"
tap_is "$(pod_get "$P-c" "$B" 80)" "" "c does not reach isolated b (policed)"
tap_is "$(pod_get "$P-a" "$B" 80)" b-80 "a reaches isolated b on port 80 (allowed)"
tap_check "... on the normal path (tracked)" -- tracked "$A" "$B" 80
tap_is "$(pod_get "$P-b" "$A" 80)" a-80 "isolated b reaches a (its replies pass by ct state)"
tap_is "$(xfer "$P-a" "$P-c" "$C" 5005)" ok "a -> c (neither isolated) still on the shortcut"
tap_check "... not tracked" -- eval "! tracked $A $C 5005"
ip netns exec "$node" "$HELPER" flush
tap_ok $? "policies flushed"
tap_check "tracked4 is empty again" -- eval "! fast list set netdev husk-fast tracked4 | grep -qE '[{ ]$B[ ,}]'"
tap_is "$(pod_get "$P-c" "$B" 80)" b-80 "c reaches b again"

# --- another component's chains in the table survive ADD/DEL/GC
ip -n "$node" link add "ul$$" type veth peer name "ul$$p" &&
  fast add rule netdev husk-fast remote meta mark 0x4242 counter &&
  fast add chain netdev husk-fast uplink "{ type filter hook ingress device \"ul$$\" priority 0; }"
tap_ok $? "a rule in chain remote and a chain on another device (as cross-node code adds them)"

# --- DEL removes the pod's chain and elements
va=$(veth_of a)
cni_exec "$node" "$CNI_BIN" DEL ctr-a "$P-a" "$tmp/net.json" >/dev/null
tap_ok $? "DEL a"
tap_check "a's chain is gone" -- eval "! fast list chain netdev husk-fast $va"
tap_check "a's elements are gone" -- eval "! fast list table netdev husk-fast | grep -q 'ctr-a/'"
tap_check "b's chain stays" -- fast list chain netdev husk-fast "$(veth_of b)"
cni_exec "$node" "$CNI_BIN" DEL ctr-a "$P-a" "$tmp/net.json" >/dev/null
tap_ok $? "a second DEL of a succeeds"
cni_exec "$node" "$CNI_BIN" DEL ctr-nothing "" "$tmp/net.json" >/dev/null
tap_ok $? "DEL of an unknown pod succeeds"

# --- a pod whose namespace (and so its veth) is gone before DEL: the kernel drops the
# chain's hook; DEL still removes the chain (and GC would)
vc=$(veth_of c)
ip netns del "$P-c"
for i in $(seq 200); do ip -n "$node" link show "$vc" >/dev/null 2>&1 || break; sleep 0.1; done
tap_check "c's veth is gone with its namespace" -- eval "! ip -n $node link show $vc"
cni_exec "$node" "$CNI_BIN" DEL ctr-c "" "$tmp/net.json" >/dev/null
tap_ok $? "DEL c without a namespace"
tap_check "c's chain and elements are gone" -- eval "! fast list table netdev husk-fast | grep -qE '$vc|ctr-c/'"

# --- GC removes the chains and elements of attachments not valid
gc_conf() { # gc_conf VALID_IDS...: the network's configuration for GC keeping those
  python3 - "$tmp/net.json" "$tmp/gc.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["cni.dev/valid-attachments"] = [{"containerID": c, "ifname": "eth0"} for c in sys.argv[3:]]
json.dump(d, open(sys.argv[2], "w"))
PY
}
gc_conf ctr-b ctr-h
CNI_COMMAND=GC CNI_PATH="$HUSK_BUILD_DIR" ip netns exec "$node" "$CNI_BIN" <"$tmp/gc.json" >/dev/null
tap_ok $? "GC keeping b and h"
tap_check "... b's chain stays" -- fast list chain netdev husk-fast "$(veth_of b)"
cni_netns pz z
cni_exec "$node" "$CNI_BIN" ADD ctr-z "$pz" "$tmp/net.json" >"$tmp/z.result"
CNI_COMMAND=GC CNI_PATH="$HUSK_BUILD_DIR" ip netns exec "$node" "$CNI_BIN" <"$tmp/gc.json" >/dev/null
tap_ok $? "GC with z (ADDed since) not valid"
tap_check "... z's chain and elements are gone" -- eval "! fast list table netdev husk-fast | grep -qE '$(veth_of z)|ctr-z/'"

# --- 50 pods added and deleted (ten at a time) leave nothing behind
one_pod() { # one_pod CMD I
  local ns="husk-t$$-m$2"
  [ "$1" = ADD ] && { ip netns add "$ns" && ip -n "$ns" link set lo up || return 1; }
  cni_exec "$node" "$CNI_BIN" "$1" "ctr-m$2" "$ns" "$tmp/net.json" >"$tmp/m$2.$1" || return 1
  [ "$1" = DEL ] && ip netns del "$ns"
  return 0
}
for i in $(seq 50); do on_exit "ip netns del husk-t$$-m$i"; done
fails=0
for cmd in ADD DEL; do
  for g in 0 1 2 3 4; do
    pids=()
    for k in $(seq 10); do one_pod "$cmd" $((g * 10 + k)) & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
  done
  [ "$cmd" = ADD ] && n50=$(fast list table netdev husk-fast | grep -o 'comment "pods/ctr-m[0-9]*/' | wc -l)
done
tap_is "$fails" 0 "50 ADDs then 50 DELs succeed"
tap_is "$n50" 150 "with 50 pods: 50 chains and 100 elements (v4 and v6) carried their comments"
tap_is "$(fast list table netdev husk-fast | grep -c 'ctr-m')" 0 "after the DELs no chain or element of them is left"
chains=$(fast list table netdev husk-fast | sed -n 's/^\tchain \(veth[0-9a-f]*\) {/\1/p' | sort | tr '\n' ' ')
tap_is "$chains" "$(printf '%s\n' "$(veth_of b)" "$(veth_of o)" | sort | tr '\n' ' ')" \
  "the pod chains left are b's and o's (the pods still attached; h never had one)"
tap_check "chain remote still holds the other component's rule" -- eval "fast list chain netdev husk-fast remote | grep -q 'meta mark 0x00004242'"
tap_check "... and its chain on the other device survives" -- fast list chain netdev husk-fast uplink
tap_check "fast4 holds its four rules, once" -- test "$(fast list chain netdev husk-fast fast4 | grep -cE 'return|fwd|jump')" = 4

# --- the shortcut's rules are the last ADD's, and b still reaches a re-added pod
add_pod A2 a2 "$tmp/net.json" || echo "Bail out! ADD a2"
pod_httpd "$P-a2" 80 a2-80
tap_is "$(pod_get "$P-b" "$A2" 80)" a2-80 "b reaches a pod added after all that"
tap_check "... not tracked" -- eval "! tracked $B $A2 80"
tap_done
