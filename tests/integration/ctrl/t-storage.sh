#!/bin/bash
# PV/PVC binding and the local-path provisioner against a real husk master (scheduler and
# controllers inside) with hollow nodes: the default StorageClass local-path, claims
# defaulted to it, a hostPath PV made on the node the scheduler chose, static PVs matched by
# class, access modes and size (smallest fit), pre-binding, Released/Retain and Delete.
# What a real node adds (the directory under /var/lib/husk/storage, the mount, the helper
# pod that removes a deleted volume's directory) is the node agent's, tested with the agent.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../../.." && pwd)}"
. "$top_srcdir/tests/lib/common.sh"
. "$top_srcdir/tests/integration/api/lib.sh"
. "$top_srcdir/tests/integration/sched/lib.sh"
. "$top_srcdir/tests/integration/ctrl/lib.sh"
require_cmd kubectl curl python3
DATA=$(husk_tmpdir)
husk_master_launch
for n in n1 n2; do hollow_node $n 4 8Gi 110 "{\"kubernetes.io/hostname\": \"$n\"}"; done

sc() { $K get storageclass local-path -o jsonpath="$1" 2>/dev/null; }
wait_for 10 is_eq husk.dev/local-path sc '{.provisioner}'
tap_is "$(sc '{.provisioner}/{.volumeBindingMode}/{.reclaimPolicy}')" \
  "husk.dev/local-path/WaitForFirstConsumer/Delete" "the master creates StorageClass local-path"
tap_is "$(sc '{.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}')" true \
  "it is the default class"

$K apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
Y
pvc() { $K get pvc "$1" -o jsonpath="$2" 2>/dev/null; }
pv() { $K get pv "$1" -o jsonpath="$2" 2>/dev/null; }
tap_is "$(pvc data '{.spec.storageClassName}')" local-path "a claim without a class gets the default one"
sleep 2
tap_is "$(pvc data '{.status.phase}/{.spec.volumeName}')" "Pending/" \
  "WaitForFirstConsumer: no volume before a pod uses the claim"

$K apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  containers: [{name: c, image: busybox, volumeMounts: [{name: d, mountPath: /data}]}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
Y
wait_for 20 is_bound user
node=$(node_of user)
tap_like "$node" '^n[12]$' "the pod is scheduled ($node)"
tap_is "$(pvc data '{.metadata.annotations.volume\.kubernetes\.io/selected-node}')" "$node" \
  "the claim carries the selected node"
wait_for 20 is_eq Bound pvc data '{.status.phase}'
tap_is "$(pvc data '{.status.phase}')" Bound "the claim is bound"
vol=$(pvc data '{.spec.volumeName}')
uid=$(pvc data '{.metadata.uid}')
tap_is "$vol" "pvc-$uid" "to the provisioned PV pvc-<claim uid>"
tap_is "$(pv "$vol" '{.spec.hostPath.path} {.spec.hostPath.type}')" \
  "/var/lib/husk/storage/$vol DirectoryOrCreate" "a hostPath PV under /var/lib/husk/storage"
tap_is "$(pv "$vol" '{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key}={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')" \
  "kubernetes.io/hostname=$node" "pinned to the pod's node"
tap_is "$(pv "$vol" '{.status.phase}/{.spec.claimRef.name}/{.spec.claimRef.uid}/{.spec.capacity.storage}/{.spec.persistentVolumeReclaimPolicy}')" \
  "Bound/data/$uid/1Gi/Delete" "the PV is Bound to the claim, 1Gi, reclaimPolicy Delete"
tap_is "$(pvc data '{.status.capacity.storage}/{.status.accessModes[0]}')" "1Gi/ReadWriteOnce" \
  "the claim's status shows capacity and access modes"
$K delete pod user --grace-period=0 --force >/dev/null 2>&1
$K delete pvc data --wait=false >/dev/null
wait_for 20 is_eq "" pv "$vol" '{.metadata.name}'
tap_is "$(pv "$vol" '{.metadata.name}')" "" "deleting the claim deletes its PV (Delete)"
helper() { $K -n kube-system get pod "helper-$vol" -o jsonpath="$1" 2>/dev/null; }
tap_is "$(helper '{.spec.nodeName} {.spec.containers[0].command[*]} {.spec.volumes[0].hostPath.path}')" \
  "$node rm -rf /storage/$vol /var/lib/husk/storage" \
  "a helper pod on $node removes the volume's directory"
api_curl -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"status":{"phase":"Succeeded"}}' \
  "/api/v1/namespaces/kube-system/pods/helper-$vol/status" >/dev/null
deleting() { [ -z "$(helper '{.metadata.name}')" ] || [ -n "$(helper '{.metadata.deletionTimestamp}')" ]; }
wait_for 20 deleting
tap_check "the finished helper pod is deleted (its node confirms)" -- deleting

# Static PVs: class, access modes and size decide; the smallest fit wins.
$K apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: PersistentVolume
metadata: {name: small}
spec: {storageClassName: manual, capacity: {storage: 2Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/small}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec: {storageClassName: manual, capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce], hostPath: {path: /srv/big}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: shared}
spec: {storageClassName: manual, capacity: {storage: 1Gi}, accessModes: [ReadOnlyMany], hostPath: {path: /srv/shared}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: scratch}
spec: {storageClassName: manual, capacity: {storage: 3Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Delete, hostPath: {path: /srv/scratch}}
Y
wait_for 10 is_eq Available pv small '{.status.phase}'
tap_is "$(pv small '{.status.phase}')/$(pv big '{.status.phase}')" "Available/Available" "new PVs are Available"
claim() { # claim NAME SIZE [MODE] [VOLUMENAME]
  $K apply -f - >/dev/null <<Y
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1}
spec:
  storageClassName: manual
  accessModes: [${3:-ReadWriteOnce}]
  resources: {requests: {storage: $2}}
  ${4:+volumeName: $4}
Y
}
claim one 1Gi
wait_for 20 is_eq Bound pvc one '{.status.phase}'
tap_is "$(pvc one '{.status.phase}/{.spec.volumeName}')" "Bound/small" "1Gi RWO binds the smallest fit (small, 2Gi)"
tap_is "$(pv small '{.status.phase}/{.spec.claimRef.namespace}/{.spec.claimRef.name}')" "Bound/default/one" \
  "the PV's claimRef names the claim"
claim many 500Mi ReadOnlyMany
wait_for 20 is_eq Bound pvc many '{.status.phase}'
tap_is "$(pvc many '{.spec.volumeName}')" shared "ReadOnlyMany binds the PV offering it"
claim huge 50Gi
sleep 3
tap_is "$(pvc huge '{.status.phase}/{.spec.volumeName}')" "Pending/" "a claim nothing fits stays Pending"
claim pre 1Gi ReadWriteOnce big
wait_for 20 is_eq Bound pvc pre '{.status.phase}'
tap_is "$(pvc pre '{.spec.volumeName}')/$(pv big '{.spec.claimRef.name}')" "big/pre" \
  "a claim naming its volume binds it (not the smallest)"
claim tmp 1Gi
wait_for 20 is_eq Bound pvc tmp '{.status.phase}'
tap_is "$(pvc tmp '{.spec.volumeName}')" scratch "the next claim gets the next smallest (scratch)"

$K delete pvc one >/dev/null
wait_for 20 is_eq Released pv small '{.status.phase}'
tap_is "$(pv small '{.status.phase}')" Released "Retain: the PV of a deleted claim is Released"
claim again 1Gi
sleep 3
tap_is "$(pvc again '{.status.phase}')" Pending "a Released PV is not bound again"
$K delete pvc tmp >/dev/null
wait_for 20 is_eq "" pv scratch '{.metadata.name}'
tap_is "$(pv scratch '{.metadata.name}')" "" "Delete: the PV of a deleted claim is deleted"
tap_done
