#!/bin/bash
# gsoMaxSize (husk extension, BIG TCP): both veth ends and the bridge get the GSO/GRO size
# for IPv4 and IPv6, bulk TCP between two pods arrives whole, no key keeps the kernel's 64 KiB;
# and the VXLAN device is made without the outer UDP checksum, its traffic kept out of
# conntrack (table inet husk-vxlan).
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/cni/lib.sh"
require_root
require_cmd ip python3
[ -x "$CNI_BIN" ] || tap_skip_all "husk-cni not built"
BENCH="$HUSK_BUILD_DIR/tests/bench/cni/cni-bench"
HELPER="$HUSK_BUILD_DIR/tests/integration/cni/cni-route-helper"
[ -x "$BENCH" ] && [ -x "$HELPER" ] || tap_skip_all "build cni-bench and cni-route-helper (make check TESTS=)"

cni_netns node node
cni_netns pod1 pod1
cni_netns pod2 pod2
cni_netns pod3 pod3
cni_tmpdir tmp
cni() { cni_exec "$node" "$CNI_BIN" "$@"; }

# linkattr NS IFNAME: "gso gro gso_ipv4 gro_ipv4" of a link, read with RTM_GETLINK (iproute2
# older than 6.3 does not print the IPv4 sizes).
linkattr() {
  ip netns exec "$1" python3 - "$2" <<'PY'
import socket, struct, sys
idx = socket.if_nametoindex(sys.argv[1])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.bind((0, 0))
body = struct.pack("BxHiII", 0, 0, idx, 0, 0)
s.send(struct.pack("IHHII", 16 + len(body), 18, 1, 1, 0) + body)  # RTM_GETLINK, NLM_F_REQUEST
data = s.recv(65536)
want = {41: 0, 58: 0, 63: 0, 64: 0}  # IFLA_GSO_MAX_SIZE, GRO_MAX_SIZE, GSO_IPV4, GRO_IPV4
off = 16 + 16
end = struct.unpack_from("I", data, 0)[0]
while off + 4 <= end:
    ln, ty = struct.unpack_from("HH", data, off)
    if ln < 4:
        break
    if ty in want and ln >= 8:
        want[ty] = struct.unpack_from("I", data, off + 4)[0]
    off += (ln + 3) & ~3
print(want[41], want[58], want[63], want[64])
PY
}

cat >"$tmp/big.json" <<JSON
{"cniVersion":"1.0.0","name":"gsonet","type":"husk-cni","bridge":"husk0",
 "isDefaultGateway":true,"ipMasq":true,"hairpinMode":true,"gsoMaxSize":196608,
 "ipam":{"type":"host-local","dataDir":"$tmp/ipam","subnet":"10.250.7.0/24"}}
JSON
cni ADD g1 "$pod1" "$tmp/big.json" >"$tmp/a1.json"
tap_ok $? "ADD with gsoMaxSize 196608 succeeds"
cni ADD g2 "$pod2" "$tmp/big.json" >"$tmp/a2.json"
host=$(jget "$tmp/a1.json" '["interfaces"][1]["name"]')
tap_is "$(linkattr "$pod1" eth0)" "196608 196608 196608 196608" "pod eth0: GSO and GRO sizes, IPv4 and IPv6"
tap_is "$(linkattr "$node" "$host")" "196608 196608 196608 196608" "host veth: the same sizes"
tap_is "$(linkattr "$node" husk0)" "196608 196608 196608 196608" "bridge: the same sizes"

# bulk TCP across the bridge: every byte sent arrives (big GSO packets are forwarded whole)
ip netns exec "$pod2" "$BENCH" recv 5301 >"$tmp/recv" 2>/dev/null &
rpid=$!
read -r mbit sent _ < <(ip netns exec "$pod1" "$BENCH" send 10.250.7.3 5301 1)
wait "$rpid"
read -r got _ <"$tmp/recv"
tap_check "bulk TCP pod1 -> pod2 with BIG TCP: ${sent:-0} bytes sent, ${got:-0} received (${mbit:-0} Mbit/s)" \
  test -n "$sent" -a "${sent:-0}" -gt 0 -a "${sent:-0}" = "${got:-x}"

# without the key: the kernel's 64 KiB
jset "$tmp/big.json" "$tmp/plain.json" gsoMaxSize 0
cni ADD g3 "$pod3" "$tmp/plain.json" >/dev/null
tap_is "$(linkattr "$pod3" eth0)" "65536 65536 65536 65536" "no gsoMaxSize: the kernel's 64 KiB"

jset "$tmp/big.json" "$tmp/bad.json" gsoMaxSize 40000
cni ADD bad "$pod3" "$tmp/bad.json" >"$tmp/e.out"
tap_is "$(jget "$tmp/e.out" '["code"]')" 7 "gsoMaxSize 40000: code 7"
tap_like "$(jget "$tmp/e.out" '["msg"]')" "gsoMaxSize: 40000 is outside" "the message names the key"

for c in g1 g2; do cni DEL "$c" "" "$tmp/big.json" >/dev/null; done

# VXLAN device: no outer UDP checksum (IFLA_VXLAN_UDP_CSUM 0)
cni_netns vn vn
ip -n "$vn" link add ul0 type veth peer name ul1 && ip -n "$vn" addr add 192.168.77.1/24 dev ul0 && ip -n "$vn" link set ul0 up
ip netns exec "$vn" "$HELPER" vxlan 192.168.77.1 10.250.8.0/24 10.250.9.0/24=192.168.77.2
tap_like "$(ip -n "$vn" -d link show husk-vxlan)" "noudpcsum" "husk-vxlan sends no outer UDP checksum"
tap_nft "VXLAN from the peers is not tracked (raw prerouting)" -- sh -c \
  "ip netns exec '$vn' nft list chain inet husk-vxlan prerouting | grep -q 'ip daddr 192.168.77.1 udp dport 4789 notrack'"
tap_nft "VXLAN to the peers is not tracked (raw output)" -- sh -c \
  "ip netns exec '$vn' nft list chain inet husk-vxlan output | grep -q 'ip saddr 192.168.77.1 udp dport 4789 notrack'"
ip netns exec "$vn" "$HELPER" vxlan 192.168.77.1 10.250.8.0/24 10.250.9.0/24=192.168.77.2
tap_nft "a second sync leaves one rule per chain" -- sh -c \
  "[ \$(ip netns exec '$vn' nft list table inet husk-vxlan | grep -c notrack) = 2 ]"

tap_done
