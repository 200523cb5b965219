/* VolumeBinding, reduced to what husk's storage needs: a pod's PersistentVolumeClaims must
   exist; a claim bound to a PV with node affinity (local-path, local volumes) pins the pod
   to matching nodes; an unbound claim waits for the pod's node when its StorageClass says
   WaitForFirstConsumer (provisioned there, or a static PV on that node for classes without
   a provisioner) and blocks scheduling when its binding is Immediate. */
#include "config.h"

#include <errno.h>

#include "src/master/sched/sched-internal.h"

#define REASON_CONFLICT "node(s) had volume node affinity conflict"
#define REASON_NO_PV    "node(s) didn't find available persistent volumes to bind"
#define REASON_PV_GONE  "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"

static void
jfree (void *p)
{
  json_decref (p);
}

void
sched_cache_free_storage (sched_cache *c)
{
  sched_map_free (c->pvcs, jfree);
  sched_map_free (c->pvs, jfree);
  sched_map_free (c->classes, jfree);
}

static int
put (sched_map **m, json_t *obj, bool namespaced, const char *what, husk_error **err)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  if (!name || !*name)
    return husk_err (err, EINVAL, "%s: metadata.name is required", what);
  if (!*m)
    *m = sched_map_new ();
  _cleanup_free_ char *key
      = namespaced ? xasprintf ("%s/%s", ns && *ns ? ns : "default", name) : xstrdup (name);
  json_decref (sched_map_put (*m, key, json_incref (obj)));
  return 0;
}

static int
del (sched_map *m, const char *ns, const char *name)
{
  _cleanup_free_ char *key = ns ? xasprintf ("%s/%s", *ns ? ns : "default", name) : xstrdup (name);
  json_t *old = m ? sched_map_del (m, key) : NULL;
  if (!old)
    return -ENOENT;
  json_decref (old);
  return 0;
}

int
sched_cache_set_pvc (sched_cache *c, json_t *pvc, husk_error **err)
{
  return put (&c->pvcs, pvc, true, "persistentvolumeclaim", err);
}

int
sched_cache_remove_pvc (sched_cache *c, const char *ns, const char *name)
{
  return del (c->pvcs, ns ? ns : "", name);
}

int
sched_cache_set_pv (sched_cache *c, json_t *pv, husk_error **err)
{
  return put (&c->pvs, pv, false, "persistentvolume", err);
}

int
sched_cache_remove_pv (sched_cache *c, const char *name)
{
  return del (c->pvs, NULL, name);
}

int
sched_cache_set_storage_class (sched_cache *c, json_t *sc, husk_error **err)
{
  return put (&c->classes, sc, false, "storageclass", err);
}

int
sched_cache_remove_storage_class (sched_cache *c, const char *name)
{
  return del (c->classes, NULL, name);
}

static void
push (json_t ***arr, size_t *n, json_t *v)
{
  *arr = xreallocarray (*arr, *n + 1, sizeof **arr);
  (*arr)[(*n)++] = v;
}

void
sched_volume_clear (sched_cycle *cy)
{
  free (cy->pv_terms);
  free (cy->static_claims);
  free (cy->prefilter_msg);
  cy->pv_terms = cy->static_claims = NULL;
  cy->n_pv_terms = cy->n_static = 0;
  cy->prefilter_msg = NULL;
}

/* One claim of the pod. Returns -1 with cy->prefilter_msg set when no node can help. */
static int
claim (sched_cycle *cy, const char *claim_name)
{
  sched_cache *c = cy->cache;
  _cleanup_free_ char *key = xasprintf ("%s/%s", cy->pod->ns, claim_name);
  json_t *pvc = c->pvcs ? sched_map_get (c->pvcs, key) : NULL;
  if (!pvc)
    {
      cy->prefilter_msg = xasprintf ("persistentvolumeclaim \"%s\" not found", claim_name);
      return -1;
    }
  json_t *dts = husk_json_path (pvc, "metadata.deletionTimestamp");
  if (dts && !json_is_null (dts))
    {
      cy->prefilter_msg = xasprintf ("persistentvolumeclaim \"%s\" is being deleted", claim_name);
      return -1;
    }
  const char *volume = husk_json_path_str (pvc, "spec.volumeName");
  if (volume && *volume)
    {
      json_t *pv = c->pvs ? sched_map_get (c->pvs, volume) : NULL;
      if (!pv)
        {
          push (&cy->pv_terms, &cy->n_pv_terms, NULL); /* fails every node */
          return 0;
        }
      json_t *terms = husk_json_path (pv, "spec.nodeAffinity.required.nodeSelectorTerms");
      if (terms)
        push (&cy->pv_terms, &cy->n_pv_terms, terms);
      return 0;
    }
  const char *cls = husk_json_path_str (pvc, "spec.storageClassName");
  json_t *sc = cls && c->classes ? sched_map_get (c->classes, cls) : NULL;
  const char *mode = husk_json_path_str (sc, "volumeBindingMode");
  if (!sc || !mode || !streq (mode, "WaitForFirstConsumer"))
    {
      cy->prefilter_msg = xstrdup ("pod has unbound immediate PersistentVolumeClaims");
      return -1;
    }
  const char *prov = json_string_value (json_object_get (sc, "provisioner"));
  if (!prov || streq (prov, "kubernetes.io/no-provisioner"))
    push (&cy->static_claims, &cy->n_static, pvc);
  return 0;
}

int
sched_volume_prefilter (sched_cycle *cy)
{
  json_t *v;
  size_t i;
  json_array_foreach (husk_json_path (cy->pod->obj, "spec.volumes"), i, v)
  {
    const char *name = husk_json_path_str (v, "persistentVolumeClaim.claimName");
    if (name && claim (cy, name) < 0)
      return -1;
  }
  return 0;
}

static bool
modes_cover (json_t *have, json_t *want)
{
  json_t *w, *h;
  size_t i, j;
  json_array_foreach (want, i, w)
  {
    bool found = false;
    json_array_foreach (have, j, h) found
        |= json_is_string (h) && json_is_string (w)
           && streq (json_string_value (h), json_string_value (w));
    if (!found)
      return false;
  }
  return true;
}

/* A static PV for an unbound WaitForFirstConsumer claim: same class, Available, big enough,
   the access modes, and reachable from node n. */
static bool
static_pv_for (sched_cycle *cy, json_t *pvc, sched_node *n)
{
  const char *cls = husk_json_path_str (pvc, "spec.storageClassName");
  int64_t want = 0, have;
  husk_quantity_json (husk_json_path (pvc, "spec.resources.requests.storage"), 1, NULL, &want, NULL);
  size_t it = 0;
  const char *k;
  void *v;
  while (cy->cache->pvs && sched_map_next (cy->cache->pvs, &it, &k, &v))
    {
      json_t *pv = v;
      const char *pcls = husk_json_path_str (pv, "spec.storageClassName");
      const char *phase = husk_json_path_str (pv, "status.phase");
      json_t *ref = husk_json_path (pv, "spec.claimRef");
      if (!pcls || !streq (pcls, cls) || (phase && !streq (phase, "Available"))
          || (ref && !json_is_null (ref)))
        continue;
      if (husk_quantity_json (husk_json_path (pv, "spec.capacity.storage"), 1, NULL, &have, NULL) < 0
          || have < want)
        continue;
      if (!modes_cover (husk_json_path (pv, "spec.accessModes"),
                        husk_json_path (pvc, "spec.accessModes")))
        continue;
      json_t *terms = husk_json_path (pv, "spec.nodeAffinity.required.nodeSelectorTerms");
      if (terms && !sched_node_selector_terms_match (terms, n->labels, n->name))
        continue;
      return true;
    }
  return false;
}

void
sched_volume_filter (sched_cycle *cy, sched_node *n, sched_status *st)
{
  for (size_t i = 0; i < cy->n_pv_terms; i++)
    if (!cy->pv_terms[i])
      {
        st->code = SCHED_UNRESOLVABLE, st->n = 1, st->reasons[0] = REASON_PV_GONE;
        return;
      }
    else if (!sched_node_selector_terms_match (cy->pv_terms[i], n->labels, n->name))
      {
        st->code = SCHED_UNRESOLVABLE, st->n = 1, st->reasons[0] = REASON_CONFLICT;
        return;
      }
  for (size_t i = 0; i < cy->n_static; i++)
    if (!static_pv_for (cy, cy->static_claims[i], n))
      {
        st->code = SCHED_UNRESOLVABLE, st->n = 1, st->reasons[0] = REASON_NO_PV;
        return;
      }
}
