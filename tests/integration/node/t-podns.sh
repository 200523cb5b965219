#!/bin/bash
# The pod's namespaces on a one-node cluster (husk up in a netns): shareProcessNamespace
# (a container sees its neighbour's processes and the pause as pid 1; without it, neither),
# hostPID (a host process this test started is visible in the pod), hostIPC (a SysV shared
# memory segment made on the host is visible in the pod), hostNetwork (an interface made in
# the node's network namespace is the pod's). Every check has its negative on a plain pod.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
require_cmd ipcmk ipcrm
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

kx() { timeout 30 $K exec "$@" 2>&1; }

# What the host holds for the pods to see: a process with a unique argv[0], a shared memory
# segment of a unique size, an interface with a unique name in the node's netns.
marker="husk-podns-$$"
bash -c "exec -a $marker sleep 600" </dev/null >/dev/null 2>&1 &
host_pid=$!
on_exit "kill $host_pid 2>/dev/null"
shm_size=$((40960 + $$ % 4096))
shm_id=$(ipcmk -M "$shm_size" 2>/dev/null | awk '{print $NF}')
[ -n "$shm_id" ] || {
  echo "Bail out! ipcmk could not make a shared memory segment"
  exit 1
}
on_exit "ipcrm -m $shm_id 2>/dev/null"
dummy="hkd$$"
ip -n "$NS" link add "$dummy" type veth peer name "hkp$$" || {
  echo "Bail out! cannot add a veth pair in $NS"
  exit 1
}

cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: share}
spec:
  shareProcessNamespace: true
  containers:
  - {name: a, image: busybox:1.36, command: [sleep, "3601"]}
  - {name: b, image: busybox:1.36, command: [sleep, "3602"]}
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
  - {name: a, image: busybox:1.36, command: [sleep, "3601"]}
  - {name: b, image: busybox:1.36, command: [sleep, "3602"]}
---
apiVersion: v1
kind: Pod
metadata: {name: hostpid}
spec:
  hostPID: true
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: hostipc}
spec:
  hostIPC: true
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
Y
for p in share plain hostpid hostipc hostnet; do
  node_wait_phase "$p" Running 60 || tap_diag "$p is not Running: $(node_pod_field "$p" '{.status}')"
done

# ---- shareProcessNamespace ----
# /proc/<pid>/cmdline of every process the container sees, one per line.
procs='for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f"; echo; done 2>/dev/null'
tap_is "$(kx share -c a -- sh -c 'tr "\0" " " </proc/1/cmdline')" "/pause " \
  "shareProcessNamespace: pid 1 of container a is the pause process"
tap_like "$(kx share -c a -- sh -c "$procs")" 'sleep 3602' \
  "shareProcessNamespace: container a sees container b's process"
tap_like "$(kx share -c b -- ps -o pid,args)" 'sleep 3601' "and busybox ps in b lists a's process"
tap_is "$(kx plain -c a -- sh -c 'tr "\0" " " </proc/1/cmdline')" "sleep 3601 " \
  "without it, pid 1 of container a is its own command"
plain_procs=$(kx plain -c a -- sh -c "$procs")
tap_check "without it, container a does not see container b's process" \
  bash -c '[[ $1 == *"sleep 3601"* && $1 != *"sleep 3602"* && $1 != *"/pause"* ]]' _ "$plain_procs"

# ---- hostPID ----
tap_is "$(kx hostpid -- sh -c "tr '\0' ' ' </proc/$host_pid/cmdline")" "$marker 600 " \
  "hostPID: the host's process $host_pid ($marker) is visible in the pod"
tap_check "and busybox ps lists it with its pid" \
  bash -c 'grep -Eq "^ *$1 .*$2 600" <<<"$3"' _ "$host_pid" "$marker" "$(kx hostpid -- ps -o pid,args)"
tap_check "without it, the pod does not see it" \
  bash -c '! grep -q "$1" <<<"$2"' _ "$marker" "$(kx plain -c a -- sh -c "$procs")"

# ---- hostIPC ----
# /proc/sysvipc/shm: key shmid perms size ...
shm_seen() { kx "$@" -- awk -v id="$shm_id" -v sz="$shm_size" '$2 == id && $4 == sz {print "seen"}' /proc/sysvipc/shm; }
tap_is "$(shm_seen hostipc)" "seen" \
  "hostIPC: the host's shared memory segment (id $shm_id, $shm_size bytes) is visible in the pod"
tap_is "$(shm_seen plain -c a)" "" "without it, the pod does not see it"

# ---- hostNetwork ----
net_has() { kx "$@" -- cat /proc/net/dev | awk -v d="$dummy:" '$1 == d {print "seen"}'; }
tap_is "$(net_has hostnet)" "seen" "hostNetwork: the node netns' interface $dummy is in the pod"
tap_is "$(net_has plain -c a)" "" "without it, the pod does not have it"
tap_like "$(kx plain -c a -- cat /proc/net/dev)" 'eth0:' "(the plain pod has its own eth0)"

tap_done
