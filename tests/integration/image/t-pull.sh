#!/bin/bash
# Pull from a real registry (Debian's docker-registry on 127.0.0.1, plain HTTP), unpack,
# mount read-only with overlayfs and check the root filesystem as a container sees it:
# whiteouts, an opaque directory, ownership, modes, links; a multi-platform index;
# two concurrent pulls downloading each blob once; a resumed partial download; rm + GC.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless docker-registry skopeo umoci python3 busybox zstd
img_setup
img_registry plain
R=$REG_plain

img_build_image "$IMG_TMP/oci" v1
check "push test image with skopeo" img_push "$IMG_TMP/oci" v1 "docker://$R/test/img:v1"

check "husk image pull" "$HUSK" image pull "$R/test/img:v1"
check "image listed" bash -c "'$HUSK' image ls -q | grep -qx '$R/test/img:v1'"

MNT=$IMG_TMP/mnt
mkdir -p "$MNT"
check "husk image mount" "$HUSK" image mount "$R/test/img:v1" "$MNT"
IMG_MOUNTS+=("$MNT")
check "mount is an overlay" bash -c "grep -q ' $MNT overlay ro' /proc/mounts"
check "busybox runs inside the image (chroot)" bash -c "[ \"\$(chroot '$MNT' /bin/sh -c 'cat /etc/image-tag')\" = v1 ]"
check "whiteout hides the lower file" test ! -e "$MNT/etc/removeme"
check "lower file without whiteout stays" test -s "$MNT/etc/passwd"
check "opaque dir hides lower entries" bash -c "[ \"\$(ls '$MNT/var/cache/app')\" = new ]"
check "opaque dir keeps its own mode" bash -c "[ \"\$(stat -c %a '$MNT/var/cache/app')\" = 750 ]"
check "ownership kept" bash -c "[ \"\$(stat -c %u:%g:%a '$MNT/home/user/owned')\" = 1000:1000:600 ]"
check "symlink kept" bash -c "[ \"\$(readlink '$MNT/bin/sh')\" = busybox ]"
check "sticky /tmp kept" bash -c "[ \"\$(stat -c %a '$MNT/tmp')\" = 1777 ]"
check "hard link kept" bash -c "[ \"\$(stat -c %h '$MNT/usr/share/doc/readme')\" = 2 ]"
check "read-only" bash -c "! touch '$MNT/x' 2>/dev/null"
check "unmount" "$HUSK" image unmount "$MNT"
check "unmounted" bash -c "! grep -q ' $MNT ' /proc/mounts"

# inspect shows the config and unpacked layers
check "inspect shows config and 3 unpacked layers" bash -c \
  "'$HUSK' image inspect '$R/test/img:v1' | python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; assert i[\"config\"][\"config\"][\"Cmd\"]==[\"/bin/sh\"]; assert [l[\"unpacked\"] for l in i[\"layers\"]]==[True]*3'"

# a multi-platform index: this host's platform is chosen; a missing one is a clear error
M=$IMG_TMP/multi
img_busybox_tar "$IMG_TMP/bb.tar"
printf 'f etc/arch amd64\n' >"$IMG_TMP/amd.spec"
printf 'f etc/arch arm64\n' >"$IMG_TMP/arm.spec"
python3 "$(dirname "$0")/mkimage.py" --tar "$IMG_TMP/amd.tar" "$IMG_TMP/amd.spec"
python3 "$(dirname "$0")/mkimage.py" --tar "$IMG_TMP/arm.tar" "$IMG_TMP/arm.spec"
python3 "$(dirname "$0")/mkimage.py" "$M" amd --platform linux/amd64 "$IMG_TMP/bb.tar" "$IMG_TMP/amd.tar"
python3 "$(dirname "$0")/mkimage.py" "$M" arm --platform linux/arm64 --compress zstd "$IMG_TMP/bb.tar" "$IMG_TMP/arm.tar"
python3 "$(dirname "$0")/mkimage.py" "$M" multi --index amd arm
check "push a multi-platform index" img_push "$M" multi "docker://$R/test/multi:1" --all
check "pull linux/amd64 from the index" "$HUSK" image pull --platform linux/amd64 "$R/test/multi:1"
check "mount amd64" "$HUSK" image mount "$R/test/multi:1" "$MNT"
check "amd64 layer content" bash -c "[ \"\$(cat '$MNT/etc/arch')\" = amd64 ]"
"$HUSK" image unmount "$MNT"
check "pull linux/arm64 (zstd layers) from the index" "$HUSK" image pull --platform linux/arm64 "$R/test/multi:1"
check "mount arm64" "$HUSK" image mount "$R/test/multi:1" "$MNT"
check "arm64 layer content (zstd)" bash -c "[ \"\$(cat '$MNT/etc/arch')\" = arm64 ]"
"$HUSK" image unmount "$MNT"
expect_fail "platform missing from the index" "no manifest for platform linux/s390x (image offers: linux/amd64, linux/arm64)" \
  "$HUSK" image pull --platform linux/s390x "$R/test/multi:1"

# variants: linux/arm/v6 and linux/arm/v7 side by side; the variant decides
printf 'f etc/arch armv6\n' >"$IMG_TMP/v6.spec"
printf 'f etc/arch armv7\nx etc/noted user.husk.note kept-through-the-registry\n' >"$IMG_TMP/v7.spec"
python3 "$(dirname "$0")/mkimage.py" --tar "$IMG_TMP/v6.tar" "$IMG_TMP/v6.spec"
python3 "$(dirname "$0")/mkimage.py" --tar "$IMG_TMP/v7.tar" "$IMG_TMP/v7.spec"
python3 "$(dirname "$0")/mkimage.py" "$M" v6 --platform linux/arm/v6 "$IMG_TMP/bb.tar" "$IMG_TMP/v6.tar"
python3 "$(dirname "$0")/mkimage.py" "$M" v7 --platform linux/arm/v7 "$IMG_TMP/bb.tar" "$IMG_TMP/v7.tar"
python3 "$(dirname "$0")/mkimage.py" "$M" arm32 --index v6 v7
check "push an index with arm/v6 and arm/v7" img_push "$M" arm32 "docker://$R/test/arm32:1" --all
check "pull linux/arm/v7" "$HUSK" image pull --platform linux/arm/v7 "$R/test/arm32:1"
check "mount arm/v7" "$HUSK" image mount "$R/test/arm32:1" "$MNT"
check "the v7 variant's content, not v6's" bash -c "[ \"\$(cat '$MNT/etc/arch')\" = armv7 ]"
check "xattr from the layer kept (user.husk.note)" bash -c \
  "[ \"\$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], \"user.husk.note\").decode())' '$MNT/etc/noted')\" = kept-through-the-registry ]"
"$HUSK" image unmount "$MNT"
check "pull linux/arm/v6" "$HUSK" image pull --platform linux/arm/v6 "$R/test/arm32:1"
check "mount arm/v6" "$HUSK" image mount "$R/test/arm32:1" "$MNT"
check "the v6 variant's content" bash -c "[ \"\$(cat '$MNT/etc/arch')\" = armv6 ]"
"$HUSK" image unmount "$MNT"
expect_fail "variant missing from the index" "no manifest for platform linux/arm/v5 (image offers: linux/arm/v6, linux/arm/v7)" \
  "$HUSK" image pull --platform linux/arm/v5 "$R/test/arm32:1"
"$HUSK" image rm -q "$R/test/arm32:1" >/dev/null

# the same images as Docker schema2 manifest and manifest list
check "push as Docker schema2" img_push "$IMG_TMP/oci" v1 "docker://$R/test/v2s2:1" --format v2s2
check "registry serves a Docker schema2 manifest" bash -c "skopeo inspect --raw --tls-verify=false docker://$R/test/v2s2:1 | grep -q 'manifest.v2+json'"
check "pull Docker schema2" "$HUSK" image pull "$R/test/v2s2:1"
# (Docker images cannot carry zstd layers: a gzip twin of the index)
python3 "$(dirname "$0")/mkimage.py" "$M" arm-gz --platform linux/arm64 "$IMG_TMP/bb.tar" "$IMG_TMP/arm.tar"
python3 "$(dirname "$0")/mkimage.py" "$M" multi-gz --index amd arm-gz
check "push a Docker manifest list" img_push "$M" multi-gz "docker://$R/test/list:1" --all --format v2s2
check "registry serves a manifest list" bash -c "skopeo inspect --raw --tls-verify=false docker://$R/test/list:1 | grep -q 'manifest.list.v2+json'"
check "pull linux/arm64 from the manifest list" "$HUSK" image pull --platform linux/arm64 "$R/test/list:1"
check "mount it" "$HUSK" image mount "$R/test/list:1" "$MNT"
check "arm64 content through the manifest list" bash -c "[ \"\$(cat '$MNT/etc/arch')\" = arm64 ]"
"$HUSK" image unmount "$MNT"
"$HUSK" image rm -q "$R/test/v2s2:1" "$R/test/list:1" >/dev/null

# pull by digest
DIG=$(skopeo inspect --tls-verify=false --raw "docker://$R/test/img:v1" | sha256sum | cut -d' ' -f1)
check "pull by digest" "$HUSK" image pull "$R/test/img@sha256:$DIG"

# two concurrent pulls of a fresh image: each blob downloaded once
img_build_image "$IMG_TMP/oci" v2
img_push "$IMG_TMP/oci" v2 "docker://$R/test/img:v2"
"$HUSK" image pull "$R/test/img:v2" >"$IMG_TMP/p1.log" 2>&1 &
p1=$!
"$HUSK" image pull "$R/test/img:v2" >"$IMG_TMP/p2.log" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
check "both concurrent pulls succeed" test $r1 = 0 -a $r2 = 0
cat "$IMG_TMP/p1.log" "$IMG_TMP/p2.log" | grep 'msg="blob downloaded"' | grep -o 'digest=[^ ]*' >"$IMG_TMP/dl"
check "new blobs downloaded ($(wc -l <"$IMG_TMP/dl"))" test "$(wc -l <"$IMG_TMP/dl")" -ge 2
check "no blob downloaded twice across both pulls" test -z "$(sort "$IMG_TMP/dl" | uniq -d)"

# resume: a partial download left by an interrupted pull is continued, not restarted
img_build_image "$IMG_TMP/oci" v3
img_push "$IMG_TMP/oci" v3 "docker://$R/test/big:v3"
"$HUSK" image rm "$R/test/img:v1" "$R/test/img:v2" "$R/test/img@sha256:$DIG" >/dev/null
"$HUSK" image rm "$R/test/multi:1" >/dev/null
BB=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(max(m["layers"], key=lambda l: l["size"])["digest"][7:])' \
  "$IMG_TMP/oci/blobs/sha256/$(python3 -c 'import json,sys; print([m for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="v3"][0]["digest"][7:])' "$IMG_TMP/oci/index.json")")
SZ=$(stat -c %s "$IMG_TMP/oci/blobs/sha256/$BB")
head -c $((SZ / 2)) "$IMG_TMP/oci/blobs/sha256/$BB" >"$HUSK_DATA_DIR/images/tmp/$BB.partial"
"$HUSK" image pull "$R/test/big:v3" >"$IMG_TMP/resume.log" 2>&1
check "pull resumes a partial blob" grep -q "digest=sha256:$BB size=$SZ resume_from=$((SZ / 2))" "$IMG_TMP/resume.log"
check "resumed blob verified and stored" bash -c "[ \"\$(sha256sum < '$HUSK_DATA_DIR/images/blobs/sha256/$BB' | cut -d' ' -f1)\" = $BB ]"
check "partial file gone" test ! -e "$HUSK_DATA_DIR/images/tmp/$BB.partial"
# a partial with wrong bytes (crash garbage) is never trusted: the pull fails, the next one works
"$HUSK" image rm "$R/test/big:v3" >/dev/null
head -c $((SZ / 2)) /dev/urandom >"$HUSK_DATA_DIR/images/tmp/$BB.partial"
expect_fail "garbage partial detected" "blob sha256:$BB: digest mismatch" "$HUSK" image pull "$R/test/big:v3"
check "garbage blob not kept" test ! -e "$HUSK_DATA_DIR/images/blobs/sha256/$BB" -a ! -e "$HUSK_DATA_DIR/images/tmp/$BB.partial"
check "next pull succeeds" "$HUSK" image pull "$R/test/big:v3"

# rm frees everything no image references
check "rm last image" "$HUSK" image rm "$R/test/big:v3"
check "no blobs left" bash -c "[ -z \"\$(ls '$HUSK_DATA_DIR/images/blobs/sha256')\" ]"
check "no layers left" bash -c "[ -z \"\$(ls '$HUSK_DATA_DIR/images/layers/sha256')\" ]"
check "no diff_id records left" bash -c "[ -z \"\$(ls '$HUSK_DATA_DIR/images/layers/diffid')\" ]"
expect_fail "rm of an unknown image" "image $R/test/big:v3 not found" "$HUSK" image rm "$R/test/big:v3"

img_done
