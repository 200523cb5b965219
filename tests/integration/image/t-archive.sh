#!/bin/bash
# Air-gapped import and export: an OCI layout directory (umoci), an OCI layout tarball,
# a docker-archive (`docker save` format, written by skopeo), `husk image export` and
# re-import of its output, a directory of archives imported at once; tampered archives.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless skopeo umoci python3 busybox tar
img_setup
MNT=$IMG_TMP/mnt
mkdir -p "$MNT"
IMG_MOUNTS+=("$MNT")

img_build_image "$IMG_TMP/oci" v1

tag_of() { "$HUSK" image mount "$1" "$MNT" && cat "$MNT/etc/image-tag"; "$HUSK" image unmount "$MNT"; }
export -f tag_of
export HUSK MNT

# OCI layout directory: umoci names images by tag only
expect_fail "OCI dir with only a tag needs --name" "only the tag 'v1'" "$HUSK" image import "$IMG_TMP/oci"
check "import OCI layout dir with --name" "$HUSK" image import --name example.com/air/img:v1 "$IMG_TMP/oci"
check "imported image mounts with its content" bash -c "[ \"\$(tag_of example.com/air/img:v1)\" = v1 ]"

# OCI layout tarball naming the image fully (skopeo writes the full name as ref.name)
skopeo copy -q oci:"$IMG_TMP/oci":v1 oci-archive:"$IMG_TMP/img.oci.tar":example.com/air/ocitar:v1
check "import OCI layout tarball" "$HUSK" image import "$IMG_TMP/img.oci.tar"
check "OCI tar image listed" bash -c "'$HUSK' image ls -q | grep -qx example.com/air/ocitar:v1"

# docker save format
skopeo copy -q oci:"$IMG_TMP/oci":v1 docker-archive:"$IMG_TMP/img.docker.tar":air/dockersave:v1
check "import docker-archive (docker save) tarball" "$HUSK" image import "$IMG_TMP/img.docker.tar"
check "docker save image named from RepoTags" bash -c "'$HUSK' image ls -q | grep -qx docker.io/air/dockersave:v1"
check "docker save image content" bash -c "[ \"\$(tag_of air/dockersave:v1)\" = v1 ]"

# export, then import elsewhere; skopeo reads the export both as OCI layout and docker archive
check "export" "$HUSK" image export example.com/air/img:v1 "$IMG_TMP/export.tar"
check "skopeo reads the export as an OCI archive" skopeo inspect -n oci-archive:"$IMG_TMP/export.tar"
check "skopeo reads the export as a docker archive" skopeo inspect -n docker-archive:"$IMG_TMP/export.tar"
check "rm all images" "$HUSK" image rm -q example.com/air/img:v1 example.com/air/ocitar:v1 air/dockersave:v1
check "store empty after rm" test -z "$(ls "$HUSK_DATA_DIR/images/blobs/sha256")"
check "re-import the export" "$HUSK" image import "$IMG_TMP/export.tar"
check "re-imported image content" bash -c "[ \"\$(tag_of example.com/air/img:v1)\" = v1 ]"
mkdir -p "$IMG_TMP/exportdir"
check "export to an OCI layout directory" "$HUSK" image export example.com/air/img:v1 "$IMG_TMP/exportdir"
check "umoci reads the exported layout" umoci ls --layout "$IMG_TMP/exportdir"

# tampered archive: a blob whose content does not match its name
mkdir -p "$IMG_TMP/tamper" && tar -C "$IMG_TMP/tamper" -xf "$IMG_TMP/export.tar"
big=$(ls -S "$IMG_TMP/tamper/blobs/sha256" | head -1)
printf 'XXXX' | dd of="$IMG_TMP/tamper/blobs/sha256/$big" bs=1 seek=100 conv=notrunc status=none
tar -C "$IMG_TMP/tamper" -cf "$IMG_TMP/tamper.tar" .
"$HUSK" image rm -q example.com/air/img:v1
expect_fail "tampered archive refused naming the blob" "blob sha256:$big: digest mismatch" \
  "$HUSK" image import "$IMG_TMP/tamper.tar"
check "tampered blob not stored" test ! -e "$HUSK_DATA_DIR/images/blobs/sha256/$big"
expect_fail "not an image archive" "expected an OCI layout or a docker save tarball" "$HUSK" image import /etc/hostname

# a directory of archives (appliance images baked into the host)
mkdir -p "$IMG_TMP/preload"
cp "$IMG_TMP/img.oci.tar" "$IMG_TMP/img.docker.tar" "$IMG_TMP/preload/"
check "import a directory of archives" "$HUSK" image import "$IMG_TMP/preload"
check "both preloaded images listed" bash -c "[ \$('$HUSK' image ls -q | grep -c air/) = 2 ]"

img_done
