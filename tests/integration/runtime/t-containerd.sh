#!/bin/bash
# containerd drives husk-runtime through its runc shim (io.containerd.runc.v2 with the
# runtime option BinaryName, `ctr run --runc-binary`): run with exit status and output,
# run -d, task exec, kill, delete. The test starts its own containerd (own root, state,
# sockets under a temp dir, no CRI plugin) and stops it; the image comes from
# `ctr image import` of a local OCI layout (no registry).
# This host: cgroup v2 has no controllers and ctr's default spec sets cpu.shares, so
# containerd (and through it the shim and husk-runtime) runs with HUSK_RUNTIME_SKIP_LIMITS=1.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
require_cmd containerd
require_cmd ctr
require_cmd containerd-shim-runc-v2
require_cmd umoci
rt_setup

W=$RT_WORK/containerd
mkdir -p "$W"
W=$(cd "$W" && pwd -P)
NS=husk-test-$$
cd_teardown() {
  local id pid
  for id in $(ctr_ task ls -q 2> /dev/null); do ctr_ task kill -s KILL "$id"; done
  sleep 0.5
  for id in $(ctr_ task ls -q 2> /dev/null); do ctr_ task rm -f "$id"; done
  for id in $(ctr_ container ls -q 2> /dev/null); do ctr_ container rm "$id"; done
  [ -f "$W/containerd.pid" ] && kill "$(cat "$W/containerd.pid")" 2> /dev/null
  # Shims of this containerd (they carry its address), should any be left.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $W/"); do kill -9 "$pid"; done
  for id in $("$RT_BIN" --root "$W/rt/$NS" list -q 2> /dev/null); do
    "$RT_BIN" --root "$W/rt/$NS" delete --force "$id"
  done
  awk -v w="$W" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
}
on_exit cd_teardown
ctr_() { ctr -a "$W/containerd.sock" -n "$NS" "$@"; }

cat > "$W/config.toml" <<TOML
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$W/containerd.sock"
[ttrpc]
  address = "$W/containerd.sock.ttrpc"
[debug]
  address = "$W/debug.sock"
TOML
HUSK_RUNTIME_SKIP_LIMITS=1 containerd --config "$W/config.toml" > "$W/containerd.log" 2>&1 &
echo $! > "$W/containerd.pid"
tap_check "containerd started with its own root, state and socket" -- wait_for 30 ctr_ version

husk_oci_layout "$W/layout" test > /dev/null 2>&1
tar -C "$W/layout" -cf "$W/image.tar" .
tap_check "ctr image import of a busybox OCI layout" -- \
  ctr_ image import --base-name localhost/husk-busybox "$W/image.tar"
IMG=localhost/husk-busybox:test
run_opts=(--snapshotter native --runtime io.containerd.runc.v2 --runc-binary "$RT_BIN"
  --runc-root "$W/rt" --fifo-dir "$W/fifo")

ctr_ run --rm "${run_opts[@]}" "$IMG" t1 true
tap_is "$?" 0 "ctr run --rm with husk-runtime as the shim's runc binary"
out=$(ctr_ run --rm "${run_opts[@]}" "$IMG" t2 sh -c 'echo hello from the container; exit 5')
tap_is "$?" 5 "the exit status comes back through the shim"
tap_is "$out" "hello from the container" "the output through containerd's fifos"

ctr_ run -d "${run_opts[@]}" "$IMG" t3 sleep 1000 > /dev/null
tap_is "$(ctr_ task ls | awk '$1 == "t3" { print $3 }')" RUNNING "run -d: ctr task ls shows it running"
tap_is "$("$RT_BIN" --root "$W/rt/$NS" state t3 | rt_json - '["status"]')" running \
  "husk-runtime's own state has it (the shim used husk-runtime)"
tap_is "$(ctr_ task exec --exec-id e1 --fifo-dir "$W/fifo" t3 cat /proc/1/cmdline | tr '\0' ' ')" \
  "sleep 1000 " "ctr task exec runs in the container"
ctr_ task exec --exec-id e2 --fifo-dir "$W/fifo" t3 sh -c 'exit 7'
tap_is "$?" 7 "task exec: its exit status"
ctr_ task kill -s KILL t3
stopped() { [ "$(ctr_ task ls | awk '$1 == "t3" { print $3 }')" = STOPPED ]; }
tap_check "task kill: the task stops" -- wait_for 20 stopped
tap_check "task rm" -- ctr_ task rm t3
tap_check "container rm" -- ctr_ container rm t3
tap_is "$("$RT_BIN" --root "$W/rt/$NS" list -q)" "" "husk-runtime's state is gone"
tap_done
