/* husk controllers: the manager. One thread drives the list+watch of every watched resource
   (informer.c, kclient_watch_many), keeps each resource's shared cache (cache.c) and turns
   every change into a wake-up; one thread per
   controller reconciles from the caches when woken (and every few seconds), so a missed
   event only delays, never loses, work. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/manager.h"

/* The watched resources are ctrl_informer_defs (informer.c), one list+watch and one shared
   cache each; a controller wakes only for those it reads (its bits: bit i is informer i). */
enum
{
  W_PODS = 1u << 0,
  W_RS = 1u << 1,
  W_DEPLOY = 1u << 2,
  W_SVC = 1u << 3,
  W_NS = 1u << 4,
  W_JOBS = 1u << 5,
  W_CJ = 1u << 6,
  W_PV = 1u << 7,
  W_PVC = 1u << 8,
  W_QUOTA = 1u << 9,
  W_DS = 1u << 10,
  W_STS = 1u << 11,
  W_NODES = 1u << 12,
  W_ALL = (1u << 13) - 1, /* the 13 above (not endpoints, slices, revisions, classes, leases) */
};

/* Every controller also runs at least every 2 s (timers, resources not watched). Waking
   every controller on any event made, e.g., node lifecycle list all Nodes and Leases on
   each pod status write. */
static const ctrl_def controllers[] = {
  { "replicaset", ctrl_replicaset_sync, W_PODS | W_RS },
  { "deployment", ctrl_deployment_sync, W_DEPLOY | W_RS },
  { "endpoints", ctrl_endpoints_sync, W_SVC | W_PODS },
  { "serviceaccount", ctrl_serviceaccount_sync, W_NS },
  { "job", ctrl_job_sync, W_JOBS | W_PODS },
  { "cronjob", ctrl_cronjob_sync, W_CJ | W_JOBS },
  { "nodelifecycle", ctrl_nodelifecycle_sync, W_NODES },
  { "pvbinder", ctrl_pvbinder_sync, W_PV | W_PVC },
  { "localpath", ctrl_localpath_sync, W_PV | W_PVC | W_NODES | W_PODS },
  { "resourcequota", ctrl_quota_sync, W_ALL },
  { "daemonset", ctrl_daemonset_sync, W_DS | W_NODES | W_PODS },
  { "statefulset", ctrl_statefulset_sync, W_STS | W_PODS | W_PVC },
  { "garbagecollector", ctrl_gc_sync, W_ALL },
  { "nodeipam", ctrl_nodeipam_sync, W_NODES },
};
#define N_CTRL (sizeof controllers / sizeof controllers[0])

#define N_WATCH CTRL_N_INFORMERS

struct ctrl_manager
{
  kclient *k;
  atomic_int stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t gen[N_WATCH]; /* events seen per watched resource */
  ctrl_cache *caches[N_WATCH];
  ctrl_list_stats stats;
  atomic_llong trim_at; /* a full list was taken: trim the heap after this (monotonic ms) */
  pthread_t watch_th;
  bool watch_started;
  pthread_t ctrl_th[N_CTRL];
  size_t n_ctrl;
};

typedef struct
{
  ctrl_manager *m;
  size_t i;
} thread_arg;
static thread_arg watch_args[N_WATCH], ctrl_args[N_CTRL];

static void
wake (ctrl_manager *m, size_t w)
{
  pthread_mutex_lock (&m->mu);
  m->gen[w]++;
  pthread_cond_broadcast (&m->cv);
  pthread_mutex_unlock (&m->mu);
}

static long long
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A second after a full list its tree (10,000 pods: ~300 MB of jansson nodes) is freed;
   glibc would keep the pages otherwise. Trimming at once could come before the free. */
static void
trim_after_list (ctrl_manager *m)
{
  long long at = atomic_load (&m->trim_at);
  if (at != 0 && mono_ms () >= at && atomic_compare_exchange_strong (&m->trim_at, &at, 0))
    malloc_trim (0);
}

static void
on_change (void *ud, bool listed)
{
  thread_arg *a = ud;
  if (listed)
    atomic_store (&a->m->trim_at, mono_ms () + 1000);
  wake (a->m, a->i);
}

static void *
watch_main (void *p)
{
  ctrl_manager *m = p;
  void *uds[N_WATCH];
  for (size_t i = 0; i < N_WATCH; i++)
    uds[i] = &watch_args[i];
  _cleanup_error_ husk_error *err = NULL;
  if (ctrl_informer_run_all (m->k, m->caches, N_WATCH, on_change, uds, &m->stop, &err) < 0)
    log_warn ("controller watches ended", "error", err->msg);
  return NULL;
}

/* The sum of the event counts of the resources in mask (all when 0); under m->mu. */
static uint64_t
gen_of (const ctrl_manager *m, unsigned mask)
{
  uint64_t sum = 0;
  for (size_t i = 0; i < N_WATCH; i++)
    if (mask == 0 || (mask & (1u << i)))
      sum += m->gen[i];
  return sum;
}

static void *
ctrl_main (void *p)
{
  thread_arg *a = p;
  ctrl_manager *m = a->m;
  const ctrl_def *d = &controllers[a->i];
  ctrl_ctx c = { .k = m->k,
                 .stop = &m->stop,
                 .caches = m->caches,
                 .stats = &m->stats,
                 .private_lists = d->private_lists };
  uint64_t seen = 0;
  while (!atomic_load (&m->stop))
    {
      pthread_mutex_lock (&m->mu);
      if (gen_of (m, d->wakes) == seen)
        {
          struct timespec ts;
          clock_gettime (CLOCK_REALTIME, &ts);
          ts.tv_sec += 2;
          pthread_cond_timedwait (&m->cv, &m->mu, &ts);
        }
      seen = gen_of (m, d->wakes);
      pthread_mutex_unlock (&m->mu);
      if (atomic_load (&m->stop))
        break;
      /* Let a burst of events settle into one pass. */
      struct timespec pause = { 0, 20 * 1000 * 1000 };
      nanosleep (&pause, NULL);
      trim_after_list (m);
      _cleanup_error_ husk_error *err = NULL;
      if (d->sync (&c, &err) < 0)
        log_warn ("controller sync failed", "controller", d->name, "error", err->msg);
    }
  return NULL;
}

int
ctrl_manager_start (const char *data_dir, const char *local_socket, ctrl_manager **out,
                    husk_error **err)
{
  _cleanup_free_ char *kc = xasprintf ("%s/admin.kubeconfig", data_dir);
  kclient_config cfg = { 0 }; /* the kubeconfig's server: the address the API is bound to */
  if (local_socket)
    {
      cfg.server = xstrdup ("http://localhost");
      cfg.unix_socket = xstrdup (local_socket);
    }
  int ret = kclient_config_from_kubeconfig (kc, &cfg, err);
  if (ret < 0)
    {
      kclient_config_clear (&cfg);
      return husk_err_wrap (err, "controllers");
    }
  /* A serving certificate given by the operator need not name this address; this is a
     connection to ourselves. */
  if (cfg.ca_file == NULL && cfg.ca_pem == NULL)
    cfg.insecure = true;
  kclient *k = NULL;
  ret = kclient_new (&cfg, &k, err);
  kclient_config_clear (&cfg);
  if (ret < 0)
    return husk_err_wrap (err, "controllers");
  ctrl_manager *m = xmalloc (sizeof *m);
  memset (m, 0, sizeof *m);
  m->k = k;
  pthread_mutex_init (&m->mu, NULL);
  pthread_cond_init (&m->cv, NULL);
  for (size_t i = 0; i < N_WATCH; i++)
    m->caches[i] = ctrl_cache_new (ctrl_informer_defs[i].project);
  for (size_t i = 0; i < N_WATCH; i++)
    watch_args[i] = (thread_arg){ m, i };
  m->watch_started = pthread_create (&m->watch_th, NULL, watch_main, m) == 0;
  for (size_t i = 0; i < N_CTRL; i++)
    {
      ctrl_args[i] = (thread_arg){ m, i };
      if (pthread_create (&m->ctrl_th[i], NULL, ctrl_main, &ctrl_args[i]) != 0)
        break;
      m->n_ctrl++;
    }
  if (!m->watch_started || m->n_ctrl < N_CTRL)
    {
      ctrl_manager_stop (m);
      return husk_err (err, EAGAIN, "controllers: cannot start threads");
    }
  *out = m;
  return 0;
}

/* What the controllers asked of the API, and how many full lists each cache took. */
static void
log_stats (ctrl_manager *m)
{
  _cleanup_free_ char *http = xasprintf ("%lu", atomic_load (&m->stats.http_lists));
  _cleanup_free_ char *pod_http = xasprintf ("%lu", atomic_load (&m->stats.pod_http_lists));
  _cleanup_free_ char *cached = xasprintf ("%lu", atomic_load (&m->stats.cached_lists));
  _cleanup_free_ char *pods
      = xasprintf ("%lu", (unsigned long)ctrl_cache_lists (m->caches[CTRL_INFORMER_PODS]));
  log_info ("controller lists", "over_http", http, "pods_over_http", pod_http, "from_cache",
            cached, "pod_cache_lists", pods);
}

void
ctrl_manager_stop (ctrl_manager *m)
{
  if (m == NULL)
    return;
  atomic_store (&m->stop, 1);
  wake (m, 0);
  for (size_t i = 0; i < m->n_ctrl; i++)
    pthread_join (m->ctrl_th[i], NULL);
  if (m->watch_started)
    pthread_join (m->watch_th, NULL);
  log_stats (m);
  for (size_t i = 0; i < N_WATCH; i++)
    ctrl_cache_free (m->caches[i]);
  kclient_free (m->k);
  pthread_mutex_destroy (&m->mu);
  pthread_cond_destroy (&m->cv);
  free (m);
}

/* ---- helpers shared by the controllers ---- */

json_t *
ctrl_pod_meta (const json_t *owner, const char *api_version, const char *kind)
{
  json_t *tmeta = husk_json_path (owner, "spec.template.metadata");
  json_t *meta = json_is_object (tmeta) ? json_deep_copy (tmeta) : json_object ();
  json_object_del (meta, "name");
  json_object_del (meta, "creationTimestamp");
  _cleanup_free_ char *gen = xasprintf ("%s-", husk_json_path_str (owner, "metadata.name"));
  json_object_set_new (meta, "generateName", json_string (gen));
  json_object_set_new (meta, "namespace",
                       json_string (husk_json_path_str (owner, "metadata.namespace")));
  json_object_set_new (meta, "ownerReferences",
                       json_pack ("[o]", ctrl_owner_ref (api_version, kind, owner)));
  return meta;
}

int
ctrl_create_pod (ctrl_ctx *c, const json_t *owner, json_t *meta, husk_error **err)
{
  json_t *spec = husk_json_path (owner, "spec.template.spec");
  _cleanup_json_ json_t *pod = json_pack ("{s:s, s:s, s:O, s:O}", "apiVersion", "v1", "kind", "Pod",
                                          "metadata", meta, "spec", spec ? spec : json_null ());
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/namespaces/%s/pods", husk_json_path_str (owner, "metadata.namespace"));
  return ctrl_write (c, "POST", path, NULL, pod, NULL, NULL, err);
}

int
ctrl_tolerate_stale (int ret, long code, husk_error **err)
{
  if (ret < 0 && (code == 409 || code == 404))
    {
      husk_error_free (*err);
      *err = NULL;
      return 0;
    }
  return ret;
}

int
ctrl_put (ctrl_ctx *c, const char *prefix, const char *plural, json_t *obj, const char *sub,
          husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/namespaces/%s/%s/%s%s", prefix,
                                         husk_json_path_str (obj, "metadata.namespace"), plural,
                                         husk_json_path_str (obj, "metadata.name"), sub);
  long code = 0;
  int ret = ctrl_write (c, "PUT", path, NULL, obj, NULL, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

const char *
ctrl_controller_uid (const json_t *obj)
{
  json_t *refs = husk_json_path (obj, "metadata.ownerReferences"), *r;
  size_t i;
  json_array_foreach (refs, i, r) if (
      json_is_true (
          json_object_get (r, "controller"))) return json_string_value (json_object_get (r, "uid"));
  return NULL;
}

bool
ctrl_terminating (const json_t *obj)
{
  return husk_json_path_str (obj, "metadata.deletionTimestamp") != NULL;
}

int64_t
ctrl_time_parse (const char *s)
{
  struct tm tm = { 0 };
  if (s == NULL || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t)timegm (&tm);
}

char *
ctrl_time_now (void)
{
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  char buf[32];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

bool
ctrl_pod_active (const json_t *pod)
{
  const char *phase = husk_json_path_str (pod, "status.phase");
  if (ctrl_terminating (pod))
    return false;
  return !(phase && (streq (phase, "Succeeded") || streq (phase, "Failed")));
}

static json_t *
ready_condition (const json_t *pod)
{
  json_t *conds = husk_json_path (pod, "status.conditions"), *cd;
  size_t i;
  json_array_foreach (conds, i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    if (t && streq (t, "Ready"))
      return cd;
  }
  return NULL;
}

bool
ctrl_pod_ready (const json_t *pod)
{
  json_t *cd = ready_condition (pod);
  const char *s = json_string_value (json_object_get (cd, "status"));
  return s && streq (s, "True");
}

bool
ctrl_pod_available (const json_t *pod, int64_t min_ready, int64_t now)
{
  if (!ctrl_pod_ready (pod))
    return false;
  if (min_ready <= 0)
    return true;
  json_t *cd = ready_condition (pod);
  int64_t since = ctrl_time_parse (json_string_value (json_object_get (cd, "lastTransitionTime")));
  return since > 0 && since + min_ready <= now;
}

json_t *
ctrl_owner_ref (const char *api_version, const char *kind, const json_t *obj)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                    "name", husk_json_path_str (obj, "metadata.name"), "uid",
                    husk_json_path_str (obj, "metadata.uid"), "controller", 1, "blockOwnerDeletion",
                    1);
}
