#!/bin/bash
# The standard bridge plugin's keys as husk-cni reads them, each seen from outside: isGateway
# without isDefaultGateway, promiscMode, ipMasq off, host-local rangeStart/rangeEnd and routes
# with a gateway, results in the 0.3.1 format, STATUS when the range is exhausted (code 50),
# and keys husk-cni does not implement (vlan) refused with the spec's code 2 before anything
# is made. Everything inside netns this script creates.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3 busybox
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"

cni_netns node node
cni_netns pod1 pod1
cni_netns pod2 pod2
cni_tmpdir tmp
cni() { cni_exec "$node" "$CNI_BIN" "$@"; }

# --- isGateway alone, promiscMode, 0.3.1, a range and routes
cat >"$tmp/gw.json" <<JSON
{"cniVersion":"0.3.1","name":"keysnet","type":"husk-cni","bridge":"huskk0","isGateway":true,
 "promiscMode":true,"ipMasq":false,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.249.1.0/24",
         "rangeStart":"10.249.1.100","rangeEnd":"10.249.1.101",
         "routes":[{"dst":"10.249.200.0/24","gw":"10.249.1.1"},{"dst":"10.249.201.0/24"}]}}
JSON
cni ADD k1 "$pod1" "$tmp/gw.json" >"$tmp/k1.json"
tap_ok $? "ADD with isGateway, promiscMode, rangeStart/rangeEnd, routes (cniVersion 0.3.1)"
tap_is "$(jget "$tmp/k1.json" '["cniVersion"]')" 0.3.1 "the result is in the configuration's version"
tap_is "$(jget "$tmp/k1.json" '["ips"][0]["version"]')" 4 "0.3.1 results carry ips[].version"
tap_is "$(jget "$tmp/k1.json" '["ips"][0]["address"]')" 10.249.1.100/24 "the first address is rangeStart"
tap_like "$(ip -n "$node" -o addr show dev huskk0)" "inet 10.249.1.1/24" "isGateway: the gateway address is on the bridge"
tap_is "$(ip -n "$pod1" route show default)" "" "isGateway without isDefaultGateway: no default route in the pod"
tap_like "$(ip -n "$pod1" route show 10.249.200.0/24)" "via 10.249.1.1 dev eth0" "an ipam route with its own gw"
tap_like "$(ip -n "$pod1" route show 10.249.201.0/24)" "via 10.249.1.1 dev eth0" "an ipam route without gw goes via the range's gateway"
tap_like "$(ip -n "$node" link show huskk0)" "PROMISC" "promiscMode: the bridge is promiscuous"
tap_nft "ipMasq false: no masquerade rule for the pod" -- \
  bash -c "! ip netns exec $node nft list table inet husk-cni 2>/dev/null | grep -q keysnet/k1"
tap_check "the pod reaches its gateway" -- ip netns exec "$pod1" busybox ping -c 1 -W 3 10.249.1.1

# --- STATUS (1.1.0): ready while the range has room, code 50 once it is exhausted
jset "$tmp/gw.json" "$tmp/gw11.json" cniVersion '"1.1.0"'
CNI_COMMAND=STATUS ip netns exec "$node" "$CNI_BIN" <"$tmp/gw11.json" >"$tmp/st.out"
tap_ok $? "STATUS ready with one address left"
cni ADD k2 "$pod2" "$tmp/gw11.json" >"$tmp/k2.json"
tap_is "$(jget "$tmp/k2.json" '["ips"][0]["address"]')" 10.249.1.101/24 "the second address is rangeEnd"
CNI_COMMAND=STATUS ip netns exec "$node" "$CNI_BIN" <"$tmp/gw11.json" >"$tmp/st.out"; rc=$?
tap_ok $([ $rc -ne 0 ] && [ "$(jget "$tmp/st.out" '["code"]')" = 50 ]; echo $?) "STATUS with the range exhausted: code 50"
cni_netns pod3 pod3
cni ADD k3 "$pod3" "$tmp/gw11.json" >"$tmp/k3.out"
tap_is "$(jget "$tmp/k3.out" '["code"]')" 101 "ADD with the range exhausted: code 101"
cni DEL k1 "$pod1" "$tmp/gw.json" >/dev/null && cni DEL k2 "$pod2" "$tmp/gw11.json" >/dev/null
tap_ok $? "DEL both"

# --- a bridge key husk-cni does not implement: code 2, nothing made
jset "$tmp/gw.json" "$tmp/vlan.json" vlan 100
cni ADD v1 "$pod1" "$tmp/vlan.json" >"$tmp/v1.out"; rc=$?
tap_ok $([ $rc -ne 0 ] && [ "$(jget "$tmp/v1.out" '["code"]')" = 2 ]; echo $?) "vlan 100: code 2 (unsupported field)"
tap_like "$(jget "$tmp/v1.out" '["msg"]')" "vlan: 100" "the message names the key and its value"
tap_ok $(ip -n "$pod1" link show eth0 >/dev/null 2>&1; echo $((! $?))) "nothing was attached"
jset "$tmp/gw.json" "$tmp/vlan0.json" vlan 0
cni ADD v0 "$pod1" "$tmp/vlan0.json" >/dev/null
tap_ok $? "vlan 0 (the bridge plugin's default) is accepted"
cni DEL v0 "$pod1" "$tmp/vlan0.json" >/dev/null
tap_done
