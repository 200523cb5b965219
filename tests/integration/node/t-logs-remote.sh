#!/bin/bash
# kubectl logs against `husk master` + a separate `husk node`: the API server streams
# pods/log from the node API's /containerLogs (tail, timestamps, since, previous, follow).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/node/nodeapi-lib.sh"
nodeapi_cluster

nodeapi_pod talk -- sh -c 'trap "exit 0" TERM; echo first; echo second; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done'
wait_for 10 sh -c "$K logs talk 2>/dev/null | grep -q 'tick 2'"
tap_is "$($K logs talk 2>&1 | head -2 | tr '\n' ' ')" "first second " \
  "kubectl logs through the master reads the node's CRI log"
tap_is "$($K logs talk --tail=1 2>&1 | wc -l)" "1" "--tail=1 gives one line"
tap_like "$($K logs talk --timestamps 2>&1 | head -1)" '^20[0-9-]+T[0-9:.]+Z first$' "--timestamps"
tap_like "$($K logs talk --since=1h 2>&1 | head -1)" '^first$' "--since keeps recent lines"
before=$($K logs talk 2>&1 | grep -c tick)
out=$(timeout 4 $K logs -f talk 2>&1)
tap_like "$out" "tick [0-9]+" "kubectl logs -f streams"
last=$(echo "$out" | grep tick | tail -1 | cut -d' ' -f2)
tap_check "kubectl logs -f keeps following: lines written after it started arrive (tick $last > $before)" -- \
  test "${last:-0}" -gt "$((before + 2))"
tap_like "$($K logs talk --previous 2>&1)" 'previous terminated container' \
  "--previous without a restart is refused"

nodeapi_pod crash --restart=OnFailure -- sh -c 'echo run-$(date +%s); sleep 1; exit 1'
wait_for 40 sh -c "[ \"\$($K get pod crash -o jsonpath='{.status.containerStatuses[0].restartCount}' 2>/dev/null)\" -ge 1 ]"
tap_like "$($K logs crash --previous 2>&1)" '^run-[0-9]+$' "--previous shows the last run's log"

tap_like "$($K logs nosuch 2>&1)" 'NotFound|not found' "logs of a missing pod: NotFound"
nodeapi_pod two --overrides='{"spec":{"nodeName":"n1","containers":[{"name":"a","image":"busybox:1.36","command":["sh","-c","echo from-a; sleep 3600"]},{"name":"b","image":"busybox:1.36","command":["sh","-c","echo from-b; sleep 3600"]}]}}'
wait_for 10 sh -c "$K logs two -c b 2>/dev/null | grep -q from-b"
tap_is "$($K logs two -c b 2>&1)" "from-b" "-c picks the container"
tap_done
