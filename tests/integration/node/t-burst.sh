#!/bin/bash
# Pods created together are built together: the agent runs sandboxes (pause + CNI ADD) and
# container starts as jobs beside its main loop (docs/node.md, "Pods"). 12 pods applied at
# once all come up with their own IPs; at least two sandbox jobs ran at the same time (from
# the agent's per-step debug log); containers that exit at once (before their start was
# taken in) still report their exit code; deleting them all leaves no cgroup or shim.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
NODE_UP_ARGS="--log-level debug"
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

pods=""
items=""
for i in $(seq 1 10); do
  pods="$pods run-$i"
  items="$items{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"run-$i\"},
  \"spec\": {\"terminationGracePeriodSeconds\": 1, \"containers\": [{\"name\": \"c\",
    \"image\": \"busybox:1.36\", \"command\": [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; done\"]}]}}
"
done
for i in 1 2; do
  items="$items{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"quick-$i\"},
  \"spec\": {\"restartPolicy\": \"Never\", \"containers\": [{\"name\": \"c\",
    \"image\": \"busybox:1.36\", \"command\": [\"sh\", \"-c\", \"exit 3\"]}]}}
"
done
echo "$items" | $K apply -f - >/dev/null
tap_ok $? "12 pods applied at once"

running() { $K get pods -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}' 2>/dev/null; }
wait_for 90 sh -c "[ \$($K get pods --field-selector=status.phase=Running -o name 2>/dev/null | wc -l) -eq 10 ]"
tap_is "$($K get pods --field-selector=status.phase=Running -o name 2>/dev/null | wc -l)" "10" \
  "the 10 long-running pods are Running ($(running))"
ips=$(for p in $pods; do node_pod_field "$p" '{.status.podIP}'; echo; done | sort -u | grep -c .)
tap_is "$ips" "10" "each has its own pod IP"
ready=$(for p in $pods; do node_pod_field "$p" '{.status.containerStatuses[0].ready}'; echo; done | grep -c true)
tap_is "$ready" "10" "their containers are ready"

for i in 1 2; do
  wait_for 60 sh -c "[ \"\$($K get pod quick-$i -o jsonpath='{.status.phase}' 2>/dev/null)\" = Failed ]"
done
codes=$(for i in 1 2; do node_pod_field "quick-$i" '{.status.phase}:{.status.containerStatuses[0].state.terminated.exitCode} '; done)
tap_is "$codes" "Failed:3 Failed:3 " "containers that exit at once report their exit code"

# Sandbox jobs as intervals [end - duration, end] from "step=sandbox-job ... us=N" lines.
overlap=$(python3 - "$D/up.log" <<'EOF'
import re, sys
iv = []
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r"time=\S+T(\d+):(\d+):([\d.]+)Z .*msg=step step=sandbox-job pod=\S+ us=(\d+)", line)
    if m:
        end = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        iv.append((end - int(m.group(4)) / 1e6, end))
iv.sort()
best = 0
for a, b in iv:
    best = max(best, sum(1 for c, d in iv if c < b and a < d))
print("%d %d" % (len(iv), best))
EOF
)
tap_like "$overlap" '^1[2-9] ([2-9]|1[0-9])$' \
  "sandbox jobs ran side by side (jobs seen, most at once: $overlap)"

uids=$(for p in $pods quick-1 quick-2; do node_pod_field "$p" "{.metadata.uid} "; done)
$K delete pods --all --wait=false >/dev/null 2>&1
wait_for 60 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>&1)" "" "all pods deleted"
left=0
for u in $uids; do [ -e "$CG/husk/pod-$u" ] && left=$((left + 1)); done
tap_is "$left" "0" "no pod cgroup left"
tap_is "$(pgrep -fc "husk-shim [0-9]+ $D/")" "0" "no husk-shim left"
tap_done
