#!/bin/bash
# securityContext on a one-node cluster (husk up in a netns): runAsNonRoot refused for a
# root user (CreateContainerConfigError, kubelet's message) and accepted with runAsUser,
# readOnlyRootFilesystem, allowPrivilegeEscalation false (NoNewPrivs); sysctls: a safe one
# set in the pod's network namespace only, an unsafe one (or net.* with hostNetwork) rejects
# the pod (Failed, SysctlForbidden); seccompProfile Localhost: a profile under
# <data-dir>/seccomp denies mkdir with EPERM, a missing or bad one is a
# CreateContainerConfigError naming the file. Last, --allowed-unsafe-sysctls: a list kubelet
# refuses (kernel.panic, kernel.*, a bad pattern) stops `husk node` naming the flag and the
# item, and the node restarted with kernel/msg* runs a pod with unsafe (namespaced) sysctls,
# one of them written with '/' separators.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
node_require
node_up
wait_for 20 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"

# waiting_of POD: "<reason>|<message>" of its first container's waiting state
waiting_of() {
  node_pod_field "$1" '{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}'
}
wait_waiting() { # wait_waiting POD REASON SECS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    [[ $(waiting_of "$1") == "$2|"* ]] && return 0
    sleep 0.1
  done
  return 1
}
kx() { timeout 30 $K exec "$@" 2>&1; }

# ---- runAsNonRoot ----
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: nonroot-bad}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot-ok}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    securityContext: {runAsUser: 1000}
Y
wait_waiting nonroot-bad CreateContainerConfigError 30
tap_is "$(waiting_of nonroot-bad)" \
  'CreateContainerConfigError|container has runAsNonRoot and image will run as root (pod: "default/nonroot-bad", container: c)' \
  "runAsNonRoot with the image's root user: CreateContainerConfigError and kubelet's message"
node_wait_phase nonroot-ok Running 30
# an image whose User is a name
cp -a "$D/layout" "$D/layout-nobody" && umoci config --image "$D/layout-nobody:1.36" --config.user nobody &&
  "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/node" --name busybox:nobody "$D/layout-nobody" \
    >"$D/import-nobody.log" 2>&1
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: nonroot-named}
spec:
  containers:
  - name: c
    image: busybox:nobody
    imagePullPolicy: Never
    command: [sleep, "3600"]
    securityContext: {runAsNonRoot: true}
Y
wait_waiting nonroot-named CreateContainerConfigError 30
tap_is "$(waiting_of nonroot-named)" \
  'CreateContainerConfigError|container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root' \
  "runAsNonRoot with an image user that is a name: CreateContainerConfigError and kubelet's message"
tap_is "$(node_pod_field nonroot-ok '{.status.phase}')" "Running" "runAsNonRoot with runAsUser 1000: Running"
tap_is "$(kx nonroot-ok -- id -u)" "1000" "id -u in it is 1000"

# ---- readOnlyRootFilesystem, allowPrivilegeEscalation false ----
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: locked}
spec:
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
    securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Pod
metadata: {name: open}
spec:
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
Y
node_wait_phase locked Running 30
node_wait_phase open Running 30
tap_like "$(kx locked -- sh -c 'echo x > /rootfile && echo wrote')" 'Read-only file system' \
  "readOnlyRootFilesystem: a write to / fails"
tap_is "$(kx locked -- sh -c 'echo x > /scratch/f && cat /scratch/f')" "x" \
  "readOnlyRootFilesystem: a write to an emptyDir works"
tap_is "$(kx open -- sh -c 'echo x > /rootfile && cat /rootfile')" "x" \
  "without it, a write to / works"
tap_is "$(kx locked -- awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)" "1" \
  "allowPrivilegeEscalation false: NoNewPrivs is 1"
tap_is "$(kx open -- awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)" "0" \
  "without it, NoNewPrivs is 0"

# ---- sysctls ----
host_ups=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: sysctl-safe}
spec:
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sysctl-unsafe}
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "65536"}]
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sysctl-hostnet}
spec:
  hostNetwork: true
  securityContext:
    sysctls: [{name: net.ipv4.tcp_syncookies, value: "0"}]
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
Y
node_wait_phase sysctl-safe Running 30
tap_is "$(kx sysctl-safe -- cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" "0" \
  "a safe sysctl (net.ipv4.ip_unprivileged_port_start=0) is set in the pod"
tap_is "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" "$host_ups" \
  "the host's value is unchanged ($host_ups)"
node_wait_phase sysctl-unsafe Failed 30
tap_is "$(node_pod_field sysctl-unsafe '{.status.phase}|{.status.reason}|{.status.message}')" \
  'Failed|SysctlForbidden|Pod forbidden sysctl: "kernel.msgmax" not allowlisted' \
  "an unsafe sysctl: the pod is Failed, SysctlForbidden"
node_wait_phase sysctl-hostnet Failed 30
tap_is "$(node_pod_field sysctl-hostnet '{.status.phase}|{.status.reason}')" 'Failed|SysctlForbidden' \
  "a net.* sysctl with hostNetwork: Failed, SysctlForbidden"

# ---- seccompProfile Localhost ----
mkdir -p "$D/node/seccomp/profiles"
cat >"$D/node/seccomp/profiles/no-mkdir.json" <<'J'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
J
cat >"$D/node/seccomp/bad.json" <<'J'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}]}
J
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: sc-local}
spec:
  securityContext:
    seccompProfile: {type: Localhost, localhostProfile: profiles/no-mkdir.json}
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sc-missing}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: nothere.json}
---
apiVersion: v1
kind: Pod
metadata: {name: sc-bad}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: bad.json}
Y
node_wait_phase sc-local Running 30
tap_like "$(kx sc-local -- mkdir /tmp/d)" 'Operation not permitted' \
  "a Localhost profile that denies mkdir: busybox mkdir fails with EPERM"
tap_is "$(kx sc-local -- sh -c 'echo works > /tmp/f && cat /tmp/f')" "works" \
  "other commands work under it"
tap_is "$(kx open -- sh -c 'mkdir /tmp/d && echo made')" "made" "without it, mkdir works"
wait_waiting sc-missing CreateContainerConfigError 30
tap_like "$(waiting_of sc-missing)" \
  "^CreateContainerConfigError\|seccomp profile $D/node/seccomp/nothere.json: No such file or directory" \
  "a missing Localhost profile: CreateContainerConfigError naming the path"
wait_waiting sc-bad CreateContainerConfigError 30
tap_like "$(waiting_of sc-bad)" \
  "^CreateContainerConfigError\|seccomp profile $D/node/seccomp/bad.json: .*SCMP_ACT_NOPE" \
  "a bad Localhost profile: CreateContainerConfigError naming the path and the action"

# ---- --allowed-unsafe-sysctls ----
# A list kubelet refuses stops the agent at start, naming the flag and the item (before it
# contacts the server or binds a port).
bad_node() { # bad_node LIST: "<exit status>|<stderr>"
  local out st
  out=$(timeout 30 nsenter --net="/run/netns/$NS" "$HUSK_BUILD_DIR/husk" node \
    --server https://127.0.0.1:9 --token t --name bad --data-dir "$D/badnode" \
    --node-api-port 0 --allowed-unsafe-sysctls="$1" 2>&1 >/dev/null)
  st=$?
  echo "$st|$out"
}
got=$(bad_node kernel.panic)
tap_like "$got" '^[1-9][0-9]*\|.*--allowed-unsafe-sysctls: the sysctl "kernel\.panic" is not known to be namespaced' \
  "--allowed-unsafe-sysctls=kernel.panic (not namespaced): husk node exits naming the flag and the sysctl"
tap_check "and it exits at once (not killed by the timeout)" bash -c '[[ ${1%%|*} != 124 ]]' _ "$got"
tap_like "$(bad_node 'net.core.somaxconn,kernel.*')" \
  '^[1-9][0-9]*\|.*--allowed-unsafe-sysctls: the sysctls "kernel\.\*" are not known to be namespaced' \
  "a prefix that is not namespaced (kernel.*): refused naming it"
tap_like "$(bad_node 'net.*.somaxconn')" \
  '^[1-9][0-9]*\|.*--allowed-unsafe-sysctls: sysctl "net\.\*\.somaxconn" must have at most 253 characters and match regex' \
  "a pattern with * inside (net.*.somaxconn): refused naming it"
tap_like "$(bad_node 'vm/swappiness')" '^[1-9][0-9]*\|.*"vm/swappiness" is not known to be namespaced' \
  "a non-namespaced name with / separators (vm/swappiness): refused"
host_msgmax=$(cat /proc/sys/kernel/msgmax)
host_msgmnb=$(cat /proc/sys/kernel/msgmnb)
kill "$UP_PID" && wait "$UP_PID" 2>/dev/null
NODE_UP_ARGS="--allowed-unsafe-sysctls=kernel/msg*,net.core.somaxconn"
node_launch
cat <<'Y' | $K apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: sysctl-allowed}
spec:
  securityContext:
    sysctls: [{name: kernel.msgmax, value: "12345"}, {name: kernel/msgmnb, value: "54321"}]
  containers:
  - {name: c, image: busybox:1.36, command: [sleep, "3600"]}
Y
node_wait_phase sysctl-allowed Running 40
tap_is "$(kx sysctl-allowed -- cat /proc/sys/kernel/msgmax)" "12345" \
  "--allowed-unsafe-sysctls kernel/msg* (/ separators): kernel.msgmax is set in the pod's ipc namespace"
tap_is "$(kx sysctl-allowed -- cat /proc/sys/kernel/msgmnb)" "54321" \
  "a pod sysctl written kernel/msgmnb is admitted and set"
tap_is "$(cat /proc/sys/kernel/msgmax) $(cat /proc/sys/kernel/msgmnb)" "$host_msgmax $host_msgmnb" \
  "the host's kernel.msgmax and kernel.msgmnb are unchanged"

tap_done
