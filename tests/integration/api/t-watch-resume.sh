#!/bin/bash
# Watchers that resume like client-go's reflector count every event exactly once (issue 6).
# The server ends every watch stream after 1 s (timeoutSeconds=1), the first ones before any
# update (the bench waits 2 s), while 300 updates happen;
# each of api-bench's 40 watchers must resume from its last resourceVersion several times and
# still receive every update once (each update carries its number, so gaps and repeats show).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd curl
BENCH=$HUSK_BUILD_DIR/tests/bench/api/api-bench
[ -x "$BENCH" ] || { echo "Bail out! $BENCH not built (make check TESTS=)"; exit 1; }
DATA=$(husk_tmpdir)
husk_master_launch --scheduler=false --controllers=false
API_PID=$MASTER_PID

out=$(API_BENCH_WATCH_TIMEOUT=1 API_BENCH_WATCH_DELAY=2 API_BENCH_WATCH_GRACE=60 "$BENCH" "$API_URL" "$API_TOKEN" watch 40 300 \
  2>"$DATA/bench.err")
rc=$?
tap_diag "$(echo "$out" | tr '\n' ' ')"
tap_is "$rc" 0 "api-bench watch exits 0 (every watcher got every update)"
tap_like "$out" 'fewest received by one watcher 300 of 300' "every watcher received all 300 updates"
tap_like "$out" 'resumed from their last resourceVersion: 40 \(of them after a 410: 0, 0 events lost\)' \
  "all 40 watchers resumed (streams of 1 s), none was told 410"
tap_like "$(grep -c 'resumes from' "$DATA/bench.err")" '^[0-9]{2,}$' "the resumes and their reasons are printed"
tap_like "$(grep -m1 'resumes from' "$DATA/bench.err")" 'stream closed after [0-9]+ events' \
  "... a stream the server ended at timeoutSeconds"
tap_is "$(grep -c 'duplicates' "$DATA/bench.err")" 0 "no watcher came up short"
tap_done
