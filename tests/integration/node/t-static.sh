#!/bin/bash
# Static pods (--pod-manifest-path): a file's pod runs with no API object of its own; its
# mirror pod <name>-<node> appears in the API (annotation kubernetes.io/config.mirror = the
# static pod's hash, owned by the Node) with the pod's status; deleting the mirror pod does
# not stop the pod and the mirror comes back; an agent restart re-adopts it; changing the
# file replaces the pod; removing the file stops it and deletes the mirror. A broken file is
# skipped.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
M=$(mktemp -d "${TMPDIR:-/tmp}/husk-static-test.XXXXXX")
on_exit "rm -rf '$M'"
write_manifest() { # write_manifest GREETING
  cat >"$M/web.yaml.tmp" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: busybox:1.36
    command: ["sh", "-c", "trap 'exit 0' TERM; echo $1; while true; do sleep 0.2; done"]
YAML
  mv "$M/web.yaml.tmp" "$M/web.yaml"
}
write_manifest hello
printf 'kind: Pod\nmetadata: [not, a, map\n' >"$M/broken.yaml"
NODE_UP_ARGS="--pod-manifest-path $M"
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

node_wait_phase web-n1 Running 40
tap_is "$(node_pod_field web-n1 '{.status.phase}')" "Running" "the mirror pod web-n1 shows the static pod Running"
hash=$(node_pod_field web-n1 '{.metadata.annotations.kubernetes\.io/config\.mirror}')
tap_like "$hash" '^[0-9a-f]{32}$' "it carries kubernetes.io/config.mirror"
tap_is "$(node_pod_field web-n1 '{.metadata.annotations.kubernetes\.io/config\.hash}')" "$hash" "equal to kubernetes.io/config.hash"
tap_is "$(node_pod_field web-n1 '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')" "Node/n1" "owned by the Node"
tap_ok "$([ "$(node_pod_field web-n1 '{.metadata.uid}')" != "$hash" ] && echo 0 || echo 1)" "the mirror is another object than the pod that runs"
tap_check "the static pod's cgroup is named by its hash" -- test -d "$CG/husk/pod-$hash"
tap_is "$(ls "$D/node/pods" | grep -c .)" "1" "one pod runs (the mirror is not run)"
tap_like "$(grep 'static pod files skipped' "$D/up.log")" 'broken.yaml' "the broken file is named in the log"
ctr_sh() {
  local p
  for p in $(cat "$CG/husk/pod-$1/web/cgroup.procs" 2>/dev/null); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = sh ] && echo "$p"
  done
}
pid=$(ctr_sh "$hash")

muid=$(node_pod_field web-n1 '{.metadata.uid}')
$K delete pod web-n1 --wait=false >/dev/null 2>&1
wait_for 30 sh -c "u=\$($K get pod web-n1 -o jsonpath='{.metadata.uid}' 2>/dev/null); [ -n \"\$u\" ] && [ \"\$u\" != $muid ] && [ -z \"\$($K get pod web-n1 -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
tap_ok "$([ "$(node_pod_field web-n1 '{.metadata.uid}')" != "$muid" ] && echo 0 || echo 1)" "a deleted mirror pod is made again"
tap_is "$(ctr_sh "$hash")" "$pid" "and the static pod kept running"
wait_for 20 sh -c "$K get pod web-n1 -o jsonpath='{.status.phase}' | grep -qx Running"
tap_is "$(node_pod_field web-n1 '{.status.phase}')" "Running" "the new mirror gets the status"

# The agent killed and started again: the static pod is re-adopted, not restarted.
kill -9 "$UP_PID"
wait "$UP_PID" 2>/dev/null
node_launch
wait_for 30 sh -c "grep -q 'adopted a running container.*web-n1' '$D/up.log'"
sleep 3
tap_is "$(ctr_sh "$hash")" "$pid" "after an agent restart the same static pod process runs"
tap_is "$(node_pod_field web-n1 '{.metadata.annotations.kubernetes\.io/config\.mirror}')" "$hash" "with the same mirror"

write_manifest changed
wait_for 30 sh -c "h=\$($K get pod web-n1 -o jsonpath='{.metadata.annotations.kubernetes\.io/config\.mirror}' 2>/dev/null); [ -n \"\$h\" ] && [ \"\$h\" != $hash ]"
hash2=$(node_pod_field web-n1 '{.metadata.annotations.kubernetes\.io/config\.mirror}')
tap_ok "$([ -n "$hash2" ] && [ "$hash2" != "$hash" ] && echo 0 || echo 1)" "a changed file replaces the mirror (new hash)"
wait_for 30 sh -c "test ! -e '$CG/husk/pod-$hash' && test ! -e '$D/node/pods/$hash' && test -d '$CG/husk/pod-$hash2'"
tap_check "the old pod is stopped" -- test ! -e "$CG/husk/pod-$hash" -a ! -e "$D/node/pods/$hash"
node_wait_phase web-n1 Running 30
tap_like "$(cat "$D"/logs/default_web-n1_"$hash2"/web/0.log 2>/dev/null)" 'changed' "the new pod runs the changed file"

rm -f "$M/web.yaml"
wait_for 30 sh -c "! $K get pod web-n1 >/dev/null 2>&1 && test ! -e '$CG/husk/pod-$hash2'"
tap_check "a removed file stops the pod" -- test ! -e "$CG/husk/pod-$hash2" -a ! -e "$D/node/pods/$hash2"
tap_check "and deletes its mirror" -- sh -c "! $K get pod web-n1 >/dev/null 2>&1"
tap_is "$(ls "$D/node/cni/husk" 2>/dev/null | grep -c '^10\.')" "0" "no address left reserved"

kill "$UP_PID"; wait "$UP_PID" 2>/dev/null
out=$("$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:1 --data-dir "$D/n2" --pod-manifest-path "$M/none" 2>&1)
tap_like "$out" 'pod-manifest-path .*none' "a missing manifest directory is refused, naming the flag"
out=$("$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:1 --data-dir "$D/n2" --eviction-hard 'memory.free<1Gi' 2>&1)
tap_like "$out" 'eviction-hard: unknown signal "memory.free"' "a bad --eviction-hard is refused, naming the signal"
out=$("$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:1 --data-dir "$D/n2" --image-gc-high-threshold 50 --image-gc-low-threshold 60 2>&1)
tap_like "$out" 'image-gc-low-threshold 60 must not be above' "low above high is refused"
out=$("$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:1 --data-dir "$D/n2" --pod-max-pids ten 2>&1)
tap_like "$out" 'pod-max-pids: "ten" is not an integer' "a bad --pod-max-pids is refused, naming the flag and the value"
# The master down when the node starts (an appliance booting alone): the static pod runs at
# once, on the pod network of the podCIDR the node had; once the master is back the node
# registers and the mirror pod appears with the same running container.
mkdir -p "$M/solo"
cat >"$M/solo/solo.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: solo
    image: busybox:1.36
    command: ["sh", "-c", "trap 'exit 0' TERM; echo standalone; while true; do sleep 0.2; done"]
YAML
# husk-node (what `husk node` execs when it is built) has no libarchive: an archive in
# images.d and a layer to unpack again go through `husk node --image-helper`.
mkdir -p "$D/node/images.d"
"$HUSK_BUILD_DIR/husk" image export --data-dir "$D/node" busybox:1.36 "$D/node/images.d/bb.tar" >/dev/null 2>&1
rm -rf "$D"/node/images/layers/sha256/*
nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:6443 \
  --token-file "$D/master/node-token" --ca-file "$D/master/pki/ca.crt" --name n1 \
  --data-dir "$D/node" --log-dir "$D/logs" --node-ip 127.0.0.1 \
  --pod-manifest-path "$M/solo" >>"$D/solo.log" 2>&1 &
UP_PID=$!
if [ -x "$HUSK_BUILD_DIR/husk-node" ]; then
  wait_for 10 sh -c "readlink /proc/$UP_PID/exe | grep -q 'husk-node\$'"
  tap_like "$(readlink "/proc/$UP_PID/exe")" 'husk-node$' "husk node runs the agent as husk-node (same process)"
else
  tap_ok 0 "# SKIP husk-node is not built: the agent runs in husk"
fi
wait_for 40 sh -c "grep -qs standalone '$D'/logs/default_solo-n1_*/solo/0.log"
tap_like "$(cat "$D"/logs/default_solo-n1_*/solo/0.log 2>/dev/null)" 'standalone' "with the master down, the static pod's container runs"
tap_like "$(grep -c 'node registration failed' "$D/solo.log")" '^[1-9]' "while the node is not registered"
tap_like "$(grep 'preloaded image' "$D/solo.log")" 'busybox:1.36' "the images.d archive was imported"
tap_is "$(ls "$D/node/images/layers/sha256" | grep -c .)" "1" "the removed layer was unpacked again"
solo=$(ls "$D/node/pods" | head -1)
spid=$(for p in $(cat "$CG/husk/pod-$solo/solo/cgroup.procs" 2>/dev/null); do
  [ "$(cat /proc/$p/comm 2>/dev/null)" = sh ] && echo "$p"; done)
tap_like "$([ -n "$spid" ] && nsenter --net="/proc/$spid/ns/net" ip -4 -o addr show dev eth0 2>/dev/null)" '10\.42\.' "on the pod network (an address on its eth0)"
nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" \
  --bind 127.0.0.1:6443 >>"$D/master.log" 2>&1 &
MASTER_PID=$!
on_exit 'kill $MASTER_PID 2>/dev/null; wait $MASTER_PID 2>/dev/null'
node_wait_phase solo-n1 Running 60
tap_is "$(node_pod_field solo-n1 '{.status.phase}')" "Running" "the master back, the mirror pod solo-n1 shows it Running"
tap_is "$(node_pod_field solo-n1 '{.metadata.annotations.kubernetes\.io/config\.mirror}')" "$solo" "mirroring the static pod that ran"
tap_is "$(node_pod_field solo-n1 '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}')" "Node/n1" "owned by the registered Node"
tap_ok "$([ -n "$spid" ] && kill -0 "$spid" 2>/dev/null && grep -qx "$spid" "$CG/husk/pod-$solo/solo/cgroup.procs" && echo 0 || echo 1)" "the same container process runs (not restarted)"
tap_done
