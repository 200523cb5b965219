#!/usr/bin/env python3
"""Pod startup through the API: POST a pod, time until a watch shows it Running.

usage: podstart.py SERVER TOKEN CAFILE MODE N [--bound NODE] [--prefix P]
  MODE serial: N pods one after the other (one kept-alive connection); burst: N pods created at once (10 clients, each on
  one kept-alive connection). Pods are named <P>-<i> (P defaults to MODE).
Prints one line per mode: p50/p99/max in ms and the burst's total time."""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

server, token, ca, mode, n = sys.argv[1:6]
n = int(n)
opts = dict(zip(sys.argv[6::2], sys.argv[7::2]))
node = opts.get("--bound")
prefix = opts.get("--prefix", mode)
u = urllib.parse.urlparse(server)
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
CLIENTS = 10  # concurrent creators in a burst, each with one kept-alive connection
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def conn():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)


running = {}
created = {}
added = {}
bound = {}
posted = {}
cv = threading.Condition()


def watcher(rv):
    c = conn()
    c.request("GET", "/api/v1/namespaces/bench/pods?watch=true&resourceVersion=%s" % rv, headers=H)
    r = c.getresponse()
    buf = b""
    while True:
        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            ev = json.loads(line)
            o = ev.get("object", {})
            name = o.get("metadata", {}).get("name")
            if ev.get("type") == "ADDED" and name not in added:
                added[name] = time.monotonic()
            if o.get("spec", {}).get("nodeName") and name not in bound:
                bound[name] = time.monotonic()
            if o.get("status", {}).get("phase") == "Running":
                with cv:
                    if name not in running:
                        running[name] = time.monotonic()
                        cv.notify_all()


def req(method, path, body=None, c=None):
    own = c is None
    if own:
        c = conn()
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = c.getresponse()
    data = r.read()
    if own:
        c.close()
    return r.status, data


def pod(name):
    spec = {"containers": [{"name": "c", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}],
            "terminationGracePeriodSeconds": 2}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def create(name, c=None):
    created[name] = time.monotonic()
    st, data = req("POST", "/api/v1/namespaces/bench/pods", pod(name), c)
    posted[name] = time.monotonic()
    if st != 201:
        print("create %s: %d %s" % (name, st, data[:200]), file=sys.stderr)


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
st, data = req("GET", "/api/v1/namespaces/bench/pods")
rv = json.loads(data)["metadata"]["resourceVersion"]
threading.Thread(target=watcher, args=(rv,), daemon=True).start()
time.sleep(0.2)
names = ["%s-%d" % (prefix, i) for i in range(n)]
t0 = time.monotonic()
if mode == "serial":
    c = conn()
    for name in names:
        create(name, c)
        with cv:
            cv.wait_for(lambda: name in running, timeout=60)
else:
    # As a client would: a few kept-alive connections (kubectl and client-go reuse theirs), not
    # a TLS handshake per pod, whose CPU on both sides would be the bench's, not the node's.
    todo = list(names)
    lock = threading.Lock()

    def creator():
        c = conn()
        while True:
            with lock:
                if not todo:
                    break
                x = todo.pop(0)
            create(x, c)
        c.close()

    threads = [threading.Thread(target=creator) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with cv:
        cv.wait_for(lambda: all(x in running for x in names), timeout=120)
total = time.monotonic() - t0
lat = [(running[x] - created[x]) * 1000 for x in names if x in running]
missing = n - len(lat)
print("%-6s pods=%d running=%d p50=%.0fms p99=%.0fms max=%.0fms total=%.2fs%s" % (
    mode, n, len(lat), pct(lat, 50) if lat else -1, pct(lat, 99) if lat else -1,
    max(lat) if lat else -1, total, " (%d never Running)" % missing if missing else ""))
if lat and added:
    post = [(posted[x] - created[x]) * 1000 for x in names if x in posted]
    since_added = [(running[x] - added[x]) * 1000 for x in names if x in running and x in added]
    print("%-6s POST took p50=%.0fms max=%.0fms; from ADDED seen by the watch to Running: p50=%.0fms p99=%.0fms" % (
        mode, pct(post, 50), max(post), pct(since_added, 50), pct(since_added, 99)))
    if not node:
        sched = [(bound[x] - added[x]) * 1000 for x in names if x in bound and x in added]
        print("%-6s scheduled (ADDED -> nodeName seen by the watch): p50=%.0fms p99=%.0fms" % (
            mode, pct(sched, 50), pct(sched, 99)))
sys.stdout.flush()
