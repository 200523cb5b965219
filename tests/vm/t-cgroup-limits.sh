#!/bin/sh
# The cgroup v2 limits husk writes are enforced by the kernel: pids.max stops a fork
# loop, memory.max gets a memory hog OOM-killed, cpu.max throttles a busy loop.
# Every assertion looks at what the limit changes (forks refused, a SIGKILL, throttled
# periods), so each one fails if the limit were not written.
# Runs inside the test VM under busybox sh.

. "$HUSK_VM_LIB/tap.sh"
. "$HUSK_VM_LIB/cgroup.sh"

MEM_LIMIT=33554432   # 32M
# The hog: dd's 64M buffer is anonymous memory, faulted in by reading /dev/zero.
HOG="dd if=/dev/zero bs=64M count=1"
HOG_BYTES=67108864

test_controllers () {
  sc=" $(cat "$CGROOT/cgroup.subtree_control") "
  for c in cpu memory pids; do
    case $sc in
      *" $c "*) ok "controller $c enabled for child cgroups" ;;
      *) not_ok "controller $c enabled for child cgroups"; diag "  subtree_control:$sc" ;;
    esac
  done
}

# A shell in a cgroup with pids.max=10 starts up to 50 sleepers; ash gives up
# ("can't fork") at the first refused fork. Without the limit all 50 would start.
test_pids () {
  cg=$(cg_new t-pids)
  echo 10 > "$cg/pids.max"
  : > /tmp/spawned
  cg_run "$cg" sh -c 'i=0
    while [ $i -lt 50 ]; do sleep 300 & echo $! >> /tmp/spawned; i=$((i + 1)); done' \
    2> /tmp/pids.err
  spawned=$(wc -l < /tmp/spawned)
  diag "sleepers started: $spawned of 50; shell said: $(tail -n 1 /tmp/pids.err)"

  le "pids.max=10: at most 9 sleepers start beside their shell" "$spawned" 9
  ge "pids.max=10: pids.events counts refused forks" "$(cg_key "$cg/pids.events" max)" 1
  le "pids.max=10: pids.current stays <= 10" "$(cat "$cg/pids.current")" 10
  cg_remove "$cg"
}

anon_at_least () { [ "$(cg_key "$1/memory.stat" anon)" -ge "$2" ]; }

# Without a limit the hog holds all 64M as anon memory, so it is the limit, not the
# workload, that stops it below. Writing into a pipe nobody reads keeps it alive.
test_memory_unlimited () {
  cg=$(cg_new t-mem-free)
  cg_run "$cg" sh -c "$HOG 2> /dev/null | sleep 300" &
  wait_for 60 anon_at_least "$cg" $HOG_BYTES
  ge "no memory.max: the hog holds >= 64M of anon memory" \
    "$(cg_key "$cg/memory.stat" anon)" $HOG_BYTES
  cg_remove "$cg"
  wait
}

test_memory_limited () {
  cg=$(cg_new t-mem)
  echo $MEM_LIMIT > "$cg/memory.max"
  [ -e "$cg/memory.swap.max" ] && echo 0 > "$cg/memory.swap.max"
  cg_run "$cg" sh -c "$HOG of=/dev/null"
  rc=$?
  is "memory.max=32M: the hog is SIGKILLed (exit status 137)" "$rc" 137
  ge "memory.max=32M: memory.events oom_kill >= 1" "$(cg_key "$cg/memory.events" oom_kill)" 1
  if [ -e "$cg/memory.peak" ]; then
    le "memory.max=32M: memory.peak stays <= 32M" "$(cat "$cg/memory.peak")" $MEM_LIMIT
  fi
  cg_remove "$cg"
}

# 10 ms of CPU per 100 ms period: a 1 s busy loop must be throttled.
test_cpu () {
  cg=$(cg_new t-cpu)
  echo "10000 100000" > "$cg/cpu.max"
  cg_run "$cg" timeout 1 sh -c 'while :; do :; done'
  ge "cpu.max=10ms/100ms: cpu.stat nr_throttled >= 1" "$(cg_key "$cg/cpu.stat" nr_throttled)" 1
  gt "cpu.max=10ms/100ms: cpu.stat throttled_usec > 0" "$(cg_key "$cg/cpu.stat" throttled_usec)" 0
  cg_remove "$cg"
}

test_controllers
test_pids
test_memory_unlimited
test_memory_limited
test_cpu
done_testing
