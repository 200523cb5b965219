#!/bin/bash
# kubectl exec and cp against `husk master` + a separate `husk node`: the API server
# proxies pods/exec to the node API (TLS, node token) over WebSocket v5.channel.k8s.io.
# Output, exit codes, stdin, a tty with its size, kubectl cp both ways, a large stream, and
# the node API's own checks (401 without the token, /healthz, /metrics, daemonEndpoints).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/node/nodeapi-lib.sh"
require_cmd script curl python3
nodeapi_cluster

tap_is "$($K get node n1 -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')" "10250" \
  "the Node reports its node API port in daemonEndpoints"
nodeapi_pod web -- sh -c 'trap "exit 0" TERM; while true; do sleep 1; done'
tap_is "$(node_pod_field web '{.status.phase}')" "Running" "a pod runs on the separate node"

tap_is "$(timeout 30 $K exec web -- cat /etc/hostname 2>&1)" "web" \
  "kubectl exec web -- cat /etc/hostname"
timeout 30 $K exec web -- sh -c 'exit 3' >/dev/null 2>&1
tap_is "$?" "3" "the exit code is propagated (sh -c 'exit 3' gives 3)"
tap_like "$(timeout 30 $K exec web -- sh -c 'exit 3' 2>&1)" "command terminated with exit code 3" \
  "kubectl says the command terminated with exit code 3"
tap_is "$(timeout 30 $K exec web -- sh -c 'echo out; echo err >&2' 2>/dev/null)" "out" \
  "stdout arrives on its own channel"
tap_is "$(timeout 30 $K exec web -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)" "err" \
  "stderr arrives on its own channel"
tap_is "$(printf 'line1\nline2\n' | timeout 30 $K exec -i web -- wc -l 2>&1 | tr -d ' ')" "2" \
  "kubectl exec -i: stdin reaches the process and its end closes it"
tap_like "$(timeout 30 $K exec web -- no-such-command 2>&1)" "no-such-command" \
  "a command that does not exist is an error naming it"

# A tty: kubectl's stdin is a pty made by script(1) with a known size.
out=$(printf 'tty; stty size; exit 4\n' | timeout 30 script -qec "stty cols 77 rows 33; $K exec -it web -- sh" /dev/null 2>&1)
rc=$?
tap_like "$out" "/dev/pts/[0-9]+" "kubectl exec -it: the process has a terminal"
tap_like "$out" "33 77" "the terminal has the client's size (resize on channel 4)"
tap_is "$rc" "4" "the exit code comes back through a tty too"

# kubectl cp: exec with tar both ways, and a large stream.
head -c 3000000 /dev/urandom >"$D/big"
timeout 60 $K cp "$D/big" web:/tmp/big >/dev/null 2>&1
tap_is "$(timeout 30 $K exec web -- md5sum /tmp/big 2>/dev/null | cut -d' ' -f1)" \
  "$(md5sum <"$D/big" | cut -d' ' -f1)" "kubectl cp of 3 MB into the pod (exec + tar on stdin)"
timeout 60 $K cp web:/tmp/big "$D/back" >/dev/null 2>&1
tap_check "kubectl cp back out of the pod gives the same bytes" -- cmp -s "$D/big" "$D/back"
t0=$(date +%s%N)
timeout 60 $K exec web -- cat /tmp/big >"$D/cat"
t1=$(date +%s%N)
tap_check "3 MB through exec stdout arrive whole" -- cmp -s "$D/big" "$D/cat"
tap_diag "3 MB through kubectl exec (master -> node relay): $(((t1 - t0) / 1000000)) ms"

# The node API itself.
tok=$(cat "$D/master/node-token")
code=$(nodeapi_in_ns curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" \
  https://127.0.0.1:10250/metrics)
tap_is "$code" "401" "the node API answers 401 to a bad token"
code=$(nodeapi_in_ns curl -sk -o /dev/null -w '%{http_code}' \
  "https://127.0.0.1:10250/exec/default/web/web?command=ls&stdout=true")
tap_is "$code" "401" "and to no token at all"
tap_is "$(nodeapi_in_ns curl -sk https://127.0.0.1:10250/healthz)" "ok" "/healthz answers ok"
m=$(nodeapi_in_ns curl -sk -H "Authorization: Bearer $tok" https://127.0.0.1:10250/metrics)
tap_like "$m" 'kubelet_running_pods 1' "/metrics counts the running pod"
tap_like "$m" 'kubelet_running_containers\{container_state="running"\} 1' "/metrics counts its container"
tap_like "$(timeout 30 $K exec nosuchpod -- true 2>&1)" 'NotFound|not found' \
  "exec into a pod that does not exist is NotFound"
tap_done
