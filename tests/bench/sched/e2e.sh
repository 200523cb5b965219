#!/bin/bash
# End-to-end scheduling throughput of `husk master`: N hollow nodes (Node objects with a Ready
# status, no agent), then P pods created through the API as fast as one client can; reports
# pods bound per second from the first create to the last binding, against the peer measured
# in the same run: the API's pod-create rate alone (the scheduler cannot go faster than pods
# arrive). CLIENTS (environment, default 4) connections create the pods in parallel.
# Usage: tests/bench/sched/e2e.sh [NODES] [PODS] [extra husk master flags...]
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
require_cmd python3
NODES=${1:-100}
PODS=${2:-1000}
shift 2 2>/dev/null
sched_master_start "$@"
python3 - "$KUBECONFIG" "$DATA/admin-token" "$NODES" "$PODS" "${CLIENTS:-4}" <<'PY'
import http.client, json, ssl, sys, time, re, threading
clients = int(sys.argv[5])
kc, tokf, nodes, pods = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
server = re.search(r"server:\s*(\S+)", open(kc).read()).group(1)
host, port = server.split("//")[1].split(":")
tok = open(tokf).read().strip()
ctx = ssl._create_unverified_context()
H = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
local = threading.local()
def req(m, p, body=None, ct="application/json"):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPSConnection(host, int(port), context=ctx)
    c = local.c
    h = dict(H); h["Content-Type"] = ct
    c.request(m, p, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: raise SystemExit("%s %s: %d %s" % (m, p, r.status, data[:200]))
    return json.loads(data)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
for i in range(nodes):
    n = "hollow-%03d" % i
    req("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n}})
    res = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    req("PATCH", "/api/v1/nodes/%s/status" % n, {"status": {"capacity": res, "allocatable": res,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "lastHeartbeatTime": now, "lastTransitionTime": now}]}},
        "application/merge-patch+json")
time.sleep(1)
t0 = time.time()
def create(k):
    for i in range(k, pods, clients):
        req("POST", "/api/v1/namespaces/default/pods", {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p-%04d" % i}, "spec": {"containers": [{"name": "c",
            "image": "busybox", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}})
ts = [threading.Thread(target=create, args=(k,)) for k in range(clients)]
for t in ts: t.start()
for t in ts: t.join()
t_created = time.time()
bound = 0
while time.time() - t0 < 600:
    items = req("GET", "/api/v1/namespaces/default/pods")["items"]
    placed = [p["spec"].get("nodeName") for p in items if p["spec"].get("nodeName")]
    bound = len(placed)
    if bound >= pods: break
    time.sleep(0.05)
t_bound = time.time()
per_node = {}
for n in placed: per_node[n] = per_node.get(n, 0) + 1
create_rate = pods / (t_created - t0)
bind_rate = bound / (t_bound - t0)
print("nodes=%d pods=%d bound=%d clients=%d" % (nodes, pods, bound, clients))
print("create only (peer): %.0f pods/s (%.2f s)" % (create_rate, t_created - t0))
print("created+bound end to end: %.0f pods/s (%.2f s)" % (bind_rate, t_bound - t0))
print("ratio bound/created: %.2f" % (bind_rate / create_rate))
print("pods per node: min %d max %d over %d nodes" % (min(per_node.values()), max(per_node.values()), len(per_node)))
sys.exit(0 if bound >= pods else 1)
PY
