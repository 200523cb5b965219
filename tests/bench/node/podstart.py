#!/usr/bin/env python3
"""Pod startup through the API: POST a pod, time until a watch shows it Running.

usage: podstart.py SERVER TOKEN CAFILE MODE N [--bound NODE]
  MODE serial: N pods one after the other; burst: N pods created at once.
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
node = sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--bound" else None
u = urllib.parse.urlparse(server)
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def conn():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)


running = {}
created = {}
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
            if o.get("status", {}).get("phase") == "Running":
                name = o["metadata"]["name"]
                with cv:
                    if name not in running:
                        running[name] = time.monotonic()
                        cv.notify_all()


def req(method, path, body=None):
    c = conn()
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def pod(name):
    spec = {"containers": [{"name": "c", "image": "busybox:1.36", "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}],
            "terminationGracePeriodSeconds": 2}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def create(name):
    created[name] = time.monotonic()
    st, data = req("POST", "/api/v1/namespaces/bench/pods", pod(name))
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
names = ["%s-%d" % (mode, i) for i in range(n)]
t0 = time.monotonic()
if mode == "serial":
    for name in names:
        create(name)
        with cv:
            cv.wait_for(lambda: name in running, timeout=60)
else:
    threads = [threading.Thread(target=create, args=(x,)) for x in names]
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
sys.stdout.flush()
