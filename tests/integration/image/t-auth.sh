#!/bin/bash
# Registry authentication and TLS: docker-registry with TLS (a CA made here) and htpasswd
# basic auth; credentials from flags and from a docker config.json; a 401 without
# credentials; an untrusted certificate; the Bearer token challenge flow (a small token
# registry in Python). Each failure is a clear error and leaves nothing behind.
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless docker-registry skopeo umoci openssl python3 busybox
img_setup
img_registry sec tls
R=$REG_sec
CA=$IMG_TMP/registry-sec/cert.pem

img_build_image "$IMG_TMP/oci" v1
check "push to the TLS + htpasswd registry" img_push "$IMG_TMP/oci" v1 "docker://$R/sec/img:v1" \
  --dest-creds husk:secret --dest-cert-dir "$IMG_TMP/registry-sec"

expect_fail "401 without credentials" "authentication required (401, Basic) and no credentials configured" \
  "$HUSK" image pull --ca-file "$CA" "$R/sec/img:v1"
expect_fail "wrong password refused" "credentials of 'husk' refused" \
  "$HUSK" image pull --ca-file "$CA" --username husk --password wrong "$R/sec/img:v1"
expect_fail "untrusted certificate" "certificate" \
  "$HUSK" image pull --username husk --password secret "$R/sec/img:v1"
check "nothing stored after the failures" test -z "$(ls "$HUSK_DATA_DIR/images/blobs/sha256")"

check "pull with --username/--password and --ca-file" \
  "$HUSK" image pull --ca-file "$CA" --username husk --password secret "$R/sec/img:v1"
"$HUSK" image rm -q "$R/sec/img:v1"

mkdir -p "$IMG_TMP/dockercfg"
printf '{"auths":{"https://%s":{"auth":"%s"}}}\n' "$R" "$(printf husk:secret | base64)" >"$IMG_TMP/dockercfg/config.json"
check "pull with credentials from --authfile (docker config.json auths)" \
  "$HUSK" image pull --ca-file "$CA" --authfile "$IMG_TMP/dockercfg/config.json" "$R/sec/img:v1"
"$HUSK" image rm -q "$R/sec/img:v1"
check "pull with credentials from \$DOCKER_CONFIG" \
  env DOCKER_CONFIG="$IMG_TMP/dockercfg" "$HUSK" image pull --ca-file "$CA" "$R/sec/img:v1"
MNT=$IMG_TMP/mnt
mkdir -p "$MNT"
IMG_MOUNTS+=("$MNT")
check "mount the image pulled over TLS" "$HUSK" image mount "$R/sec/img:v1" "$MNT"
check "content over TLS" bash -c "[ \"\$(cat '$MNT/etc/image-tag')\" = v1 ]"
"$HUSK" image unmount "$MNT"

# Bearer token flow
python3 "$(dirname "$0")/token-registry.py" "$IMG_TMP/oci" tok/img alice s3cret "$IMG_TMP/tokport" &
IMG_PIDS+=($!)
for i in $(seq 1 50); do [ -s "$IMG_TMP/tokport" ] && break; sleep 0.1; done
T=127.0.0.1:$(cat "$IMG_TMP/tokport")
expect_fail "Bearer: anonymous token refused" "authentication required to pull tok/img and no credentials" \
  "$HUSK" image pull "$T/tok/img:v1"
expect_fail "Bearer: wrong credentials refused" "refused the credentials of 'alice'" \
  "$HUSK" image pull --username alice --password nope "$T/tok/img:v1"
check "Bearer: pull with a token from the challenge's realm" \
  "$HUSK" image pull --username alice --password s3cret "$T/tok/img:v1"
check "Bearer: image listed" bash -c "'$HUSK' image ls -q | grep -qx '$T/tok/img:v1'"

# downloads cut in the middle are resumed with Range requests within the same pull
"$HUSK" image rm -q "$R/sec/img:v1" "$T/tok/img:v1" >/dev/null
env FLAKY=1 python3 "$(dirname "$0")/token-registry.py" "$IMG_TMP/oci" tok/img alice s3cret "$IMG_TMP/flakyport" &
IMG_PIDS+=($!)
for i in $(seq 1 50); do [ -s "$IMG_TMP/flakyport" ] && break; sleep 0.1; done
F=127.0.0.1:$(cat "$IMG_TMP/flakyport")
"$HUSK" image pull --username alice --password s3cret "$F/tok/img:v1" >"$IMG_TMP/flaky.log" 2>&1
check "pull through dropped connections succeeds" test $? = 0
check "the cut blob was resumed, not restarted" grep -q 'resume_from=[1-9]' "$IMG_TMP/flaky.log"
check "interruption reported" grep -q 'blob download interrupted, resuming' "$IMG_TMP/flaky.log"
check "resumed image content" "$HUSK" image mount "$F/tok/img:v1" "$MNT"
check "resumed image reads back" bash -c "[ \"\$(cat '$MNT/etc/image-tag')\" = v1 ]"
"$HUSK" image unmount "$MNT"

img_done
