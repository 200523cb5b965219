#!/bin/bash
# husk-cni with the standard plugins (Debian's containernetworking-plugins): chained before
# `tuning` (prevResult passes through), delegating IPAM to `static`, and sharing host-local's
# on-disk state with Debian's host-local in both directions.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"
for p in tuning static host-local bridge; do
  [ -x "$DEBIAN_CNI/$p" ] || tap_skip_all "containernetworking-plugins not installed ($p)"
done

cni_netns node node
cni_netns pod1 pod1
cni_netns pod2 pod2
cni_netns pod3 pod3
cni_tmpdir tmp

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
tap_done
