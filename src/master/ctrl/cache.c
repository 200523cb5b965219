/* husk controllers: one resource type's in-memory cache (cache.h). Objects are kept by
   "<namespace>/<name>" in a jansson object; a sorted array of them is rebuilt on demand when
   something changed, so that every pass reads the order a LIST gives without sorting. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/util.h"
#include "src/master/ctrl/cache.h"
#include "src/master/sched/intern.h"

typedef struct entry
{
  const char *key; /* borrowed from the map */
  json_t *obj;
} entry;

struct ctrl_cache
{
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ctrl_cache_project_fn project;
  json_t *map;       /* key -> projected object */
  entry *sorted;     /* valid when !dirty */
  size_t n_sorted, cap_sorted;
  bool dirty;
  bool synced;
  uint64_t rv;
  uint64_t lists;
};

ctrl_cache *
ctrl_cache_new (ctrl_cache_project_fn project)
{
  ctrl_cache *c = xmalloc (sizeof *c);
  memset (c, 0, sizeof *c);
  pthread_mutex_init (&c->mu, NULL);
  pthread_cond_init (&c->cv, NULL);
  c->project = project ? project : ctrl_cache_project_meta;
  c->map = json_object ();
  c->dirty = true;
  return c;
}

void
ctrl_cache_free (ctrl_cache *c)
{
  if (c == NULL)
    return;
  json_decref (c->map);
  free (c->sorted);
  pthread_mutex_destroy (&c->mu);
  pthread_cond_destroy (&c->cv);
  free (c);
}

uint64_t
ctrl_cache_rv_of (const json_t *obj)
{
  const char *s = husk_json_path_str (obj, "metadata.resourceVersion");
  if (s == NULL || *s < '0' || *s > '9')
    return 0;
  return strtoull (s, NULL, 10);
}

/* "<ns>/<name>" ("/<name>" for cluster-scoped objects); NULL without a name. */
static char *
key_of (const json_t *obj)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  if (name == NULL)
    return NULL;
  return xasprintf ("%s/%s", ns ? ns : "", name);
}

static void
note_rv (ctrl_cache *c, uint64_t rv)
{
  if (rv > c->rv)
    c->rv = rv;
}

/* The projection of obj as a tree of its own, built of interned nodes (sched/intern.h):
   sharing nodes with the parsed list or event (which is freed) would pin its pages, and
   equal parts of different objects (labels, owners, container resources, status) are kept
   once. The root and its metadata are the object's own. */
static json_t *
own_projection (ctrl_cache *c, json_t *obj)
{
  static const char *const fresh[] = { "metadata", NULL };
  _cleanup_json_ json_t *p = c->project (obj);
  return sched_intern_tree (sched_intern_shared (), p, fresh);
}

json_t *
ctrl_cache_keep (ctrl_cache *c, json_t *obj)
{
  return own_projection (c, obj);
}

static void
replace (ctrl_cache *c, json_t *items, bool kept, const char *rv)
{
  json_t *map = json_object ();
  json_t *o;
  size_t i;
  json_array_foreach (items, i, o)
  {
    _cleanup_free_ char *key = key_of (o);
    if (key)
      json_object_set_new (map, key, kept ? json_incref (o) : own_projection (c, o));
  }
  pthread_mutex_lock (&c->mu);
  json_t *old = c->map;
  c->map = map;
  c->dirty = true;
  c->synced = true;
  c->lists++;
  /* A relist may go back in time only if the server lost history; take its version. */
  c->rv = rv && *rv >= '0' && *rv <= '9' ? strtoull (rv, NULL, 10) : c->rv;
  pthread_cond_broadcast (&c->cv);
  pthread_mutex_unlock (&c->mu);
  json_decref (old);
}

void
ctrl_cache_replace (ctrl_cache *c, json_t *items, const char *rv)
{
  replace (c, items, false, rv);
}

void
ctrl_cache_replace_kept (ctrl_cache *c, json_t *items, const char *rv)
{
  replace (c, items, true, rv);
}

bool
ctrl_cache_apply (ctrl_cache *c, const char *type, json_t *obj)
{
  _cleanup_free_ char *key = key_of (obj);
  if (key == NULL || type == NULL)
    return false;
  uint64_t rv = ctrl_cache_rv_of (obj);
  bool del = streq (type, "DELETED");
  if (!del && !streq (type, "ADDED") && !streq (type, "MODIFIED"))
    return false;
  json_t *proj = del ? NULL : own_projection (c, obj);
  bool changed = false;
  pthread_mutex_lock (&c->mu);
  json_t *cur = json_object_get (c->map, key);
  uint64_t cur_rv = ctrl_cache_rv_of (cur);
  /* Replayed events (older than the object held) change nothing. */
  bool stale = cur && rv && cur_rv && rv < cur_rv;
  if (!stale && del && cur)
    changed = json_object_del (c->map, key) == 0;
  else if (!stale && !del)
    changed = json_object_set_new (c->map, key, TAKE_PTR (proj)) == 0;
  if (changed)
    c->dirty = true;
  note_rv (c, rv);
  pthread_cond_broadcast (&c->cv);
  pthread_mutex_unlock (&c->mu);
  json_decref (proj);
  return changed;
}

bool
ctrl_cache_wait (ctrl_cache *c, uint64_t min_rv, int timeout_ms)
{
  struct timespec until;
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L)
    {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  pthread_mutex_lock (&c->mu);
  int r = 0;
  while ((!c->synced || c->rv < min_rv) && r != ETIMEDOUT)
    r = pthread_cond_timedwait (&c->cv, &c->mu, &until);
  bool ok = c->synced && c->rv >= min_rv;
  pthread_mutex_unlock (&c->mu);
  return ok;
}

static int
by_key (const void *a, const void *b)
{
  return strcmp (((const entry *)a)->key, ((const entry *)b)->key);
}

/* Under c->mu. */
static void
resort (ctrl_cache *c)
{
  size_t n = json_object_size (c->map);
  if (n > c->cap_sorted)
    {
      c->cap_sorted = n + n / 4 + 16;
      c->sorted = realloc (c->sorted, c->cap_sorted * sizeof *c->sorted);
      if (c->sorted == NULL)
        abort ();
    }
  const char *k;
  json_t *o;
  size_t i = 0;
  json_object_foreach (c->map, k, o) c->sorted[i++] = (entry){ k, o };
  c->n_sorted = i;
  qsort (c->sorted, c->n_sorted, sizeof *c->sorted, by_key);
  c->dirty = false;
}

json_t *
ctrl_cache_items (ctrl_cache *c, const char *ns)
{
  json_t *out = json_array ();
  size_t nsl = ns ? strlen (ns) : 0;
  pthread_mutex_lock (&c->mu);
  if (c->dirty)
    resort (c);
  for (size_t i = 0; i < c->n_sorted; i++)
    {
      const char *k = c->sorted[i].key;
      if (ns && (strncmp (k, ns, nsl) != 0 || k[nsl] != '/'))
        continue;
      json_array_append (out, c->sorted[i].obj);
    }
  pthread_mutex_unlock (&c->mu);
  return out;
}

uint64_t
ctrl_cache_rv (ctrl_cache *c)
{
  pthread_mutex_lock (&c->mu);
  uint64_t rv = c->rv;
  pthread_mutex_unlock (&c->mu);
  return rv;
}

size_t
ctrl_cache_size (ctrl_cache *c)
{
  pthread_mutex_lock (&c->mu);
  size_t n = json_object_size (c->map);
  pthread_mutex_unlock (&c->mu);
  return n;
}

uint64_t
ctrl_cache_lists (ctrl_cache *c)
{
  pthread_mutex_lock (&c->mu);
  uint64_t n = c->lists;
  pthread_mutex_unlock (&c->mu);
  return n;
}

/* ---- projections ---- */

/* A shallow copy of obj with a shallow copy of its metadata minus managedFields. */
json_t *
ctrl_cache_project_meta (json_t *obj)
{
  json_t *out = json_copy (obj);
  json_t *meta = json_object_get (obj, "metadata");
  if (json_is_object (meta) && json_object_get (meta, "managedFields"))
    {
      json_t *m = json_copy (meta);
      json_object_del (m, "managedFields");
      json_object_set_new (out, "metadata", m);
    }
  return out;
}

/* What controllers read of a pod's container: quota and LimitRange (resources, sidecar
   restartPolicy), endpoints (named ports), everything else by name. */
static const char *const container_keys[] = { "name", "resources", "ports", "restartPolicy" };

static json_t *
slim_containers (json_t *arr)
{
  json_t *out = json_array ();
  json_t *ctr;
  size_t i;
  json_array_foreach (arr, i, ctr)
  {
    json_t *s = json_object ();
    for (size_t k = 0; k < sizeof container_keys / sizeof *container_keys; k++)
      {
        json_t *v = json_object_get (ctr, container_keys[k]);
        if (v)
          json_object_set (s, container_keys[k], v);
      }
    json_array_append_new (out, s);
  }
  return out;
}

/* What controllers read of a pod's spec (replicaset/podrank: nodeName; endpoints: hostname,
   subdomain, container ports; quota: resources, overhead, priorityClassName,
   activeDeadlineSeconds; node lifecycle: tolerations; daemonset: affinity, nodeSelector;
   job: restartPolicy). Volumes, env, probes, commands, images and the rest are left out. */
static const char *const spec_keys[]
    = { "nodeName",     "hostname",          "subdomain",        "containers",
        "initContainers", "ephemeralContainers", "overhead",      "priorityClassName",
        "priority",     "activeDeadlineSeconds", "tolerations",   "affinity",
        "nodeSelector", "restartPolicy" };

/* Annotations controllers read on pods are Kubernetes' own (job completion index, pod
   deletion cost): kept are the keys of *.kubernetes.io/ and kubernetes.io/ domains but
   kubectl's last-applied copy of the object. */
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

static bool
annotation_kept (const char *key)
{
  static const char k8s[] = "kubernetes.io";
  const size_t n = sizeof k8s - 1;
  const char *slash = strchr (key, '/');
  if (slash == NULL || streq (key, LAST_APPLIED))
    return false;
  size_t dom = (size_t)(slash - key);
  return dom >= n && memcmp (slash - n, k8s, n) == 0 && (dom == n || slash[-(ptrdiff_t)n - 1] == '.');
}

static json_t *
slim_annotations (json_t *ann)
{
  json_t *out = json_object (), *v;
  const char *k;
  json_object_foreach (ann, k, v) if (annotation_kept (k)) json_object_set (out, k, v);
  return out;
}

static json_t *
slim_spec (json_t *spec)
{
  json_t *s = json_object ();
  for (size_t i = 0; i < sizeof spec_keys / sizeof *spec_keys; i++)
    {
      json_t *v = json_object_get (spec, spec_keys[i]);
      if (v == NULL)
        continue;
      bool ctrs = json_is_array (v) && strstr (spec_keys[i], "ontainers");
      json_object_set_new (s, spec_keys[i], ctrs ? slim_containers (v) : json_incref (v));
    }
  return s;
}

json_t *
ctrl_cache_project_pod (json_t *obj)
{
  json_t *out = json_copy (obj);
  json_t *meta = json_object_get (obj, "metadata");
  if (json_is_object (meta))
    {
      json_t *m = json_copy (meta);
      json_object_del (m, "managedFields");
      json_t *ann = json_object_get (meta, "annotations");
      if (json_is_object (ann))
        {
          json_t *a = slim_annotations (ann);
          if (json_object_size (a))
            json_object_set_new (m, "annotations", a);
          else
            {
              json_object_del (m, "annotations");
              json_decref (a);
            }
        }
      json_object_set_new (out, "metadata", m);
    }
  json_t *spec = json_object_get (obj, "spec");
  if (json_is_object (spec))
    json_object_set_new (out, "spec", slim_spec (spec));
  return out;
}
