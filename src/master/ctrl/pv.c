/* husk controllers: PersistentVolume binding (upstream's PV controller, reduced). Pending
   claims bind to the smallest Available PV that fits (pvmatch.c) -- at once for Immediate
   classes, once the scheduler chose a node (volume.kubernetes.io/selected-node) for
   WaitForFirstConsumer ones; claims of a class with a provisioner wait for its PV
   (pre-bound through claimRef). Binding writes claimRef on the PV and volumeName on the
   claim, then both phases Bound. A PV whose claim went away is Released, then deleted
   (reclaimPolicy Delete, the default for provisioned volumes) or kept (Retain). */
#include "config.h"

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster-logic.h"
#include "src/master/ctrl/cluster.h"

static const char *
str_or (const char *s, const char *dflt)
{
  return s ? s : dflt;
}

static int
put_cluster (ctrl_ctx *c, const char *plural, json_t *obj, const char *sub, husk_error **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/%s/%s%s", plural, husk_json_path_str (obj, "metadata.name"), sub);
  long code = 0;
  int ret = ctrl_write (c, "PUT", path, NULL, obj, NULL, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

static void
set_annotation (json_t *obj, const char *key, const char *value)
{
  json_t *meta = json_object_get (obj, "metadata");
  json_t *ann = json_object_get (meta, "annotations");
  if (!json_is_object (ann))
    {
      ann = json_object ();
      json_object_set_new (meta, "annotations", ann);
    }
  json_object_set_new (ann, key, json_string (value));
}

static json_t *
find_named (json_t *items, const char *name)
{
  size_t i;
  json_t *o;
  json_array_foreach (items, i, o)
  {
    const char *n = husk_json_path_str (o, "metadata.name");
    if (n && name && streq (n, name))
      return o;
  }
  return NULL;
}

static json_t *
find_claim (json_t *claims, const char *ns, const char *name)
{
  size_t i;
  json_t *o;
  json_array_foreach (claims, i, o)
  {
    const char *n = husk_json_path_str (o, "metadata.name");
    const char *s = husk_json_path_str (o, "metadata.namespace");
    if (n && s && ns && name && streq (n, name) && streq (s, ns))
      return o;
  }
  return NULL;
}

static int
set_phase (ctrl_ctx *c, json_t *obj, bool claim, const char *phase, husk_error **err)
{
  json_t *st = json_object_get (obj, "status");
  const char *old = husk_json_path_str (obj, "status.phase");
  if (old && streq (old, phase))
    return 0;
  if (!json_is_object (st))
    {
      st = json_object ();
      json_object_set_new (obj, "status", st);
    }
  json_object_set_new (st, "phase", json_string (phase));
  if (claim)
    return ctrl_put (c, "/api/v1", "persistentvolumeclaims", obj, "/status", err);
  return put_cluster (c, "persistentvolumes", obj, "/status", err);
}

/* Binds claim to pv: the PV's claimRef, then the claim's volumeName, then both statuses. */
static int
bind (ctrl_ctx *c, json_t *pv, json_t *claim, husk_error **err)
{
  const char *pvname = husk_json_path_str (pv, "metadata.name");
  int ret = 0;
  if (!pvmatch_claimref_is (pv, claim) || !husk_json_path_str (pv, "spec.claimRef.uid"))
    {
      json_object_set_new (json_object_get (pv, "spec"), "claimRef",
                           json_pack ("{s:s, s:s, s:s, s:s, s:s}", "kind", "PersistentVolumeClaim",
                                      "apiVersion", "v1", "namespace",
                                      husk_json_path_str (claim, "metadata.namespace"), "name",
                                      husk_json_path_str (claim, "metadata.name"), "uid",
                                      husk_json_path_str (claim, "metadata.uid")));
      set_annotation (pv, "pv.kubernetes.io/bound-by-controller", "yes");
      ret = put_cluster (c, "persistentvolumes", pv, "", err);
      if (ret < 0)
        return ret;
      return 0; /* the next pass continues from the stored PV */
    }
  const char *vol = husk_json_path_str (claim, "spec.volumeName");
  if (!vol || !streq (vol, pvname))
    {
      json_object_set_new (json_object_get (claim, "spec"), "volumeName", json_string (pvname));
      set_annotation (claim, "pv.kubernetes.io/bind-completed", "yes");
      set_annotation (claim, "pv.kubernetes.io/bound-by-controller", "yes");
      return ctrl_put (c, "/api/v1", "persistentvolumeclaims", claim, "", err);
    }
  ret = set_phase (c, pv, false, "Bound", err);
  if (ret < 0)
    return ret;
  const char *phase = husk_json_path_str (claim, "status.phase");
  if (phase && streq (phase, "Bound"))
    return 0;
  json_t *st = json_pack ("{s:s, s:O, s:O}", "phase", "Bound", "accessModes",
                          husk_json_path (pv, "spec.accessModes") ?: json_array (), "capacity",
                          husk_json_path (pv, "spec.capacity") ?: json_object ());
  json_object_set_new (claim, "status", st);
  log_info ("claim bound", "claim", husk_json_path_str (claim, "metadata.name"), "volume", pvname);
  return ctrl_put (c, "/api/v1", "persistentvolumeclaims", claim, "/status", err);
}

/* The class's binding waits for a consumer, and none has been scheduled yet. */
static bool
waits_for_consumer (const json_t *claim, json_t *classes)
{
  json_t *sc = find_named (classes, husk_json_path_str (claim, "spec.storageClassName"));
  const char *mode = husk_json_path_str (sc, "volumeBindingMode");
  json_t *ann = husk_json_path (claim, "metadata.annotations");
  return mode && streq (mode, "WaitForFirstConsumer")
         && !json_object_get (ann, "volume.kubernetes.io/selected-node");
}

static bool
has_provisioner (const json_t *claim, json_t *classes)
{
  json_t *sc = find_named (classes, husk_json_path_str (claim, "spec.storageClassName"));
  const char *prov = husk_json_path_str (sc, "provisioner");
  return prov && !streq (prov, "kubernetes.io/no-provisioner");
}

static int
sync_claim (ctrl_ctx *c, json_t *claim, json_t *pvs, json_t *classes, husk_error **err)
{
  if (ctrl_terminating (claim))
    return 0;
  const char *vol = husk_json_path_str (claim, "spec.volumeName");
  json_t *pv = NULL;
  if (vol && *vol)
    {
      pv = find_named (pvs, vol);
      if (pv && husk_json_path (pv, "spec.claimRef") && !pvmatch_claimref_is (pv, claim))
        pv = NULL; /* taken by another claim */
    }
  else if (!waits_for_consumer (claim, classes))
    {
      int i = pvmatch_find (claim, pvs);
      pv = i >= 0 ? json_array_get (pvs, (size_t)i) : NULL;
      /* A provisioner's claim binds only to the volume made for it. */
      if (pv && has_provisioner (claim, classes) && !pvmatch_claimref_is (pv, claim))
        pv = NULL;
    }
  if (!pv)
    return set_phase (c, claim, true, "Pending", err);
  return bind (c, pv, claim, err);
}

static int
sync_volume (ctrl_ctx *c, json_t *pv, json_t *claims, husk_error **err)
{
  if (ctrl_terminating (pv))
    return 0;
  json_t *ref = husk_json_path (pv, "spec.claimRef");
  if (!ref)
    return set_phase (c, pv, false, "Available", err);
  json_t *claim = find_claim (claims, husk_json_path_str (ref, "namespace"),
                              husk_json_path_str (ref, "name"));
  if (claim && pvmatch_claimref_is (pv, claim))
    return 0; /* bound, or being bound from the claim's side */
  const char *uid = husk_json_path_str (ref, "uid");
  if (!uid || !*uid)
    return 0; /* pre-bound to a claim that does not exist yet */
  const char *policy
      = str_or (husk_json_path_str (pv, "spec.persistentVolumeReclaimPolicy"), "Retain");
  const char *name = husk_json_path_str (pv, "metadata.name");
  if (streq (policy, "Delete"))
    {
      int ret = ctrl_localpath_reclaim (c, pv, err);
      if (ret < 0)
        return ret;
      log_info ("deleting released volume", "volume", name);
      _cleanup_free_ char *path = xasprintf ("/api/v1/persistentvolumes/%s", name);
      long code = 0;
      ret = ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &code, err);
      return ctrl_tolerate_stale (ret, code, err);
    }
  return set_phase (c, pv, false, "Released", err);
}

int
ctrl_pvbinder_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *listed_pvs = NULL, *listed_claims = NULL, *classes = NULL;
  int ret = ctrl_list (c, "/api/v1/persistentvolumes", &listed_pvs, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/persistentvolumeclaims", &listed_claims, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/storage.k8s.io/v1/storageclasses", &classes, err);
  if (ret < 0)
    return ret;
  /* Listed objects are shared and read-only; a pass binds (changes) copies, and later steps
     of the pass see what earlier ones changed. */
  _cleanup_json_ json_t *pvs = json_deep_copy (listed_pvs);
  _cleanup_json_ json_t *claims = json_deep_copy (listed_claims);
  size_t i;
  json_t *o;
  json_array_foreach (claims, i, o)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_claim (c, o, pvs, classes, &e) < 0)
      log_warn ("pv binder", "claim", husk_json_path_str (o, "metadata.name"), "error", e->msg);
  }
  json_array_foreach (pvs, i, o)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_volume (c, o, claims, &e) < 0)
      log_warn ("pv binder", "volume", husk_json_path_str (o, "metadata.name"), "error", e->msg);
  }
  return 0;
}
