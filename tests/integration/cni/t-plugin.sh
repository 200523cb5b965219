#!/bin/bash
# husk-cni as a runtime drives it: ADD/CHECK/DEL/GC/STATUS/VERSION round trips, pods on the
# bridge reaching each other (v4 and v6), masquerade and hostPort to a test-made "outside"
# netns, spec error objects. Everything happens inside netns this script creates.
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip busybox python3
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"

cni_netns node node
cni_netns pod1 pod1
cni_netns pod2 pod2
cni_netns out out
cni_tmpdir tmp
cni() { cni_exec "$node" "$CNI_BIN" "$@"; }

cat >"$tmp/net.json" <<JSON
{"cniVersion":"1.0.0","name":"podnet","type":"husk-cni","bridge":"husk0",
 "isDefaultGateway":true,"ipMasq":true,"hairpinMode":true,"mtu":1400,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam",
         "ranges":[[{"subnet":"10.250.1.0/24"}],[{"subnet":"fd50:1::/64"}]]}}
JSON

# --- VERSION
echo '{"cniVersion":"1.0.0"}' >"$tmp/v.json"
CNI_COMMAND=VERSION "$CNI_BIN" <"$tmp/v.json" >"$tmp/version.out"
tap_is "$(jget "$tmp/version.out" '["cniVersion"]')" 1.0.0 "VERSION answers in the version asked"
tap_is "$(jget "$tmp/version.out" '["supportedVersions"]')" '["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]' \
  "VERSION lists supported versions"

# --- ADD pod1
cni ADD ctr1 "$pod1" "$tmp/net.json" >"$tmp/add1.json"
tap_ok $? "ADD pod1 succeeds"
tap_is "$(jget "$tmp/add1.json" '["ips"][0]["address"]')" 10.250.1.2/24 "pod1 gets the first free v4 address"
tap_is "$(jget "$tmp/add1.json" '["ips"][1]["address"]')" fd50:1::2/64 "pod1 gets a v6 address (dual stack)"
tap_is "$(jget "$tmp/add1.json" '["ips"][0]["gateway"]')" 10.250.1.1 "result names the gateway"
tap_is "$(jget "$tmp/add1.json" '["interfaces"][2]["sandbox"]')" "/run/netns/$pod1" "result names the sandbox"
tap_is "$(jget "$tmp/add1.json" '["interfaces"][0]["name"]')" husk0 "first interface is the bridge"
tap_like "$(ip -n "$pod1" -o addr show dev eth0)" "inet 10.250.1.2/24" "eth0 in pod1 carries its address"
tap_like "$(ip -n "$pod1" -o link show dev eth0)" "mtu 1400" "eth0 has the configured MTU"
tap_like "$(ip -n "$pod1" route show default)" "default via 10.250.1.1 dev eth0" "default route via the bridge"
tap_like "$(ip -n "$pod1" -6 route show default)" "default via fd50:1::1 dev eth0" "v6 default route"
tap_like "$(ip -n "$node" -o addr show dev husk0)" "inet 10.250.1.1/24" "gateway address on the bridge"
hveth=$(jget "$tmp/add1.json" '["interfaces"][1]["name"]')
tap_like "$(ip -n "$node" -d link show dev "$hveth")" "master husk0" "host veth is a port of husk0"
tap_like "$(ip -n "$node" -d link show dev "$hveth")" "hairpin on" "hairpin mode on the port"
tap_is "$(cat "$tmp/ipam/podnet/10.250.1.2" | tr '\r\n' '|')" "ctr1||eth0" "IPAM file holds container id and ifname"

# --- ADD pod2 with a hostPort (bridge already there: idempotent)
jset "$tmp/net.json" "$tmp/net-pm.json" runtimeConfig '{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}'
cni ADD ctr2 "$pod2" "$tmp/net-pm.json" >"$tmp/add2.json"
tap_ok $? "ADD pod2 on the existing bridge succeeds"
tap_is "$(jget "$tmp/add2.json" '["ips"][0]["address"]')" 10.250.1.3/24 "pod2 gets the next address"
tap_is "$(ip -n "$node" -o link show type bridge | wc -l)" 1 "one bridge for both pods"
brmac=$(jget "$tmp/add1.json" '["interfaces"][0]["mac"]')
tap_is "$(jget "$tmp/add2.json" '["interfaces"][0]["mac"]')" "$brmac" "the bridge keeps its MAC as ports join"
tap_like "$(ip -n "$node" link show husk0)" "link/ether $brmac" "and the result names the bridge's actual MAC"

tap_check "pod1 pings pod2 (v4)" -- ip netns exec "$pod1" busybox ping -c 1 -W 3 10.250.1.3
tap_check "pod1 pings pod2 (v6)" -- ip netns exec "$pod1" busybox ping6 -c 1 -W 3 fd50:1::3
pod_httpd "$pod2" 80 hello-from-pod2
tap_is "$(pod_get "$pod1" 10.250.1.3 80)" hello-from-pod2 "TCP from pod1 to pod2"

# --- an "outside" netns joined to the node, with no route back to the pod network
ip -n "$node" link add up0 type veth peer name up1 netns "$out"
ip -n "$node" addr add 172.31.250.1/30 dev up0 && ip -n "$node" link set up0 up
ip -n "$out" addr add 172.31.250.2/30 dev up1 && ip -n "$out" link set up1 up
tap_check "ipMasq: pod1 reaches a network it has no return route from" -- \
  ip netns exec "$pod1" busybox ping -c 1 -W 3 172.31.250.2
tap_is "$(pod_get "$out" 172.31.250.1 8080)" hello-from-pod2 "hostPort 8080 on the node reaches pod2:80"
tap_is "$(pod_get "$pod1" 10.250.1.1 8080)" hello-from-pod2 "hostPort from a pod on the same bridge (hairpin NAT)"
tap_is "$(pod_get "$node" 10.250.1.1 8080)" hello-from-pod2 "hostPort from the node itself (output chain)"

# --- a second ADD of a live attachment fails and leaves the first intact
cni ADD ctr1 "$pod1" "$tmp/net.json" >"$tmp/e.out"
tap_ok $((! $?)) "a repeated ADD of the same attachment fails"
tap_like "$(jget "$tmp/e.out" '["msg"]')" "eth0 already exists" "and says why"
tap_check "pod1 still reaches pod2 afterwards" -- ip netns exec "$pod1" busybox ping -c 1 -W 3 10.250.1.3
tap_ok $([ -e "$tmp/ipam/podnet/10.250.1.2" ]; echo $?) "pod1's address is still reserved"

# --- CHECK
jset "$tmp/net.json" "$tmp/chk1.json" prevResult "$(cat "$tmp/add1.json")"
cni CHECK ctr1 "$pod1" "$tmp/chk1.json" >"$tmp/chk1.out"
tap_ok $? "CHECK of a healthy attachment succeeds"
ip -n "$pod1" addr del 10.250.1.2/24 dev eth0
cni CHECK ctr1 "$pod1" "$tmp/chk1.json" >"$tmp/chk1bad.out"
tap_ok $((! $?)) "CHECK fails once the address is gone"
tap_is "$(jget "$tmp/chk1bad.out" '["code"]')" 102 "CHECK failure is a CNI error object"
tap_like "$(jget "$tmp/chk1bad.out" '["msg"]')" "10.250.1.2/24 missing on eth0" "CHECK says what is wrong"
ip -n "$pod1" addr add 10.250.1.2/24 dev eth0
ip -n "$pod1" route add default via 10.250.1.1
jset "$tmp/net.json" "$tmp/chk0.json" cniVersion '"1.0.0"'
cni CHECK ctr1 "$pod1" "$tmp/chk0.json" >"$tmp/chk0.out"
tap_is "$(jget "$tmp/chk0.out" '["code"]')" 7 "CHECK without prevResult: code 7"

# --- DEL
cni DEL ctr2 "$pod2" "$tmp/net-pm.json" >"$tmp/del2.out"
tap_ok $? "DEL pod2 succeeds"
tap_is "$(cat "$tmp/del2.out")" "" "DEL prints nothing"
tap_ok $(ip -n "$pod2" link show eth0 >/dev/null 2>&1; echo $((! $?))) "eth0 gone from pod2"
tap_ok $([ -e "$tmp/ipam/podnet/10.250.1.3" ]; echo $((! $?))) "pod2's address released"
tap_is "$(pod_get "$out" 172.31.250.1 8080)" "" "the hostPort no longer answers after DEL"
tap_nft "pod2's nftables rules removed" -- bash -c "! ip netns exec $node nft list table inet husk-cni | grep -q ctr2"
tap_nft "pod1's rules kept" -- bash -c "ip netns exec $node nft list table inet husk-cni | grep -q podnet/ctr1/eth0"
cni DEL ctr2 "$pod2" "$tmp/net-pm.json" >/dev/null
tap_ok $? "a second DEL succeeds"
cni DEL never-added "" "$tmp/net.json" >"$tmp/delx.out"
tap_ok $? "DEL of an unknown container without netns succeeds"
# DEL detaches the pod's interface at once (down, renamed) and deletes the pair in the
# background: the name is free for an immediate re-ADD, and the pair is gone moments later.
veths=$(ip -n "$node" -o link show type veth | wc -l)
cni ADD ctr4 "$pod2" "$tmp/net.json" >/dev/null && cni DEL ctr4 "$pod2" "$tmp/net.json" >/dev/null &&
  cni ADD ctr4 "$pod2" "$tmp/net.json" >"$tmp/add4.json"
tap_ok $? "ADD right after DEL of the same attachment succeeds"
tap_like "$(ip -n "$pod2" -o addr show eth0 2>&1)" "10\.250\.1\." "... and the pod has eth0 with an address again"
cni DEL ctr4 "$pod2" "$tmp/net.json" >/dev/null
wait_for 5 sh -c "! ip -n '$pod2' -o link show | grep -q hkdel"
tap_is "$(ip -n "$pod2" -o link show | grep -c -e hkdel -e eth0)" 0 "the detached pod interfaces are deleted shortly after DEL"
tap_is "$(ip -n "$node" -o link show type veth | wc -l)" "$veths" "... and their host ends with them"

# --- GC (spec 1.1): a leaked address and a leaked attachment go, valid ones stay
jset "$tmp/net.json" "$tmp/net11.json" cniVersion '"1.1.0"'
cni ADD ctr3 "$pod2" "$tmp/net11.json" >"$tmp/add3.json"
printf 'leaked\r\neth0' >"$tmp/ipam/podnet/10.250.1.99"
jset "$tmp/net11.json" "$tmp/gc.json" cni.dev/valid-attachments '[{"containerID":"ctr1","ifname":"eth0"}]'
CNI_COMMAND=GC CNI_PATH="$HUSK_BUILD_DIR" ip netns exec "$node" "$CNI_BIN" <"$tmp/gc.json"
tap_ok $? "GC succeeds"
tap_is "$(cd "$tmp/ipam/podnet" && ls | grep -v -e lock -e last_ | sort | tr '\n' ' ')" "10.250.1.2 fd50:1::2 " \
  "GC released every address not held by a valid attachment"
tap_nft "GC removed stale nftables rules" -- bash -c "! ip netns exec $node nft list table inet husk-cni | grep -q ctr3"
cni DEL ctr3 "$pod2" "$tmp/net11.json" >/dev/null

# --- the product shells out to nothing (no ip, no nft): ADD and DEL with an empty PATH
CNI_COMMAND=ADD CNI_CONTAINERID=nopath CNI_NETNS=/run/netns/$pod2 CNI_IFNAME=eth0 \
  ip netns exec "$node" env PATH=/nonexistent "$CNI_BIN" <"$tmp/net-pm.json" >"$tmp/np.json"
tap_ok $? "ADD with ipMasq and hostPort works with PATH=/nonexistent"
CNI_COMMAND=DEL CNI_CONTAINERID=nopath CNI_NETNS=/run/netns/$pod2 CNI_IFNAME=eth0 \
  ip netns exec "$node" env PATH=/nonexistent "$CNI_BIN" <"$tmp/net-pm.json" >/dev/null
tap_ok $? "and so does DEL"

# --- STATUS
CNI_COMMAND=STATUS ip netns exec "$node" "$CNI_BIN" <"$tmp/net11.json" >"$tmp/status.out"
tap_ok $? "STATUS reports ready"
CNI_COMMAND=STATUS ip netns exec "$node" "$CNI_BIN" <"$tmp/net.json" >"$tmp/status0.out"
tap_is "$(jget "$tmp/status0.out" '["code"]')" 1 "STATUS with cniVersion 1.0.0: code 1"

# --- spec errors
err_code() { # err_code EXPECTED DESC  (reads the plugin's stdout file $tmp/e.out and its status $rc)
  tap_ok $(([ "$rc" -ne 0 ] && [ "$(jget "$tmp/e.out" '["code"]')" = "$1" ] && [ -n "$(jget "$tmp/e.out" '["msg"]')" ]); echo $?) "$2"
  [ "$(jget "$tmp/e.out" '["code"]')" = "$1" ] || sed 's/^/#   /' "$tmp/e.out"
}
echo '{"cniVersion":"1.0.0",' >"$tmp/bad.json"
cni ADD x "$pod2" "$tmp/bad.json" >"$tmp/e.out"; rc=$?
err_code 6 "undecodable configuration: code 6"
echo '{"cniVersion":"7.0.0","name":"n"}' >"$tmp/bad.json"
cni ADD x "$pod2" "$tmp/bad.json" >"$tmp/e.out"; rc=$?
err_code 1 "unsupported cniVersion: code 1"
tap_is "$(jget "$tmp/e.out" '["cniVersion"]')" 1.1.0 "error object carries a cniVersion"
echo '{"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local","subnet":"10.250.9.0"}}' >"$tmp/bad.json"
cni ADD x "$pod2" "$tmp/bad.json" >"$tmp/e.out"; rc=$?
err_code 7 "invalid network configuration: code 7"
tap_like "$(jget "$tmp/e.out" '["msg"]')" "ipam.subnet" "msg names the bad field"
CNI_COMMAND=ADD CNI_NETNS=/run/netns/$pod2 CNI_IFNAME=eth0 ip netns exec "$node" "$CNI_BIN" <"$tmp/net.json" >"$tmp/e.out"; rc=$?
err_code 4 "missing CNI_CONTAINERID: code 4"
CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/run/netns/$pod2 CNI_IFNAME=eth0/1 ip netns exec "$node" "$CNI_BIN" <"$tmp/net.json" >"$tmp/e.out"; rc=$?
err_code 4 "invalid CNI_IFNAME: code 4"
cni ADD x "no-such-netns-$$" "$tmp/net.json" >"$tmp/e.out"; rc=$?
err_code 3 "a netns that does not exist: code 3"
tap_ok $([ -z "$(ls "$tmp/ipam/podnet" | grep 10.250.1.4)" ]; echo $?) "failed ADD leaves no address reserved"
jset "$tmp/net.json" "$tmp/bad.json" ipam '{"type":"no-such-ipam"}'
cni ADD x "$pod2" "$tmp/bad.json" >"$tmp/e.out"; rc=$?
err_code 7 "unknown ipam plugin: code 7"

tap_done
