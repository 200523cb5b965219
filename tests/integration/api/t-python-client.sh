#!/bin/bash
# The official Python client (Debian's python3-kubernetes) against a real husk master:
# list, create, patch (strategic and merge), watch with resourceVersion, delete, 404 and 409.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl
PY=/usr/bin/python3
[ -x $PY ] && $PY -c 'import kubernetes' 2>/dev/null || tap_skip_all "python3-kubernetes not installed"
api_start

$PY - "$KUBECONFIG" <<'PYEOF'
import sys, threading, time
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
n = 0
def ok(cond, desc):
    global n
    n += 1
    print(("ok" if cond else "not ok"), n, "-", desc, flush=True)

names = sorted(ns.metadata.name for ns in v1.list_namespace().items)
ok(names == ["default", "kube-node-lease", "kube-public", "kube-system"], "list_namespace")

cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"a": "b"}), data={"k": "v"})
created = v1.create_namespaced_config_map("default", cm)
ok(created.metadata.uid and created.metadata.resource_version.isdigit(), "create_namespaced_config_map")

got = v1.list_namespaced_config_map("default", label_selector="a=b")
ok([i.metadata.name for i in got.items] == ["py"], "list with label_selector")

p = v1.patch_namespaced_config_map("py", "default", {"data": {"k2": "v2"}})
ok(p.data == {"k": "v", "k2": "v2"}, "patch (strategic merge)")

dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="pyd"),
    spec=client.V1DeploymentSpec(
        replicas=1,
        selector=client.V1LabelSelector(match_labels={"app": "pyd"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "pyd"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))))
apps.create_namespaced_deployment("default", dep)
s = apps.patch_namespaced_deployment_scale("pyd", "default", {"spec": {"replicas": 3}})
ok(s.spec.replicas == 3 and s.kind == "Scale", "patch_namespaced_deployment_scale")

rv = v1.list_namespaced_config_map("default").metadata.resource_version
events = []
def watcher():
    w = watch.Watch()
    for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5):
        events.append((ev["type"], ev["object"].metadata.name))
        if len(events) == 3:
            w.stop()
t = threading.Thread(target=watcher)
t.start()
time.sleep(0.5)
v1.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="pyw")))
v1.patch_namespaced_config_map("pyw", "default", {"metadata": {"labels": {"x": "y"}}})
v1.delete_namespaced_config_map("pyw", "default")
t.join(10)
ok(events == [("ADDED", "pyw"), ("MODIFIED", "pyw"), ("DELETED", "pyw")], "watch from a resourceVersion: %s" % events)

try:
    v1.read_namespaced_config_map("nope", "default")
    ok(False, "read of a missing object raises")
except ApiException as e:
    ok(e.status == 404, "read of a missing object -> 404")

stale = v1.read_namespaced_config_map("py", "default")
v1.patch_namespaced_config_map("py", "default", {"metadata": {"labels": {"c": "d"}}})
try:
    v1.replace_namespaced_config_map("py", "default", stale)
    ok(False, "replace with a stale resourceVersion raises")
except ApiException as e:
    ok(e.status == 409, "replace with a stale resourceVersion -> 409")

v1.delete_namespaced_config_map("py", "default")
ok("py" not in [i.metadata.name for i in v1.list_namespaced_config_map("default").items], "delete")
print("1..%d" % n)
PYEOF
