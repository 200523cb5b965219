#!/bin/bash
# podman drives husk-runtime as its OCI runtime (`podman --runtime husk-runtime`), through
# conmon: run (exit status, output), run -d, exec, a terminal (-t), stop, rm. The image is
# imported from the busybox rootfs (no registry, no network). Storage, runroot, tmpdir and
# tmpdir are private to the test; the runtime's state is in its default root (podman 4.3
# passes --runtime-flag options to create and start but not to delete).
# This host: the sandbox has no CAP_SYS_RESOURCE, so podman's default rlimits (nofile
# 1048576) cannot be set by any runtime (runc fails the same way): the test asks for lower
# ones; cgroup v2 has no controllers here, so podman's pids limit needs --skip-limits
# (`--runtime-flag skip-limits`).
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
require_cmd podman
require_cmd conmon
rt_setup

W=$RT_WORK/podman
mkdir -p "$W"
IMG=localhost/husk-busybox-$$:test
pm() {
  podman --root "$W/storage" --runroot "$W/run" --tmpdir "$W/tmp" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend none --runtime "$RT_BIN" \
    --runtime-flag skip-limits "$@"
}
# Containers of this test still known to husk-runtime (its default root is shared).
ours() {
  local id
  for id in $("$RT_BIN" list -q 2> /dev/null); do
    pm container exists "$id" 2> /dev/null && echo "$id"
  done
}
pm_teardown() {
  local id
  for id in $(ours); do "$RT_BIN" delete --force "$id"; done
  pm rm -a -f -t 0 > /dev/null 2>&1
  pm rmi -a -f > /dev/null 2>&1
  # podman's per-container /dev/shm mounts, should any be left behind.
  awk -v w="$W" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
}
on_exit pm_teardown
run_opts=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

husk_busybox_rootfs "$RT_WORK/rootfs" > /dev/null
tar -C "$RT_WORK/rootfs" -cf "$RT_WORK/rootfs.tar" .
tap_check "podman import of the busybox rootfs" -- pm import -q "$RT_WORK/rootfs.tar" "$IMG"

pm run --rm "${run_opts[@]}" "$IMG" true
tap_is "$?" 0 "podman --runtime husk-runtime run --rm busybox true"
out=$(pm run --rm "${run_opts[@]}" "$IMG" sh -c 'echo hello from $(hostname); exit 5' 2>&1)
tap_is "$?" 5 "the container's exit status comes back through conmon"
tap_like "$out" "^hello from [0-9a-f]{12}$" "its output too (and nothing of the runtime's)"

id=$(pm run -d --name svc-$$ "${run_opts[@]}" "$IMG" sh -c 'echo started; exec sleep 1000')
tap_like "$id" "^[0-9a-f]{64}$" "run -d"
tap_is "$(ours)" "$id" "the container is husk-runtime's (in its state root; the --rm ones are gone)"
tap_is "$("$RT_BIN" state "$id" | rt_json - '["status"]')" running "husk-runtime state: running"
tap_is "$(pm exec svc-$$ cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 " "podman exec runs in the container"
tap_is "$(pm exec svc-$$ sh -c 'exit 7'; echo $?)" 7 "podman exec: exit status"
tap_like "$(pm exec -t svc-$$ tty | tr -d '\r')" "^/dev/pts/[0-9]+$" "podman exec -t: a pty through the console socket"
tap_like "$(pm run --rm -t "${run_opts[@]}" "$IMG" tty < /dev/null | tr -d '\r')" "^/dev/pts/0$" \
  "podman run -t: the container's pty"
logs=
for _ in $(seq 50); do logs=$(pm logs svc-$$ 2> /dev/null); [ -n "$logs" ] && break; sleep 0.2; done
tap_is "$logs" started "podman logs: the container's output"
pm stop -t 1 svc-$$ > /dev/null 2>&1
tap_is "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' svc-$$)" "exited 137" "podman stop: TERM ignored by pid 1, then KILL"
gone() { [ -z "$(ours)" ]; }
tap_check "husk-runtime's state is gone once podman has cleaned up" -- wait_for 20 gone
tap_check "podman rm" -- pm rm svc-$$
tap_done
