#!/bin/bash
# The device cgroup (an eBPF filter on cgroup v2): the default devices work, a node made
# with mknod for anything else cannot be opened, linux.resources.devices can allow one, and
# linux.devices creates nodes that are allowed too.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

b=$(rt_bundle dev sh -c '
  head -c 4 /dev/zero | wc -c
  mknod /dev/mem2 c 1 1 && head -c 1 /dev/mem2 2>&1 >/dev/null
  mknod /dev/kmsg2 c 1 11 && head -c 1 /dev/kmsg2 2>&1 >/dev/null
  echo x > /dev/my-null && echo my-null-ok
  ls -l /dev/my-null | cut -c1')
rt_patch "$b" '
del c["process"]["capabilities"]          # keep CAP_MKNOD
c["linux"]["resources"] = {"devices": [{"allow": False, "access": "rwm"},
                                       {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "r"}]}
c["linux"]["devices"] = [{"path": "/dev/my-null", "type": "c", "major": 1, "minor": 3, "fileMode": 438}]
'
out=$(cd "$b" && rt run dev 2>&1)
tap_is "$(sed -n 1p <<<"$out")" 4 "default devices stay usable (/dev/zero)"
tap_like "$(sed -n 2p <<<"$out")" "mem2: Operation not permitted" "a mknod'ed /dev/mem cannot be opened"
tap_check "an allowed device (1:11 read) opens" -- bash -c "! grep -q 'kmsg2: Operation not permitted' <<<'$out'"
tap_like "$out" "my-null-ok" "a linux.devices node is created and allowed"
tap_is "$(sed -n '$p' <<<"$out")" c "and it is a character device"
tap_done
