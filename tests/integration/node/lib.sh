# Helpers for the node agent's tests: a one-node cluster (`husk up`) whose pod network lives
# in a network namespace this script creates (DESIGN.md 8a), with busybox imported from an
# OCI layout (no registry). Source after tests/lib/common.sh.
#
# node_up: sets NS, D (data dir), K (kubectl inside NS), UP_PID; everything the cluster made
# (pods, mounts, cgroups, the namespace) is removed on exit even when a test fails.

node_require() {
  require_root
  require_cmd kubectl umoci ip nsenter python3 busybox
  local b
  for b in husk husk-pause husk-cni husk-shim; do
    [ -x "$HUSK_BUILD_DIR/$b" ] || tap_skip_all "$b is not built in $HUSK_BUILD_DIR"
  done
  CG=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
  [ -n "$CG" ] || tap_skip_all "cgroup v2 is not mounted"
}

# Only this run's pods (those under $D): other tests' clusters share $CG/husk.
node_own_pod_cgroups() {
  local u
  for u in "$D"/node/pods/*/; do
    u=${u%/}
    u=${u##*/}
    [ -d "$CG/husk/pod-$u" ] && echo "$CG/husk/pod-$u"
  done
}

# Removes what a cluster run under $D may have left: processes of its pods, its mounts,
# its pod cgroups.
node_scrub() {
  local cg m cgs
  [ -n "${UP_PID:-}" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
  cgs=$(node_own_pod_cgroups)
  for cg in $cgs; do
    [ -d "$cg" ] || continue
    for m in "$cg"/*/; do [ -f "$m/cgroup.kill" ] && echo 1 >"$m/cgroup.kill"; done
  done
  sleep 0.2
  awk -v d="$D" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  for cg in $cgs; do
    [ -d "$cg" ] || continue
    for m in "$cg"/*/; do rmdir "$m" 2>/dev/null; done
    rmdir "$cg" 2>/dev/null
  done
  rm -rf "$D"
}

node_up() {
  NS="husk-t$$-node"
  ip netns del "$NS" 2>/dev/null
  ip netns add "$NS" || tap_skip_all "cannot create a network namespace"
  on_exit "ip netns del '$NS'"
  ip -n "$NS" link set lo up
  D=$(mktemp -d "${TMPDIR:-/tmp}/husk-node-test.XXXXXX")
  on_exit node_scrub
  husk_oci_layout "$D/layout" 1.36 >"$D/layout.log" 2>&1 || {
    cat "$D/layout.log" >&2
    echo "Bail out! cannot make the busybox OCI layout"
    exit 1
  }
  "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/node" --name busybox:1.36 "$D/layout" \
    >"$D/import.log" 2>&1 || {
    cat "$D/import.log" >&2
    echo "Bail out! husk image import failed"
    exit 1
  }
  node_launch
}

# node_up_ready: node_up, then waits (20 s) for the Node n1 to be Ready: the preamble most
# tests share.
node_up_ready() {
  node_up
  wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
}

# node_launch: (re)starts husk up on $D in $NS and waits for its kubeconfig; NODE_UP_ARGS
# adds flags (words split on spaces).
node_launch() {
  rm -f "$D/kubeconfig"
  # nsenter, not `ip netns exec`: that one remounts /sys and hides the cgroup2 mount.
  nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" up --data-dir "$D" \
    --bind 127.0.0.1:6443 --kubeconfig "$D/kubeconfig" --log-dir "$D/logs" --name n1 \
    --node-ip 127.0.0.1 ${NODE_UP_ARGS:-} >>"$D/up.log" 2>&1 &
  UP_PID=$!
  K="nsenter --net=/run/netns/$NS kubectl --kubeconfig $D/kubeconfig --request-timeout=20s"
  local i
  for i in $(seq 1 100); do
    [ -s "$D/kubeconfig" ] && break
    kill -0 "$UP_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$D/kubeconfig" ]; then
    cat "$D/up.log" >&2
    echo "Bail out! husk up did not start"
    exit 1
  fi
}

# node_pod_field POD JSONPATH: a field of a pod (empty when absent).
node_pod_field() {
  $K get pod "$1" -o "jsonpath=$2" 2>/dev/null
}

node_wait_phase() { # node_wait_phase POD PHASE SECS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [ "$(node_pod_field "$1" '{.status.phase}')" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
