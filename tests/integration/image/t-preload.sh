#!/bin/bash
# Appliance images baked into the host: archives in the node's <data-dir>/images.d are
# imported when `husk node` starts (here through `husk up`), so that a pod with
# imagePullPolicy Never runs without any registry. A broken archive is reported and the
# node starts anyway; a restart does not import unchanged archives again.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require

NS="husk-t$$-preload"
ip netns del "$NS" 2>/dev/null
ip netns add "$NS" || tap_skip_all "cannot create a network namespace"
on_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up
D=$(mktemp -d "${TMPDIR:-/tmp}/husk-preload-test.XXXXXX")
on_exit node_scrub
HUSK=$HUSK_BUILD_DIR/husk

# the appliance image: an export (OCI layout + docker load tar) made on another store
{ husk_oci_layout "$D/layout" 1.36 &&
  "$HUSK" image import --data-dir "$D/build" --name busybox:1.36 "$D/layout" &&
  mkdir -p "$D/node/images.d" &&
  "$HUSK" image export --data-dir "$D/build" busybox:1.36 "$D/node/images.d/busybox.tar"; } >"$D/prep.log" 2>&1 ||
  { cat "$D/prep.log" >&2; echo "Bail out! cannot make the appliance archive"; exit 1; }
rm -rf "$D/build" "$D/layout"
echo "not an image" >"$D/node/images.d/broken.tar"
tap_is "$("$HUSK" image ls -q --data-dir "$D/node" 2>&1)" "" "the node's store starts empty"

node_launch
wait_for 30 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' 2>/dev/null | grep -qx True"
tap_is "$($K get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True" \
  "the node starts although one archive is broken"
tap_like "$("$HUSK" image ls -q --data-dir "$D/node")" "^docker.io/library/busybox:1.36$" \
  "the archive in images.d was imported at node start"
tap_check "the import was logged" -- grep -q 'msg="preloaded image".*ref=docker.io/library/busybox:1.36' "$D/up.log"
tap_check "the broken archive was reported, naming it" -- grep -q 'preloading images failed.*broken.tar' "$D/up.log"

$K run pre --image=busybox:1.36 --image-pull-policy=Never --overrides='{"spec":{"nodeName":"n1"}}' -- \
  sh -c 'trap "exit 0" TERM; while true; do sleep 1; done' >/dev/null 2>&1
node_wait_phase pre Running 40
tap_is "$(node_pod_field pre '{.status.phase}')" "Running" "a pod with imagePullPolicy Never runs the preloaded image"
$K delete pod pre --wait=false >/dev/null 2>&1
wait_for 30 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"

kill "$UP_PID"
wait "$UP_PID" 2>/dev/null
node_launch
wait_for 60 sh -c "[ \$(grep -c 'preloading images failed' '$D/up.log') -ge 2 ]"
# (logged once the whole directory was gone through)
tap_check "the restarted node went through images.d again" -- \
  test "$(grep -c 'preloading images failed' "$D/up.log")" -ge 2
tap_is "$(grep -c 'msg="preloaded image"' "$D/up.log")" "1" "a restart does not import the unchanged archive again"

tap_done
