#!/bin/bash
# Creates skip the namespace GET and the ResourceQuota/LimitRange LISTs while those kinds are
# unwritten (admission.c's facts): a fact learned by one create must be dropped by the next
# write of its kind, so that a quota, a LimitRange or a namespace deletion made right after
# creates that warmed the cache still applies to the very next create.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
require_cmd kubectl curl
DATA=$(husk_tmpdir)
husk_master_launch --scheduler=false --controllers=false
ns=facts$$

tap_check "create ns $ns" $K create ns $ns
for i in 1 2 3; do $K create cm warm-$i -n $ns >/dev/null 2>&1; done
tap_is "$($K get cm -n $ns -o name | grep -c warm-)" "3" "creates without a quota (the no-quota fact is learned)"

# A quota written after that: the next creates are counted and the one over it refused.
tap_check "create a quota of 5 configmaps" $K create quota q --hard=configmaps=5 -n $ns
tap_check "the 4th configmap is admitted" $K create cm c4 -n $ns
tap_check "the 5th too" $K create cm c5 -n $ns
out=$($K create cm c6 -n $ns 2>&1)
tap_like "$out" 'configmaps "c6" is forbidden: exceeded quota: q' "the quota written after the cached fact refuses the 6th"
tap_is "$($K get cm c6 -n $ns -o name 2>/dev/null)" "" "the refused configmap was not stored"
tap_check "delete the quota" $K delete quota q -n $ns
tap_check "without it the next create is admitted again" $K create cm c6 -n $ns

# LimitRange: pods created before it get nothing, the first pod after it its defaults.
pod() {
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec: {containers: [{name: c, image: busybox}]}\n' "$1" |
    $K create -n $ns -f - >/dev/null 2>&1
}
pod p1
tap_is "$($K get pod p1 -n $ns -o jsonpath='{.spec.containers[0].resources.limits.cpu}')" "" "a pod without a LimitRange gets no limits"
cat >"$DATA/lr.yaml" <<Y
apiVersion: v1
kind: LimitRange
metadata: {name: lr}
spec:
  limits: [{type: Container, default: {cpu: 300m}, defaultRequest: {cpu: 100m}}]
Y
tap_check "create a LimitRange" $K create -n $ns -f "$DATA/lr.yaml"
pod p2
tap_is "$($K get pod p2 -n $ns -o jsonpath='{.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.requests.cpu}')" \
  "300m 100m" "the next pod gets the LimitRange's defaults"
tap_check "delete the LimitRange" $K delete limitrange lr -n $ns
pod p3
tap_is "$($K get pod p3 -n $ns -o jsonpath='{.spec.containers[0].resources.limits.cpu}')" "" "after its deletion pods get none again"

# A namespace that creates found usable, then marked for deletion (a finalizer keeps it
# Terminating): the next create is refused.
ns2=facts2-$$
tap_check "create ns $ns2" $K create ns $ns2
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, finalizers: [example.com/keep]}\n' |
  $K create -n $ns2 -f - >/dev/null 2>&1
tap_check "a create in it (the usable fact is learned)" $K create cm c1 -n $ns2
tap_check "delete ns $ns2 (kept by the finalizer)" $K delete ns $ns2 --wait=false
out=$($K create cm c2 -n $ns2 2>&1)
tap_like "$out" "unable to create new content in namespace $ns2 because it is being terminated" \
  "the next create in the terminating namespace is refused"
out=$($K create cm c1 -n nosuch$$ 2>&1)
tap_like "$out" "namespaces \"nosuch$$\" not found" "a create in a missing namespace is refused"
tap_done
