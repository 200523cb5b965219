#!/bin/bash
# Container logs end to end without a runtime: real processes' stdout/stderr through the
# agent's pump into CRI files, read back as `kubectl logs` (all, tail, --previous, -f until
# the process exits). `t-logs.sh --bench` also prints the pump's throughput against cat.
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
check="$HUSK_BUILD_DIR/tests/integration/agent/log-check"
[ -x "$check" ] || tap_skip_all "log-check not built"
exec "$check" "$@"
