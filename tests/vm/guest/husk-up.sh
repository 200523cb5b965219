# For guest tests that run `husk up` and pods (t-pod-oom.sh, t-pod-cgroup.sh): progress,
# bail out, cleanup and a snapshot of the pods. The test sets D (its directory, removed by
# cleanup), KC and K (kubectl), UP_PID (husk up's pid, once started) and COLS (the jsonpath
# columns of a snapshot, the first being the pod's name), then `trap cleanup EXIT`.
# Needs tap.sh and cgroup.sh.

T0=$(date +%s)
UP_PID=

# Progress on the TAP channel as comments: a VM that times out still shows how far it got.
step () { diag "$(($(date +%s) - T0)) s: $*"; }
bail () {
  step "$1"
  [ -f "$D/up.log" ] && tail -n 30 "$D/up.log" | sed 's/^/#   /'
  echo "Bail out! $1"
  exit 1
}

# Pods outlive the agent: after it stops, kill what they left and remove it by hand.
cleanup () {
  [ -n "$UP_PID" ] && kill "$UP_PID" 2> /dev/null && wait "$UP_PID" 2> /dev/null
  UP_PID=
  for cg in "$CGROOT"/husk/pod-*/*/; do
    [ -f "$cg/cgroup.kill" ] || continue
    echo 1 > "$cg/cgroup.kill"
    wait_for 10 cg_empty "$cg"
  done
  awk -v d="$D" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2> /dev/null; done
  for cg in "$CGROOT"/husk/pod-*/*/ "$CGROOT"/husk/pod-*/ "$CGROOT/husk"; do
    [ -d "$cg" ] && rmdir "$cg" 2> /dev/null
  done
  ip link del husk0 2> /dev/null
  rm -rf "$D"
}
left_behind () {
  ls -d "$CGROOT"/husk/pod-* 2> /dev/null
  awk -v d="$D" 'index($2, d) == 1 { print $2 }' /proc/self/mounts
  ip link show husk0 2> /dev/null | head -n 1
}

# Every kubectl run costs seconds under emulation: one call per poll, and the assertions
# read one snapshot of all pods (a line per pod, fields joined by "|").
snapshot () {
  $K get pods -o "jsonpath={range .items[*]}$COLS{\"\\n\"}{end}" > "$D/pods.new" 2> /dev/null &&
    mv "$D/pods.new" "$D/pods"
}
# col POD N: field N of POD in the last snapshot.
col () { awk -F'|' -v p="$1" -v n="$2" '$1 == p { print $n }' "$D/pods" 2> /dev/null; }
