#!/bin/bash
# Volume mounts the node agent makes (secret and projected on tmpfs, emptyDir Memory with
# sizeLimit, refresh without stacking mounts, fsGroup, teardown leaving no mount), checked
# by a C driver inside a private mount namespace so nothing leaks to the host.
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
require_root
require_cmd unshare
check="$HUSK_BUILD_DIR/tests/integration/agent/vol-check"
[ -x "$check" ] || tap_skip_all "vol-check not built"
exec unshare -m --propagation private "$check"
