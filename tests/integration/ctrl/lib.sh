# Helpers for the controllers' tests: a real `husk master` (tests/integration/api/lib.sh
# starts it) with no node agent; pods are made Running and Ready here, as a hollow node
# would, by PATCHing pods/status.

# pods_json NS: the pod list of NS.
pods_json() { api_curl "/api/v1/namespaces/$1/pods"; }

# mark_ready NS: every pod of NS not yet Ready becomes Running, Ready, with a pod IP derived
# from its uid.
mark_ready() {
  local ns=$1 name ip
  pods_json "$ns" | python3 -c '
import json, sys, zlib
for p in json.load(sys.stdin).get("items", []):
    if p["metadata"].get("deletionTimestamp"):
        continue
    conds = p.get("status", {}).get("conditions", [])
    if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
        continue
    h = zlib.crc32(p["metadata"]["uid"].encode())
    print(p["metadata"]["name"], "10.%d.%d.%d" % (h >> 16 & 255, h >> 8 & 255, (h & 253) + 1))
' | while read -r name ip; do
    pod_status "$ns" "$name" "$ip" True >/dev/null
  done
}

# pod_status NS NAME IP READY(True|False): writes the pod's status like a node agent.
pod_status() {
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$3\",\"podIPs\":[{\"ip\":\"$3\"}],\
\"conditions\":[{\"type\":\"Ready\",\"status\":\"$4\",\"lastTransitionTime\":\"$now\"}]}}" \
    "/api/v1/namespaces/$1/pods/$2/status"
}

# hollow_start NS: marks the pods of NS Ready in the background until the test ends.
hollow_start() {
  (while :; do mark_ready "$1"; sleep 0.2; done) >/dev/null 2>&1 &
  on_exit "kill $! 2>/dev/null"
}

# count_pods NS SELECTOR [ready]: pods of NS matching the label selector that are not being
# deleted (with "ready": only the Ready ones).
count_pods() {
  local sel
  sel=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$2")
  api_curl "/api/v1/namespaces/$1/pods?labelSelector=$sel" | python3 -c '
import json, sys
ready = len(sys.argv) > 1
n = 0
for p in json.load(sys.stdin).get("items", []):
    if p["metadata"].get("deletionTimestamp"):
        continue
    conds = p.get("status", {}).get("conditions", [])
    if ready and not any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
        continue
    n += 1
print(n)
' ${3:+ready}
}

# scale_to DEPLOYMENT SELECTOR N SECS: scales a Deployment of the default namespace to N
# replicas and waits up to SECS for N live pods matching SELECTOR.
scale_to() {
  $K scale deployment "$1" --replicas="$3" >/dev/null
  wait_for "$4" is_eq "$3" count_pods default "$2"
}

# is_eq WANT command...: the command prints WANT.
is_eq() {
  local want=$1
  shift
  [ "$("$@" 2>/dev/null)" = "$want" ]
}

# pod_monitor NS SELECTOR FILE: follows a watch of NS's pods matching SELECTOR in the
# background and appends "<pods not being deleted> <of them Ready>" to FILE after every event,
# so that every intermediate state of a rollout is seen. Sets MONITOR_PID.
pod_monitor() {
  python3 -u - "$API_URL" "$API_TOKEN" "$1" "$2" >"$3" 2>/dev/null <<'PY' &
import json, ssl, sys, urllib.parse, urllib.request
url, token, ns, sel = sys.argv[1:5]
ctx = ssl._create_unverified_context()
req = urllib.request.Request(
    "%s/api/v1/namespaces/%s/pods?watch=1&labelSelector=%s" % (url, ns, urllib.parse.quote(sel)),
    headers={"Authorization": "Bearer " + token})
pods = {}
with urllib.request.urlopen(req, context=ctx) as r:
    for line in r:
        ev = json.loads(line)
        p = ev["object"]
        name = p["metadata"]["name"]
        if ev["type"] == "DELETED" or p["metadata"].get("deletionTimestamp"):
            pods.pop(name, None)
        else:
            conds = p.get("status", {}).get("conditions", [])
            pods[name] = any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
        print(len(pods), sum(pods.values()))
PY
  MONITOR_PID=$!
  on_exit "kill $MONITOR_PID 2>/dev/null"
}

# hollow_start_bound NS: like hollow_start, but only pods a scheduler bound to a node become
# Running and Ready, and pods being deleted are removed (grace period 0), as their node's
# agent would do.
hollow_start_bound() {
  (while :; do
    pods_json "$1" | python3 -c '
import json, sys, zlib
for p in json.load(sys.stdin).get("items", []):
    if p["metadata"].get("deletionTimestamp"):
        print(p["metadata"]["name"], "gone")
        continue
    if not p["spec"].get("nodeName"):
        continue
    conds = p.get("status", {}).get("conditions", [])
    if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
        continue
    h = zlib.crc32(p["metadata"]["uid"].encode())
    print(p["metadata"]["name"], "10.%d.%d.%d" % (h >> 16 & 255, h >> 8 & 255, (h & 253) + 1))
' | while read -r name ip; do
      if [ "$ip" = gone ]; then
        api_curl -X DELETE "/api/v1/namespaces/$1/pods/$name?gracePeriodSeconds=0"
      else
        pod_status "$1" "$name" "$ip" True
      fi
    done
    sleep 0.2
  done) >/dev/null 2>&1 &
  on_exit "kill $! 2>/dev/null"
}

# ---- deleting owners (ctrl/t-gc.sh, api/t-cascade.sh) ----

# gc_cluster: a master (api_start) and hollow node n1 (8 CPUs, 16Gi, 110 pods); the pods of
# default become Ready, and pods being deleted stay until kubelet_finish removes them.
gc_cluster() {
  api_start
  hollow_node n1 8 16Gi 110
  hollow_start default
}

# deploy NAME: a Deployment of 2 busybox pods (label app=NAME), waited for until both are Ready.
deploy() { $K create deployment "$1" --image=busybox --replicas=2 >/dev/null; wait_for 20 is_eq 2 count_pods default app="$1" ready; }
# exists / gone / terminating KIND/NAME: the object is there / is not / has a deletionTimestamp.
exists() { $K get "$1" -o name >/dev/null 2>&1; }
gone() { ! exists "$1"; }
terminating() { [ -n "$($K get "$1" -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ]; }

# kubelet_finish: removes the pods of default being deleted, as their node's agent would.
kubelet_finish() {
  pods_json default | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    if p["metadata"].get("deletionTimestamp"): print(p["metadata"]["name"])' |
    while read -r p; do api_curl -X DELETE "/api/v1/namespaces/default/pods/$p?gracePeriodSeconds=0" >/dev/null; done
}
