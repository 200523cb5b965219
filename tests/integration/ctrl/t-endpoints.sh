#!/bin/bash
# Endpoints and EndpointSlice controller, and the default ServiceAccount of new namespaces,
# against a real husk master with no node agent (pod IPs and readiness written here as a
# hollow node would).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
api_start

$K create namespace shop >/dev/null
wait_for 20 $K -n shop get serviceaccount default
tap_check "a new namespace gets a default ServiceAccount" -- $K -n shop get serviceaccount default

for i in 1 2 3; do
  $K -n shop run "api-$i" --image=busybox --labels=app=api,tier=back --port=8080 >/dev/null
done
$K -n shop run other --image=busybox --labels=app=other >/dev/null
cat <<'Y' | $K -n shop apply -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: 8080}
Y

pod_status shop api-1 10.1.0.1 True >/dev/null
pod_status shop api-2 10.1.0.2 True >/dev/null
pod_status shop api-3 10.1.0.3 False >/dev/null
pod_status shop other 10.1.0.9 True >/dev/null

ep_ready() { $K -n shop get endpoints api -o jsonpath='{.subsets[*].addresses[*].ip}'; }
ep_notready() { $K -n shop get endpoints api -o jsonpath='{.subsets[*].notReadyAddresses[*].ip}'; }
wait_for 20 is_eq "10.1.0.1 10.1.0.2" ep_ready
tap_is "$(ep_ready)" "10.1.0.1 10.1.0.2" "Endpoints list the ready pods' IPs"
tap_is "$(ep_notready)" "10.1.0.3" "a pod not ready is in notReadyAddresses"
tap_is "$($K -n shop get endpoints api -o jsonpath='{.subsets[0].ports[0].name}:{.subsets[0].ports[0].port}')" \
  "http:8080" "the port is the Service port's targetPort"
tap_is "$($K -n shop get endpoints api -o jsonpath='{.subsets[0].addresses[0].targetRef.name}')" api-1 \
  "addresses name their pod"

slice_ips() {
  $K -n shop get endpointslices -l kubernetes.io/service-name=api \
    -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready} {end}'
}
wait_for 20 is_eq "10.1.0.1=true 10.1.0.2=true 10.1.0.3=false " slice_ips
tap_is "$(slice_ips)" "10.1.0.1=true 10.1.0.2=true 10.1.0.3=false " \
  "the EndpointSlice lists the endpoints with their readiness"

pod_status shop api-3 10.1.0.3 True >/dev/null
pod_status shop api-1 10.1.0.1 False >/dev/null
wait_for 20 is_eq "10.1.0.2 10.1.0.3" ep_ready
tap_is "$(ep_ready)" "10.1.0.2 10.1.0.3" "readiness changes move addresses"
tap_is "$(ep_notready)" "10.1.0.1" "... both ways"

$K -n shop delete pod api-2 --wait=false >/dev/null
wait_for 20 is_eq "10.1.0.3" ep_ready
tap_is "$(ep_ready)" "10.1.0.3" "a deleted pod leaves the Endpoints"

# Named target port resolved from the container's ports.
cat <<'Y' | $K -n shop apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: named, labels: {app: named}}
spec:
  containers:
  - name: c
    image: busybox
    ports: [{name: web, containerPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: named}
spec:
  selector: {app: named}
  ports: [{port: 80, targetPort: web}]
Y
pod_status shop named 10.1.0.20 True >/dev/null
named_ep() { $K -n shop get endpoints named -o jsonpath='{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}'; }
wait_for 20 is_eq "10.1.0.20:9090" named_ep
tap_is "$(named_ep)" "10.1.0.20:9090" "a named targetPort resolves to the container port"
tap_done
