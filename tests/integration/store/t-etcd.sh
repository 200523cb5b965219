#!/bin/bash
# The etcd store backend against a real 3-member etcd cluster on 127.0.0.1: CRUD, compares,
# txns, paged lists, 410s after compaction, the concurrent writers/watchers property test,
# and failover with one member killed (SIGKILL) mid-test.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/store/etcd-cluster.sh"
require_cmd etcd etcdctl curl ss
check="$HUSK_BUILD_DIR/tests/integration/store/etcd-check"
prop="$HUSK_BUILD_DIR/tests/unit/test-store-watch"
[ -x "$check" ] && [ -x "$prop" ] || tap_skip_all "build the check programs first (make check TESTS=)"

dir=$(husk_tmpdir)
on_exit etcd_cluster_stop
etcd_cluster_start "$dir" || { echo "Bail out! etcd cluster did not come up"; exit 1; }
tap_diag "etcd cluster at $ETCD_ENDPOINTS"

# Sub-test output is folded into this script's TAP stream, renumbered.
run_sub() {
  local line rc
  while IFS= read -r line; do
    case $line in
    "ok "*) tap_ok 0 "${line#ok * - }" ;;
    "not ok "*) tap_ok 1 "${line#not ok * - }" ;;
    "1.."*) ;;
    *) echo "$line" ;;
    esac
  done < <("$@" 2>&1)
}

HUSK_STORE_URL=$ETCD_URL run_sub "$prop"
HUSK_STORE_URL=$ETCD_URL HUSK_ETCD_KILL_PID=${ETCD_PIDS[0]} run_sub "$check"
tap_done
