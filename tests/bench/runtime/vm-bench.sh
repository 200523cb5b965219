#!/bin/bash
# The runtime benchmark against crun, which refuses this host's hybrid cgroups: inside the
# VM lane (tests/vm/run), whose kernel has a pure cgroup v2. Prints the figures (TAP with
# comments); asserts only that every runtime ran its containers.
#   usage: vm-bench.sh [ITERATIONS]   (HUSK_BUILD_DIR: where husk-runtime is; default .)
set -e
: "${HUSK_BUILD_DIR:=$PWD}"
here=$(cd "$(dirname "$0")" && pwd)
extra=
for t in /usr/bin/crun /usr/sbin/runc; do
  [ -x "$t" ] && extra="$extra $t:/usr/bin/${t##*/}"
done
nfile=$(mktemp /tmp/husk-vm-bench-n.XXXXXX)
trap 'rm -f "$nfile"' EXIT
echo "${1:-20}" > "$nfile"
HUSK_VM_EXTRA="$nfile:/etc/husk-vm/bench-n$extra" \
  "$here/../../vm/run" --bin-dir "$HUSK_BUILD_DIR" --timeout "${HUSK_VM_TIMEOUT:-600}" \
  "$here/vm-guest-bench.sh"
