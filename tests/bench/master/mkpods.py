#!/usr/bin/env python3
"""Creates N realistic pods (~1.5 KB of JSON each) and optionally a few Ready nodes through
the API of a husk master, with T threads over keep-alive HTTPS. Used by tests/bench/master/run.
Usage: mkpods.py URL TOKEN N [--nodes K] [--bind] [--threads T]"""
import argparse, http.client, json, ssl, sys, threading, urllib.parse


def pod(i, node):
    app = "web-%d" % (i % 50)
    p = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "%s-7d9f8c6b5-%05d" % (app, i), "namespace": "default",
            "labels": {"app": app, "pod-template-hash": "7d9f8c6b5", "tier": "frontend",
                       "app.kubernetes.io/part-of": "bench"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T09:00:00Z",
                            "prometheus.io/scrape": "true", "prometheus.io/port": "9100"},
        },
        "spec": {
            "containers": [{
                "name": "app", "image": "registry.example.com/team/%s:1.4.%d" % (app, i % 7),
                "command": ["/bin/app"], "args": ["--listen=:8080", "--log-level=info"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": 9100, "protocol": "TCP"}],
                "env": [{"name": "APP_NAME", "value": app}, {"name": "APP_ENV", "value": "prod"},
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                              "limits": {"cpu": "200m", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                                   "periodSeconds": 10},
                "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": True}],
            }],
            "volumes": [{"name": "config", "configMap": {"name": "%s-config" % app}}],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "effect": "NoExecute", "tolerationSeconds": 300}],
        },
    }
    if node:
        p["spec"]["nodeName"] = node
    return p


def node(name):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"capacity": {"cpu": "64", "memory": "256Gi", "pods": "5000"},
                       "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "5000"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def conn(url):
    u = urllib.parse.urlparse(url)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection(u.hostname, u.port)


def post(c, tok, path, obj):
    c.request("POST", path, json.dumps(obj, separators=(",", ":")),
              {"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    if r.status >= 300 and r.status != 409:
        raise RuntimeError("%s: %d %s" % (path, r.status, body[:200]))
    return body


def main():
    a = argparse.ArgumentParser()
    a.add_argument("url"); a.add_argument("token"); a.add_argument("n", type=int)
    a.add_argument("--nodes", type=int, default=0)
    a.add_argument("--bind", action="store_true")
    a.add_argument("--threads", type=int, default=8)
    o = a.parse_args()
    c = conn(o.url)
    for k in range(o.nodes):
        post(c, o.token, "/api/v1/nodes", node("bench-node-%d" % k))
        # status is a subresource: set it so that the node is Ready with room
        c.request("PATCH", "/api/v1/nodes/bench-node-%d/status" % k,
                  json.dumps({"status": node("x")["status"]}),
                  {"Authorization": "Bearer " + o.token,
                   "Content-Type": "application/merge-patch+json"})
        c.getresponse().read()
    errors = []

    def work(t):
        try:
            cc = conn(o.url)
            for i in range(t, o.n, o.threads):
                nn = "bench-node-%d" % (i % o.nodes) if o.bind and o.nodes else None
                post(cc, o.token, "/api/v1/namespaces/default/pods", pod(i, nn))
        except Exception as e:  # noqa
            errors.append(str(e))

    ts = [threading.Thread(target=work, args=(t,)) for t in range(o.threads)]
    for t in ts: t.start()
    for t in ts: t.join()
    if errors:
        sys.exit("mkpods: " + errors[0])


if __name__ == "__main__":
    main()
