#!/bin/bash
# NetworkPolicy enforced by the applier (cni/netpol-nft.c) on a husk-cni bridge: pods are
# netns on one "node" netns (bridged pod-to-pod traffic) plus a pod on a second node routed
# host-gw (routed traffic); TCP connects show what is allowed and what is dropped.
# tests/integration/cni/cni-netpol-helper compiles the policies and applies them, as the node
# agent's controller (src/node/net/netpol.c) does.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip busybox python3
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-netpol-helper"
[ -x "$CNI_BIN" ] && [ -x "$HELPER" ] || tap_skip_all "husk-cni or cni-netpol-helper not built"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || tap_skip_all "no br_netfilter in this kernel"

cni_tmpdir tmp
cni_netns lab lab
cni_netns n1 n1
cni_netns n2 n2
ip -n "$lab" link add sw0 type bridge && ip -n "$lab" link set sw0 up
for i in 1 2; do
  node=$n1
  [ $i = 2 ] && node=$n2
  ip -n "$lab" link add "n$i" type veth peer name ul0 netns "$node"
  ip -n "$lab" link set "n$i" master sw0 up
  ip -n "$node" addr add "192.168.80.$i/24" dev ul0
  ip -n "$node" link set ul0 up
  cat >"$tmp/conf$i.json" <<JSON
{"cniVersion":"1.0.0","name":"pods","type":"husk-cni","isDefaultGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam$i",
         "ranges":[[{"subnet":"10.42.$i.0/24"}],[{"subnet":"fd42:$i::/64"}]]}}
JSON
done
ip -n "$n1" route add 10.42.2.0/24 via 192.168.80.2
ip -n "$n2" route add 10.42.1.0/24 via 192.168.80.1

# add_pod VAR NAME NODE_INDEX: a pod netns on node i; VAR gets its IPv4 address, VAR6 its IPv6
add_pod() {
  local pns node=$n1 conf=$tmp/conf1.json out
  [ "$3" = 2 ] && node=$n2 conf=$tmp/conf2.json
  cni_netns pns "p-$2"
  out=$(cni_exec "$node" "$CNI_BIN" ADD "ctr-$2" "$pns" "$conf") || return 1
  printf -v "$1" %s "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])')"
  printf -v "${1}6" %s "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][1]["address"].split("/")[0])')"
}
add_pod A a 1
add_pod B b 1
add_pod C c 1
add_pod R r 2
tap_diag "pods: a=$A $A6 b=$B $B6 c=$C $C6 r=$R"
P="husk-t$$-p"
for p in a b c r; do pod_httpd "$P-$p" 80 "$p-80"; done
pod_httpd "$P-b" 8080 b-8080

# The API objects the compiler gets: pods a, b, c on n1 (default namespace), r on n2 in
# namespace "remote" (labelled team=x).
objects() { # objects POLICIES_JSON
  cat >"$tmp/in.json" <<JSON
{"namespaces": [{"metadata": {"name": "default"}},
                {"metadata": {"name": "remote", "labels": {"team": "x"}}}],
 "pods": [
  {"metadata": {"namespace": "default", "name": "a", "labels": {"app": "a"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$A", "podIPs": [{"ip": "$A"}, {"ip": "$A6"}]}},
  {"metadata": {"namespace": "default", "name": "b", "labels": {"app": "b"}},
   "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "alt", "containerPort": 8080}]}]}, "status": {"podIP": "$B", "podIPs": [{"ip": "$B"}, {"ip": "$B6"}]}},
  {"metadata": {"namespace": "default", "name": "c", "labels": {"app": "c"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "$C", "podIPs": [{"ip": "$C"}, {"ip": "$C6"}]}},
  {"metadata": {"namespace": "remote", "name": "r", "labels": {"app": "r"}}, "spec": {"nodeName": "n2"}, "status": {"podIP": "$R"}}],
 "policies": $1}
JSON
  ip netns exec "$n1" "$HELPER" apply "$tmp/in.json" n1 >"$tmp/model.json"
}
reach() { [ "$(pod_get "$P-$1" "$2" "$3")" = "$4" ]; }
reach_not() { [ -z "$(pod_get "$P-$1" "$2" "$3")" ]; }

tap_check "no policy: a reaches b:80" -- reach a "$B" 80 b-80
tap_check "no policy: c reaches b:8080" -- reach c "$B" 8080 b-8080
tap_check "no policy: r (node 2) reaches b" -- reach r "$B" 80 b-80
tap_check "no policy: c reaches b over IPv6" -- reach c "$B6" 80 b-80

# 1. ingress to b: from app=a on port 80, from namespace team=x on the named port "alt"
objects '[{"metadata": {"namespace": "default", "name": "b-in"}, "spec": {
  "podSelector": {"matchLabels": {"app": "b"}},
  "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}], "ports": [{"port": 80}]},
              {"from": [{"namespaceSelector": {"matchLabels": {"team": "x"}}}], "ports": [{"port": "alt"}]}]}}]'
tap_ok $? "policy b-in applied"
tap_check "ingress podSelector: a reaches b:80" -- reach a "$B" 80 b-80
tap_check "ingress ports: a does not reach b:8080" -- reach_not a "$B" 8080
tap_check "ingress: c (not selected) does not reach b:80" -- reach_not c "$B" 80
tap_check "IPv6: a reaches b:80" -- reach a "$B6" 80 b-80
tap_check "IPv6: c does not reach b:80" -- reach_not c "$B6" 80
tap_check "ingress namespaceSelector + named port: r (node 2) reaches b:8080" -- reach r "$B" 8080 b-8080
tap_check "... but not b:80" -- reach_not r "$B" 80
tap_check "b is not egress-isolated: b reaches c" -- reach b "$C" 80 c-80
tap_check "other pods stay open: c reaches a" -- reach c "$A" 80 a-80
tap_like "$(ip netns exec "$n1" nft list table inet husk-netpol 2>&1)" "jump ing-0" "the table holds b's ingress chain"

# 2. egress from a: only to app=b, and to node 2's podCIDR except r's address
objects '[{"metadata": {"namespace": "default", "name": "a-out"}, "spec": {
  "podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"],
  "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}]},
             {"to": [{"ipBlock": {"cidr": "10.42.2.0/24", "except": ["'"$R"'/32"]}}]}]}}]'
tap_ok $? "policy a-out applied (replacing b-in)"
tap_check "egress podSelector: a reaches b:80" -- reach a "$B" 80 b-80
tap_check "b-in is gone: a reaches b:8080" -- reach a "$B" 8080 b-8080
tap_check "egress: a does not reach c" -- reach_not a "$C" 80
tap_check "egress over IPv6: a reaches b" -- reach a "$B6" 80 b-80
tap_check "egress over IPv6: a does not reach c" -- reach_not a "$C6" 80
tap_check "egress ipBlock except: a does not reach r" -- reach_not a "$R" 80
tap_check "a is not ingress-isolated: c reaches a" -- reach c "$A" 80 a-80

# 3. default deny ingress for every pod of the namespace + allow from an ipBlock with endPort
objects '[{"metadata": {"namespace": "default", "name": "deny"}, "spec": {"podSelector": {}}},
          {"metadata": {"namespace": "default", "name": "net"}, "spec": {"podSelector": {"matchLabels": {"app": "c"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.42.0.0/16", "except": ["'"$A"'/32"]}}],
                         "ports": [{"port": 70, "endPort": 90}]}]}}]'
tap_ok $? "policies deny + net applied"
tap_check "default deny: c does not reach a" -- reach_not c "$A" 80
tap_check "default deny: r does not reach b" -- reach_not r "$B" 80
tap_check "ipBlock + endPort: b reaches c:80" -- reach b "$C" 80 c-80
tap_check "ipBlock except: a does not reach c:80" -- reach_not a "$C" 80
tap_is "$(printf 'GET / HTTP/1.0\r\n\r\n' | ip netns exec "$n1" busybox nc -w 3 "$A" 80 2>/dev/null | tail -n 1)" a-80 \
  "the node itself reaches an isolated pod"

# 4. flush: everything open again
ip netns exec "$n1" "$HELPER" flush
tap_ok $? "flush"
tap_check "after flush: c reaches a" -- reach c "$A" 80 a-80
tap_is "$(ip netns exec "$n1" nft list tables 2>/dev/null | grep -c husk-netpol)" 0 "the table is gone"
tap_done
