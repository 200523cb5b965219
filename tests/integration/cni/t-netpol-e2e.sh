#!/bin/bash
# NetworkPolicy end to end: `husk up` (master + node) inside a network namespace made here;
# kubectl applies a server pod, two client pods and a NetworkPolicy letting only one client
# in. The clients connect to the server every half second and log OK or FAIL; the node's
# NetworkPolicy loop (src/node/net/netpol.c) must make the other client's connects fail, and
# deleting the policy must open the way again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || tap_skip_all "no br_netfilter in this kernel"
node_up

wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
$K apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: srv, labels: {app: srv}}
spec:
  containers:
  - name: httpd
    image: busybox:1.36
    command: [sh, -c, 'mkdir -p /www && echo srv-ok >/www/index.html && exec httpd -f -p 80 -h /www']
    ports: [{name: web, containerPort: 80}]
YAML
node_wait_phase srv Running 30
SRV=$(node_pod_field srv '{.status.podIP}')
tap_like "$SRV" '^10\.42\.' "server pod running at $SRV"

client() { # client NAME ROLE
  $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {role: $2}}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; while true; do if printf "GET / HTTP/1.0\r\n\r\n" | nc -w 1 $SRV 80 2>/dev/null | grep -q srv-ok; then echo OK; else echo FAIL; fi; sleep 0.5; done']
YAML
}
client good client
client bad other
node_wait_phase good Running 30
node_wait_phase bad Running 30
last() { $K logs "$1" --tail="${2:-1}" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
wait_for 20 sh -c "[ \"\$($K logs bad --tail=1 2>/dev/null)\" = OK ]"
tap_is "$(last good) $(last bad)" "OK OK" "without a policy both clients reach the server"

$K apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: srv-from-clients}
spec:
  podSelector: {matchLabels: {app: srv}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: client}}}]
    ports: [{port: web}]
YAML
tap_ok $? "kubectl apply of a NetworkPolicy"
wait_for 20 sh -c "[ \"\$($K logs bad --tail=2 2>/dev/null | tr -d '\n')\" = FAILFAIL ]"
tap_is "$(last bad 2)" "FAIL FAIL" "the client the policy does not name is cut off"
sleep 1.5
tap_is "$(last good 3)" "OK OK OK" "the client it names keeps connecting (named port web)"
tap_like "$(ip netns exec "$NS" nft list table inet husk-netpol 2>&1)" "ip saddr @s0 tcp dport 80 return" \
  "the node holds the rules in table inet husk-netpol"

$K delete networkpolicy srv-from-clients >/dev/null 2>&1
wait_for 20 sh -c "[ \"\$($K logs bad --tail=1 2>/dev/null)\" = OK ]"
tap_is "$(last bad)" "OK" "deleting the policy lets the other client in again"
tap_is "$(ip netns exec "$NS" nft list tables 2>/dev/null | grep -c husk-netpol)" 0 \
  "no policy left: the table is removed"
$K delete pod srv good bad --wait=false >/dev/null 2>&1
tap_done
