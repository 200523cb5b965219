#!/bin/bash
# 200 husk-cni ADDs at once on one bridge: every pod gets its own address and port,
# then 200 DELs at once leave nothing behind (addresses, veths, nftables rules).
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"

N=${CNI_CONCURRENT:-200}
cni_netns node node
cni_tmpdir tmp
cat >"$tmp/net.json" <<JSON
{"cniVersion":"1.0.0","name":"burst","type":"husk-cni","bridge":"husk0","isGateway":true,
 "ipMasq":true,"ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.251.0.0/22"}}
JSON
pods=()
for i in $(seq "$N"); do
  cni_netns p "p$i" || break
  pods+=("$p")
done
tap_is "${#pods[@]}" "$N" "$N pod netns created"

for i in $(seq "$N"); do
  (cni_exec "$node" "$CNI_BIN" ADD "ctr$i" "${pods[i - 1]}" "$tmp/net.json" >"$tmp/add$i.json"
   echo $? >"$tmp/add$i.rc") &
done
wait
fails=$(cat "$tmp"/add*.rc | grep -vc '^0$')
tap_is "$fails" 0 "$N concurrent ADDs all succeed"
for i in $(seq "$N"); do jget "$tmp/add$i.json" '["ips"][0]["address"]'; done >"$tmp/addrs"
tap_is "$(grep -c . "$tmp/addrs")" "$N" "every ADD returned an address"
tap_is "$(sort -u "$tmp/addrs" | grep -c .)" "$N" "all $N addresses are distinct"
tap_is "$(ls "$tmp/ipam/burst" | grep -c '^10\.')" "$N" "$N reservations on disk"
tap_is "$(ip -n "$node" -o link show master husk0 | wc -l)" "$N" "$N ports on the bridge"
inpod=0
for i in $(seq "$N"); do
  a=$(sed -n "${i}p" "$tmp/addrs")
  ip -n "${pods[i - 1]}" -o addr show dev eth0 | grep -q "inet $a " && inpod=$((inpod + 1))
done
tap_is "$inpod" "$N" "each pod's eth0 carries the address its result names"
tap_nft "one masquerade rule per pod (concurrent nftables transactions)" -- \
  bash -c "[ \$(ip netns exec $node nft list table inet husk-cni | grep -c masquerade) = $N ]"

for i in $(seq "$N"); do
  (cni_exec "$node" "$CNI_BIN" DEL "ctr$i" "${pods[i - 1]}" "$tmp/net.json" >"$tmp/del$i.out"
   echo $? >"$tmp/del$i.rc") &
done
wait
tap_is "$(cat "$tmp"/del*.rc | grep -vc '^0$')" 0 "$N concurrent DELs all succeed"
cat "$tmp"/del*.out | grep msg | sort | uniq -c | sed 's/^/# /' 
tap_is "$(ls "$tmp/ipam/burst" | grep -c '^10\.')" 0 "every address released"
tap_is "$(ip -n "$node" -o link show master husk0 | wc -l)" 0 "no ports left on the bridge"
tap_nft "no rules left" -- bash -c "[ \$(ip netns exec $node nft list table inet husk-cni | grep -c masquerade) = 0 ]"
tap_done
