#!/bin/bash
# husk-pause: tiny, static, reaps zombies as pid 1, exits 0 on SIGTERM/SIGINT, warns when
# it is not pid 1.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
PAUSE="$HUSK_BUILD_DIR/husk-pause"
[ -x "$PAUSE" ] || tap_skip_all "husk-pause not built"
rt_setup

size=$(stat -c %s "$PAUSE")
tap_ok $((size >= 100 * 1024)) "smaller than 100 KB (is $size bytes)"
tap_like "$(readelf -lW "$PAUSE" 2>/dev/null | grep -c INTERP)" "^0$" "static: no program interpreter"
tap_is "$(readelf -dW "$PAUSE" 2>/dev/null | grep -c NEEDED)" 0 "no shared libraries"

err=$("$PAUSE" 2>&1 >/dev/null & p=$!; sleep 0.3; kill -INT $p; wait $p; echo "rc=$?")
tap_like "$err" "warning: not running as pid 1" "warns when not pid 1"
tap_like "$err" "rc=0" "exits 0 on SIGINT"

b=$(rt_bundle pause /pause)
cp "$PAUSE" "$b/rootfs/pause"
(cd "$b" && rt run -d pause 2>"$RT_WORK/err")
tap_is "$(rt_status pause)" running "runs as a container's init"
tap_is "$(cat "$RT_WORK/err")" "" "no warning as pid 1"
# Orphans: the shell exits at once, its children are reparented to pid 1 and die.
rt exec pause sh -c 'for i in 1 2 3 4 5; do sleep 0.1 & done; exit 0'
sleep 1
tap_is "$(rt exec pause sh -c "ps -o stat,comm | grep -c '^Z'")" 0 "orphaned children were reaped (no zombies)"
pid=$(rt state pause | rt_json - '["pid"]')
rt kill pause TERM
tap_check "exits on SIGTERM" -- wait_for 5 test ! -e "/proc/$pid/stat" -o "$(rt_status pause)" = stopped
tap_is "$(rt_status pause)" stopped "the container stopped"
tap_done
