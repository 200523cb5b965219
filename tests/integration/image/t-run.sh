#!/bin/bash
# An image pulled from a real registry runs through husk's OCI runtime: the container's
# root filesystem is a writable snapshot; the process sees the image as built (whiteouts,
# opaque dir) and its writes land in the snapshot's upper dir only.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless docker-registry skopeo umoci busybox
RT=$HUSK_BUILD_DIR/husk-runtime
[ -x "$RT" ] || { echo "1..0 # SKIP $RT not built"; exit 0; }
img_setup
img_registry plain
R=$REG_plain
ID=husk-image-test-$$
trap '"$RT" delete -f "$ID" >/dev/null 2>&1; img_cleanup' EXIT

img_build_image "$IMG_TMP/oci" v1
img_push "$IMG_TMP/oci" v1 "docker://$R/run/img:v1"
check "pull" "$HUSK" image pull -q "$R/run/img:v1"
B=$IMG_TMP/bundle
mkdir -p "$B/rootfs"
check "writable snapshot as the bundle's rootfs" "$HUSK" image mount --snapshot "$ID" "$R/run/img:v1" "$B/rootfs"
IMG_MOUNTS+=("$B/rootfs")
(cd "$B" && "$RT" spec) || { echo "not ok - husk-runtime spec"; exit 1; }
python3 - "$B/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c",
    "cat /etc/image-tag; ls /var/cache/app; test -e /etc/removeme && echo LEAK; echo written >/tmp/out"]
c["root"]["readonly"] = False
json.dump(c, open(sys.argv[1], "w"))
EOF
out=$(cd "$B" && timeout 60 "$RT" run --bundle "$B" "$ID" 2>"$IMG_TMP/rt.err")
rc=$?
check "container ran (rc=$rc)" test $rc = 0
check "container saw the image's files" test "$(echo "$out" | tr '\n' ' ')" = "v1 new "
check "container's write is in the snapshot" bash -c "[ \"\$(cat '$B/rootfs/tmp/out')\" = written ]"
check "and not in any layer" test -z "$(find "$HUSK_DATA_DIR/images/layers/sha256" -path '*/tmp/out')"
check "unmount --remove" "$HUSK" image unmount --remove "$B/rootfs"
check "snapshot gone" test ! -e "$HUSK_DATA_DIR/images/snapshots/$ID"

img_done
