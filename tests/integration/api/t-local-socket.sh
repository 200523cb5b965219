#!/bin/bash
# The master's in-process clients (scheduler, controllers) reach the API over a Unix socket in
# the data dir without TLS (src/master/api/local.c), not over loopback HTTPS; the socket is for
# the master's own process only.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
require_root
require_cmd kubectl ss curl setpriv
husk_master_launch
port=${API_URL##*:}
sock=$DATA/api.sock

wait_for 20 $K get ns default >/dev/null 2>&1
$K create deployment web-$$ --image=busybox:1.36 >/dev/null
tap_check "the controllers act: the Deployment gets its ReplicaSet" \
  wait_for 30 sh -c "$K get rs -l app=web-$$ -o name | grep -q replicaset"
$K run lone-$$ --image=busybox:1.36 >/dev/null
tap_check "the scheduler acts: a pod with no node to go to is marked Unschedulable" \
  wait_for 30 sh -c "$K get pod lone-$$ -o jsonpath='{.status.conditions[?(@.type==\"PodScheduled\")].reason}' | grep -q Unschedulable"

tap_is "$(stat -c '%F %a' "$sock" 2>&1)" "socket 600" "the socket is in the data dir, mode 0600"
# ss -p names the owning process of each end: the master's own client ends towards its port.
own_tcp=$(ss -Htnp state established "( dport = :$port )" | grep -c "pid=$MASTER_PID,")
tap_is "$own_tcp" 0 "no TCP connection from the master to its own API port :$port"
own_unix=$(ss -Hxp | grep -c "$sock .*pid=$MASTER_PID,")
tap_check "the master's clients hold connections on the socket ($own_unix ends)" test "$own_unix" -ge 10

out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
  curl -sS --max-time 5 --unix-socket "$sock" http://localhost/version 2>&1)
tap_like "$out" "Permission denied|Couldn't connect|Failed to connect" "a client of another uid cannot connect"
out=$(curl -sS --max-time 5 --unix-socket "$sock" -H "Authorization: Bearer $API_TOKEN" \
  http://localhost/api/v1/namespaces 2>&1)
rc=$?
tap_check "another process of the same uid, with the admin token, gets no answer (rc $rc: $out)" \
  test "$rc" -ne 0 -a -z "$(printf '%s' "$out" | grep -F '"items"')"
tap_like "$(cat "$DATA/master.log")" "a client other than this process" "the master logs the refused client"

kill "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
tap_check "the socket is removed when the master stops" test ! -e "$sock"
tap_done
