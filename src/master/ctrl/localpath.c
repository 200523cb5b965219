/* husk controllers: the local-path provisioner (as k3s's local-path-provisioner). The
   StorageClass local-path (provisioner husk.dev/local-path, WaitForFirstConsumer, the
   default class) is created when absent at the first pass after the master starts. A
   claim of a class with this provisioner, once the scheduler put its first pod on a node
   (annotation volume.kubernetes.io/selected-node), gets a hostPath PV
   /var/lib/husk/storage/<pv> (DirectoryOrCreate, so the node agent makes the directory at
   mount time) pinned to that node by node affinity and pre-bound to the claim; the binder
   (pv.c) completes the binding. When such a PV is released with reclaimPolicy Delete, a
   helper pod (image HELPER_IMAGE) on its node removes the directory before the PV goes, and
   finished helpers are deleted. */
#include "config.h"

#include <stdatomic.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster.h"

#define PROVISIONER  "husk.dev/local-path"
#define CLASS_NAME   "local-path"
#define STORAGE_ROOT "/var/lib/husk/storage"
#define HELPER_IMAGE "busybox"
#define HELPER_LABEL "husk.dev/local-path-helper"

static atomic_bool class_checked;

static int
ensure_class (ctrl_ctx *c, json_t *classes, husk_error **err)
{
  size_t i;
  json_t *sc;
  json_array_foreach (classes, i, sc)
  {
    const char *n = husk_json_path_str (sc, "metadata.name");
    if (n && streq (n, CLASS_NAME))
      return 0;
  }
  _cleanup_json_ json_t *body = json_pack (
      "{s:s, s:s, s:{s:s, s:{s:s}}, s:s, s:s, s:s}", "apiVersion", "storage.k8s.io/v1", "kind",
      "StorageClass", "metadata", "name", CLASS_NAME, "annotations",
      "storageclass.kubernetes.io/is-default-class", "true", "provisioner", PROVISIONER,
      "volumeBindingMode", "WaitForFirstConsumer", "reclaimPolicy", "Delete");
  long code = 0;
  int ret = ctrl_write (c, "POST", "/apis/storage.k8s.io/v1/storageclasses", NULL, body, NULL,
                       &code, err);
  if (ret < 0 && code == 409)
    return ctrl_tolerate_stale (ret, code, err);
  if (ret == 0)
    log_info ("created the default StorageClass", "name", CLASS_NAME);
  return ret;
}

static json_t *
class_of (json_t *classes, const char *name)
{
  size_t i;
  json_t *sc;
  json_array_foreach (classes, i, sc)
  {
    const char *n = husk_json_path_str (sc, "metadata.name");
    if (n && name && streq (n, name))
      return sc;
  }
  return NULL;
}

/* The value of the node's kubernetes.io/hostname label (its name when unlabelled). */
static const char *
hostname_of (json_t *nodes, const char *node)
{
  size_t i;
  json_t *n;
  json_array_foreach (nodes, i, n)
  {
    const char *name = husk_json_path_str (n, "metadata.name");
    json_t *l = husk_json_path (n, "metadata.labels");
    if (name && streq (name, node)
        && json_is_string (json_object_get (l, "kubernetes.io/hostname")))
      return json_string_value (json_object_get (l, "kubernetes.io/hostname"));
  }
  return node;
}

static int
provision (ctrl_ctx *c, json_t *claim, json_t *sc, const char *host, husk_error **err)
{
  const char *uid = husk_json_path_str (claim, "metadata.uid");
  _cleanup_free_ char *name = xasprintf ("pvc-%s", uid);
  _cleanup_free_ char *path = xasprintf ("%s/%s", STORAGE_ROOT, name);
  json_t *size = husk_json_path (claim, "spec.resources.requests.storage");
  json_t *modes = husk_json_path (claim, "spec.accessModes");
  const char *policy = husk_json_path_str (sc, "reclaimPolicy");
  json_t *cap = size ? json_incref (size) : json_string ("0");
  json_t *acc = modes ? json_incref (modes) : json_pack ("[s]", "ReadWriteOnce");
  _cleanup_json_ json_t *pv = json_pack (
      "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:O}, s:O, s:s, s:s, s:{s:s, s:s}, "
      "s:{s:{s:[{s:[{s:s, s:s, s:[s]}]}]}}, s:{s:s, s:s, s:s, s:s, s:s}}}",
      "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", name, "annotations",
      "pv.kubernetes.io/provisioned-by", PROVISIONER, "spec", "capacity", "storage", cap,
      "accessModes", acc, "persistentVolumeReclaimPolicy", policy ? policy : "Delete",
      "storageClassName", husk_json_path_str (claim, "spec.storageClassName"), "hostPath", "path",
      path, "type", "DirectoryOrCreate", "nodeAffinity", "required", "nodeSelectorTerms",
      "matchExpressions", "key", "kubernetes.io/hostname", "operator", "In", "values", host,
      "claimRef", "kind", "PersistentVolumeClaim", "apiVersion", "v1", "namespace",
      husk_json_path_str (claim, "metadata.namespace"), "name",
      husk_json_path_str (claim, "metadata.name"), "uid", uid);
  long code = 0;
  int ret = ctrl_write (c, "POST", "/api/v1/persistentvolumes", NULL, pv, NULL, &code, err);
  if (ret < 0)
    return ctrl_tolerate_stale (ret, code, err);
  log_info ("provisioned a local-path volume", "volume", name, "node", host, "claim",
            husk_json_path_str (claim, "metadata.name"));
  return 0;
}

/* The node whose kubernetes.io/hostname label is host (host itself when none is). */
static const char *
node_named_by (json_t *nodes, const char *host)
{
  size_t i;
  json_t *n;
  json_array_foreach (nodes, i, n)
  {
    json_t *l = json_object_get (husk_json_path (n, "metadata.labels"), "kubernetes.io/hostname");
    if (json_is_string (l) && streq (json_string_value (l), host))
      return husk_json_path_str (n, "metadata.name");
  }
  return host;
}

int
ctrl_localpath_reclaim (ctrl_ctx *c, const json_t *pv, husk_error **err)
{
  const char *prov = json_string_value (json_object_get (
      husk_json_path (pv, "metadata.annotations"), "pv.kubernetes.io/provisioned-by"));
  const char *name = husk_json_path_str (pv, "metadata.name");
  const char *path = husk_json_path_str (pv, "spec.hostPath.path");
  json_t *terms = husk_json_path (pv, "spec.nodeAffinity.required.nodeSelectorTerms");
  json_t *expr = json_array_get (husk_json_path (json_array_get (terms, 0), "matchExpressions"), 0);
  const char *host = json_string_value (json_array_get (json_object_get (expr, "values"), 0));
  _cleanup_free_ char *want = xasprintf ("%s/%s", STORAGE_ROOT, name ? name : "");
  if (!prov || !streq (prov, PROVISIONER) || !path || !streq (path, want) || !host)
    return 0;
  _cleanup_json_ json_t *nodes = NULL;
  int ret = ctrl_list (c, "/api/v1/nodes", &nodes, err);
  if (ret < 0)
    return ret;
  _cleanup_free_ char *pod_name = xasprintf ("helper-%s", name);
  _cleanup_free_ char *target = xasprintf ("/storage/%s", name);
  _cleanup_json_ json_t *pod = json_pack (
      "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s, s:s, s:[{s:s}], s:[{s:s, s:s, s:[s, s, s], "
      "s:[{s:s, s:s}]}], s:[{s:s, s:{s:s, s:s}}]}}",
      "apiVersion", "v1", "kind", "Pod", "metadata", "name", pod_name, "namespace", "kube-system",
      "labels", HELPER_LABEL, name, "spec", "nodeName", node_named_by (nodes, host),
      "restartPolicy", "Never", "tolerations", "operator", "Exists", "containers", "name", "helper",
      "image", HELPER_IMAGE, "command", "rm", "-rf", target, "volumeMounts", "name", "storage",
      "mountPath", "/storage", "volumes", "name", "storage", "hostPath", "path", STORAGE_ROOT,
      "type", "DirectoryOrCreate");
  long code = 0;
  ret = ctrl_write (c, "POST", "/api/v1/namespaces/kube-system/pods", NULL, pod, NULL, &code,
                   err);
  if (ret < 0 && code != 409)
    return husk_err_wrap (err, "local-path: helper pod to remove %s", path);
  if (ret < 0)
    {
      husk_error_free (*err);
      *err = NULL;
    }
  else
    log_info ("local-path: removing the volume's directory", "volume", name, "node", host);
  return 0;
}

/* Deletes finished helper pods (a failed one is logged: its directory stays). */
static int
reap_helpers (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *pods = NULL;
  int ret = ctrl_list (c, "/api/v1/namespaces/kube-system/pods?labelSelector=" HELPER_LABEL, &pods,
                       err);
  if (ret < 0)
    return ret;
  size_t i;
  json_t *p;
  json_array_foreach (pods, i, p)
  {
    const char *phase = husk_json_path_str (p, "status.phase");
    const char *name = husk_json_path_str (p, "metadata.name");
    if (!phase || !name || ctrl_terminating (p)
        || !(streq (phase, "Succeeded") || streq (phase, "Failed")))
      continue;
    if (streq (phase, "Failed"))
      log_warn ("local-path: helper pod failed, the directory stays", "pod", name);
    _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/kube-system/pods/%s", name);
    _cleanup_error_ husk_error *e = NULL;
    long code = 0;
    if (ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &code, &e) < 0 && code != 404)
      log_warn ("local-path: cannot delete helper pod", "pod", name, "error", e->msg);
  }
  return 0;
}

int
ctrl_localpath_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *classes = NULL, *claims = NULL, *pvs = NULL, *nodes = NULL;
  int ret = ctrl_list (c, "/apis/storage.k8s.io/v1/storageclasses", &classes, err);
  if (ret < 0)
    return ret;
  if (!atomic_load (&class_checked))
    {
      ret = ensure_class (c, classes, err);
      if (ret < 0)
        return ret;
      atomic_store (&class_checked, true);
    }
  ret = reap_helpers (c, err);
  if (ret < 0)
    return ret;
  ret = ctrl_list (c, "/api/v1/persistentvolumeclaims", &claims, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/persistentvolumes", &pvs, err);
  if (ret < 0)
    return ret;
  size_t i;
  json_t *claim;
  json_array_foreach (claims, i, claim)
  {
    json_t *sc = class_of (classes, husk_json_path_str (claim, "spec.storageClassName"));
    const char *prov = husk_json_path_str (sc, "provisioner");
    const char *node = json_string_value (json_object_get (
        husk_json_path (claim, "metadata.annotations"), "volume.kubernetes.io/selected-node"));
    const char *vol = husk_json_path_str (claim, "spec.volumeName");
    if (!prov || !streq (prov, PROVISIONER) || !node || (vol && *vol) || ctrl_terminating (claim))
      continue;
    _cleanup_free_ char *pvname = xasprintf ("pvc-%s", husk_json_path_str (claim, "metadata.uid"));
    bool exists = false;
    size_t j;
    json_t *pv;
    json_array_foreach (pvs, j, pv)
    {
      const char *n = husk_json_path_str (pv, "metadata.name");
      if (n && streq (n, pvname))
        exists = true;
    }
    if (exists)
      continue;
    if (!nodes && (ret = ctrl_list (c, "/api/v1/nodes", &nodes, err)) < 0)
      return ret;
    _cleanup_error_ husk_error *e = NULL;
    if (provision (c, claim, sc, hostname_of (nodes, node), &e) < 0)
      log_warn ("local-path provisioner", "claim", husk_json_path_str (claim, "metadata.name"),
                "error", e->msg);
  }
  return 0;
}
