#!/bin/bash
# `husk master` runs as husk-master, the lean program next to husk (exec, same pid): its
# /proc/PID/exe is husk-master and its maps hold none of the libraries the master never uses
# (libarchive and what it pulls in: libxml2, ICU, libstdc++; libseccomp, libcap, libmnl,
# libnftnl), which `HUSK_MASTER_INPROCESS=1 husk master` still maps. It serves, schedules and
# runs the controllers; --help, bad flags and a bad store give the same output and exit codes
# as in-process; SIGTERM stops it with status 0; without husk-master next to husk, husk runs
# the master itself.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
require_cmd kubectl curl
[ -x "$HUSK_BUILD_DIR/husk-master" ] || { echo "Bail out! husk-master is not built in $HUSK_BUILD_DIR"; exit 1; }
LEFT_OUT='libarchive|libxml2|libicu|libstdc\+\+|libseccomp|libcap\.|libmnl|libnftnl'

# libs PID: the shared libraries mapped by the process, one base name a line.
libs() { awk '$6 ~ /\.so/ {n = split($6, p, "/"); print p[n]}' "/proc/$1/maps" | sort -u; }

# ---- the lean master ----
husk_master_launch
tap_is "$(basename "$(readlink "/proc/$MASTER_PID/exe")")" husk-master \
  "husk master runs as husk-master in the same process (/proc/PID/exe)"
tap_is "$(tr '\0' ' ' <"/proc/$MASTER_PID/cmdline")" \
  "husk-master --data-dir $DATA --bind 127.0.0.1:0 " "its command line keeps the flags"
lean_libs=$(libs "$MASTER_PID")
tap_like "$lean_libs" 'libgnutls' "husk-master maps GnuTLS (the maps are read)"
tap_is "$(grep -E "$LEFT_OUT" <<<"$lean_libs" | tr '\n' ' ')" "" \
  "husk-master maps no libarchive, libxml2, ICU, libstdc++, libseccomp, libcap, libmnl, libnftnl"

tap_is "$($K get ns default -o name 2>&1)" "namespace/default" "kubectl reads from husk-master"
$K apply -f - >/dev/null 2>&1 <<'Y'
apiVersion: v1
kind: Node
metadata: {name: lean-n1}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: lean-web}
spec:
  replicas: 1
  selector: {matchLabels: {app: lean-web}}
  template:
    metadata: {labels: {app: lean-web}}
    spec: {containers: [{name: c, image: busybox}]}
Y
node_of_pod() { $K get pods -l app=lean-web -o jsonpath='{.items[*].spec.nodeName}' 2>/dev/null; }
wait_for 30 sh -c "[ \"\$($K get pods -l app=lean-web -o jsonpath='{.items[*].spec.nodeName}' 2>/dev/null)\" = lean-n1 ]"
tap_is "$(node_of_pod)" lean-n1 "its controllers made the Deployment's pod and its scheduler bound it"

kill -TERM "$MASTER_PID"
wait "$MASTER_PID"
tap_is "$?" 0 "SIGTERM stops husk-master with status 0"
tap_like "$(cat "$DATA/master.log")" 'stopping.*SIGTERM' "it logs the signal it stopped on"

# ---- in-process, as before ----
HUSK_MASTER_INPROCESS=1 husk_master_launch
tap_is "$(basename "$(readlink "/proc/$MASTER_PID/exe")")" husk \
  "HUSK_MASTER_INPROCESS=1 keeps the master in husk"
tap_like "$(libs "$MASTER_PID" | tr '\n' ' ')" 'libarchive' "husk itself maps libarchive"
tap_is "$($K get ns default -o name 2>&1)" "namespace/default" "kubectl reads from the in-process master"
kill -TERM "$MASTER_PID"
wait "$MASTER_PID"
tap_is "$?" 0 "SIGTERM stops the in-process master with status 0"

# ---- same output and exit codes ----
# same WHAT ARGS...: `husk master ARGS` gives the same stdout, stderr and status both ways.
same() {
  local what=$1 lean inproc
  shift
  lean=$("$HUSK_BUILD_DIR/husk" master "$@" 2>&1; echo "status $?")
  inproc=$(HUSK_MASTER_INPROCESS=1 "$HUSK_BUILD_DIR/husk" master "$@" 2>&1; echo "status $?")
  tap_is "$lean" "$inproc" "$what: same output and status as in-process"
  printf '%s\n' "$lean" | tail -2 | sed 's/^/# /'
}
T=$(husk_tmpdir)
same "--help" --help
same "an unknown flag" --bogus-flag
same "a bad --store-watch-history" --store-watch-history 0
same "--tls-cert without --tls-key" --tls-cert /nonexistent
same "an unknown store" --data-dir "$T/d" --bind 127.0.0.1:0 --store nosuch://x
tap_like "$("$HUSK_BUILD_DIR/husk" master --bogus-flag 2>&1)" '^master: unrecognized option' \
  "getopt names the command 'master', as before"

# ---- without husk-master next to husk ----
mkdir -p "$T/bin"
cp "$HUSK_BUILD_DIR/husk" "$T/bin/husk"
"$T/bin/husk" master --data-dir "$T/alone" --bind 127.0.0.1:0 >"$T/alone.log" 2>&1 &
alone=$!
on_exit "kill $alone 2>/dev/null"
wait_for 20 test -s "$T/alone/admin.kubeconfig"
tap_is "$(readlink "/proc/$alone/exe")" "$T/bin/husk" "husk alone runs the master itself"
kill -TERM "$alone"
wait "$alone"
tap_is "$?" 0 "and stops on SIGTERM with status 0"

tap_done
