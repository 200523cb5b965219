#!/bin/bash
# The etcd store backend against a real 3-member etcd cluster on 127.0.0.1: CRUD, compares,
# txns, paged lists, 410s after compaction, the concurrent writers/watchers property test,
# and failover with one member killed (SIGKILL) mid-test.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${HUSK_BUILD_DIR:=$PWD}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/store/etcd-cluster.sh"
require_cmd etcd etcdctl ss certtool
check="$HUSK_BUILD_DIR/tests/integration/store/etcd-check"
prop="$HUSK_BUILD_DIR/tests/unit/test-store-watch"
[ -x "$check" ] && [ -x "$prop" ] || tap_skip_all "build the check programs first (make check TESTS=)"

dir=$(husk_tmpdir)
on_exit "rm -rf '$dir'" # husk_tmpdir runs in a subshell: its own on_exit is lost
on_exit etcd_cluster_stop
etcd_cluster_start "$dir" || { echo "Bail out! etcd cluster did not come up"; exit 1; }
tap_diag "etcd cluster at $ETCD_ENDPOINTS"

# Sub-test output is folded into this script's TAP stream, renumbered; a sub-test that
# exits non-zero (crash, sanitizer report) is a failure too.
run_sub() {
  local line out rc
  out=$("$@" 2>&1)
  rc=$?
  while IFS= read -r line; do
    case $line in
    "ok "*) tap_ok 0 "${line#ok * - }" ;;
    "not ok "*) tap_ok 1 "${line#not ok * - }" ;;
    "1.."*) ;;
    "Bail out!"*) tap_ok 1 "$line" ;;
    *) echo "$line" ;;
    esac
  done <<<"$out"
  [ $rc = 0 ] || tap_ok 1 "$(basename "$1") exited with status $rc"
}

HUSK_STORE_URL=$ETCD_URL run_sub "$prop"
HUSK_STORE_URL=$ETCD_URL HUSK_ETCD_KILL_PID=${ETCD_PIDS[0]} run_sub "$check"

# TLS with client certificates: a single member that refuses clients without a cert.
if etcd_tls_member_start "$dir/tls"; then
  HUSK_STORE_URL=etcds://$ETCD_TLS_ENDPOINT HUSK_STORE_TLS_CA=$ETCD_TLS_CA \
    HUSK_STORE_TLS_CERT=$ETCD_TLS_CERT HUSK_STORE_TLS_KEY=$ETCD_TLS_KEY run_sub "$check"
  out=$(HUSK_STORE_URL=etcds://$ETCD_TLS_ENDPOINT HUSK_STORE_TLS_CA=$ETCD_TLS_CA "$check" 2>&1)
  tap_like "$out" "Bail out!.*etcd" "without a client certificate the store refuses to open"
else
  tap_ok 1 "TLS etcd member did not start"
fi
tap_done
