#!/bin/bash
# Bad inputs from a real registry: a corrupted blob, a manifest that does not match its
# digest, tar entries escaping the layer with ../ and through a symlink, a truncated gzip
# layer. Each is a clear error naming what was wrong, and the store stays consistent.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless docker-registry skopeo python3 busybox
img_setup
img_registry plain
R=$REG_plain
MK="python3 $(dirname "$0")/mkimage.py"
L=$IMG_TMP/bad
REGDATA=$IMG_TMP/registry-plain/data/docker/registry/v2/blobs/sha256

store_consistent() { # every stored blob hashes to its name; nothing half-done is left
  local f bad=0
  for f in "$HUSK_DATA_DIR"/images/blobs/sha256/*; do
    [ -e "$f" ] || continue
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "bad blob $f"; bad=1; }
  done
  [ -z "$(ls "$HUSK_DATA_DIR/images/layers/tmp")" ] || { echo "layers/tmp not empty"; bad=1; }
  ls "$HUSK_DATA_DIR/images/tmp" | grep -v '\.partial$' && bad=1
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$HUSK_DATA_DIR/images/refs.json" 2>/dev/null ||
    [ ! -e "$HUSK_DATA_DIR/images/refs.json" ] || { echo "refs.json unreadable"; bad=1; }
  return $bad
}
layer_digest() { # layer_digest TAG N -> hex of layer N of TAG in $L
  python3 - "$L" "$1" "$2" <<'EOF'
import json, sys
l, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
idx = json.load(open(f"{l}/index.json"))
m = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
man = json.load(open(f"{l}/blobs/sha256/{m['digest'][7:]}"))
print(man["layers"][n]["digest"][7:])
EOF
}
manifest_digest() {
  python3 -c 'import json,sys; print([m for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]==sys.argv[2]][0]["digest"][7:])' "$L/index.json" "$1"
}
not_listed() { ! "$HUSK" image ls -q | grep -qF "$1"; }

img_busybox_tar "$IMG_TMP/bb.tar"
# every image gets its own layer: the registry shares equal blobs between repositories
uniq_tar() { # uniq_tar NAME -> $IMG_TMP/NAME.base.tar: busybox plus a file naming it
  mkdir -p "$IMG_TMP/u-$1/etc" && echo "$1" >"$IMG_TMP/u-$1/etc/case"
  cp "$IMG_TMP/bb.tar" "$IMG_TMP/$1.base.tar"
  tar --numeric-owner -C "$IMG_TMP/u-$1" -rf "$IMG_TMP/$1.base.tar" etc/case
}

# 1. a corrupted blob (same size, different bytes)
uniq_tar corrupt
$MK "$L" corrupt "$IMG_TMP/corrupt.base.tar"
img_push "$L" corrupt "docker://$R/bad/corrupt:1"
D=$(layer_digest corrupt 0)
printf 'XXXXXXXX' | dd of="$REGDATA/${D:0:2}/$D/data" bs=1 seek=1000 conv=notrunc status=none
expect_fail "corrupted blob: error names the digest" "blob sha256:$D: digest mismatch" \
  "$HUSK" image pull "$R/bad/corrupt:1"
check "corrupted blob: not kept" test ! -e "$HUSK_DATA_DIR/images/blobs/sha256/$D" -a ! -e "$HUSK_DATA_DIR/images/tmp/$D.partial"
check "corrupted blob: image not listed" not_listed bad/corrupt
check "corrupted blob: store consistent" store_consistent

# 2. a manifest that does not hash to its digest
uniq_tar wrong
$MK "$L" wrong "$IMG_TMP/wrong.base.tar"
img_push "$L" wrong "docker://$R/bad/wrong:1"
MD=$(manifest_digest wrong)
printf ' ' >>"$REGDATA/${MD:0:2}/$MD/data"
expect_fail "manifest by tag: registry digest differs from content" "registry says sha256:$MD, content hashes to" \
  "$HUSK" image pull "$R/bad/wrong:1"
expect_fail "manifest by digest: content does not match" "manifest sha256:$MD: digest mismatch" \
  "$HUSK" image pull "$R/bad/wrong@sha256:$MD"
check "wrong manifest: not kept" test ! -e "$HUSK_DATA_DIR/images/blobs/sha256/$MD"
expect_fail "unknown digest" "manifest unknown" \
  "$HUSK" image pull "$R/bad/wrong@sha256:0000000000000000000000000000000000000000000000000000000000000000"
expect_fail "unknown repository" "(HTTP 404" "$HUSK" image pull "$R/bad/nothing:1"
check "wrong manifest: store consistent" store_consistent

# 3. tar entries escaping the layer directory
ESC=$IMG_TMP/escape-target
mkdir -p "$ESC"
printf 'f ok x\nf ../../../../../../..%s/dotdot x\n' "$ESC" >"$IMG_TMP/dotdot.spec"
$MK --tar "$IMG_TMP/dotdot.tar" "$IMG_TMP/dotdot.spec"
uniq_tar dotdot
$MK "$L" dotdot "$IMG_TMP/dotdot.base.tar" "$IMG_TMP/dotdot.tar"
img_push "$L" dotdot "docker://$R/bad/dotdot:1"
expect_fail "../ entry refused, naming the entry" "tar entry '../../../../../../..$ESC/dotdot': '..' in path refused" \
  "$HUSK" image pull "$R/bad/dotdot:1"
printf 'd etc\nl etc/link %s\nf etc/link/via-symlink x\n' "$ESC" >"$IMG_TMP/link.spec"
$MK --tar "$IMG_TMP/link.tar" "$IMG_TMP/link.spec"
uniq_tar link
$MK "$L" link "$IMG_TMP/link.base.tar" "$IMG_TMP/link.tar"
img_push "$L" link "docker://$R/bad/link:1"
expect_fail "entry through a symlink refused, naming it" "tar entry 'etc/link/via-symlink': parent 'etc/link' is a symlink" \
  "$HUSK" image pull "$R/bad/link:1"
check "nothing written outside the layer" test -z "$(ls -A "$ESC")"
DD=$(layer_digest dotdot 1)
check "refused layer not unpacked" test ! -e "$HUSK_DATA_DIR/images/layers/sha256/$DD"
check "escaping images not listed" not_listed bad/
check "escapes: store consistent" store_consistent

# 4. a truncated gzip layer (its digest matches: the damage is in the stream)
gzip -c "$IMG_TMP/bb.tar" >"$IMG_TMP/trunc.tar.gz"
truncate -s $(($(stat -c %s "$IMG_TMP/trunc.tar.gz") / 2)) "$IMG_TMP/trunc.tar.gz"
$MK "$L" trunc "$IMG_TMP/trunc.tar.gz"
img_push "$L" trunc "docker://$R/bad/trunc:1"
TD=$(layer_digest trunc 0)
expect_fail "truncated gzip: error names the layer" "layer sha256:$TD" "$HUSK" image pull "$R/bad/trunc:1"
check "truncated layer not unpacked" test ! -e "$HUSK_DATA_DIR/images/layers/sha256/$TD"
check "truncated: store consistent" store_consistent

# 5. a layer whose blob matches its digest but whose uncompressed content is not the
#    config's diff_id
BAD_ID=sha256:$(printf 'not this layer' | sha256sum | cut -d' ' -f1)
uniq_tar diffid
$MK "$L" diffid --bad-diff-id 0 "$IMG_TMP/diffid.base.tar"
img_push "$L" diffid "docker://$R/bad/diffid:1"
DI=$(layer_digest diffid 0)
REAL_ID=sha256:$(sha256sum <"$IMG_TMP/diffid.base.tar" | cut -d' ' -f1)
expect_fail "wrong diff_id: error names both digests" \
  "layer sha256:$DI: diff_id mismatch: image config says $BAD_ID, uncompressed content hashes to $REAL_ID" \
  "$HUSK" image pull "$R/bad/diffid:1"
check "wrong diff_id: nothing of the layer kept (dir, record, blob)" \
  test ! -e "$HUSK_DATA_DIR/images/layers/sha256/$DI" -a ! -e "$HUSK_DATA_DIR/images/layers/diffid/$DI" \
  -a ! -e "$HUSK_DATA_DIR/images/blobs/sha256/$DI"
check "wrong diff_id: image not listed" not_listed bad/diffid
check "wrong diff_id: store consistent" store_consistent
# the same blob, already unpacked for a correct image, is checked against its recorded diff_id
uniq_tar shared
$MK "$L" shared-ok "$IMG_TMP/shared.base.tar"
$MK "$L" shared-bad --bad-diff-id 0 "$IMG_TMP/shared.base.tar"
img_push "$L" shared-ok "docker://$R/bad/shared-ok:1"
img_push "$L" shared-bad "docker://$R/bad/shared-bad:1"
SH=$(layer_digest shared-ok 0)
check "correct image with the layer pulls" "$HUSK" image pull "$R/bad/shared-ok:1"
expect_fail "wrong diff_id for an unpacked layer refused" "layer sha256:$SH: diff_id mismatch: image config says $BAD_ID" \
  "$HUSK" image pull "$R/bad/shared-bad:1"
check "the correct image keeps its layer" test -d "$HUSK_DATA_DIR/images/layers/sha256/$SH" -a -e "$HUSK_DATA_DIR/images/blobs/sha256/$SH"
"$HUSK" image rm -q "$R/bad/shared-ok:1" >/dev/null

# after all this, a good image still pulls and prune leaves only what it needs
uniq_tar good
$MK "$L" good "$IMG_TMP/good.base.tar"
img_push "$L" good "docker://$R/bad/good:1"
check "good image pulls after failures" "$HUSK" image pull "$R/bad/good:1"
check "prune" "$HUSK" image prune
check "only the good image's blobs remain (manifest, config, 1 layer)" \
  test "$(ls "$HUSK_DATA_DIR/images/blobs/sha256" | wc -l)" = 3
check "final store consistent" store_consistent

img_done
