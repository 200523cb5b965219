#!/bin/bash
# Periodic image GC (--image-gc-high-threshold/--image-gc-low-threshold/--image-minimum-gc-age/
# --image-gc-period): with thresholds every disk is above, the agent removes the image no pod
# uses once it is older than the minimum age, keeps the one a running pod uses, and records
# FreeDiskSpaceFailed (then ImageGCFailed, on the second failure in a row) on the Node, as
# kubelet does when it cannot get under the low threshold.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
NODE_UP_ARGS="--image-gc-high-threshold 1 --image-gc-low-threshold 0 --image-minimum-gc-age 60s --image-gc-period 2s"
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
# A second image (another config, so another manifest) that no pod uses.
cp -a "$D/layout" "$D/layout2"
umoci config --image "$D/layout2:1.36" --config.env SPARE=1 >/dev/null 2>&1
"$HUSK_BUILD_DIR/husk" image import --data-dir "$D/node" --name spare:1 "$D/layout2" >"$D/import2.log" 2>&1
images() { "$HUSK_BUILD_DIR/husk" image ls --data-dir "$D/node" 2>/dev/null; }
tap_like "$(images)" 'spare' "the unused image is there at first"
$K run keep --image=busybox:1.36 -- sh -c 'while true; do sleep 0.2; done' >/dev/null 2>&1
node_wait_phase keep Running 40
tap_like "$(images)" 'spare' "it is kept while younger than --image-minimum-gc-age"

wait_for 90 sh -c "! '$HUSK_BUILD_DIR/husk' image ls --data-dir '$D/node' | grep -q spare"
tap_check "the unused image is removed after the minimum age" -- sh -c "! '$HUSK_BUILD_DIR/husk' image ls --data-dir '$D/node' | grep -q spare"
tap_like "$(images)" 'busybox' "the image a running pod uses is kept"
tap_like "$(grep 'image GC removed' "$D/up.log")" 'spare' "the removal is logged"
evs() { $K get events -n default -o jsonpath='{range .items[*]}{.type} {.reason} {.involvedObject.kind}/{.involvedObject.name}: {.message}{"\n"}{end}' 2>/dev/null; }
wait_for 20 sh -c "$K get events -n default 2>/dev/null | grep -q ImageGCFailed"
tap_like "$(evs | grep FreeDiskSpaceFailed | head -1)" '^Warning FreeDiskSpaceFailed Node/n1: Failed to garbage collect required amount of images. Attempted to free [0-9]+ bytes, but only found [0-9]+ bytes eligible to free.' "FreeDiskSpaceFailed on the Node, with kubelet's message"
tap_like "$(evs | grep ImageGCFailed | head -1)" '^Warning ImageGCFailed Node/n1: image GC' "ImageGCFailed after repeated failures"
tap_is "$(node_pod_field keep '{.status.phase}')" "Running" "the pod still runs"
tap_done
