#!/bin/bash
# create / start / state / list / ps / exec / pause / resume / kill / delete through the
# runc command line, and nothing left behind afterwards.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup
cgroot=$(rt_cgroup_root)

b=$(rt_bundle life sleep 1000)
rt_patch "$b" 'c["linux"]["cgroupsPath"] = "/husk-rt-test/life-'$$'"'
cg="$cgroot/husk-rt-test/life-$$"
(cd "$b" && rt create --pid-file "$RT_WORK/pid" life)
tap_is "$?" 0 "create"
tap_is "$(rt_status life)" created "state: created"
pid=$(cat "$RT_WORK/pid")
tap_is "$(rt state life | rt_json - '["pid"]')" "$pid" "--pid-file and state agree on the pid"
tap_is "$(rt state life | rt_json - '["bundle"]')" "$b" "state: bundle"
tap_is "$(rt state life | rt_json - '["ociVersion"]')" 1.2.0 "state: ociVersion"
tap_like "$(rt state life | rt_json - '["created"]')" '^[0-9-]+T[0-9:.]+Z$' "state: created timestamp"
tap_like "$(tr '\0' ' ' < /proc/$pid/cmdline)" "husk-runtime" "before start the init has not exec'd process.args yet"
tap_check "the container's cgroup exists at cgroupsPath" -- test -d "$cg"
tap_like "$(cat "$cg/cgroup.procs")" "^$pid$" "the init is in that cgroup"
tap_is "$(rt list -q)" life "list -q"
tap_is "$(rt list --format json | rt_json - '[0]["status"]')" created "list --format json"
tap_check "start" -- rt start life
tap_is "$(rt_status life)" running "state: running"
tap_is "$(tr '\0' ' ' < /proc/$pid/cmdline)" "sleep 1000 " "after start the init runs process.args"
tap_check "start twice fails" -- bash -c "! '$RT_BIN' --root '$RT_ROOT' start life"
tap_is "$(rt ps --format json life)" "[$pid]" "ps --format json lists the init"
tap_like "$(rt events --stats life | rt_json - '["data"]["cpu.stat"]["usage_usec"]')" '^[0-9]+$' \
  "events --stats reports the cgroup's cpu.stat"
tap_like "$(rt ps life)" "sleep 1000" "ps (table) shows the init's command line"
tap_is "$(rt exec life cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 " "exec runs in the container's pid ns"
tap_is "$(rt exec life sh -c 'exit 7'; echo $?)" 7 "exec returns the process's exit status"
tap_check "pause" -- rt pause life
tap_is "$(rt_status life)" paused "state: paused"
tap_is "$(sed -n 's/^frozen //p' "$cg/cgroup.events")" 1 "cgroup.events reports frozen"
tap_like "$(awk '/^State/ {print $2}' /proc/$pid/status)" "^[SDT]$" "the init is stopped or sleeping"
tap_check "exec into a paused container fails" -- bash -c "! '$RT_BIN' --root '$RT_ROOT' exec life true"
tap_check "resume" -- rt resume life
tap_is "$(rt_status life)" running "state: running again"
out=$(rt delete life 2>&1)
tap_is "$?" 1 "delete of a running container fails with status 1"
tap_like "$out" "cannot delete container life that is not stopped: running" "runc's message"
tap_check "kill with a signal name" -- rt kill life SIGKILL
tap_check "process gone after kill" -- wait_for 5 bash -c "[ \"\$('$RT_BIN' --root '$RT_ROOT' state life | grep -c stopped)\" = 1 ]"
tap_is "$(rt_status life)" stopped "state: stopped"
tap_is "$(rt state life | rt_json - '["pid"]')" 0 "a stopped container reports pid 0"
tap_check "delete" -- rt delete life
tap_check "state dir removed" -- test ! -e "$RT_ROOT/life"
tap_check "cgroup removed (with the parent it created)" -- test ! -e "$cgroot/husk-rt-test"
out=$(rt state life 2>&1)
tap_is "$?" 1 "state of a deleted container fails"
tap_like "$out" 'container "life" does not exist' "with a clear message"
rt --log "$RT_WORK/log.json" --log-format json state life 2>/dev/null
tap_is "$(rt_json "$RT_WORK/log.json" '["level"]')" error "--log-format json: the error is logged as a JSON line"
tap_like "$(rt_json "$RT_WORK/log.json" '["msg"]')" 'does not exist' "with its message (as containerd's shim reads it)"

# kill --all and delete --force, signal numbers.
b2=$(rt_bundle all sh -c 'sleep 1000 & sleep 1000 & wait')
(cd "$b2" && rt run -d all)
tap_is "$(rt_status all)" running "run -d leaves a running container"
wait_for 5 bash -c "[ \$('$RT_BIN' --root '$RT_ROOT' ps --format json all | tr ',' '\n' | wc -l) -ge 3 ]"
tap_is "$(rt ps --format json all | tr ',' '\n' | wc -l)" 3 "ps sees the shell and both sleeps"
tap_check "kill --all 9" -- rt kill --all all 9
tap_check "every process gone" -- wait_for 5 bash -c "[ \"\$('$RT_BIN' --root '$RT_ROOT' ps --format json all)\" = '[]' ]"
(cd "$b2" && rt run -d all2)
tap_check "delete --force of a running container" -- rt delete --force all2
tap_check "its state is gone" -- test ! -e "$RT_ROOT/all2"
tap_check "delete --force of a missing container succeeds (runc)" -- rt delete --force nothing-here
tap_check "delete the killed one" -- rt delete all

# run in the foreground: the exit status is the container's, and nothing is left.
b3=$(rt_bundle fg sh -c 'exit 42')
(cd "$b3" && rt run fg)
tap_is "$?" 42 "run returns the container's exit status"
tap_check "run removed the container" -- test ! -e "$RT_ROOT/fg"
b4=$(rt_bundle sig sleep 1000)
(cd "$b4" && exec "$RT_BIN" --root "$RT_ROOT" run sig) &
runpid=$!
wait_for 5 bash -c "[ \"\$('$RT_BIN' --root '$RT_ROOT' state sig | grep -c running)\" = 1 ]"
rt kill sig 9
wait $runpid
tap_is "$?" 137 "a container killed by signal 9 makes run exit with 128+9"
tap_done
