#!/bin/bash
# StatefulSet controller against a real husk master with no node agent (pods are made Ready
# here by hand, then by a hollow loop): stable names, hostname/subdomain and labels,
# volumeClaimTemplates making PVCs <tmpl>-<set>-<ordinal> kept on scale-down (Retain) or
# deleted by the collector (persistentVolumeClaimRetentionPolicy Delete), OrderedReady
# creation observed step by step and reverse-order removal, Parallel, RollingUpdate with a
# partition (highest ordinal first) and `kubectl rollout status sts`, OnDelete.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

sts_yaml() { # sts_yaml NAME REPLICAS POLICY
  cat <<J
{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "$1"},
 "spec": {"replicas": $2, "serviceName": "$1", "podManagementPolicy": "$3",
  "selector": {"matchLabels": {"app": "$1"}},
  "template": {"metadata": {"labels": {"app": "$1"}},
   "spec": {"containers": [{"name": "c", "image": "busybox:1.35",
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
  "volumeClaimTemplates": [{"metadata": {"name": "data"},
   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}
J
}
live() { # live APP: names of its pods not being deleted, sorted
  $K get pods -l app="$1" -o json | python3 -c '
import json, sys
print(" ".join(sorted(p["metadata"]["name"] for p in json.load(sys.stdin)["items"]
                      if not p["metadata"].get("deletionTimestamp"))))'
}
ready() { pod_status default "$1" "10.0.0.$2" True >/dev/null; }
# deletions APP FILE: follows a watch and appends the name of every deleted pod to FILE.
deletions() {
  python3 -u - "$API_URL" "$API_TOKEN" "$1" >"$2" 2>/dev/null <<'PY' &
import json, ssl, sys, urllib.request
url, token, app = sys.argv[1:4]
req = urllib.request.Request("%s/api/v1/namespaces/default/pods?watch=1&labelSelector=app%%3D%s" % (url, app),
                             headers={"Authorization": "Bearer " + token})
with urllib.request.urlopen(req, context=ssl._create_unverified_context()) as r:
    print("watching")
    for line in r:
        ev = json.loads(line)
        if ev["type"] == "DELETED":
            print(ev["object"]["metadata"]["name"])
PY
  WATCH_PID=$!
  on_exit "kill $WATCH_PID 2>/dev/null"
  wait_for 10 test -s "$2"
}
rev() { $K get pod "$1" -o jsonpath='{.metadata.labels.controller-revision-hash}'; }

# Parallel: every pod at once, nobody Ready.
sts_yaml par 3 Parallel | $K create -f - >/dev/null
wait_for 20 is_eq "par-0 par-1 par-2" live par
tap_is "$(live par)" "par-0 par-1 par-2" "Parallel: three pods created at once, none Ready"
$K delete sts par >/dev/null

# OrderedReady, step by step.
$K create service clusterip web --clusterip=None >/dev/null
sts_yaml web 3 OrderedReady | $K create -f - >/dev/null
wait_for 20 is_eq web-0 live web
sleep 1.5
tap_is "$(live web)" web-0 "OrderedReady: web-0 first, web-1 waits for it to be Ready"
ready web-0 10
wait_for 20 is_eq "web-0 web-1" live web
sleep 1.5
tap_is "$(live web)" "web-0 web-1" "web-0 Ready: web-1 created, web-2 waits"
ready web-1 11
wait_for 20 is_eq "web-0 web-1 web-2" live web
tap_is "$(live web)" "web-0 web-1 web-2" "web-1 Ready: web-2 created"
ready web-2 12
tap_check "kubectl rollout status sts" -- $K rollout status sts/web --timeout=30s
tap_is "$($K get pod web-1 -o jsonpath='{.spec.hostname}.{.spec.subdomain} {.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index}')" \
  "web-1.web web-1 1" "hostname, subdomain, pod-name and pod-index labels"
tap_is "$($K get pvc -l app=web -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | sort | xargs)" \
  "data-web-0 data-web-1 data-web-2" "volumeClaimTemplates made one PVC per pod"
tap_is "$($K get pod web-2 -o jsonpath='{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}')" \
  data-web-2 "the pod mounts its own claim"
tap_is "$($K get sts web -o jsonpath='{.status.replicas}/{.status.readyReplicas}/{.status.currentReplicas}/{.status.updatedReplicas}/{.status.availableReplicas}')" \
  3/3/3/3/3 "status replicas/ready/current/updated/available"

# Scale down: highest ordinal first; PVCs stay (Retain).
deletions web "$DATA/del1"
$K scale sts web --replicas=1 >/dev/null
wait_for 20 is_eq web-0 live web
sleep 0.5
kill $WATCH_PID
tap_is "$(grep -v watching "$DATA/del1" | xargs)" "web-2 web-1" "scale down removes web-2, then web-1"
tap_is "$($K get pvc -l app=web --no-headers | wc -l)" 3 "the PVCs are retained"

# Back to 3 with a hollow loop making pods Ready.
hollow_start default
$K scale sts web --replicas=3 >/dev/null
tap_check "scale up to 3 again" -- $K rollout status sts/web --timeout=30s
tap_is "$($K get pvc -l app=web --no-headers | wc -l)" 3 "the old claims are reused"

# RollingUpdate with partition 2: only web-2 moves.
old=$(rev web-0)
$K patch sts web --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}' >/dev/null
$K set image sts/web c=busybox:1.36 >/dev/null
tap_like "$($K rollout status sts/web --timeout=30s)" "partitioned roll out complete: 1 new pods" \
  "rollout status: partitioned roll out complete"
new=$($K get sts web -o jsonpath='{.status.updateRevision}')
tap_is "$(rev web-0) $(rev web-1) $(rev web-2)" "$old $old $new" "partition 2: only web-2 updated"
tap_is "$($K get pod web-2 -o jsonpath='{.spec.containers[0].image}')" busybox:1.36 "web-2 runs the new image"

deletions web "$DATA/del2"
$K patch sts web --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}' >/dev/null
tap_check "rollout status: rolling update complete" -- $K rollout status sts/web --timeout=60s
kill $WATCH_PID
tap_is "$(grep -v watching "$DATA/del2" | xargs)" "web-1 web-0" "partition 0: web-1 replaced, then web-0"
tap_is "$(rev web-0) $(rev web-1) $(rev web-2)" "$new $new $new" "every pod at the update revision"
tap_is "$($K get sts web -o jsonpath='{.status.currentRevision}')" "$new" "currentRevision caught up"

# OnDelete: a new template reaches only pods deleted by hand.
$K patch sts web --type=merge -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' >/dev/null
$K set image sts/web c=busybox:1.37 >/dev/null
sleep 2
tap_is "$($K get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')" \
  "busybox:1.36 busybox:1.36 busybox:1.36" "OnDelete: pods keep their template"
$K delete pod web-1 --wait=false >/dev/null
wait_for 20 is_eq busybox:1.37 $K get pod web-1 -o jsonpath='{.spec.containers[0].image}'
tap_is "$($K get pod web-1 -o jsonpath='{.spec.containers[0].image}')" busybox:1.37 \
  "web-1 deleted by hand comes back with the new template"

# persistentVolumeClaimRetentionPolicy: ownerReferences on the claims, the garbage collector
# deletes them with their owner (its scan for vanished owners runs every 10 s).
sts_policy() { # sts_policy NAME REPLICAS WHEN_SCALED WHEN_DELETED
  sts_yaml "$1" "$2" Parallel | python3 -c '
import json, sys
o = json.load(sys.stdin)
o["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenScaled": sys.argv[1], "whenDeleted": sys.argv[2]}
print(json.dumps(o))' "$3" "$4" | $K create -f - >/dev/null
}
claims() { # claims APP: names of its claims, sorted
  $K get pvc -l app="$1" -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | sort | xargs
}
owners() { # owners CLAIM: kind/name/controller of its ownerReferences
  $K get pvc "$1" -o jsonpath='{range .metadata.ownerReferences[*]}{.kind}/{.name}/{.controller} {end}' | xargs
}
sts_policy sd 3 Delete Retain
wait_for 20 is_eq "data-sd-0 data-sd-1 data-sd-2" claims sd
tap_is "$(owners data-sd-2)" "" "whenScaled=Delete, whenDeleted=Retain: claims of pods in range have no owner"
$K scale sts sd --replicas=1 >/dev/null
wait_for 40 is_eq data-sd-0 claims sd
tap_is "$(claims sd)" data-sd-0 "scale down with whenScaled=Delete: the removed ordinals' claims are deleted"
tap_is "$(owners data-sd-0)" "" "the claim of the remaining pod stays unowned"
$K scale sts sd --replicas=2 >/dev/null
wait_for 30 is_eq "sd-0 sd-1" live sd
wait_for 20 is_eq "data-sd-0 data-sd-1" claims sd
tap_is "$(claims sd)" "data-sd-0 data-sd-1" "scaling up again makes a fresh claim"
$K delete sts sd >/dev/null
wait_for 20 is_eq 0 count_pods default app=sd
sleep 12 # more than a scan of the collector
tap_is "$(claims sd)" "data-sd-0 data-sd-1" "whenDeleted=Retain: deleting the set keeps its claims"

sts_policy dd 2 Retain Delete
wait_for 20 is_eq "data-dd-0 data-dd-1" claims dd
tap_is "$(owners data-dd-1)" "StatefulSet/dd/true" "whenDeleted=Delete: each claim has a controller ref to the set"
$K scale sts dd --replicas=1 >/dev/null
wait_for 20 is_eq dd-0 live dd
sleep 12
tap_is "$(claims dd)" "data-dd-0 data-dd-1" "whenScaled=Retain: scaling down keeps the claim"
tap_is "$(owners data-dd-1)" "StatefulSet/dd/true" "... still owned by the set"
$K delete sts dd >/dev/null
wait_for 40 is_eq "" claims dd
tap_is "$(claims dd)" "" "whenDeleted=Delete: deleting the set deletes every claim, the scaled-away one too"

sts_policy both 2 Delete Delete
wait_for 20 is_eq "data-both-0 data-both-1" claims both
tap_is "$(owners data-both-1)" "StatefulSet/both/true" "Delete/Delete: claims in range are owned by the set"
$K scale sts both --replicas=1 >/dev/null
wait_for 40 is_eq data-both-0 claims both
tap_is "$(claims both)/$(owners data-both-0)" "data-both-0/StatefulSet/both/true" \
  "scale down: the removed ordinal's claim goes (handed to its pod), the other stays the set's"
$K delete sts both >/dev/null
wait_for 40 is_eq "" claims both
tap_is "$(claims both)" "" "deleting the set deletes the remaining claim"

$K delete sts web >/dev/null
wait_for 20 is_eq 0 count_pods default app=web
tap_is "$(count_pods default app=web)" 0 "deleting the StatefulSet deletes its pods"
tap_is "$($K get pvc -l app=web --no-headers | wc -l)" 3 "... and keeps the PVCs"
tap_done
