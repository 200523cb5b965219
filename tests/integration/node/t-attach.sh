#!/bin/bash
# kubectl attach against `husk master` + a separate `husk node`: the output a running
# container writes from then on, stdout and stderr on their channels, until it exits
# (followed in its CRI log). attach -i writes into the stdin of a container created with
# stdin: true (held open by husk-shim: several attaches in turn; with stdinOnce the first
# attach's end is the container's EOF; -it to a tty container too); -i to a container
# without stdin is refused with a clear message, and errors before the upgrade reach kubectl.
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
tap_like "$(timeout 30 $K attach -i loop 2>&1)" "container loop has no stdin to attach to: it was not created with stdin: true" \
  "attach -i to a container without stdin is refused with the node's reason"
timeout 3 $K attach loop >"$D/loop" 2>/dev/null
tap_like "$(head -1 "$D/loop")" "^loop$" "attach to a running container streams until the client leaves"
sleep 1
tap_is "$(node_pod_field loop '{.status.phase}')" "Running" "the container keeps running after kubectl leaves"

# stdin: true, stdinOnce: false: each attach -i feeds the same reader, which never sees EOF.
stdin_pod() { # stdin_pod NAME ONCE
  nodeapi_pod "$1" --restart=Never --overrides='{"spec":{"nodeName":"n1","containers":[{"name":"'"$1"'","image":"busybox:1.36","stdin":true,"stdinOnce":'"$2"',"command":["sh","-c","while read l; do echo \"got $l\"; done; echo eof; exit 0"]}]}}'
}
stdin_pod reader false
(printf 'one\ntwo\n'; sleep 3) | timeout 8 $K attach -i reader >"$D/r1" 2>/dev/null
tap_like "$(tr '\n' ' ' <"$D/r1")" "got one got two" "attach -i: what kubectl reads goes to the container's stdin"
(printf 'three\n'; sleep 3) | timeout 8 $K attach -i reader >"$D/r2" 2>/dev/null
tap_like "$(tr '\n' ' ' <"$D/r2")" "got three" "a second attach -i reaches the same stdin"
tap_is "$(node_pod_field reader '{.status.phase}')" "Running" "the end of an attach is not the container's EOF"
tap_like "$($K logs reader 2>&1 | tr '\n' ' ')" "got one got two got three" "the log has all of it"

# stdinOnce: the first attach's end closes the container's stdin.
stdin_pod once true
printf 'last\n' | timeout 20 $K attach -i once >"$D/o1" 2>/dev/null
rc=$?
tap_is "$rc" "0" "attach -i to a stdinOnce container ends when the container does"
tap_like "$(tr '\n' ' ' <"$D/o1")" "got last eof" "the container read the input, then EOF"
wait_for 20 sh -c "$K get pod once -o jsonpath='{.status.phase}' | grep -qx Succeeded"
tap_is "$(node_pod_field once '{.status.phase}')" "Succeeded" "and completed"

# A tty: true container (kubectl attach forces -t for it): stdin through the terminal, its
# stdout and stderr on the one stream (the container itself has no terminal here).
nodeapi_pod ttyp --restart=Never --overrides='{"spec":{"nodeName":"n1","containers":[{"name":"ttyp","image":"busybox:1.36","stdin":true,"stdinOnce":true,"tty":true,"command":["sh","-c","read l; echo \"got $l\"; echo oops >&2; sleep 1; exit 0"]}]}}'
(sleep 3; printf 'typed\n'; sleep 8) | timeout 30 script -qfec "$K attach -it ttyp" /dev/null >"$D/t1" 2>&1
# Two pipes, read as they become ready: stdout's line and stderr's may arrive in either order.
t1=$(tr -d '\r' <"$D/t1" | tr '\n' ' ')
tap_ok "$([[ $t1 == *"got typed"* && $t1 == *oops* ]]; echo $?)" "attach -it: typed input reaches the container, stdout and stderr come back on the terminal"
tap_done
