#!/bin/bash
# Registry pulls through the separate node daemon: `husk master` and `husk node` (which execs
# husk-node, linked without libarchive: every layer is unpacked by `husk node --image-helper`)
# in a network namespace made here, with a Debian docker-registry and a Bearer-token registry
# (token-registry.py) on 127.0.0.1 inside it. A pod of a three-layer image (a whiteout, an
# opaque directory, a file only in the last layer) with imagePullPolicy Always runs and its
# rootfs is the merged layers; an archive in images.d is imported at start; a missing tag
# gives ErrImagePull then ImagePullBackOff with the registry's message; a private repository
# pulls with imagePullSecrets and not without. Without husk next to husk-node, all of it fails.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/node/lib.sh"
. "$top_srcdir/tests/integration/image/lib.sh"
node_require
require_cmd docker-registry skopeo curl
ldd "$(command -v busybox)" 2>/dev/null | grep -q '=>' &&
  tap_skip_all "busybox is dynamically linked (apt-get install busybox-static)"
[ -x "$HUSK_BUILD_DIR/husk-node" ] || { echo "Bail out! husk-node is not built in $HUSK_BUILD_DIR"; exit 1; }
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true

NS="husk-t$$-npull"
ip netns del "$NS" 2>/dev/null
ip netns add "$NS" || tap_skip_all "cannot create a network namespace"
on_exit "ip netns del '$NS'"
ip -n "$NS" link set lo up
D=$(mktemp -d "${TMPDIR:-/tmp}/husk-node-test.XXXXXX")
on_exit 'kill $MASTER_PID 2>/dev/null; node_scrub'
IN_NS="nsenter --net=/run/netns/$NS"
IMG_TMP=$D/img
mkdir -p "$IMG_TMP"

# ---- registries inside the namespace (nothing listens outside it) ----
REG=127.0.0.1:5000
mkdir -p "$D/registry/data"
cat >"$D/registry/config.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $D/registry/data}}
http: {addr: $REG, secret: husk-test}
EOF
REGISTRY_HTTP_DEBUG_ADDR= $IN_NS docker-registry serve "$D/registry/config.yml" >"$D/registry/log" 2>&1 &
on_exit "kill $!"
wait_for 20 $IN_NS curl -sf -o /dev/null "http://$REG/v2/" ||
  { cat "$D/registry/log" >&2; echo "Bail out! docker-registry did not start"; exit 1; }

img_build_image "$D/oci" v1 || { echo "Bail out! cannot build the test image"; exit 1; }
$IN_NS skopeo copy -q --dest-tls-verify=false "oci:$D/oci:v1" "docker://$REG/pull/img:v1" >"$D/push.log" 2>&1 ||
  { cat "$D/push.log" >&2; echo "Bail out! skopeo push failed"; exit 1; }

$IN_NS python3 "$top_srcdir/tests/integration/image/token-registry.py" "$D/oci" tok/img alice s3cret \
  "$D/tokport" >"$D/token-registry.log" 2>&1 &
on_exit "kill $!"
wait_for 10 test -s "$D/tokport" || { echo "Bail out! token-registry.py did not start"; exit 1; }
TOK=127.0.0.1:$(cat "$D/tokport")

# an archive in images.d: husk-node imports it at start through `husk node --image-helper import`
{ "$HUSK_BUILD_DIR/husk" image import --data-dir "$D/build" --name preload/img:v1 "$D/oci" &&
  mkdir -p "$D/node/images.d" &&
  "$HUSK_BUILD_DIR/husk" image export --data-dir "$D/build" preload/img:v1 "$D/node/images.d/img.tar"; } \
  >"$D/preload.log" 2>&1 || { cat "$D/preload.log" >&2; echo "Bail out! cannot make the images.d archive"; exit 1; }

# ---- master + the node daemon ----
$IN_NS "$HUSK_BUILD_DIR/husk" master --data-dir "$D/master" --bind 127.0.0.1:6443 \
  --cluster-cidr 10.78.0.0/16 >>"$D/master.log" 2>&1 &
MASTER_PID=$!
wait_for 10 test -s "$D/master/admin.kubeconfig" || { cat "$D/master.log" >&2; echo "Bail out! master"; exit 1; }
$IN_NS "$HUSK_BUILD_DIR/husk" node --server https://127.0.0.1:6443 \
  --token-file "$D/master/node-token" --ca-file "$D/master/pki/ca.crt" --name n1 \
  --data-dir "$D/node" --log-dir "$D/logs" --node-ip 127.0.0.1 >"$D/node.log" 2>&1 &
UP_PID=$!
K="$IN_NS kubectl --kubeconfig $D/master/admin.kubeconfig --request-timeout=20s"
wait_for 30 sh -c "$K get node n1 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
tap_is "$($K get node n1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True" "the node is Ready"
tap_is "$(basename "$(readlink "/proc/$UP_PID/exe")")" "husk-node" \
  "husk node runs as husk-node (/proc/PID/exe)"
tap_check "husk-node maps no libarchive" -- sh -c "! grep -q libarchive /proc/$UP_PID/maps"

pod() { # pod NAME IMAGE [SECRET]: a pod bound to n1 that pulls IMAGE with imagePullPolicy $POLICY
  local secrets=""
  [ -n "${3:-}" ] && secrets="imagePullSecrets: [{name: $3}]"
  $K apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {t: npull-$1}}
spec:
  nodeName: n1
  terminationGracePeriodSeconds: 2
  $secrets
  containers:
  - name: c
    image: $2
    imagePullPolicy: ${POLICY:-Always}
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do busybox sleep 1; done"]
EOF
}
running() { [ "$(node_pod_field "$1" '{.status.phase}')" = Running ]; }
waiting() { node_pod_field "$1" '{.status.containerStatuses[0].state.waiting.reason}'; }
waiting_msg() { node_pod_field "$1" '{.status.containerStatuses[0].state.waiting.message}'; }
events() { $K get events -o jsonpath="{range .items[?(@.involvedObject.name==\"$1\")]}{.reason}: {.message}{\"\\n\"}{end}" 2>&1; }
# watch_reasons POD: every waiting reason POD goes through, one a line, into $D/POD.reasons
watch_reasons() {
  $K get pods -l "t=npull-$1" -w -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}{"\n"}' \
    >"$D/$1.reasons" 2>&1 &
  on_exit "kill $!"
  sleep 1
}

# ---- a multi-layer image from the registry ----
pod web "$REG/pull/img:v1"
wait_for 60 running web
tap_is "$(node_pod_field web '{.status.phase}')" "Running" "a pod of the registry's 3-layer image (pullPolicy Always) runs"
tap_is "$($K exec web -- cat /etc/image-tag 2>&1)" "v1" "kubectl exec sees the file only in the last layer"
tap_is "$($K exec web -- sh -c '[ -e /etc/removeme ] && echo present || echo absent' 2>&1)" "absent" \
  "the file whited out by the second layer is gone"
tap_is "$($K exec web -- sh -c 'cat /etc/passwd; ls /var/cache/app' 2>&1)" \
  "root:x:0:0:root:/root:/bin/sh
new" "the first layer's files stay; the opaque directory holds only the second layer's file"
ev=$(events web)
tap_like "$ev" "Pulling: Pulling image \"$REG/pull/img:v1\"" "a Pulling Event is recorded"
tap_like "$ev" "Pulled: Successfully pulled image \"$REG/pull/img:v1\" in [0-9]+ms" "a Pulled Event is recorded"
tap_like "$(node_pod_field web '{.status.containerStatuses[0].imageID}')" "sha256:[0-9a-f]{64}" \
  "the container status carries the imageID"

# ---- the images.d archive ----
POLICY=Never pod local preload/img:v1
wait_for 60 running local
tap_is "$(node_pod_field local '{.status.phase}')" "Running" "the images.d archive was imported at start: a pod with pullPolicy Never runs it"
tap_is "$($K exec local -- sh -c 'cat /etc/image-tag; [ -e /etc/removeme ] || echo gone' 2>&1)" "v1
gone" "its layers were unpacked by the helper (last layer's file, whiteout applied)"

# ---- a missing tag ----
watch_reasons miss
pod miss "$REG/pull/img:nope"
wait_for 40 sh -c "grep -qx ImagePullBackOff '$D/miss.reasons'"
tap_is "$(grep -x -m1 -e ErrImagePull -e ImagePullBackOff "$D/miss.reasons")" "ErrImagePull" "a missing tag: ErrImagePull first"
tap_check "then ImagePullBackOff" -- grep -qx ImagePullBackOff "$D/miss.reasons"
wait_for 20 sh -c "$K get pod miss -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -qx ImagePullBackOff"
tap_like "$(waiting miss): $(waiting_msg miss)" "^ImagePullBackOff: .*manifest unknown" \
  "ImagePullBackOff's message is the registry's (manifest unknown)"
tap_like "$(events miss)" "Failed: Failed to pull image \"$REG/pull/img:nope\": .*manifest unknown" \
  "a Failed Event names the image and the registry's message"
tap_is "$(node_pod_field miss '{.status.phase}')" "Pending" "the pod stays Pending"

# ---- a private repository: imagePullSecrets ----
pod nosecret "$TOK/tok/img:v1"
wait_for 40 sh -c "$K get pod nosecret -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q ImagePull"
tap_like "$(waiting nosecret): $(waiting_msg nosecret)" "^(ErrImagePull|ImagePullBackOff): .*authentication required" \
  "without imagePullSecrets the private image is refused (authentication required)"
$K create secret docker-registry regcred --docker-server="$TOK" --docker-username=alice \
  --docker-password=s3cret >/dev/null
$K create secret docker-registry wrongcred --docker-server="$TOK" --docker-username=alice \
  --docker-password=nope >/dev/null
pod private "$TOK/tok/img:v1" regcred
wait_for 60 running private
tap_is "$(node_pod_field private '{.status.phase}')" "Running" "with imagePullSecrets (a dockerconfigjson secret) it pulls and runs"
tap_is "$($K exec private -- cat /etc/image-tag 2>&1)" "v1" "its rootfs is the private image's"
pod wrong "$TOK/tok/img:v1" wrongcred
wait_for 40 sh -c "$K get pod wrong -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}' | grep -q ImagePull"
tap_like "$(waiting wrong): $(waiting_msg wrong)" "^(ErrImagePull|ImagePullBackOff): .*refused the credentials of 'alice'" \
  "a secret with a wrong password is refused, naming the user"
tap_is "$(node_pod_field nosecret '{.status.phase}')" "Pending" "the pod without the secret still does not run"

$K delete pod web local miss nosecret private wrong --wait=false >/dev/null 2>&1
wait_for 40 sh -c "[ -z \"\$($K get pods -o name 2>/dev/null)\" ]"
tap_is "$($K get pods -o name 2>&1)" "" "all pods stopped and deleted"
tap_done
