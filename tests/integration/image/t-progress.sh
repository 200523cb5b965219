#!/bin/bash
# What a person and a log see while pulling, and a pull killed in the middle of a download:
# a progress bar (bytes, rate, blobs) on a terminal, log lines otherwise; after `kill -9`
# the half-downloaded blob is never trusted, and the next pull resumes and verifies it.
# The registry is token-registry.py sending blobs slowly (SLOW=1).
set -u
. "$(dirname "$0")/lib.sh"
img_skip_unless python3 busybox script
img_setup
MK="python3 $(dirname "$0")/mkimage.py"
L=$IMG_TMP/oci

img_busybox_tar "$IMG_TMP/bb.tar"
mkdir -p "$IMG_TMP/big/opt"
head -c 6000000 /dev/urandom >"$IMG_TMP/big/opt/random" # incompressible: ~6 MB on the wire
tar --numeric-owner -C "$IMG_TMP/big" -cf "$IMG_TMP/big.tar" opt
$MK "$L" slow "$IMG_TMP/bb.tar" "$IMG_TMP/big.tar"
BIG=$(python3 - "$L" <<'PY'
import json, sys
l = sys.argv[1]
m = json.load(open(f"{l}/index.json"))["manifests"][0]
man = json.load(open(f"{l}/blobs/sha256/{m['digest'][7:]}"))
print(max(man["layers"], key=lambda x: x["size"])["digest"][7:])
PY
)

env SLOW=1 python3 "$(dirname "$0")/token-registry.py" "$L" slow/img alice s3cret "$IMG_TMP/port" &
IMG_PIDS+=($!)
for i in $(seq 1 50); do [ -s "$IMG_TMP/port" ] && break; sleep 0.1; done
T=127.0.0.1:$(cat "$IMG_TMP/port")
PULL=("$HUSK" image pull --username alice --password s3cret "$T/slow/img:slow")
STORE=$HUSK_DATA_DIR/images

# 1. kill -9 in the middle of the big blob's download
"${PULL[@]}" >"$IMG_TMP/killed.log" 2>&1 &
pid=$!
for i in $(seq 1 600); do # up to 30 s: the machine may be loaded
  [ "$(stat -c %s "$STORE/tmp/$BIG.partial" 2>/dev/null || echo 0)" -gt 1000000 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
PART=$(stat -c %s "$STORE/tmp/$BIG.partial" 2>/dev/null || echo 0)
check "killed mid-download (partial $PART of $(stat -c %s "$L/blobs/sha256/$BIG") bytes)" \
  test "$PART" -gt 0 -a "$PART" -lt "$(stat -c %s "$L/blobs/sha256/$BIG")"
check "the half blob is not in the store" test ! -e "$STORE/blobs/sha256/$BIG"
check "the half blob is not unpacked" test ! -e "$STORE/layers/sha256/$BIG"
check "no image recorded" bash -c "! '$HUSK' image ls -q | grep -q slow/img"
check "the partial holds a prefix of the blob" cmp -n "$PART" "$STORE/tmp/$BIG.partial" "$L/blobs/sha256/$BIG"

# 2. the next pull, not on a terminal: log lines; it resumes and verifies
"${PULL[@]}" >"$IMG_TMP/logs.out" 2>"$IMG_TMP/logs.err" </dev/null
check "pull after the crash succeeds" test $? = 0
check "it resumed the partial blob" grep -q "digest=sha256:$BIG .*resume_from=[1-9]" "$IMG_TMP/logs.err"
check "the resumed blob hashes to its digest" bash -c "[ \"\$(sha256sum <'$STORE/blobs/sha256/$BIG' | cut -d' ' -f1)\" = $BIG ]"
check "not a terminal: a log line per blob downloaded" grep -q 'msg="blob downloaded".*size=' "$IMG_TMP/logs.err"
check "not a terminal: no progress bar" bash -c "! grep -q 'MB/s' '$IMG_TMP/logs.err'"

# 3. on a terminal (script gives the pull a pty): a bar with bytes, rate and blobs
"$HUSK" image rm -q "$T/slow/img:slow" >/dev/null
script -qec "$(printf '%q ' "${PULL[@]}")" /dev/null >"$IMG_TMP/tty.out" 2>&1 </dev/null
check "pull on a terminal succeeds" grep -q "$T/slow/img:slow" "$IMG_TMP/tty.out"
check "terminal: progress bar redrawn in place" bash -c "[ \$(tr '\r' '\n' <'$IMG_TMP/tty.out' | grep -c '^\[[=> ]*\]') -ge 3 ]"
check "terminal: bytes, rate and blobs shown" grep -qE '[0-9.]+/[0-9.]+ MB +[0-9.]+ MB/s +3/3 blobs' "$IMG_TMP/tty.out"
check "terminal: no log lines between the bar's redraws" bash -c "! grep -q 'msg=\"blob downloaded\"' '$IMG_TMP/tty.out'"

img_done
