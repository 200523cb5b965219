#!/bin/bash
# The shared test helpers do what later tests rely on.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
require_root
require_cmd runc umoci ip python3

tmp=$(husk_tmpdir)

husk_busybox_rootfs "$tmp/rootfs"
tap_check "busybox rootfs has a shell" -- test -x "$tmp/rootfs/bin/sh"
out=$(chroot "$tmp/rootfs" /bin/sh -c 'echo hi from $(cat /etc/hostname)' 2>&1)
tap_is "$out" "hi from husk" "rootfs works under chroot"

husk_bundle "$tmp/bundle" /bin/echo bundle-ran
tap_is "$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["process"]["args"]))' "$tmp/bundle/config.json")" \
  "/bin/echo bundle-ran" "bundle config.json carries the command"
out=$(cd "$tmp/bundle" && timeout 30 runc --root "$tmp/runc" run "husk-t$$" 2>&1)
tap_is "$out" "bundle-ran" "runc runs the bundle"

husk_oci_layout "$tmp/layout" v1 >/dev/null 2>&1
tap_check "OCI layout has index.json" -- test -f "$tmp/layout/index.json"
tap_check "umoci can read the image back" -- umoci stat --image "$tmp/layout:v1"
umoci unpack --image "$tmp/layout:v1" "$tmp/unpacked" >/dev/null 2>&1
tap_check "unpacked image holds busybox" -- test -x "$tmp/unpacked/rootfs/bin/busybox"

ns=$(husk_netns_new a)
tap_check "netns created" -- ip netns exec "$ns" true
routes=$(ip -n "$ns" route show 2>&1)
tap_is "$routes" "" "netns has no route out"
# what a script made, even inside $(...), is gone when it exits
out=$(bash -c ". '$top_srcdir/tests/lib/common.sh'; ns=\$(husk_netns_new sub); d=\$(husk_tmpdir); echo \$ns \$d" 2>/dev/null)
sub=${out% *} subdir=${out#* }
tap_ok $([ -n "$sub" ] && [ -n "$subdir" ]; echo $?) "a child script made a netns and a temp dir: $out"
tap_check "its netns is gone after it exits" -- bash -c "! ip netns list | grep -q '^$sub\\b'"
tap_check "its temp dir is gone after it exits" -- test ! -e "$subdir"

tap_done
