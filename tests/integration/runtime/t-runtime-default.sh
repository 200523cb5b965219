#!/bin/bash
# `spec --runtime-default`: Docker's default capabilities and seccomp profile (Kubernetes'
# RuntimeDefault). Seen from inside: the capability set, and syscalls the profile refuses
# even to a process that has every capability.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

b="$RT_WORK/rd"
mkdir -p "$b"
husk_busybox_rootfs "$b/rootfs"
(cd "$b" && "$RT_BIN" spec --runtime-default)
rt_patch "$b" '
c["process"]["terminal"] = False
c["root"]["readonly"] = False
c["process"]["args"] = ["sh", "-c", "grep CapEff /proc/self/status; unshare -u true 2>&1; hostname other 2>&1; mkdir /tmp/ok && echo mkdir-ok; chroot / true && echo chroot-ok"]
'
out=$(cd "$b" && rt run rd 2>&1)
# Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE
# NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
tap_like "$out" "CapEff:	00000000a80425fb" "Docker's default capability set"
tap_like "$out" "unshare.*Operation not permitted" "unshare is refused"
tap_like "$out" "hostname.*Operation not permitted" "sethostname is refused"
tap_like "$out" "mkdir-ok" "ordinary syscalls work"
tap_like "$out" "chroot-ok" "chroot allowed with CAP_SYS_CHROOT"

# With every capability, the profile (made for Docker's set) still refuses them: it is the
# filter, not the capabilities, that says no.
rt_patch "$b" '
del c["process"]["capabilities"]
c["process"]["args"] = ["sh", "-c", "grep CapEff /proc/self/status; unshare -u true 2>&1; hostname other 2>&1; echo end"]
'
out=$(cd "$b" && rt run rd2 2>&1)
eff=$(sed -n 's/^CapEff:\t//p' <<<"$out")
tap_is "$(( (0x$eff >> 21) & 1 ))" 1 "the process has CAP_SYS_ADMIN"
tap_like "$out" "unshare.*Operation not permitted" "unshare still refused (seccomp)"
tap_like "$out" "hostname.*Operation not permitted" "sethostname still refused (seccomp)"
tap_done
