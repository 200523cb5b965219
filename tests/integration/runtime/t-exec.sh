#!/bin/bash
# exec joins every namespace and the cgroup of a running container; a second container can
# join the first one's namespaces by path (how pod containers share the sandbox's).
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup

b=$(rt_bundle sandbox sleep 1000)
rt_patch "$b" 'c["hostname"] = "sandbox-host"'
(cd "$b" && rt run -d sandbox) || tap_skip_all "cannot start a container"
pid=$(rt state sandbox | rt_json - '["pid"]')
for ns in pid net ipc uts mnt; do
  inside=$(rt exec sandbox readlink "/proc/self/ns/$ns")
  tap_is "$inside" "$(readlink /proc/$pid/ns/$ns)" "exec joins the container's $ns namespace"
done
tap_is "$(rt exec sandbox hostname)" sandbox-host "exec sees the container's hostname"
tap_is "$(rt exec sandbox sh -c 'cat /proc/self/cgroup | grep ^0::')" "$(grep ^0:: /proc/$pid/cgroup)" \
  "exec joins the container's cgroup"
tap_is "$(rt exec --env FOO=bar --cwd /tmp sandbox sh -c 'echo $FOO $(pwd)')" "bar /tmp" "exec --env and --cwd"
tap_is "$(rt exec --user 1000:1000 sandbox id -u)" 1000 "exec --user"

# exec -p process.json with its own args, env and capabilities.
cat > "$RT_WORK/proc.json" <<'JSON'
{"args": ["sh", "-c", "echo $MSG; grep CapEff /proc/self/status"], "env": ["MSG=from-json"],
 "cwd": "/", "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}
JSON
out=$(rt exec -p "$RT_WORK/proc.json" sandbox)
tap_like "$out" "from-json" "exec -p uses the process file's env"
tap_like "$out" "CapEff:	0000000000000020" "exec -p applies the process file's capabilities"
out=$(rt exec sandbox no-such-program 2>&1)
tap_is "$?" 1 "exec of a missing program exits 1"
tap_like "$out" 'executable file not found' "with runc's message"
echo '{"args": ["true"], "bogus": 1}' > "$RT_WORK/bad.json"
tap_like "$(rt exec -p "$RT_WORK/bad.json" sandbox 2>&1)" 'process.bogus: unknown field' \
  "a bad process file names the field"

# exec -d with --pid-file: the process keeps running in the container.
rt exec -d --pid-file "$RT_WORK/exec.pid" sandbox sleep 999
epid=$(cat "$RT_WORK/exec.pid")
tap_like "$(tr '\0' ' ' < /proc/$epid/cmdline)" "^sleep 999" "exec -d --pid-file: the pid is the exec'd process"
tap_is "$(readlink /proc/$epid/ns/pid)" "$(readlink /proc/$pid/ns/pid)" "and it is in the container's pid ns"

# A second container joins the first's network, ipc and uts namespaces by path.
j=$(rt_bundle member sh -c 'hostname; readlink /proc/self/ns/net')
rt_patch "$j" '
pid = '"$pid"'
c["hostname"] = None
del c["hostname"]
for n in c["linux"]["namespaces"]:
    if n["type"] in ("network", "ipc", "uts"):
        n["path"] = "/proc/%d/ns/%s" % (pid, {"network": "net"}.get(n["type"], n["type"]))
'
out=$(cd "$j" && rt run member)
tap_is "$(sed -n 1p <<<"$out")" sandbox-host "a container joining the uts ns by path sees its hostname"
tap_is "$(sed -n 2p <<<"$out")" "$(readlink /proc/$pid/ns/net)" "and shares its network namespace"
rt delete --force sandbox
tap_done
