#!/bin/bash
# Writable snapshots (a container's rootfs): overlayfs of the image layers plus a private
# upper dir; changes survive unmount/remount, never touch the layers, keep the layers from
# garbage collection after the image is removed, and go away with --remove.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless umoci python3 busybox
img_setup
img_build_image "$IMG_TMP/oci" v1
"$HUSK" image import -q --name local/snap:v1 "$IMG_TMP/oci" >/dev/null
A=$IMG_TMP/a B=$IMG_TMP/b
mkdir -p "$A" "$B"
IMG_MOUNTS+=("$A" "$B")

check "mount writable snapshot c1" "$HUSK" image mount --snapshot c1 local/snap:v1 "$A"
check "mount writable snapshot c2 of the same image" "$HUSK" image mount --snapshot c2 local/snap:v1 "$B"
check "write in c1" bash -c "echo snapmarker7f3a >'$A/etc/snapfile' && rm '$A/etc/passwd'"
check "c2 does not see c1's changes" test ! -e "$B/etc/snapfile" -a -e "$B/etc/passwd"
check "a shell runs in the snapshot and writes" chroot "$A" /bin/sh -c 'echo ran >/tmp/ran'
check "layers untouched" bash -c "! grep -rqs snapmarker7f3a '$HUSK_DATA_DIR/images/layers/sha256' && [ -z \"\$(find '$HUSK_DATA_DIR/images/layers/sha256' -name snapfile)\" ]"
check "unmount c1 (changes kept)" "$HUSK" image unmount "$A"
check "remount c1 sees its changes" "$HUSK" image mount --snapshot c1 local/snap:v1 "$A"
check "c1 change persisted" bash -c "[ \"\$(cat '$A/etc/snapfile')\" = snapmarker7f3a ] && [ ! -e '$A/etc/passwd' ]"
check "rm the image while snapshots exist" "$HUSK" image rm -q local/snap:v1
check "snapshot still works after image rm" bash -c "[ \"\$(cat '$A/etc/image-tag')\" = v1 ]"
check "layers kept for live snapshots" test -n "$(ls "$HUSK_DATA_DIR/images/layers/sha256")"
check "unmount c1 --remove" "$HUSK" image unmount --remove "$A"
check "c1 upper dir deleted" test ! -e "$HUSK_DATA_DIR/images/snapshots/c1"
check "unmount c2 --remove" "$HUSK" image unmount --remove "$B"
check "prune frees the layers" "$HUSK" image prune
check "no layers left" test -z "$(ls "$HUSK_DATA_DIR/images/layers/sha256")"
# 50 layers: absolute lowerdir paths exceed the kernel's one-page limit for mount options
layers=()
for i in $(seq 1 50); do
  printf 'f layer%02d/file %d\nf top %d\n' "$i" "$i" "$i" >"$IMG_TMP/s$i.spec"
  python3 "$(dirname "$0")/mkimage.py" --tar "$IMG_TMP/s$i.tar" "$IMG_TMP/s$i.spec"
  layers+=("$IMG_TMP/s$i.tar")
done
python3 "$(dirname "$0")/mkimage.py" "$IMG_TMP/many" many --compress none "${layers[@]}"
check "import a 50-layer image" "$HUSK" image import --name local/many:1 "$IMG_TMP/many"
check "mount 50 layers (relative lowerdir fallback)" "$HUSK" image mount local/many:1 "$A"
check "top layer wins, all layers visible" bash -c "[ \"\$(cat '$A/top')\" = 50 ] && [ \$(ls '$A' | grep -c '^layer') = 50 ]"
check "unmount 50 layers" "$HUSK" image unmount "$A"

# a read-only view unmounted behind husk's back does not pin its layers forever
check "ls -o json reports the image size" bash -c "'$HUSK' image ls -o json | python3 -c 'import json,sys; assert json.load(sys.stdin)[0][\"size\"] > 50'"
check "mount read-only view" "$HUSK" image mount local/many:1 "$A"
umount "$A"
check "rm the image" "$HUSK" image rm -q local/many:1
check "stale read-only record dropped, layers freed" test -z "$(ls "$HUSK_DATA_DIR/images/layers/sha256")" -a -z "$(ls "$HUSK_DATA_DIR/images/snapshots")"

expect_fail "bad snapshot id refused" "snapshot id '../x'" "$HUSK" image mount --snapshot ../x busybox "$A"

img_done
