/* husk scheduler runner: list+watch through the master's own API (kclient on loopback with
   the admin token), one scheduling thread. The cache, the queue and the pending pods are
   guarded by one mutex; API writes happen outside it. See docs/scheduler.md. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/kclient.h"
#include "lib/log.h"
#include "src/master/sched/queue.h"
#include "src/master/sched/intern.h"
#include "src/master/sched/runner.h"

#define N_WATCHES 6
/* Bindings are written by this many threads (each with its own connection), so that the
   scheduling thread goes on to the next pod while the API stores the last one (upstream binds
   asynchronously too). */
#define N_BINDERS 4

typedef struct bind_job
{
  struct bind_job *next;
  char *key;
  json_t *pod;
  char *node;
} bind_job;

struct sched_runner
{
  kclient *kc;
  sched_config cfg;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  sched_cache *cache;
  sched_queue *queue;
  json_t *pending;  /* "ns/name" -> pod waiting for a node, as compact JSON text (a string:
                       a tenth of the memory of its tree; parsed again for each attempt) */
  json_t *assigned; /* "ns/name" -> true: pods counted in the cache */
  json_t *nodes;    /* name -> what of the node matters to scheduling (change detection) */
  json_t *classes;  /* PriorityClass name -> {value, globalDefault} */
  atomic_int stop;
  kclient_watch_ops ops[N_WATCHES];
  pthread_t watcher; /* drives the N_WATCHES list+watches (kclient_watch_many) */
  bool watcher_started;
  pthread_t loop;
  bool loop_started;
  /* The binding queue, guarded by bmu (bmu and mu are never held together). */
  pthread_mutex_t bmu;
  pthread_cond_t bcv;
  bind_job *jobs, *jobs_tail;
  kclient *bkc[N_BINDERS];
  pthread_t binders[N_BINDERS];
  int n_binders;
};


static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
rfc3339_now (void)
{
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  char s[32];
  strftime (s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (s);
}

static char *
pod_key (json_t *obj)
{
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  const char *name = husk_json_path_str (obj, "metadata.name");
  if (!name)
    return NULL;
  return xasprintf ("%s/%s", ns ? ns : "default", name);
}

/* Pods this scheduler owns (upstream: schedulerName empty or default-scheduler). */
static bool
is_ours (json_t *pod)
{
  const char *s = husk_json_path_str (pod, "spec.schedulerName");
  return !s || !*s || streq (s, "default-scheduler");
}

static bool
is_terminal (json_t *pod)
{
  const char *phase = husk_json_path_str (pod, "status.phase");
  return phase && (streq (phase, "Succeeded") || streq (phase, "Failed"));
}

static bool
has_value (json_t *j)
{
  return j && !json_is_null (j);
}

/* ---- pods ---------------------------------------------------------------------------- */

/* Caller holds r->mu. */
static void
pod_forget (sched_runner *r, const char *key)
{
  if (json_object_get (r->pending, key))
    {
      json_object_del (r->pending, key);
      sched_queue_remove (r->queue, key);
    }
  if (json_object_get (r->assigned, key))
    {
      json_object_del (r->assigned, key);
      char *slash = strchr (key, '/');
      _cleanup_free_ char *ns = xstrndup (key, (size_t)(slash - key));
      sched_cache_remove_pod (r->cache, ns, slash + 1);
      /* Freed room: pods that did not fit may now. */
      sched_queue_move_all (r->queue, now_ms ());
    }
}

/* What of a pending pod decides where it fits: a change makes it worth a new try at once;
   other updates (our own status writes) do not. */
static bool
pod_spec_changed (json_t *old, json_t *pod)
{
  return !json_equal (json_object_get (old, "spec"), json_object_get (pod, "spec"))
         || !json_equal (husk_json_path (old, "metadata.labels"),
                         husk_json_path (pod, "metadata.labels"));
}

/* Upstream's Priority admission, for pods stored without spec.priority: the value of their
   priorityClassName (or of the globalDefault class). Returns a new reference. Caller holds
   r->mu. */
static json_t *
pod_with_priority (sched_runner *r, json_t *pod)
{
  json_t *spec = json_object_get (pod, "spec");
  if (!json_is_object (spec) || json_is_integer (json_object_get (spec, "priority")))
    return json_incref (pod);
  const char *cls = husk_json_path_str (spec, "priorityClassName");
  json_int_t value = 0;
  if (cls && *cls)
    {
      if (streq (cls, "system-cluster-critical"))
        value = 2000000000;
      else if (streq (cls, "system-node-critical"))
        value = 2000001000;
      json_t *c = json_object_get (r->classes, cls);
      if (c)
        value = json_integer_value (json_object_get (c, "value"));
    }
  else
    {
      const char *k;
      json_t *c;
      json_object_foreach (r->classes, k, c)
      {
        if (json_is_true (json_object_get (c, "globalDefault")))
          value = json_integer_value (json_object_get (c, "value"));
      }
    }
  if (value == 0)
    return json_incref (pod);
  json_t *copy = json_deep_copy (pod);
  json_object_set_new (json_object_get (copy, "spec"), "priority", json_integer (value));
  return copy;
}

static void pod_upsert_resolved (sched_runner *r, json_t *pod);

/* The pending pod under key as a new tree, or NULL. Caller holds r->mu. */
static json_t *
pending_get (sched_runner *r, const char *key)
{
  json_t *text = json_object_get (r->pending, key);
  if (!text)
    return NULL;
  return json_loadb (json_string_value (text), json_string_length (text), 0, NULL);
}

/* Caller holds r->mu. metadata.managedFields (a third of a typical pod's text) is left out:
   neither scheduling nor the status written back reads it. */
static void
pending_set (sched_runner *r, const char *key, json_t *pod)
{
  _cleanup_json_ json_t *slim = json_copy (pod);
  json_t *meta = json_object_get (pod, "metadata");
  if (json_object_get (meta, "managedFields"))
    {
      json_t *m = json_copy (meta);
      json_object_del (m, "managedFields");
      json_object_set_new (slim, "metadata", m);
    }
  _cleanup_free_ char *text = json_dumps (slim, JSON_COMPACT);
  if (text)
    json_object_set_new (r->pending, key, json_string_nocheck (text));
}

/* Caller holds r->mu. */
static void
pod_upsert (sched_runner *r, json_t *pod)
{
  _cleanup_json_ json_t *resolved = pod_with_priority (r, pod);
  pod_upsert_resolved (r, resolved);
}

static void
pod_upsert_resolved (sched_runner *r, json_t *pod)
{
  _cleanup_free_ char *key = pod_key (pod);
  if (!key)
    return;
  const char *node = husk_json_path_str (pod, "spec.nodeName");
  if (node && *node)
    {
      if (json_object_get (r->pending, key))
        {
          json_object_del (r->pending, key);
          sched_queue_remove (r->queue, key);
        }
      if (is_terminal (pod))
        {
          pod_forget (r, key);
          return;
        }
      _cleanup_error_ husk_error *err = NULL;
      if (sched_cache_set_pod (r->cache, pod, &err) < 0)
        log_warn ("scheduler: pod ignored", "pod", key, "error", err->msg);
      else
        json_object_set_new (r->assigned, key, json_true ());
      return;
    }
  if (!is_ours (pod) || has_value (husk_json_path (pod, "metadata.deletionTimestamp"))
      || is_terminal (pod))
    {
      pod_forget (r, key);
      return;
    }
  _cleanup_json_ json_t *old = pending_get (r, key);
  bool requeue = !old || pod_spec_changed (old, pod);
  pending_set (r, key, pod);
  if (requeue)
    {
      json_t *prio = husk_json_path (pod, "spec.priority");
      sched_queue_add (r->queue, key,
                       json_is_integer (prio) ? (int32_t)json_integer_value (prio) : 0, now_ms ());
      pthread_cond_signal (&r->cv);
    }
}

/* Each listed pod as its page arrives: without managedFields, interned (intern.h), so that
   a list of 10,000 pods is never held whole as parsed trees. */
static json_t *
pods_list_item (void *ud, json_t *pod)
{
  static const char *const fresh[] = { "metadata", NULL };
  (void)ud;
  _cleanup_json_ json_t *slim = json_copy (pod), *m = json_copy (json_object_get (pod, "metadata"));
  json_object_del (m, "managedFields");
  json_object_set (slim, "metadata", m);
  return sched_intern_tree (sched_intern_transient (), slim, fresh);
}

static int
pods_on_list (void *ud, json_t *items, const char *rv)
{
  (void)rv;
  sched_runner *r = ud;
  pthread_mutex_lock (&r->mu);
  _cleanup_json_ json_t *seen = json_object ();
  size_t i;
  json_t *p;
  json_array_foreach (items, i, p)
  {
    _cleanup_free_ char *key = pod_key (p);
    if (key)
      json_object_set_new (seen, key, json_true ());
  }
  const char *k;
  json_t *v;
  void *it;
  _cleanup_json_ json_t *gone = json_array ();
  json_object_foreach_safe (r->pending, it, k, v) if (!json_object_get (seen, k))
      json_array_append_new (gone, json_string (k));
  json_object_foreach_safe (r->assigned, it, k, v) if (!json_object_get (seen, k))
      json_array_append_new (gone, json_string (k));
  json_array_foreach (gone, i, v) pod_forget (r, json_string_value (v));
  json_array_foreach (items, i, p) pod_upsert (r, p);
  pthread_cond_signal (&r->cv);
  pthread_mutex_unlock (&r->mu);
  /* A list of 10,000 pods parses into ~200 MB of small blocks that glibc keeps once freed:
     give them back (the caller frees items after this returns; the next list or the
     scheduler's own trims catch that part). */
  malloc_trim (0);
  return 0;
}

static int
pods_on_event (void *ud, const char *type, json_t *obj)
{
  sched_runner *r = ud;
  pthread_mutex_lock (&r->mu);
  if (streq (type, "DELETED"))
    {
      _cleanup_free_ char *key = pod_key (obj);
      if (key)
        pod_forget (r, key);
    }
  else
    pod_upsert (r, obj);
  pthread_mutex_unlock (&r->mu);
  return 0;
}

/* ---- nodes --------------------------------------------------------------------------- */

/* The parts of a node that change where pods fit (heartbeats do not). */
static json_t *
node_signature (json_t *node)
{
  json_t *conds = json_array (), *c;
  size_t i;
  json_array_foreach (husk_json_path (node, "status.conditions"), i, c)
      json_array_append_new (conds, json_pack ("[s?s?]", husk_json_path_str (c, "type"),
                                               husk_json_path_str (c, "status")));
  return json_pack ("{s:O?, s:O?, s:O?, s:o}", "spec", json_object_get (node, "spec"), "labels",
                    husk_json_path (node, "metadata.labels"), "allocatable",
                    husk_json_path (node, "status.allocatable"), "conditions", conds);
}

/* Caller holds r->mu. */
static void
node_upsert (sched_runner *r, json_t *node)
{
  const char *name = husk_json_path_str (node, "metadata.name");
  if (!name)
    return;
  _cleanup_error_ husk_error *err = NULL;
  if (sched_cache_set_node (r->cache, node, &err) < 0)
    {
      log_warn ("scheduler: node ignored", "node", name, "error", err->msg);
      return;
    }
  json_t *sig = node_signature (node);
  json_t *old = json_object_get (r->nodes, name);
  bool changed = !old || !json_equal (old, sig);
  json_object_set_new (r->nodes, name, sig);
  if (changed)
    {
      sched_queue_move_all (r->queue, now_ms ());
      pthread_cond_signal (&r->cv);
    }
}

static int
nodes_on_list (void *ud, json_t *items, const char *rv)
{
  (void)rv;
  sched_runner *r = ud;
  pthread_mutex_lock (&r->mu);
  _cleanup_json_ json_t *seen = json_object ();
  size_t i;
  json_t *n;
  json_array_foreach (items, i, n)
  {
    const char *name = husk_json_path_str (n, "metadata.name");
    if (name)
      json_object_set_new (seen, name, json_true ());
  }
  const char *k;
  json_t *v;
  void *it;
  json_object_foreach_safe (r->nodes, it, k, v) if (!json_object_get (seen, k))
  {
    sched_cache_remove_node (r->cache, k);
    json_object_del (r->nodes, k);
  }
  json_array_foreach (items, i, n) node_upsert (r, n);
  pthread_mutex_unlock (&r->mu);
  return 0;
}

static int
nodes_on_event (void *ud, const char *type, json_t *obj)
{
  sched_runner *r = ud;
  pthread_mutex_lock (&r->mu);
  const char *name = husk_json_path_str (obj, "metadata.name");
  if (streq (type, "DELETED"))
    {
      if (name)
        {
          sched_cache_remove_node (r->cache, name);
          json_object_del (r->nodes, name);
        }
    }
  else
    node_upsert (r, obj);
  pthread_mutex_unlock (&r->mu);
  return 0;
}

/* ---- storage (VolumeBinding) ---------------------------------------------------------- */

typedef enum
{
  ST_PVC,
  ST_PV,
  ST_CLASS
} storage_kind;

static void
storage_apply (sched_runner *r, storage_kind kind, bool deleted, json_t *obj)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  if (!name)
    return;
  _cleanup_error_ husk_error *err = NULL;
  switch (kind)
    {
    case ST_PVC:
      if (deleted)
        sched_cache_remove_pvc (r->cache, ns ? ns : "default", name);
      else
        sched_cache_set_pvc (r->cache, obj, &err);
      break;
    case ST_PV:
      if (deleted)
        sched_cache_remove_pv (r->cache, name);
      else
        sched_cache_set_pv (r->cache, obj, &err);
      break;
    case ST_CLASS:
      if (deleted)
        sched_cache_remove_storage_class (r->cache, name);
      else
        sched_cache_set_storage_class (r->cache, obj, &err);
      break;
    }
  if (!deleted)
    {
      sched_queue_move_all (r->queue, now_ms ());
      pthread_cond_signal (&r->cv);
    }
}

#define STORAGE_OPS(fn, kind)                                                                      \
  static int fn##_on_list (void *ud, json_t *items, const char *rv)                                \
  {                                                                                                \
    (void)rv;                                                                                      \
    sched_runner *r = ud;                                                                          \
    size_t i;                                                                                      \
    json_t *o;                                                                                     \
    pthread_mutex_lock (&r->mu);                                                                   \
    json_array_foreach (items, i, o) storage_apply (r, kind, false, o);                            \
    pthread_mutex_unlock (&r->mu);                                                                 \
    return 0;                                                                                      \
  }                                                                                                \
  static int fn##_on_event (void *ud, const char *type, json_t *obj)                               \
  {                                                                                                \
    sched_runner *r = ud;                                                                          \
    pthread_mutex_lock (&r->mu);                                                                   \
    storage_apply (r, kind, streq (type, "DELETED"), obj);                                         \
    pthread_mutex_unlock (&r->mu);                                                                 \
    return 0;                                                                                      \
  }

STORAGE_OPS (pvcs, ST_PVC)
STORAGE_OPS (pvs, ST_PV)
STORAGE_OPS (classes, ST_CLASS)

/* Caller holds r->mu. */
static void
priority_class_apply (sched_runner *r, bool deleted, json_t *obj)
{
  const char *name = husk_json_path_str (obj, "metadata.name");
  if (!name)
    return;
  if (deleted)
    json_object_del (r->classes, name);
  else
    json_object_set_new (r->classes, name,
                         json_pack ("{s:O?, s:b}", "value", json_object_get (obj, "value"),
                                    "globalDefault",
                                    json_is_true (json_object_get (obj, "globalDefault"))));
}

static int
prio_on_list (void *ud, json_t *items, const char *rv)
{
  (void)rv;
  sched_runner *r = ud;
  size_t i;
  json_t *o;
  pthread_mutex_lock (&r->mu);
  json_object_clear (r->classes);
  json_array_foreach (items, i, o) priority_class_apply (r, false, o);
  pthread_mutex_unlock (&r->mu);
  return 0;
}

static int
prio_on_event (void *ud, const char *type, json_t *obj)
{
  sched_runner *r = ud;
  pthread_mutex_lock (&r->mu);
  priority_class_apply (r, streq (type, "DELETED"), obj);
  pthread_mutex_unlock (&r->mu);
  return 0;
}

/* ---- writes --------------------------------------------------------------------------- */

/* PreBind of VolumeBinding, reduced: unbound WaitForFirstConsumer claims of the pod get
   volume.kubernetes.io/selected-node so that the provisioner makes the volume there. */
static void
select_claim_nodes (kclient *kc, json_t *pod, const char *ns, const char *node)
{
  json_t *v;
  size_t i;
  json_array_foreach (husk_json_path (pod, "spec.volumes"), i, v)
  {
    const char *claim = husk_json_path_str (v, "persistentVolumeClaim.claimName");
    if (!claim)
      continue;
    _cleanup_error_ husk_error *err = NULL;
    _cleanup_free_ char *path
        = xasprintf ("/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns, claim);
    _cleanup_json_ json_t *pvc = NULL;
    if (kclient_json (kc, "GET", path, NULL, NULL, &pvc, NULL, &err) < 0)
      continue;
    const char *vol = husk_json_path_str (pvc, "spec.volumeName");
    const char *cls = husk_json_path_str (pvc, "spec.storageClassName");
    if ((vol && *vol) || !cls)
      continue;
    _cleanup_free_ char *cpath = xasprintf ("/apis/storage.k8s.io/v1/storageclasses/%s", cls);
    _cleanup_json_ json_t *sc = NULL;
    if (kclient_json (kc, "GET", cpath, NULL, NULL, &sc, NULL, &err) < 0)
      continue;
    const char *mode = husk_json_path_str (sc, "volumeBindingMode");
    if (!mode || !streq (mode, "WaitForFirstConsumer"))
      continue;
    _cleanup_json_ json_t *patch = json_pack ("{s:{s:{s:s}}}", "metadata", "annotations",
                                              "volume.kubernetes.io/selected-node", node);
    if (kclient_json (kc, "PATCH", path, "application/merge-patch+json", patch, NULL, NULL, &err)
        < 0)
      log_warn ("scheduler: cannot select node of claim", "claim", claim, "error", err->msg);
  }
}

/* Returns 0 when bound (or already bound elsewhere: 409), < 0 to retry. */
static int
write_binding (kclient *kc, json_t *pod, const char *node, husk_error **err)
{
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *name = husk_json_path_str (pod, "metadata.name");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  if (!ns)
    ns = "default";
  select_claim_nodes (kc, pod, ns, node);
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s/binding", ns, name);
  _cleanup_json_ json_t *body
      = json_pack ("{s:s, s:s, s:{s:s, s:s, s:s?}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                   "Binding", "metadata", "name", name, "namespace", ns, "uid", uid, "target",
                   "apiVersion", "v1", "kind", "Node", "name", node);
  long status = 0;
  int ret = kclient_json (kc, "POST", path, NULL, body, NULL, &status, err);
  if (ret < 0 && (status == 409 || status == 404))
    return 0;
  return ret;
}

/* Upstream's handling of a failed attempt: PodScheduled=False (reason Unschedulable, the
   FitError text), nominatedNodeName when preempting, and a FailedScheduling event. */
static void
record_failure (sched_runner *r, json_t *pod, const char *message, const char *nominated)
{
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *name = husk_json_path_str (pod, "metadata.name");
  if (!ns)
    ns = "default";
  _cleanup_free_ char *now = rfc3339_now ();
  _cleanup_error_ husk_error *err = NULL;

  bool same = false;
  json_t *c;
  size_t i;
  json_array_foreach (husk_json_path (pod, "status.conditions"), i, c)
  {
    const char *t = husk_json_path_str (c, "type"), *s = husk_json_path_str (c, "status"),
               *m = husk_json_path_str (c, "message");
    if (t && streq (t, "PodScheduled") && s && streq (s, "False") && m && streq (m, message))
      same = true;
  }
  const char *cur_nom = husk_json_path_str (pod, "status.nominatedNodeName");
  if (nominated && !(cur_nom && streq (cur_nom, nominated)))
    same = false;
  if (!same)
    {
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s/status", ns, name);
      _cleanup_json_ json_t *patch
          = json_pack ("{s:{s:[{s:s, s:s, s:s, s:s, s:n, s:s}]}}", "status", "conditions", "type",
                       "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
                       message, "lastProbeTime", "lastTransitionTime", now);
      if (nominated)
        json_object_set_new (json_object_get (patch, "status"), "nominatedNodeName",
                             json_string (nominated));
      if (kclient_json (r->kc, "PATCH", path, "application/strategic-merge-patch+json", patch, NULL,
                        NULL, &err)
          < 0)
        {
          log_warn ("scheduler: cannot set PodScheduled", "pod", name, "error", err->msg);
          husk_error_free (err);
          err = NULL;
        }
    }

  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  _cleanup_free_ char *ev_name
      = xasprintf ("%s.%llx", name, (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
  _cleanup_free_ char *epath = xasprintf ("/api/v1/namespaces/%s/events", ns);
  _cleanup_json_ json_t *ev = json_pack (
      "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s?, s:s?}, s:s, s:s, s:s, s:{s:s},"
      " s:s, s:s, s:s, s:i}",
      "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name, "namespace", ns,
      "involvedObject", "apiVersion", "v1", "kind", "Pod", "name", name, "namespace", ns, "uid",
      husk_json_path_str (pod, "metadata.uid"), "resourceVersion",
      husk_json_path_str (pod, "metadata.resourceVersion"), "reason", "FailedScheduling", "message",
      message, "type", "Warning", "source", "component", "default-scheduler", "reportingComponent",
      "default-scheduler", "firstTimestamp", now, "lastTimestamp", now, "count", 1);
  if (kclient_json (r->kc, "POST", epath, NULL, ev, NULL, NULL, &err) < 0)
    log_warn ("scheduler: cannot record event", "pod", name, "error", err->msg);
}

static void
evict_victims (sched_runner *r, const sched_result *res)
{
  for (size_t i = 0; i < res->n_victims; i++)
    {
      const char *v = res->victims[i];
      const char *slash = strchr (v, '/');
      if (!slash)
        continue;
      _cleanup_free_ char *ns = xstrndup (v, (size_t)(slash - v));
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s", ns, slash + 1);
      _cleanup_error_ husk_error *err = NULL;
      long status = 0;
      if (kclient_json (r->kc, "DELETE", path, NULL, NULL, NULL, &status, &err) < 0
          && status != 404)
        log_warn ("scheduler: cannot preempt", "pod", v, "error", err->msg);
      else
        log_info ("scheduler: preempted", "pod", v, "node", res->nominated_node);
    }
}

/* ---- the scheduling loop -------------------------------------------------------------- */

/* One pod: the cycle under the lock, the writes outside it. */
static void
schedule_one (sched_runner *r, const char *key)
{
  pthread_mutex_lock (&r->mu);
  json_t *pod = pending_get (r, key);
  if (!pod)
    {
      sched_queue_done (r->queue, key);
      pthread_mutex_unlock (&r->mu);
      return;
    }
  _cleanup_json_ json_t *pod_ref = pod;
  sched_result res = { 0 };
  _cleanup_error_ husk_error *err = NULL;
  int ret = sched_schedule (r->cache, &r->cfg, pod, &res, &err);
  if (ret >= 0 && res.node)
    ret = sched_cache_assume_pod (r->cache, pod, res.node, &err);
  pthread_mutex_unlock (&r->mu);

  if (ret < 0)
    {
      log_warn ("scheduler: cannot schedule", "pod", key, "error", err->msg);
      pthread_mutex_lock (&r->mu);
      sched_queue_unschedulable (r->queue, key, now_ms ());
      pthread_mutex_unlock (&r->mu);
      sched_result_clear (&res);
      return;
    }
  if (res.node)
    {
      bind_job *job = xzalloc (sizeof *job);
      job->key = xstrdup (key);
      job->pod = json_incref (pod);
      job->node = TAKE_PTR (res.node);
      pthread_mutex_lock (&r->bmu);
      if (r->jobs_tail)
        r->jobs_tail->next = job;
      else
        r->jobs = job;
      r->jobs_tail = job;
      pthread_cond_signal (&r->bcv);
      pthread_mutex_unlock (&r->bmu);
      sched_result_clear (&res);
      return;
    }
  log_info ("scheduler: unschedulable", "pod", key, "reason", res.message ? res.message : "");
  if (res.nominated_node)
    evict_victims (r, &res);
  record_failure (r, pod, res.message ? res.message : "no nodes available to schedule pods",
                  res.nominated_node);
  pthread_mutex_lock (&r->mu);
  sched_queue_unschedulable (r->queue, key, now_ms ());
  pthread_mutex_unlock (&r->mu);
  sched_result_clear (&res);
}

static void
bind_job_free (bind_job *job)
{
  free (job->key);
  json_decref (job->pod);
  free (job->node);
  free (job);
}

/* Writes one binding; the pod stays "in flight" in the queue until this is done. */
static void
bind_one (sched_runner *r, kclient *kc, bind_job *job)
{
  _cleanup_error_ husk_error *err = NULL;
  int ret = write_binding (kc, job->pod, job->node, &err);
  pthread_mutex_lock (&r->mu);
  if (ret < 0)
    {
      log_warn ("scheduler: binding failed", "pod", job->key, "node", job->node, "error", err->msg);
      char *slash = strchr (job->key, '/');
      _cleanup_free_ char *ns = xstrndup (job->key, (size_t)(slash - job->key));
      if (!json_object_get (r->assigned, job->key))
        sched_cache_remove_pod (r->cache, ns, slash + 1);
      sched_queue_unschedulable (r->queue, job->key, now_ms ());
    }
  else
    {
      log_debug ("scheduler: bound", "pod", job->key, "node", job->node);
      json_object_del (r->pending, job->key);
      sched_queue_done (r->queue, job->key);
    }
  pthread_mutex_unlock (&r->mu);
}

typedef struct binder_arg
{
  sched_runner *r;
  kclient *kc;
} binder_arg;

static void *
binder_main (void *ud)
{
  binder_arg a = *(binder_arg *)ud;
  free (ud);
  sched_runner *r = a.r;
  for (;;)
    {
      pthread_mutex_lock (&r->bmu);
      while (!r->jobs && !atomic_load (&r->stop))
        pthread_cond_wait (&r->bcv, &r->bmu);
      bind_job *job = r->jobs;
      if (job)
        {
          r->jobs = job->next;
          if (!r->jobs)
            r->jobs_tail = NULL;
        }
      pthread_mutex_unlock (&r->bmu);
      if (!job)
        return NULL;
      bind_one (r, a.kc, job);
      bind_job_free (job);
    }
}

static void *
loop_main (void *ud)
{
  sched_runner *r = ud;
  size_t since_trim = 0;
  int64_t last_trim = 0;
  while (!atomic_load (&r->stop))
    {
      pthread_mutex_lock (&r->mu);
      int64_t now = now_ms ();
      char *key = sched_queue_pop (r->queue, now);
      if (!key && since_trim > 0 && now - last_trim >= 1000)
        {
          /* A burst is over: each attempt parsed its pod again, hand the freed blocks back
             (at most once a second). */
          pthread_mutex_unlock (&r->mu);
          malloc_trim (0);
          since_trim = 0;
          last_trim = now;
          continue;
        }
      if (!key)
        {
          int64_t wait = sched_queue_wait_ms (r->queue, now);
          if (wait < 0 || wait > 1000)
            wait = 1000;
          struct timespec ts;
          clock_gettime (CLOCK_REALTIME, &ts);
          ts.tv_sec += wait / 1000;
          ts.tv_nsec += (wait % 1000) * 1000000;
          if (ts.tv_nsec >= 1000000000)
            {
              ts.tv_sec++;
              ts.tv_nsec -= 1000000000;
            }
          pthread_cond_timedwait (&r->cv, &r->mu, &ts);
          pthread_mutex_unlock (&r->mu);
          continue;
        }
      pthread_mutex_unlock (&r->mu);
      schedule_one (r, key);
      since_trim++;
      free (key);
    }
  return NULL;
}

static const char *const watch_paths[N_WATCHES] = { "/api/v1/nodes",
                                                    "/api/v1/pods",
                                                    "/api/v1/persistentvolumeclaims",
                                                    "/api/v1/persistentvolumes",
                                                    "/apis/storage.k8s.io/v1/storageclasses",
                                                    "/apis/scheduling.k8s.io/v1/priorityclasses" };

/* All the watches from this one thread (a curl multi handle), not a thread each. */
static void *
watch_main (void *ud)
{
  sched_runner *r = ud;
  _cleanup_error_ husk_error *err = NULL;
  kclient_watch_opts o = { .list_page = 100 }; /* as CTRL_LIST_PAGE (informer.c) */
  kclient_watch_spec specs[N_WATCHES];
  for (int i = 0; i < N_WATCHES; i++)
    specs[i] = (kclient_watch_spec){ watch_paths[i], &o, &r->ops[i] };
  if (kclient_watch_many (r->kc, specs, N_WATCHES, &r->stop, &err) < 0)
    log_error ("scheduler: watches ended", "error", err->msg);
  return NULL;
}

int
sched_runner_parse_strategy (const char *s, sched_fit_strategy *out)
{
  if (streq (s, "LeastAllocated"))
    *out = SCHED_LEAST_ALLOCATED;
  else if (streq (s, "MostAllocated"))
    *out = SCHED_MOST_ALLOCATED;
  else
    return -EINVAL;
  return 0;
}

int
sched_runner_start (const sched_runner_config *cfg, sched_runner **out, husk_error **err)
{
  static const kclient_watch_ops ops[N_WATCHES] = {
    { nodes_on_list, nodes_on_event, NULL, NULL },     { pods_on_list, pods_on_event, NULL, NULL, pods_list_item },
    { pvcs_on_list, pvcs_on_event, NULL, NULL },       { pvs_on_list, pvs_on_event, NULL, NULL },
    { classes_on_list, classes_on_event, NULL, NULL }, { prio_on_list, prio_on_event, NULL, NULL },
  };
  sched_runner *r = xzalloc (sizeof *r);
  kclient_config kc = { .server = (char *)cfg->server,
                        .token = (char *)cfg->token,
                        .ca_file = (char *)cfg->ca_file,
                        .insecure = cfg->ca_file == NULL,
                        .unix_socket = (char *)cfg->unix_socket };
  int ret = kclient_new (&kc, &r->kc, err);
  if (ret < 0)
    {
      free (r);
      return husk_err_wrap (err, "scheduler");
    }
  r->cfg.strategy = cfg->strategy;
  pthread_mutex_init (&r->bmu, NULL);
  pthread_cond_init (&r->bcv, NULL);
  for (int i = 0; i < N_BINDERS; i++)
    if (kclient_new (&kc, &r->bkc[i], err) < 0)
      {
        for (int j = 0; j < i; j++)
          kclient_free (r->bkc[j]);
        kclient_free (r->kc);
        free (r);
        return husk_err_wrap (err, "scheduler");
      }
  pthread_mutex_init (&r->mu, NULL);
  pthread_cond_init (&r->cv, NULL);
  r->cache = sched_cache_new ();
  r->queue = sched_queue_new ();
  r->pending = json_object ();
  r->assigned = json_object ();
  r->nodes = json_object ();
  r->classes = json_object ();
  for (int i = 0; i < N_WATCHES; i++)
    {
      r->ops[i] = ops[i];
      r->ops[i].ud = r;
    }
  if (pthread_create (&r->watcher, NULL, watch_main, r) != 0)
    {
      sched_runner_stop (r);
      return husk_err (err, EAGAIN, "scheduler: cannot start its watch thread");
    }
  r->watcher_started = true;
  for (int i = 0; i < N_BINDERS; i++)
    {
      binder_arg *a = xzalloc (sizeof *a);
      *a = (binder_arg){ r, r->bkc[i] };
      if (pthread_create (&r->binders[i], NULL, binder_main, a) != 0)
        {
          free (a);
          sched_runner_stop (r);
          return husk_err (err, EAGAIN, "scheduler: cannot start a binding thread");
        }
      r->n_binders++;
    }
  if (pthread_create (&r->loop, NULL, loop_main, r) != 0)
    {
      sched_runner_stop (r);
      return husk_err (err, EAGAIN, "scheduler: cannot start its thread");
    }
  r->loop_started = true;
  log_info ("scheduler started", "score",
            cfg->strategy == SCHED_MOST_ALLOCATED ? "MostAllocated" : "LeastAllocated");
  *out = r;
  return 0;
}

void
sched_runner_stop (sched_runner *r)
{
  if (!r)
    return;
  atomic_store (&r->stop, 1);
  pthread_mutex_lock (&r->mu);
  pthread_cond_broadcast (&r->cv);
  pthread_mutex_unlock (&r->mu);
  if (r->watcher_started)
    pthread_join (r->watcher, NULL);
  if (r->loop_started)
    pthread_join (r->loop, NULL);
  pthread_mutex_lock (&r->bmu);
  pthread_cond_broadcast (&r->bcv);
  pthread_mutex_unlock (&r->bmu);
  for (int i = 0; i < r->n_binders; i++)
    pthread_join (r->binders[i], NULL);
  for (int i = 0; i < N_BINDERS; i++)
    kclient_free (r->bkc[i]);
  while (r->jobs)
    {
      bind_job *next = r->jobs->next;
      bind_job_free (r->jobs);
      r->jobs = next;
    }
  pthread_mutex_destroy (&r->bmu);
  pthread_cond_destroy (&r->bcv);
  kclient_free (r->kc);
  sched_cache_free (r->cache);
  sched_queue_free (r->queue);
  json_decref (r->pending);
  json_decref (r->assigned);
  json_decref (r->nodes);
  json_decref (r->classes);
  pthread_mutex_destroy (&r->mu);
  pthread_cond_destroy (&r->cv);
  free (r);
}
