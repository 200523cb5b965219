#!/bin/bash
# notrackCIDRs (cni/notrack.c): TCP/UDP between pods bypasses conntrack, except what NAT or
# NetworkPolicy needs tracked: a pod with a hostPort (the DNAT target: its replies must be
# un-NATed) and pods a policy isolates (their replies pass by ct state). One node netns with
# a bridge; /proc/net/nf_conntrack of the node shows which flows were tracked.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip busybox python3 nft
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-netpol-helper"
[ -x "$CNI_BIN" ] && [ -x "$HELPER" ] || tap_skip_all "husk-cni or cni-netpol-helper not built"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || tap_skip_all "no br_netfilter in this kernel"

cni_tmpdir tmp
cni_netns node node
# the agent's default configuration (masquerade registers conntrack in the node namespace)
cat >"$tmp/net.json" <<JSON
{"cniVersion":"1.0.0","name":"pods","type":"husk-cni","bridge":"husk0","isDefaultGateway":true,
 "ipMasq":true,"ipMasqExclude":["10.42.0.0/16"],"hairpinMode":true,"notrackCIDRs":["10.42.0.0/16"],
 "capabilities":{"portMappings":true},
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.42.7.0/24"}}
JSON
jset "$tmp/net.json" "$tmp/net-pm.json" runtimeConfig \
  '{"portMappings":[{"hostPort":18080,"containerPort":80,"protocol":"tcp"}]}'
add_pod() { # add_pod VAR NAME CONF
  local pns out
  cni_netns pns "p-$2"
  out=$(cni_exec "$node" "$CNI_BIN" ADD "ctr-$2" "$pns" "$3") || { echo "$out"; return 1; }
  printf -v "$1" %s "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])')"
}
add_pod A a "$tmp/net.json" && add_pod B b "$tmp/net.json" && add_pod C c "$tmp/net.json" &&
  add_pod H h "$tmp/net-pm.json" || { echo "Bail out! ADD failed"; exit 1; }
tap_diag "pods: a=$A b=$B c=$C h=$H (hostPort 18080 -> 80)"
P="husk-t$$-p"
for p in a b c h; do pod_httpd "$P-$p" 80 "$p-80"; done
pod_httpd "$P-c" 81 c-81 # a port of its own per phase: conntrack keeps closed flows a while
GW=10.42.7.1

# tracked SRC DST DPORT: the node's conntrack holds a flow SRC -> DST:DPORT
tracked() {
  ip netns exec "$node" grep -q "src=$1 dst=$2 sport=[0-9]* dport=$3 " /proc/net/nf_conntrack
}

tap_is "$(pod_get "$P-a" "$B" 80)" b-80 "a reaches b"
tap_check "a -> b is not tracked" -- eval "! tracked $A $B 80"
tap_is "$(pod_get "$P-h" "$B" 80)" b-80 "h (hostPort pod) reaches b"
tap_check "h -> b is tracked (h has a hostPort)" -- tracked "$H" "$B" 80
tap_is "$(pod_get "$P-a" "$GW" 18080)" h-80 "a reaches h through its hostPort (DNAT, reply un-NATed)"
tap_check "a -> node:18080 is tracked" -- tracked "$A" "$GW" 18080
tap_is "$(pod_get "$P-a" "$H" 80)" h-80 "a reaches h directly"
tap_check "a -> h is tracked" -- tracked "$A" "$H" 80
in_set() { # in_set SET ADDR: the set of the node's table inet husk-cni holds ADDR
  ip netns exec "$node" nft list set inet husk-cni "$1" 2>/dev/null | grep -qE "[{ ,]$2[ ,}]"
}
tap_check "set notrack4 holds a, b and c" -- eval "in_set notrack4 $A && in_set notrack4 $B && in_set notrack4 $C"
tap_check "... not h" -- eval "! in_set notrack4 $H"

# b isolated for ingress (only a may reach it on port 80): b stays tracked, and b's own
# connections get their replies through b's ingress chain by ct state.
policy_b_in "$A" "$B" "$C" >"$tmp/in.json"
ip netns exec "$node" "$HELPER" apply "$tmp/in.json" n1 >/dev/null
tap_ok $? "policy b-in applied"
tap_check "tracked4 holds b" -- in_set tracked4 "$B"
tap_is "$(pod_get "$P-b" "$C" 80)" c-80 "isolated b reaches c (the reply passes by ct state)"
tap_check "b -> c is tracked" -- tracked "$B" "$C" 80
tap_is "$(pod_get "$P-a" "$B" 80)" b-80 "a reaches isolated b"
tap_is "$(pod_get "$P-c" "$B" 80)" "" "c does not reach isolated b"
tap_is "$(pod_get "$P-a" "$C" 80)" c-80 "a reaches c"
tap_check "a -> c is still not tracked" -- eval "! tracked $A $C 80"
ip netns exec "$node" "$HELPER" flush
tap_ok $? "policies flushed"
tap_check "tracked4 is empty again" -- eval "! in_set tracked4 $B"
tap_is "$(pod_get "$P-b" "$C" 81)" c-81 "b reaches c"
tap_check "b -> c is not tracked any more" -- eval "! tracked $B $C 81"

# a second ADD rebuilds the chain (flush + add in one transaction): no duplicate rules
add_pod D d "$tmp/net.json" || { echo "Bail out! ADD d failed"; exit 1; }
n=$(ip netns exec "$node" nft list chain inet husk-cni raw | grep -c notrack)
tap_is "$n" 6 "chain raw: 6 notrack rules after a fifth ADD (tcp/udp x pod-pod, to and from other nodes)"
# a bad CIDR is the spec's code 7, naming the key
jset "$tmp/net.json" "$tmp/bad.json" notrackCIDRs '["10.42.0.0"]'
cni_netns pbad bad
out=$(cni_exec "$node" "$CNI_BIN" ADD ctr-bad "$pbad" "$tmp/bad.json")
tap_like "$out" '"code": 7' "notrackCIDRs without a prefix: code 7"
tap_like "$out" 'notrackCIDRs\[0\]' "... naming the key"
tap_done
