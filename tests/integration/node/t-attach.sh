#!/bin/bash
# kubectl attach against `husk master` + a separate `husk node`: the output a running
# container writes from then on, stdout and stderr on their channels, until it exits
# (followed in its CRI log). Attach with stdin is refused with a clear message (the agent
# does not hold containers' stdin open yet), and errors before the upgrade reach kubectl.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/node/nodeapi-lib.sh"
nodeapi_cluster

nodeapi_pod talk --restart=Never -- sh -c 'sleep 2; i=0; while [ $i -lt 10 ]; do i=$((i+1)); echo tick $i; echo err $i >&2; sleep 0.5; done; exit 0'
timeout 30 $K attach talk >"$D/out" 2>"$D/err"
rc=$?
tap_is "$rc" "0" "kubectl attach ends when the container exits"
tap_like "$(tr '\n' ' ' <"$D/out")" "tick 9 tick 10 $" "attach shows what the container writes on stdout"
tap_like "$(grep '^err' "$D/err" | tr '\n' ' ')" "err 9 err 10 $" "and stderr on stderr"
tap_check "only output written after attaching (not the log from the start)" -- \
  test "$(grep -c tick "$D/out")" -le 10

nodeapi_pod loop -- sh -c 'trap "exit 0" TERM; while true; do echo loop; sleep 0.3; done'
tap_like "$(timeout 30 $K attach -i loop 2>&1)" "attach with stdin is not supported by this node" \
  "attach -i is refused with the node's reason"
timeout 3 $K attach loop >"$D/loop" 2>/dev/null
tap_like "$(head -1 "$D/loop")" "^loop$" "attach to a running container streams until the client leaves"
sleep 1
tap_is "$(node_pod_field loop '{.status.phase}')" "Running" "the container keeps running after kubectl leaves"
tap_done
