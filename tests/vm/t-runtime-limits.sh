#!/bin/sh
# husk-runtime's cgroup v2 limits, enforced by the kernel in the VM (which has controllers):
# memory.max OOM-kills the container, pids.max refuses forks, cpu.max throttles (cpu.stat),
# pause/resume freeze and thaw, and `update` changes limits of a live container.
# Runs inside the test VM under busybox sh; the root is an initramfs (no pivot_root).

. "$HUSK_VM_LIB/tap.sh"
. "$HUSK_VM_LIB/cgroup.sh"

command -v husk-runtime > /dev/null || skip_all "husk-runtime not in the image (use --bin-dir)"
RT="husk-runtime --root /run/husk-rt-test"
W=/tmp/rt-limits
BB=
for p in /usr/bin/busybox /bin/busybox; do [ -x "$p" ] && [ ! -L "$p" ] && BB=$p; done
[ -n "$BB" ] || skip_all "no busybox binary in the image"

rm -rf "$W"
mkdir -p "$W/rootfs/bin" "$W/rootfs/proc" "$W/rootfs/dev" "$W/rootfs/tmp"
cp "$BB" "$W/rootfs/bin/busybox"
for a in sh sleep dd cat true ps; do ln -s busybox "$W/rootfs/bin/$a"; done

# bundle NAME RESOURCES ARGS: $W/NAME (sharing the rootfs) with a config.json.
bundle () {
  mkdir -p "$W/$1"
  cat > "$W/$1/config.json" <<JSON
{
  "ociVersion": "1.2.0",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": $3,
              "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "$W/rootfs"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}],
    "cgroupsPath": "/rt-$1",
    "resources": $2
  }
}
JSON
}

status_of () { $RT state "$1" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p'; }

# memory.max: a 64M dd in a 32M container is OOM-killed; run exits 128+9.
bundle mem '{"memory": {"limit": 33554432}}' '["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]'
$RT run --no-pivot --keep -b "$W/mem" mem > /dev/null 2>&1
is "memory.max: the hog is killed by SIGKILL (run exits 137)" "$?" 137
is "memory.max written from linux.resources.memory.limit" "$(cat $CGROOT/rt-mem/memory.max)" 33554432
ge "memory.events counts the OOM kill" "$(cg_key $CGROOT/rt-mem/memory.events oom_kill)" 1
$RT delete mem
check "delete removes the cgroup" test ! -d "$CGROOT/rt-mem"

# pids.max: a shell trying to start 50 sleepers gets at most 9 beside itself.
bundle pids '{"pids": {"limit": 10}}' \
  '["sh", "-c", "(i=0; while [ $i -lt 50 ]; do sleep 300 & i=$((i + 1)); done) 2>/dev/null; exec sleep 300"]'
$RT run --no-pivot -d -b "$W/pids" pids 2> /dev/null
wait_for 20 test "$(cg_key $CGROOT/rt-pids/pids.events max)" -ge 1
ge "pids.max: pids.events counts refused forks" "$(cg_key $CGROOT/rt-pids/pids.events max)" 1
le "pids.max: pids.current stays <= 10" "$(cat $CGROOT/rt-pids/pids.current)" 10
# update: a lower pids limit on the live container.
$RT update --pids-limit 5 pids
is "update --pids-limit changes pids.max live" "$(cat $CGROOT/rt-pids/pids.max)" 5
$RT delete --force pids

# cpu.max: a busy loop at 10% of a CPU is throttled. (No --no-pivot here: pivot_root fails
# on the initramfs and the runtime falls back to MS_MOVE + chroot by itself.)
bundle cpu '{"cpu": {"quota": 10000, "period": 100000}}' '["sh", "-c", "while :; do :; done"]'
$RT run -d -b "$W/cpu" cpu
is "without --no-pivot the container starts on an initramfs root" "$(status_of cpu)" running
is "cpu.max written from quota and period" "$(cat $CGROOT/rt-cpu/cpu.max)" "10000 100000"
wait_for 20 test "$(cg_key $CGROOT/rt-cpu/cpu.stat nr_throttled)" -ge 2
ge "cpu.max: cpu.stat shows throttled periods" "$(cg_key $CGROOT/rt-cpu/cpu.stat nr_throttled)" 2
$RT update --cpu-quota 50000 --memory 64M cpu
is "update --cpu-quota changes cpu.max live" "$(cat $CGROOT/rt-cpu/cpu.max)" "50000 100000"
is "update --memory changes memory.max live" "$(cat $CGROOT/rt-cpu/memory.max)" 67108864

# freeze/thaw through pause/resume.
$RT pause cpu
is "pause: state paused" "$(status_of cpu)" paused
is "pause: cgroup.events frozen 1" "$(cg_key $CGROOT/rt-cpu/cgroup.events frozen)" 1
u1=$(cg_key $CGROOT/rt-cpu/cpu.stat usage_usec)
gt "the busy loop had used CPU time before" "$u1" 0
sleep 1
u2=$(cg_key $CGROOT/rt-cpu/cpu.stat usage_usec)
is "paused: the busy loop gets no CPU time" "$u2" "$u1"
$RT resume cpu
is "resume: state running" "$(status_of cpu)" running
is "resume: cgroup.events frozen 0" "$(cg_key $CGROOT/rt-cpu/cgroup.events frozen)" 0
$RT delete --force cpu
check "every test cgroup removed" sh -c "! ls -d $CGROOT/rt-* 2>/dev/null"
rm -rf "$W"
done_testing
