#!/bin/bash
# OCI hooks run in the spec's order, each with the container state on stdin; a failing
# create-time hook aborts create and leaves nothing behind.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

log="$RT_WORK/hooks.log"
cat > "$RT_WORK/hook" <<SH
#!/bin/sh
# args: hook KIND ; records KIND, the state's status and id, and the namespace we ran in
read -r state
echo "\$1 \$(echo "\$state" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["id"], s["pid"] > 0)') \$(readlink /proc/self/ns/mnt)" >> $log
SH
chmod +x "$RT_WORK/hook"
b=$(rt_bundle hooks sh -c 'echo started')
# startContainer runs inside the container: it gets its own tiny hook there.
printf '#!/bin/sh\nread -r s\necho "startContainer $s" > /startContainer.out\n' > "$b/rootfs/hook"
chmod +x "$b/rootfs/hook"
rt_patch "$b" '
h = lambda kind, path="'"$RT_WORK"'/hook": [{"path": path, "args": ["hook", kind]}]
c["hooks"] = {k: h(k) for k in ("prestart", "createRuntime", "createContainer", "poststart", "poststop")}
c["hooks"]["startContainer"] = h("startContainer", "/hook")
'
out=$(cd "$b" && rt run hooks 2>&1)
tap_is "$out" started "run with every kind of hook"
host_mnt=$(readlink /proc/self/ns/mnt)
tap_is "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "prestart createRuntime createContainer poststart poststop " \
  "runtime-side hooks ran in order"
tap_is "$(grep ^createRuntime "$log")" "createRuntime creating hooks True $host_mnt" \
  "createRuntime: state on stdin (creating, id, pid), runtime mount namespace"
tap_like "$(grep ^createContainer "$log")" "^createContainer creating hooks True mnt:" \
  "createContainer: state on stdin"
tap_check "createContainer ran in the container's mount namespace" -- \
  bash -c "! grep -q '^createContainer.*$host_mnt' '$log'"
tap_like "$(grep ^poststart "$log")" "^poststart running hooks True" "poststart sees status running"
tap_like "$(grep ^poststop "$log")" "^poststop stopped hooks False" "poststop sees status stopped"
tap_like "$(cat "$b/rootfs/startContainer.out")" '"id":"hooks"' "startContainer ran inside the container with the state"

# A failing createRuntime hook: create fails naming the hook, nothing remains.
: > "$log"
f=$(rt_bundle failing true)
rt_patch "$f" 'c["hooks"] = {"createRuntime": [{"path": "/bin/false"}], "poststop": [{"path": "'"$RT_WORK"'/hook", "args": ["hook", "poststop"]}]}'
out=$(cd "$f" && rt create failing 2>&1)
tap_is "$?" 1 "create with a failing hook exits 1"
tap_like "$out" "hooks.createRuntime\[0\]: /bin/false: exit status 1" "the error names the hook"
tap_check "no state left" -- test ! -e "$RT_ROOT/failing"
tap_check "no cgroup left" -- test ! -e "$(rt_cgroup_root)/failing"

# A hook that outlives its timeout is killed and fails create.
t=$(rt_bundle slow true)
rt_patch "$t" 'c["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
out=$(cd "$t" && rt create slow 2>&1)
tap_like "$out" "hooks.prestart\[0\]: /bin/sleep: timed out after 1 s" "hook timeout enforced"
tap_check "no state left after the timeout" -- test ! -e "$RT_ROOT/slow"
tap_done
