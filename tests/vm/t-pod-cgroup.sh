#!/bin/sh
# The pod cgroup's limits as kubelet sets them (ResourceConfigForPod), read in the VM whose
# cgroup v2 has controllers: `husk up --pod-max-pids 64`, four pods applied with kubectl,
# and each pod's <cgroup>/husk/pod-<uid> files read once they run:
# - guaranteed: an init container (300m, 96Mi) larger than its two containers together
#   (150m, 48Mi): memory.max 96Mi and cpu.max 30000/100000 (kubelet: the pod's effective
#   request/limit is max(sum of containers, largest init container)), cpu.weight 12
#   (shares 300*1024/1000 = 307, converted as runc does).
# - burstable: one container with limits, one with requests only: memory.max and cpu.max
#   stay "max" (a container without a limit leaves the pod unlimited), cpu.weight 12 from the
#   summed requests (200m defaulted from the limit + 100m), memory.low the summed requests.
# - burst-mem: every container has a memory limit, none a cpu one: memory.max the sum
#   (24Mi + 40Mi), cpu.max "max", cpu.weight 8 (200m).
# - besteffort: cpu.weight 1 (kubelet's MinShares), memory.max and cpu.max "max".
# Every pod: pids.max 64 (--pod-max-pids). Without pod-level limits (the agent before
# pod/podcgroup.c) every pod cgroup reads max / 100 and all but the "max" checks fail.
# Runs inside the test VM under busybox sh.

. "$HUSK_VM_LIB/tap.sh"
. "$HUSK_VM_LIB/cgroup.sh"
. "$HUSK_VM_LIB/image.sh"
. "$HUSK_VM_LIB/husk-up.sh"

for b in husk husk-pause husk-cni husk-shim kubectl; do
  command -v $b > /dev/null || skip_all "$b not in the image (tests/vm/run --bin-dir DIR)"
done

D=/tmp/pod-cgroup
KC=$D/kubeconfig
K="kubectl --kubeconfig $KC --request-timeout=60s"

trap cleanup EXIT

COLS='{.metadata.name}|{.status.phase}|{.metadata.uid}|{.status.qosClass}'
running () {
  snapshot && [ "$(grep -c '|Running|' "$D/pods")" -eq 4 ]
}

# ctr NAME RESOURCES [COMMAND]: a busybox container.
ctr () {
  echo "{\"name\": \"$1\", \"image\": \"busybox:1.36\", \"imagePullPolicy\": \"Never\",
   \"command\": [${3:-\"sleep\", \"3600\"}], \"resources\": {$2}}"
}
pod () {
  echo "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"$1\"},
 \"spec\": {\"terminationGracePeriodSeconds\": 1, $2}}"
}
LIM='"limits": {"cpu": "%s", "memory": "%s"}'
# shellcheck disable=SC2059
{
  echo '{"apiVersion": "v1", "kind": "List", "items": ['
  pod guaranteed "\"initContainers\": [$(ctr init "$(printf "$LIM" 300m 96Mi)" '"true"')],
    \"containers\": [$(ctr a "$(printf "$LIM" 100m 32Mi)"), $(ctr b "$(printf "$LIM" 50m 16Mi)")]"
  echo ,
  pod burstable "\"containers\": [$(ctr a "$(printf "$LIM" 200m 32Mi)"),
    $(ctr b '"requests": {"cpu": "100m", "memory": "16Mi"}')]"
  echo ,
  pod burst-mem "\"containers\": [$(ctr a '"limits": {"memory": "24Mi"}, "requests": {"cpu": "100m"}'),
    $(ctr b '"limits": {"memory": "40Mi"}, "requests": {"cpu": "100m"}')]"
  echo ,
  pod besteffort "\"containers\": [$(ctr a '')]"
  echo ']}'
} > /tmp/pod-cgroup-pods.json

# ---- the cluster -----------------------------------------------------------------------
rm -rf "$D" && mkdir -p "$D"
mv /tmp/pod-cgroup-pods.json "$D/pods.json"
oci_busybox_layout "$D/layout" 1.36 > "$D/up.log" 2>&1 || bail "cannot make the busybox OCI layout"
husk image import --data-dir "$D/node" --name busybox:1.36 "$D/layout" > "$D/up.log" 2>&1 ||
  bail "husk image import failed"
step "busybox:1.36 imported"
husk up --data-dir "$D" --bind 127.0.0.1:6443 --kubeconfig "$KC" --log-dir "$D/logs" \
  --name vm --node-ip 127.0.0.1 --eviction-hard 'memory.available<16Mi,nodefs.available<1%' \
  --pod-max-pids 64 > "$D/up.log" 2>&1 &
UP_PID=$!
wait_for 120 test -s "$KC" || bail "husk up wrote no kubeconfig"
step "husk up: kubeconfig written"
wait_for 60 $K apply --validate=false -f "$D/pods.json" > "$D/apply.log" 2>&1 ||
  bail "kubectl apply: $(tail -n 1 "$D/apply.log")"
step "4 pods applied"
if ! wait_for 240 running; then
  diag "pods not all Running in 240 s: $(tr '\n' ' ' < "$D/pods")"
  grep -i -E 'warn|error|fail' "$D/up.log" | tail -n 20 | sed 's/^/#   /'
fi
step "pods: $(tr '\n' ' ' < "$D/pods")"

# pcg POD FILE: the pod cgroup's FILE.
pcg () { cat "$CGROOT/husk/pod-$(col "$1" 3)/$2" 2> /dev/null || echo missing; }
# files POD: memory.max|cpu.max|cpu.weight|memory.low|pids.max of the pod cgroup.
files () {
  echo "$(pcg "$1" memory.max)|$(pcg "$1" cpu.max)|$(pcg "$1" cpu.weight)|$(pcg "$1" memory.low)|$(pcg "$1" pids.max)"
}
is "qosClass of the four pods" \
  "$(col guaranteed 4) $(col burstable 4) $(col burst-mem 4) $(col besteffort 4)" \
  "Guaranteed Burstable Burstable BestEffort"
is "Guaranteed, init 300m/96Mi > containers 150m/48Mi: memory.max|cpu.max|cpu.weight|memory.low|pids.max" \
  "$(files guaranteed)" "100663296|30000 100000|12|100663296|64"
is "Burstable, one container without limits: memory.max|cpu.max|cpu.weight|memory.low|pids.max" \
  "$(files burstable)" "max|max 100000|12|50331648|64"
is "Burstable, every container with a memory limit: memory.max|cpu.max|cpu.weight|memory.low|pids.max" \
  "$(files burst-mem)" "67108864|max 100000|8|67108864|64"
is "BestEffort: memory.max|cpu.max|cpu.weight|memory.low|pids.max" \
  "$(files besteffort)" "max|max 100000|1|0|64"
# The containers sit under their pod's cgroup with their own limits.
is "Guaranteed: container a's memory.max inside the pod cgroup" \
  "$(pcg guaranteed a/memory.max)" 33554432

cleanup
trap - EXIT
is "cleanup leaves no pod cgroup, mount or bridge" "$(left_behind)" ""
step "done"
done_testing
