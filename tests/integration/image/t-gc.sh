#!/bin/bash
# `husk image gc`: kubelet's image GC by disk usage on a real store. Thresholds of 0%
# force it to run: least recently used images go first (a mount counts as a use), kept
# images (--keep, as the node passes its containers' images) and images used within
# --min-age stay, and not reaching the low threshold is an error that says so.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless python3
img_setup
MK="python3 $(dirname "$0")/mkimage.py"
S=$HUSK_DATA_DIR/images

for n in a b c d; do
  printf 'f etc/name %s\n' "$n" >"$IMG_TMP/$n.spec"
  $MK --tar "$IMG_TMP/$n.tar" "$IMG_TMP/$n.spec"
  $MK "$IMG_TMP/oci-$n" 1 "$IMG_TMP/$n.tar"
done
for n in a b c; do "$HUSK" image import -q --name "example.com/gc/$n:1" "$IMG_TMP/oci-$n" >/dev/null; done
sleep 1.1
MNT=$IMG_TMP/mnt
mkdir -p "$MNT"
check "mount a (a use: a becomes the most recent)" "$HUSK" image mount example.com/gc/a:1 "$MNT"
IMG_MOUNTS+=("$MNT")
"$HUSK" image unmount "$MNT"

check "disk not at the high threshold: nothing removed" bash -c \
  "'$HUSK' image gc --high-threshold 100 --low-threshold 0 --min-age 0 | grep -q ' 0 images removed'"
check "all three images still there" test "$("$HUSK" image ls -q | wc -l)" = 3

"$HUSK" image gc --high-threshold 0 --low-threshold 0 --min-age 0 --keep example.com/gc/b:1 \
  >"$IMG_TMP/gc.out" 2>"$IMG_TMP/gc.err"
rc=$?
check "cannot reach 0%: an error (rc=$rc)" test $rc = 1
check "the error says why" grep -q 'still above the low threshold 0% after removing 2 images (1 kept' "$IMG_TMP/gc.err"
check "least recently used first: c, then a" \
  test "$(grep '^removed' "$IMG_TMP/gc.out" | tr '\n' ' ')" = "removed example.com/gc/c:1 removed example.com/gc/a:1 "
check "the kept image stays" bash -c "[ \"\$('$HUSK' image ls -q)\" = example.com/gc/b:1 ]"
check "its blobs stay, the others' are freed (manifest, config, 1 layer)" test "$(ls "$S/blobs/sha256" | wc -l)" = 3
check "the kept image still mounts" "$HUSK" image mount example.com/gc/b:1 "$MNT"
check "with its content" bash -c "[ \"\$(cat '$MNT/etc/name')\" = b ]"
"$HUSK" image unmount "$MNT"

"$HUSK" image import -q --name example.com/gc/d:1 "$IMG_TMP/oci-d" >/dev/null
check "images used within --min-age stay" bash -c \
  "'$HUSK' image gc --high-threshold 0 --low-threshold 0 --min-age 3600 2>&1 | grep -q 'after removing 0 images (2 kept'"
check "both still listed" test "$("$HUSK" image ls -q | wc -l)" = 2
expect_fail "bad threshold refused" "--low-threshold: '101' is not a number in range" \
  "$HUSK" image gc --low-threshold 101

img_done
