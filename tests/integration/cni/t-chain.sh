#!/bin/bash
# husk-cni with the standard plugins (Debian's containernetworking-plugins): chained before
# `tuning` and before `portmap` (prevResult passes through, hostPort reached from a test-made
# "outside" netns), delegating IPAM to `static`, sharing host-local's on-disk state with
# Debian's host-local in both directions; and configuration lists run by cni/chain.c (what
# the node agent runs): husk-cni + portmap + tuning, a Debian bridge + portmap chain instead of
# husk-cni, a failing chain undone.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3 busybox
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"
CHAIN="$HUSK_BUILD_DIR/tests/integration/cni/cni-chain-helper"
[ -x "$CHAIN" ] || tap_skip_all "cni-chain-helper not built"
for p in tuning static host-local bridge portmap; do
  [ -x "$DEBIAN_CNI/$p" ] || tap_skip_all "containernetworking-plugins not installed ($p)"
done

cni_netns node node
cni_netns pod1 pod1
cni_netns pod2 pod2
cni_netns pod3 pod3
cni_netns pod4 pod4
cni_netns out out
cni_tmpdir tmp
# an "outside" netns joined to the node: hostPorts are reached from there
ip -n "$node" link add up0 type veth peer name up1 netns "$out"
ip -n "$node" addr add 172.31.251.1/30 dev up0 && ip -n "$node" link set up0 up
ip -n "$out" addr add 172.31.251.2/30 dev up1 && ip -n "$out" link set up1 up

# --- chain: husk-cni then tuning
cat >"$tmp/net.json" <<JSON
{"cniVersion":"1.0.0","name":"chainnet","type":"husk-cni","bridge":"husk1","isDefaultGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.252.0.0/24"}}
JSON
cni_exec "$node" "$CNI_BIN" ADD c1 "$pod1" "$tmp/net.json" >"$tmp/r1.json"
tap_ok $? "husk-cni ADD (first plugin of the chain)"
cat >"$tmp/tuning.json" <<JSON
{"cniVersion":"1.0.0","name":"chainnet","type":"tuning",
 "sysctl":{"net.ipv4.conf.eth0.arp_notify":"1"},"prevResult":$(cat "$tmp/r1.json")}
JSON
cni_exec "$node" "$DEBIAN_CNI/tuning" ADD c1 "$pod1" "$tmp/tuning.json" >"$tmp/r2.json"
tap_ok $? "Debian tuning accepts husk-cni's result as prevResult"
tap_is "$(ip netns exec "$pod1" cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" 1 "tuning changed the pod's eth0"
tap_is "$(jget "$tmp/r2.json" '["ips"][0]["address"]')" 10.252.0.2/24 "the chain's final result keeps husk-cni's address"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["prevResult"]=json.load(open(sys.argv[2])); json.dump(d,open(sys.argv[3],"w"))' \
  "$tmp/net.json" "$tmp/r2.json" "$tmp/chk.json"
cni_exec "$node" "$CNI_BIN" CHECK c1 "$pod1" "$tmp/chk.json" >"$tmp/chk.out"
tap_ok $? "husk-cni CHECK with the chain's final result"
cni_exec "$node" "$DEBIAN_CNI/tuning" DEL c1 "$pod1" "$tmp/tuning.json" >/dev/null
cni_exec "$node" "$CNI_BIN" DEL c1 "$pod1" "$tmp/net.json" >/dev/null
tap_ok $? "chain DEL in reverse order"

# --- delegated IPAM: Debian's static
cat >"$tmp/static.json" <<JSON
{"cniVersion":"1.0.0","name":"staticnet","type":"husk-cni","bridge":"husk1","isGateway":true,
 "ipam":{"type":"static","addresses":[{"address":"10.252.1.77/24","gateway":"10.252.1.1"}]}}
JSON
cni_exec "$node" "$CNI_BIN" ADD s1 "$pod2" "$tmp/static.json" >"$tmp/s1.json"
tap_ok $? "ADD with ipam type static (exec'd from CNI_PATH)"
tap_is "$(jget "$tmp/s1.json" '["ips"][0]["address"]')" 10.252.1.77/24 "address comes from the delegated plugin"
tap_like "$(ip -n "$pod2" -o addr show dev eth0)" "inet 10.252.1.77/24" "and is configured in the pod"
tap_like "$(ip -n "$node" -o addr show dev husk1)" "inet 10.252.1.1/24" "gateway from the delegated result on the bridge"
cni_exec "$node" "$CNI_BIN" DEL s1 "$pod2" "$tmp/static.json" >/dev/null
tap_ok $? "DEL with delegated IPAM"
sed 's/"addresses":\[[^]]*\]/"addresses":[{"address":"bogus"}]/' "$tmp/static.json" >"$tmp/static-bad.json"
cni_exec "$node" "$CNI_BIN" ADD s2 "$pod2" "$tmp/static-bad.json" >"$tmp/e.out"
tap_ok $((! $?)) "a failing delegated plugin fails the ADD"
tap_like "$(jget "$tmp/e.out" '["msg"]')" "^static ADD: " "its error object is passed through with context"
tap_ok $(ip -n "$pod2" link show eth0 >/dev/null 2>&1; echo $((! $?))) "nothing left in the pod"

# --- host-local state shared with Debian's host-local (same dataDir, same network name)
cat >"$tmp/deb.json" <<JSON
{"cniVersion":"1.0.0","name":"chainnet","type":"bridge","bridge":"husk2","isGateway":true,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.252.0.0/24"}}
JSON
cni_exec "$node" "$CNI_BIN" ADD h1 "$pod1" "$tmp/net.json" >"$tmp/h1.json"
cni_exec "$node" "$DEBIAN_CNI/bridge" ADD d1 "$pod3" "$tmp/deb.json" >"$tmp/d1.json"
tap_ok $? "Debian bridge+host-local ADD on the same state directory"
a1=$(jget "$tmp/h1.json" '["ips"][0]["address"]')
a2=$(jget "$tmp/d1.json" '["ips"][0]["address"]')
tap_ok $([ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ]; echo $?) "Debian's host-local skips husk-cni's reservation ($a1 vs $a2)"
cni_exec "$node" "$CNI_BIN" ADD h2 "$pod2" "$tmp/net.json" >"$tmp/h2.json"
a3=$(jget "$tmp/h2.json" '["ips"][0]["address"]')
tap_ok $([ -n "$a3" ] && [ "$a3" != "$a1" ] && [ "$a3" != "$a2" ]; echo $?) "husk-cni skips Debian's reservation ($a3)"
tap_is "$(cat "$tmp/ipam/chainnet/${a2%/*}" | tr '\r\n' '|')" "d1||eth0" "Debian's file has the layout husk-cni writes"
cni_exec "$node" "$CNI_BIN" DEL d1 "" "$tmp/net.json" >/dev/null
tap_ok $([ ! -e "$tmp/ipam/chainnet/${a2%/*}" ]; echo $?) "husk-cni releases an address Debian's host-local reserved"
cni_exec "$node" "$DEBIAN_CNI/bridge" DEL d1 "$pod3" "$tmp/deb.json" >/dev/null
cni_exec "$node" "$CNI_BIN" DEL h1 "$pod1" "$tmp/net.json" >/dev/null
cni_exec "$node" "$CNI_BIN" DEL h2 "$pod2" "$tmp/net.json" >/dev/null

# --- chain: husk-cni then Debian's portmap (husk-cni without runtimeConfig: portmap does it)
pod_httpd "$pod4" 80 hello-from-pod4
cni_exec "$node" "$CNI_BIN" ADD pm1 "$pod4" "$tmp/net.json" >"$tmp/pm1.json"
tap_ok $? "husk-cni ADD, first of a chain with portmap"
cat >"$tmp/portmap.json" <<JSON
{"cniVersion":"1.0.0","name":"chainnet","type":"portmap","capabilities":{"portMappings":true},
 "runtimeConfig":{"portMappings":[{"hostPort":8081,"containerPort":80,"protocol":"tcp"}]},
 "prevResult":$(cat "$tmp/pm1.json")}
JSON
cni_exec "$node" "$DEBIAN_CNI/portmap" ADD pm1 "$pod4" "$tmp/portmap.json" >"$tmp/pm2.json"
tap_ok $? "Debian portmap accepts husk-cni's result as prevResult"
tap_is "$(pod_get "$out" 172.31.251.1 8081)" hello-from-pod4 "hostPort 8081 (portmap's DNAT) reaches the pod husk-cni attached"
cni_exec "$node" "$DEBIAN_CNI/portmap" DEL pm1 "$pod4" "$tmp/portmap.json" >/dev/null
tap_ok $? "portmap DEL"
cni_exec "$node" "$CNI_BIN" DEL pm1 "$pod4" "$tmp/net.json" >/dev/null
tap_ok $? "husk-cni DEL after it"
tap_is "$(pod_get "$out" 172.31.251.1 8081)" "" "the hostPort no longer answers"

# --- configuration lists (cni/chain.c, as the node agent runs them)
chain() { # chain CMD ID POD CONF [CAPS]
  local nsp=
  [ -n "$3" ] && nsp=/run/netns/$3
  CNI_PATH="$DEBIAN_CNI" HUSK_CNI="$CNI_BIN" CNI_CACHE_DIR="$tmp/cache" \
    ip netns exec "$node" "$CHAIN" "$1" "$4" "$2" "$nsp" "${5:-}"
}
CAPS='{"portMappings":[{"hostPort":8082,"containerPort":80,"protocol":"tcp"}]}'
cat >"$tmp/list.json" <<JSON
{"cniVersion":"1.0.0","name":"listnet","plugins":[
  {"type":"husk-cni","bridge":"husk3","isDefaultGateway":true,
   "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.252.3.0/24"}},
  {"type":"portmap","capabilities":{"portMappings":true}},
  {"type":"tuning","sysctl":{"net.ipv4.conf.eth0.arp_notify":"1"}}]}
JSON
chain ADD l1 "$pod4" "$tmp/list.json" "$CAPS" >"$tmp/l1.json"
tap_ok $? "list ADD: husk-cni, portmap, tuning"
tap_is "$(jget "$tmp/l1.json" '["ips"][0]["address"]')" 10.252.3.2/24 "the list's result is the chain's (husk-cni's address)"
tap_is "$(pod_get "$out" 172.31.251.1 8082)" hello-from-pod4 "portMappings went to portmap (capability) and the hostPort answers"
tap_is "$(ip netns exec "$pod4" cat /proc/sys/net/ipv4/conf/eth0/arp_notify)" 1 "tuning ran last on the pod's eth0"
tap_ok $([ -s "$tmp/cache/listnet-l1-eth0" ]; echo $?) "the final result is cached for DEL and CHECK"
chain DEL l1 "$pod4" "$tmp/list.json" "$CAPS" >/dev/null
tap_ok $? "list DEL (reverse order)"
tap_is "$(pod_get "$out" 172.31.251.1 8082)" "" "the hostPort is gone"
tap_ok $([ ! -e "$tmp/ipam/listnet/10.252.3.2" ] && [ ! -e "$tmp/cache/listnet-l1-eth0" ]; echo $?) \
  "address released and cache entry removed"
chain DEL l1 "$pod4" "$tmp/list.json" >/dev/null
tap_ok $? "a repeated list DEL succeeds"

# CHECK over a list (Debian 1.1.1's portmap fails its own CHECK without IPv6 chains, so
# this list has husk-cni and tuning only)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["plugins"]=[d["plugins"][0],d["plugins"][2]]; json.dump(d,open(sys.argv[2],"w"))' \
  "$tmp/list.json" "$tmp/list2.json"
chain ADD k1 "$pod1" "$tmp/list2.json" >/dev/null
chain CHECK k1 "$pod1" "$tmp/list2.json" >"$tmp/k1.out"
tap_ok $? "list CHECK with the cached result as prevResult"
ip -n "$pod1" addr flush dev eth0
chain CHECK k1 "$pod1" "$tmp/list2.json" >"$tmp/k1.out"
tap_is "$(jget "$tmp/k1.out" '["code"]')" 102 "list CHECK reports husk-cni's code 102 once the address is gone"
chain DEL k1 "$pod1" "$tmp/list2.json" >/dev/null
tap_ok $? "list DEL of that attachment"

cat >"$tmp/deblist.json" <<JSON
{"cniVersion":"1.0.0","name":"deblist","plugins":[
  {"type":"bridge","bridge":"cnideb0","isDefaultGateway":true,"ipMasq":true,
   "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.252.4.0/24"}},
  {"type":"portmap","capabilities":{"portMappings":true}}]}
JSON
CAPS='{"portMappings":[{"hostPort":8083,"containerPort":80,"protocol":"tcp"}]}'
chain ADD d2 "$pod4" "$tmp/deblist.json" "$CAPS" >"$tmp/d2.json"
tap_ok $? "a Debian chain instead of husk-cni: bridge + host-local, portmap"
tap_is "$(jget "$tmp/d2.json" '["ips"][0]["address"]')" 10.252.4.2/24 "Debian's host-local address"
tap_is "$(pod_get "$out" 172.31.251.1 8083)" hello-from-pod4 "Debian portmap's hostPort reaches the pod"
chain DEL d2 "$pod4" "$tmp/deblist.json" "$CAPS" >/dev/null
tap_ok $? "Debian chain DEL"
tap_ok $(ip -n "$pod4" link show eth0 >/dev/null 2>&1; echo $((! $?))) "eth0 gone from the pod"

cat >"$tmp/badlist.json" <<JSON
{"cniVersion":"1.0.0","name":"listnet","plugins":[
  {"type":"husk-cni","bridge":"husk3","isDefaultGateway":true,
   "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.252.3.0/24"}},
  {"type":"no-such-plugin"}]}
JSON
chain ADD b1 "$pod4" "$tmp/badlist.json" >"$tmp/b1.out"
tap_ok $((! $?)) "a list whose second plugin is missing fails ADD"
tap_is "$(jget "$tmp/b1.out" '["code"]')" 7 "with the spec's code 7"
tap_like "$(jget "$tmp/b1.out" '["msg"]')" 'plugins\[1\].*no-such-plugin' "naming the plugin and its place"
tap_ok $(ip -n "$pod4" link show eth0 >/dev/null 2>&1; echo $((! $?))) "the first plugin's attachment was undone"
tap_is "$(ls "$tmp/ipam/listnet" | grep -c '^10\.')" 0 "and its address released"
tap_done
