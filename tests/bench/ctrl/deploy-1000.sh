#!/bin/bash
# A Deployment of REPLICAS (default 1000) on NODES (default 100) hollow nodes until fully
# Available: time from `create` to status.availableReplicas == replicas, master RSS (peak and
# at the end) and master CPU seconds (user+sys) over the run. Hollow nodes are Node objects
# with a Ready status; a watch-driven marker (4 connections) makes every bound pod Running and
# Ready, as a node agent would. There is no peer installed (no Go control plane here): the
# figures are absolute; upstream's SLO for comparison is pod startup latency (schedulable
# stateless pods, p99 <= 5 s, measured in clusters of up to 5,000 nodes at 30 pods/node).
# Usage: tests/bench/ctrl/deploy-1000.sh [NODES] [REPLICAS] [extra husk master flags...]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
require_cmd python3
NODES=${1:-100}
REPLICAS=${2:-1000}
shift 2 2>/dev/null
sched_master_start "$@"
python3 - "$KUBECONFIG" "$DATA/admin-token" "$NODES" "$REPLICAS" "$MASTER_PID" <<'PY'
import http.client, json, os, queue, ssl, sys, threading, time, re
kc, tokf, nodes, replicas, mpid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
server = re.search(r"server:\s*(\S+)", open(kc).read()).group(1)
host, port = server.split("//")[1].split(":")
tok = open(tokf).read().strip()
ctx = ssl._create_unverified_context()
local = threading.local()
def conn():
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)
def req(m, p, body=None, ct="application/json", ok404=False):
    if not hasattr(local, "c"):
        local.c = conn()
    h = {"Authorization": "Bearer " + tok, "Content-Type": ct}
    local.c.request(m, p, body=json.dumps(body) if body is not None else None, headers=h)
    r = local.c.getresponse(); data = r.read()
    if r.status == 404 and ok404: return None
    if r.status >= 300: raise SystemExit("%s %s: %d %s" % (m, p, r.status, data[:200]))
    return json.loads(data)
def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
CLK = os.sysconf("SC_CLK_TCK")
def master_cpu():
    f = open("/proc/%d/stat" % mpid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK
def master_rss():
    for l in open("/proc/%d/status" % mpid):
        if l.startswith("VmRSS:"): return int(l.split()[1]) // 1024
    return 0

for i in range(nodes):
    n = "hollow-%03d" % i
    req("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}})
    res = {"cpu": "32", "memory": "64Gi", "pods": "110"}
    req("PATCH", "/api/v1/nodes/%s/status" % n, {"status": {"capacity": res, "allocatable": res,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "lastHeartbeatTime": now(), "lastTransitionTime": now()}]}},
        "application/merge-patch+json")
    # A live Lease, so that the node lifecycle controller sees a healthy node.
    req("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": n, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": n, "leaseDurationSeconds": 3600,
                 "renewTime": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())}})
time.sleep(1)

# The hollow kubelets: a watch on pods; every bound pod not yet Ready is queued for a
# status PATCH (Running, Ready, a pod IP).
todo = queue.Queue()
marked = set()
stop = threading.Event()
def watcher():
    rv = req("GET", "/api/v1/namespaces/default/pods?limit=1")["metadata"]["resourceVersion"]
    c = conn()
    c.request("GET", "/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" + rv,
              headers={"Authorization": "Bearer " + tok})
    r = c.getresponse()
    while not stop.is_set():
        line = r.readline()
        if not line: break
        ev = json.loads(line)
        p = ev["object"]
        if ev["type"] not in ("ADDED", "MODIFIED"): continue
        name = p["metadata"]["name"]
        if p["spec"].get("nodeName") and name not in marked and not p["metadata"].get("deletionTimestamp"):
            marked.add(name)
            todo.put(name)
def marker(k):
    n = 0
    while True:
        name = todo.get()
        if name is None: return
        n += 1
        ip = "10.42.%d.%d" % ((hash(name) >> 8) & 255, (hash(name) & 253) + 1)
        t = now()
        req("PATCH", "/api/v1/namespaces/default/pods/%s/status" % name, {"status": {
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": t,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": t},
                           {"type": "ContainersReady", "status": "True", "lastTransitionTime": t}]}},
            "application/merge-patch+json", ok404=True)
threading.Thread(target=watcher, daemon=True).start()
markers = [threading.Thread(target=marker, args=(k,), daemon=True) for k in range(4)]
for t in markers: t.start()
time.sleep(0.5)

cpu0, rss0 = master_cpu(), master_rss()
peak = rss0
t0 = time.time()
req("POST", "/apis/apps/v1/namespaces/default/deployments", {"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "big"}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "big"}},
    "template": {"metadata": {"labels": {"app": "big"}}, "spec": {"containers": [{"name": "c",
    "image": "busybox", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}})
avail, first_all_created = 0, None
while time.time() - t0 < 900:
    d = req("GET", "/apis/apps/v1/namespaces/default/deployments/big")
    avail = d.get("status", {}).get("availableReplicas", 0)
    peak = max(peak, master_rss())
    if avail >= replicas: break
    time.sleep(0.1)
t1 = time.time()
cpu1, rss1 = master_cpu(), master_rss()
stop.set()
for t in markers: todo.put(None)
print("nodes=%d replicas=%d available=%d marked=%d" % (nodes, replicas, avail, len(marked)))
print("deployment fully Available in %.2f s (%.0f pods/s)" % (t1 - t0, avail / (t1 - t0)))
print("master CPU %.2f s (user+sys) over the run, %.0f%% of one core" % (cpu1 - cpu0, 100 * (cpu1 - cpu0) / (t1 - t0)))
print("master RSS %d MiB before, %d MiB peak, %d MiB after" % (rss0, peak, rss1))
sys.exit(0 if avail >= replicas else 1)
PY
