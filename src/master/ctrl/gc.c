/* husk controllers: the garbage collector (upstream garbagecollector). Three duties:
   - foreground deletion: an owner being deleted with the foregroundDeletion finalizer has
     its dependents deleted, and loses the finalizer (so the API removes it) only when no
     dependent with blockOwnerDeletion is left;
   - orphaning: an owner being deleted with the orphan finalizer has its ownerReference
     removed from every dependent, then loses the finalizer;
   - dangling owners: an object none of whose owners exists any more (checked by uid, then
     confirmed by a GET of each owner) is deleted, as after an owner removed while the
     master was down. Only owners of the kinds below are judged; others are left alone. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"

typedef struct gc_kind
{
  const char *api_version, *kind, *prefix, *plural;
} gc_kind;

/* Kinds that own objects (listed every pass). */
static const gc_kind owners[] = {
  { "apps/v1", "Deployment", "/apis/apps/v1", "deployments" },
  { "apps/v1", "ReplicaSet", "/apis/apps/v1", "replicasets" },
  { "apps/v1", "DaemonSet", "/apis/apps/v1", "daemonsets" },
  { "apps/v1", "StatefulSet", "/apis/apps/v1", "statefulsets" },
  { "batch/v1", "Job", "/apis/batch/v1", "jobs" },
  { "batch/v1", "CronJob", "/apis/batch/v1", "cronjobs" },
  { "v1", "Service", "/api/v1", "services" },
};
#define N_OWNERS (sizeof owners / sizeof owners[0])

/* Kinds whose objects commonly have owners (scanned for dependents). */
static const gc_kind dependents[] = {
  { "v1", "Pod", "/api/v1", "pods" },
  { "apps/v1", "ReplicaSet", "/apis/apps/v1", "replicasets" },
  { "apps/v1", "ControllerRevision", "/apis/apps/v1", "controllerrevisions" },
  { "batch/v1", "Job", "/apis/batch/v1", "jobs" },
  { "discovery.k8s.io/v1", "EndpointSlice", "/apis/discovery.k8s.io/v1", "endpointslices" },
  { "v1", "PersistentVolumeClaim", "/api/v1", "persistentvolumeclaims" },
};
#define N_DEPS (sizeof dependents / sizeof dependents[0])

/* The dangling-owner scan lists every dependent; it runs at most this often. */
#define DANGLING_EVERY 10
/* Passes run at most this often (milliseconds): the manager wakes every controller on any
   change, and a busy cluster (a 1,000-pod rollout) changes many times a second, while
   finalizers and dangling owners can wait that long. */
#define GC_MIN_INTERVAL_MS 1000

typedef struct gc_pass
{
  ctrl_ctx *c;
  json_t *owner_lists[N_OWNERS];
  json_t *dep_lists[N_DEPS]; /* NULL until listed */
} gc_pass;

static const gc_kind *
owner_kind (const char *api_version, const char *kind)
{
  for (size_t i = 0; i < N_OWNERS && api_version && kind; i++)
    if (streq (owners[i].api_version, api_version) && streq (owners[i].kind, kind))
      return &owners[i];
  return NULL;
}

static char *
object_path (const gc_kind *k, const char *ns, const char *name)
{
  return xasprintf ("%s/namespaces/%s/%s/%s", k->prefix, ns, k->plural, name);
}

static bool
has_finalizer (const json_t *obj, const char *f)
{
  json_t *x;
  size_t i;
  json_array_foreach (husk_json_path (obj, "metadata.finalizers"), i, x) if (
      json_is_string (x) && streq (json_string_value (x), f)) return true;
  return false;
}

static int
list_dependents (gc_pass *g, husk_error **err)
{
  for (size_t k = 0; k < N_DEPS; k++)
    {
      if (g->dep_lists[k])
        continue;
      _cleanup_free_ char *path = xasprintf ("%s/%s", dependents[k].prefix, dependents[k].plural);
      int ret = ctrl_list (g->c, path, &g->dep_lists[k], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* The ownerReference of obj naming uid, with its index, or NULL. */
static json_t *
ref_to (const json_t *obj, const char *uid, size_t *at)
{
  json_t *r;
  size_t i;
  json_array_foreach (husk_json_path (obj, "metadata.ownerReferences"), i, r)
  {
    const char *u = json_string_value (json_object_get (r, "uid"));
    if (u && uid && streq (u, uid))
      {
        if (at)
          *at = i;
        return r;
      }
  }
  return NULL;
}

/* A fresh copy of a listed object (listed objects are shared, read-only, and pods are
   projections): a GET; *out NULL when it is gone (not an error). */
static int
get_fresh (gc_pass *g, const gc_kind *k, const json_t *listed, json_t **out, husk_error **err)
{
  _cleanup_free_ char *path = object_path (k, husk_json_path_str (listed, "metadata.namespace"),
                                           husk_json_path_str (listed, "metadata.name"));
  long code = 0;
  *out = NULL;
  int ret = kclient_json (g->c->k, "GET", path, NULL, NULL, out, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

static int
remove_finalizer (gc_pass *g, const gc_kind *k, const json_t *listed, const char *f,
                  husk_error **err)
{
  _cleanup_json_ json_t *obj = json_deep_copy (listed);
  json_t *fins = husk_json_path (obj, "metadata.finalizers");
  for (size_t i = json_array_size (fins); i-- > 0;)
    if (streq (json_string_value (json_array_get (fins, i)) ?: "", f))
      json_array_remove (fins, i);
  return ctrl_put (g->c, k->prefix, k->plural, obj, "", err);
}

/* Deletes a dependent of an owner deleted in the foreground. A dependent that may own
   objects itself goes in the foreground too: it gets the foregroundDeletion finalizer
   before its DELETE, so that it stays (with a deletionTimestamp) until its own dependents
   are gone, as upstream's chain does. */
static int
delete_dependent (gc_pass *g, const gc_kind *k, const json_t *listed, husk_error **err)
{
  const char *ns = husk_json_path_str (listed, "metadata.namespace");
  _cleanup_free_ char *path = object_path (k, ns, husk_json_path_str (listed, "metadata.name"));
  if (owner_kind (k->api_version, k->kind) && !has_finalizer (listed, "foregroundDeletion"))
    {
      _cleanup_json_ json_t *o = json_deep_copy (listed); /* listed is shared, read-only */
      json_t *meta = json_object_get (o, "metadata");
      json_t *fins = json_object_get (meta, "finalizers");
      if (!json_is_array (fins))
        json_object_set_new (meta, "finalizers", fins = json_array ());
      json_array_append_new (fins, json_string ("foregroundDeletion"));
      long code = 0;
      int ret = ctrl_write (g->c, "PUT", path, NULL, o, NULL, &code, err);
      if (ret < 0)
        return ctrl_tolerate_stale (ret, code, err); /* changed: next pass */
    }
  _cleanup_free_ char *del = xasprintf ("%s?propagationPolicy=Background", path);
  return ctrl_delete (g->c, del, err);
}

/* Foreground: delete the dependents; drop the finalizer once no blocking one is left. */
static int
foreground (gc_pass *g, const gc_kind *k, const json_t *owner, husk_error **err)
{
  const char *uid = husk_json_path_str (owner, "metadata.uid");
  const char *ns = husk_json_path_str (owner, "metadata.namespace");
  bool blocked = false;
  for (size_t d = 0; d < N_DEPS; d++)
    {
      json_t *o;
      size_t i;
      json_array_foreach (g->dep_lists[d], i, o)
      {
        json_t *ref = ref_to (o, uid, NULL);
        const char *ons = husk_json_path_str (o, "metadata.namespace");
        if (!ref || !ons || !ns || !streq (ons, ns))
          continue;
        if (json_is_true (json_object_get (ref, "blockOwnerDeletion")))
          blocked = true;
        if (ctrl_terminating (o))
          continue;
        int ret = delete_dependent (g, &dependents[d], o, err);
        if (ret < 0)
          return husk_err_wrap (err, "garbage collector: %s %s/%s: delete dependent",
                                k->kind, ns, husk_json_path_str (owner, "metadata.name"));
      }
    }
  if (blocked)
    return 0;
  return remove_finalizer (g, k, owner, "foregroundDeletion", err);
}

/* Orphan: remove the owner's reference from its dependents, then the finalizer. */
static int
orphan (gc_pass *g, const gc_kind *k, const json_t *owner, husk_error **err)
{
  const char *uid = husk_json_path_str (owner, "metadata.uid");
  const char *ns = husk_json_path_str (owner, "metadata.namespace");
  for (size_t d = 0; d < N_DEPS; d++)
    {
      json_t *listed;
      size_t i, at;
      json_array_foreach (g->dep_lists[d], i, listed)
      {
        const char *ons = husk_json_path_str (listed, "metadata.namespace");
        if (!ref_to (listed, uid, &at) || !ons || !ns || !streq (ons, ns))
          continue;
        /* The PUT goes out from a fresh GET: a cached pod is a projection. */
        _cleanup_json_ json_t *o = NULL;
        int ret = get_fresh (g, &dependents[d], listed, &o, err);
        if (ret == 0 && o && ref_to (o, uid, &at))
          {
            json_array_remove (husk_json_path (o, "metadata.ownerReferences"), at);
            ret = ctrl_put (g->c, dependents[d].prefix, dependents[d].plural, o, "", err);
          }
        if (ret < 0)
          return husk_err_wrap (err, "garbage collector: orphan %s",
                                husk_json_path_str (listed, "metadata.name"));
      }
    }
  return remove_finalizer (g, k, owner, "orphan", err);
}

static int
finalize_owners (gc_pass *g, husk_error **err)
{
  for (size_t k = 0; k < N_OWNERS; k++)
    {
      json_t *o;
      size_t i;
      json_array_foreach (g->owner_lists[k], i, o)
      {
        if (!ctrl_terminating (o))
          continue;
        bool fg = has_finalizer (o, "foregroundDeletion"), orph = has_finalizer (o, "orphan");
        if (!fg && !orph)
          continue;
        int ret = list_dependents (g, err);
        if (ret < 0)
          return ret;
        _cleanup_error_ husk_error *e = NULL;
        if (orph)
          ret = orphan (g, &owners[k], o, &e);
        else
          ret = foreground (g, &owners[k], o, &e);
        if (ret < 0)
          log_warn ("garbage collector", "error", e->msg);
      }
    }
  return 0;
}

static bool
uid_listed (gc_pass *g, const gc_kind *k, const char *uid)
{
  /* Pods (dependents[0]) own claims too (a StatefulSet's whenScaled Delete). */
  json_t *list = k == &dependents[0] ? g->dep_lists[0] : g->owner_lists[k - owners];
  json_t *o;
  size_t i;
  json_array_foreach (list, i, o)
  {
    const char *u = husk_json_path_str (o, "metadata.uid");
    if (u && uid && streq (u, uid))
      return true;
  }
  return false;
}

/* Every ownerReference of obj points at a judged kind and at no existing object (a GET of
   each confirms what the lists said). */
static bool
all_owners_gone (gc_pass *g, const json_t *obj)
{
  json_t *refs = husk_json_path (obj, "metadata.ownerReferences"), *r;
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  size_t i;
  if (json_array_size (refs) == 0 || !ns)
    return false;
  json_array_foreach (refs, i, r)
  {
    const char *av = json_string_value (json_object_get (r, "apiVersion"));
    const char *kind = json_string_value (json_object_get (r, "kind"));
    const gc_kind *k = owner_kind (av, kind);
    if (!k && av && kind && streq (av, "v1") && streq (kind, "Pod"))
      k = &dependents[0];
    const char *uid = json_string_value (json_object_get (r, "uid"));
    const char *name = json_string_value (json_object_get (r, "name"));
    if (!k || !uid || !name || uid_listed (g, k, uid))
      return false;
    _cleanup_free_ char *path = object_path (k, ns, name);
    _cleanup_json_ json_t *cur = NULL;
    _cleanup_error_ husk_error *e = NULL;
    long code = 0;
    if (kclient_json (g->c->k, "GET", path, NULL, NULL, &cur, &code, &e) < 0 && code != 404)
      return false;
    const char *cu = husk_json_path_str (cur, "metadata.uid");
    if (cu && streq (cu, uid))
      return false;
  }
  return true;
}

static int
collect_dangling (gc_pass *g, husk_error **err)
{
  for (size_t d = 0; d < N_DEPS; d++)
    {
      json_t *o;
      size_t i;
      json_array_foreach (g->dep_lists[d], i, o)
      {
        if (ctrl_terminating (o) || !all_owners_gone (g, o))
          continue;
        const char *ns = husk_json_path_str (o, "metadata.namespace");
        const char *name = husk_json_path_str (o, "metadata.name");
        log_info ("garbage collector: owner gone, deleting", "kind", dependents[d].kind,
                  "namespace", ns, "name", name);
        _cleanup_free_ char *p = object_path (&dependents[d], ns, name);
        _cleanup_free_ char *path = xasprintf ("%s?propagationPolicy=Background", p);
        int ret = ctrl_delete (g->c, path, err);
        if (ret < 0)
          return husk_err_wrap (err, "garbage collector: %s %s/%s", dependents[d].kind, ns, name);
      }
    }
  return 0;
}

int
ctrl_gc_sync (ctrl_ctx *c, husk_error **err)
{
  static int64_t last_scan, last_pass_ms;
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if (now_ms - last_pass_ms < GC_MIN_INTERVAL_MS)
    return 0;
  last_pass_ms = now_ms;
  gc_pass g = { .c = c };
  int ret = 0;
  int64_t now = time (NULL);
  bool scan = now - last_scan >= DANGLING_EVERY;
  /* Dependents first, owners second: an owner made after its dependent was listed still
     shows up in the owners' lists. */
  if (scan)
    ret = list_dependents (&g, err);
  for (size_t k = 0; k < N_OWNERS && ret == 0; k++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/%s", owners[k].prefix, owners[k].plural);
      ret = ctrl_list (c, path, &g.owner_lists[k], err);
    }
  if (ret == 0)
    ret = finalize_owners (&g, err);
  if (ret == 0 && scan)
    {
      last_scan = now;
      ret = collect_dangling (&g, err);
    }
  for (size_t k = 0; k < N_OWNERS; k++)
    json_decref (g.owner_lists[k]);
  for (size_t d = 0; d < N_DEPS; d++)
    json_decref (g.dep_lists[d]);
  return ret;
}
