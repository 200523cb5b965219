#!/bin/bash
# Bad configs: each gives a clear error naming what is wrong and leaves nothing behind
# (no state directory, cgroup, process or mount), whether it is caught while decoding or
# only inside the half-built container.
. "${top_srcdir:-$(dirname "$0")/../../..}/tests/lib/common.sh"
. "$top_srcdir/tests/integration/runtime/lib.sh"
rt_require
rt_setup
cgroot=$(rt_cgroup_root)
b=$(rt_bundle bad true)
cp "$b/config.json" "$RT_WORK/good.json"

n=0
bad() { # bad DESCRIPTION PATCH EXPECTED_MESSAGE_REGEX
  n=$((n + 1))
  local id="bad-$n-$$"
  cp "$RT_WORK/good.json" "$b/config.json"
  rt_patch "$b" "$2"
  local out st
  out=$(cd "$b" && rt create "$id" 2>&1)
  st=$?
  tap_is "$st" 1 "$1: create exits 1"
  tap_like "$out" "$3" "$1: the error says what is wrong"
  local left=""
  [ -e "$RT_ROOT/$id" ] && left+=" state"
  [ -e "$cgroot/$id" ] && left+=" cgroup"
  pgrep -f "create $id" >/dev/null && left+=" process"
  # (other tests may mount things meanwhile: look for ours only)
  grep -q "$RT_WORK" /proc/self/mountinfo && left+=" mount"
  tap_is "$left" "" "$1: nothing left behind"
}

bad "unknown field" 'c["linux"]["bogus"] = 1' 'linux.bogus: unknown field'
bad "wrong type" 'c["process"]["args"] = "sh"' 'process.args: expected array, got string'
bad "missing process" 'del c["process"]' 'process: required field missing'
bad "unknown namespace type" 'c["linux"]["namespaces"].append({"type": "bogus"})' \
  'linux.namespaces\[5\].type: unknown namespace type "bogus"'
bad "mount escaping the rootfs" \
  'c["mounts"].append({"destination": "/../../../etc/x", "type": "tmpfs", "source": "tmpfs"})' \
  'mounts\[7\].destination: .* (escapes|outside|leaves|above)'
bad "maskedPaths escaping the rootfs" 'c["linux"]["maskedPaths"] = ["/../../etc/passwd"]' \
  'linux.maskedPaths\[0\]'
bad "missing rootfs" 'c["root"]["path"] = "nowhere"' 'root.path: nowhere: No such file'
bad "namespace path that does not exist" \
  'c["linux"]["namespaces"][1]["path"] = "/run/netns/husk-no-such-ns"' \
  'linux.namespaces\[1\].path: /run/netns/husk-no-such-ns: No such file'
bad "sysctl outside the container's namespaces" 'c["linux"]["sysctl"] = {"kernel.panic": "1"}' \
  'linux.sysctl.kernel.panic: not a namespaced sysctl'
bad "unknown capability" 'c["process"]["capabilities"]["bounding"].append("CAP_BOGUS")' \
  'unknown capability "CAP_BOGUS"'
# Caught only inside the container, after namespaces, cgroup and mounts were made:
bad "executable not found" 'c["process"]["args"] = ["no-such-program"]' \
  'exec: "no-such-program": executable file not found in \$PATH'
bad "bad tmpfs option" \
  'c["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["size=bogus"]})' \
  'mounts\[7\]: mount tmpfs .* on /data: Invalid argument'
bad "bind mount of a missing source" \
  'c["mounts"].append({"destination": "/data", "type": "bind", "source": "/no/such/dir", "options": ["rbind"]})' \
  'bind /no/such/dir on /data: No such file'
bad "cwd that does not exist" 'c["process"]["cwd"] = "/no/such/dir"' \
  'process.cwd: chdir /no/such/dir: No such file'

cp "$RT_WORK/good.json" "$b/config.json"
out=$(cd "$b" && rt create ../escape 2>&1)
tap_like "$out" 'invalid container id' "an id with a slash is refused"
(cd "$b" && rt create dup) && out=$(cd "$b" && rt create dup 2>&1)
tap_like "$out" 'container with id exists: dup' "a duplicate id is refused"
tap_is "$(rt_status dup)" created "and the first container is untouched"
rt delete dup
tap_done
