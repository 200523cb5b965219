/* husk controllers: shared informers. One list+watch per resource type (the manager's watch
   threads) fills one cache.c cache per type; ctrl_list serves plain collection paths from
   it, and ctrl_write makes a controller read its own writes: the resourceVersion a write
   returns is remembered per type, and the next ctrl_list of that type waits (briefly) until
   the cache has seen it, so that a controller never acts twice on a stale cache (creating
   pods it already created). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"

const ctrl_informer_def ctrl_informer_defs[CTRL_N_INFORMERS] = {
  /* The first 13 keep the wake bits of manager.c's masks. */
  { "/api/v1/pods", ctrl_cache_project_pod },
  { "/apis/apps/v1/replicasets", NULL },
  { "/apis/apps/v1/deployments", NULL },
  { "/api/v1/services", NULL },
  { "/api/v1/namespaces", NULL },
  { "/apis/batch/v1/jobs", NULL },
  { "/apis/batch/v1/cronjobs", NULL },
  { "/api/v1/persistentvolumes", NULL },
  { "/api/v1/persistentvolumeclaims", NULL },
  { "/api/v1/resourcequotas", NULL },
  { "/apis/apps/v1/daemonsets", NULL },
  { "/apis/apps/v1/statefulsets", NULL },
  { "/api/v1/nodes", NULL },
  /* Read by controllers, wake nobody. */
  { "/api/v1/endpoints", NULL },
  { "/apis/discovery.k8s.io/v1/endpointslices", NULL },
  { "/apis/apps/v1/controllerrevisions", NULL },
  { "/apis/storage.k8s.io/v1/storageclasses", NULL },
  { "/apis/coordination.k8s.io/v1/leases", NULL },
};

/* How long a list waits for the cache to catch up with the caller's own writes; then the
   pass fails (and runs again at the next wake-up). Falling back to a LIST over HTTP would
   parse the whole collection in every controller at the moment the master is busiest. */
#define CATCH_UP_MS 5000

/* Items per page of an informer's list (limit/continue). A page's parse tree is ~6x its
   text and is freed among the cache's live nodes: 100 pods (~2 MB of tree) instead of 500
   keeps a restart with 10,000 pods at 64-68 MB peak (105-115) and 47 MB after (44-74). */
#define CTRL_LIST_PAGE 100

typedef struct informer_run
{
  const char *path;
  ctrl_cache *cache;
  void (*changed) (void *ud, bool listed);
  void *ud;
} informer_run;

static int
on_list (void *ud, json_t *items, const char *rv)
{
  informer_run *r = ud;
  ctrl_cache_replace_kept (r->cache, items, rv);
  log_info ("controller cache listed", "path", r->path);
  r->changed (r->ud, true);
  return 0;
}

/* Each listed item is projected as its page arrives: a 10,000-pod list is never held
   whole (500 MB of jansson nodes with managedFields at a restart). */
static json_t *
on_list_item (void *ud, json_t *item)
{
  informer_run *r = ud;
  return ctrl_cache_keep (r->cache, item);
}

static int
on_event (void *ud, const char *type, json_t *obj)
{
  informer_run *r = ud;
  if (ctrl_cache_apply (r->cache, type, obj))
    r->changed (r->ud, false);
  return 0;
}

int
ctrl_informer_run (kclient *k, const char *path, ctrl_cache *cache,
                   void (*changed) (void *ud, bool listed), void *ud, atomic_int *stop,
                   husk_error **err)
{
  informer_run r = { path, cache, changed, ud };
  kclient_watch_ops ops
      = { .on_list = on_list, .on_list_item = on_list_item, .on_event = on_event, .ud = &r };
  kclient_watch_opts opts = { .timeout_seconds = 300, .list_page = CTRL_LIST_PAGE };
  return kclient_watch (k, path, &opts, &ops, stop, err);
}

int
ctrl_informer_run_all (kclient *k, ctrl_cache *const *caches, size_t n,
                       void (*changed) (void *ud, bool listed), void *const *uds,
                       atomic_int *stop, husk_error **err)
{
  kclient_watch_opts opts = { .timeout_seconds = 300, .list_page = CTRL_LIST_PAGE };
  informer_run *runs = xcalloc (n, sizeof *runs);
  kclient_watch_ops *ops = xcalloc (n, sizeof *ops);
  kclient_watch_spec *specs = xcalloc (n, sizeof *specs);
  for (size_t i = 0; i < n; i++)
    {
      runs[i] = (informer_run){ ctrl_informer_defs[i].path, caches[i], changed, uds[i] };
      ops[i] = (kclient_watch_ops){ .on_list = on_list, .on_list_item = on_list_item,
                                    .on_event = on_event, .ud = &runs[i] };
      specs[i] = (kclient_watch_spec){ ctrl_informer_defs[i].path, &opts, &ops[i] };
    }
  int ret = kclient_watch_many (k, specs, n, stop, err);
  free (specs);
  free (ops);
  free (runs);
  return ret;
}

int
ctrl_informer_parse (const char *path, ctrl_path *out)
{
  memset (out, 0, sizeof *out);
  out->informer = -1;
  const char *q = strchr (path, '?');
  size_t len = q ? (size_t)(q - path) : strlen (path);
  out->query = q != NULL;
  /* prefix: /api/v1 or /apis/<group>/<version> */
  size_t segs = strncmp (path, "/apis/", 6) == 0 ? 3 : strncmp (path, "/api/", 5) == 0 ? 2 : 0;
  if (segs == 0)
    return -1;
  size_t at = 0, seen = 0;
  while (at < len && seen < segs)
    if (path[++at] == '/' || at == len)
      seen++;
  if (seen < segs || at >= len)
    return -1;
  size_t prefix_len = at;
  /* rest: [namespaces/<ns>/]<plural>[/<name>[/<sub>]] */
  const char *rest = path + at + 1, *end = path + len;
  const char *ns = NULL;
  size_t ns_len = 0;
  if (strncmp (rest, "namespaces/", 11) == 0 && rest + 11 < end)
    {
      const char *s = rest + 11, *slash = memchr (s, '/', (size_t)(end - s));
      if (slash && slash + 1 < end)
        {
          ns = s;
          ns_len = (size_t)(slash - s);
          rest = slash + 1;
        }
    }
  const char *slash = memchr (rest, '/', (size_t)(end - rest));
  size_t plural_len = slash ? (size_t)(slash - rest) : (size_t)(end - rest);
  out->object = slash != NULL;
  _cleanup_free_ char *coll = xasprintf ("%.*s/%.*s", (int)prefix_len, path, (int)plural_len, rest);
  for (size_t i = 0; i < CTRL_N_INFORMERS; i++)
    if (streq (ctrl_informer_defs[i].path, coll))
      out->informer = (int)i;
  if (ns)
    out->ns = xstrndup (ns, ns_len);
  return out->informer;
}

void
ctrl_path_clear (ctrl_path *p)
{
  free (p->ns);
  p->ns = NULL;
}

static int
list_http (ctrl_ctx *c, const char *path, int informer, json_t **items, husk_error **err)
{
  _cleanup_json_ json_t *list = NULL;
  if (c->stats)
    atomic_fetch_add (&c->stats->http_lists, 1);
  if (c->stats && informer == CTRL_INFORMER_PODS)
    atomic_fetch_add (&c->stats->pod_http_lists, 1);
  int ret = kclient_json (c->k, "GET", path, NULL, NULL, &list, NULL, err);
  if (ret < 0)
    return ret;
  json_t *it = json_object_get (list, "items");
  *items = json_is_array (it) ? json_incref (it) : json_array ();
  return 0;
}

/* "%2F" -> "/" etc. */
static char *
unescape (const char *s)
{
  char *out = xmalloc (strlen (s) + 1), *o = out;
  for (; *s; s++)
    {
      unsigned v;
      if (*s == '%' && s[1] && s[2] && sscanf (s + 1, "%2x", &v) == 1)
        {
          *o++ = (char)v;
          s += 2;
        }
      else
        *o++ = *s;
    }
  *o = '\0';
  return out;
}

/* One term of an equality-based label selector ("k", "!k", "k=v", "k==v", "k!=v") holds
   for labels. */
static bool
term_holds (const json_t *labels, const char *term)
{
  bool neg = *term == '!';
  const char *ne = strstr (term, "!="), *eq = strchr (term, '=');
  if (neg || !eq)
    return (json_object_get (labels, term + neg) != NULL) != neg;
  _cleanup_free_ char *key = xstrndup (term, (size_t)((ne ? ne : eq) - term));
  const char *want = ne ? ne + 2 : eq[1] == '=' ? eq + 2 : eq + 1;
  const char *have = json_string_value (json_object_get (labels, key));
  bool same = have && streq (have, want);
  return ne ? !same : same;
}

/* The query is only "labelSelector=<equality terms>": *sel gets the unescaped selector. Set
   selectors (in, notin) and other parameters are left to the API. */
static bool
simple_label_query (const char *path, char **sel)
{
  const char *q = strchr (path, '?');
  if (q == NULL || strncmp (q + 1, "labelSelector=", 14) != 0 || strchr (q + 1, '&'))
    return false;
  _cleanup_free_ char *s = unescape (q + 15);
  if (strchr (s, '(') || strchr (s, ' '))
    return false;
  *sel = TAKE_PTR (s);
  return true;
}

/* Keeps the items whose labels match every term of sel. */
static json_t *
filter_labels (json_t *items, char *sel)
{
  json_t *out = json_array (), *o;
  size_t i;
  json_array_foreach (items, i, o)
  {
    json_t *labels = husk_json_path (o, "metadata.labels");
    _cleanup_free_ char *copy = xstrdup (sel);
    char *save = NULL;
    bool all = true;
    for (char *t = strtok_r (copy, ",", &save); t && all; t = strtok_r (NULL, ",", &save))
      all = term_holds (labels, t);
    if (all)
      json_array_append (out, o);
  }
  return out;
}

/* Waits for the cache's first list (a controller never works from an empty cache, nor
   from its own LIST while the informer is still taking the first one); false when the
   manager stops meanwhile. */
static bool
synced (ctrl_ctx *c, ctrl_cache *cache)
{
  while (!ctrl_cache_wait (cache, 0, 1000))
    if (c->stop && atomic_load (c->stop))
      return false;
  return true;
}

/* The items of cache for p: filtered by the label selector sel (NULL: all), deep copies
   for a controller with private lists. */
static json_t *
cached_items (ctrl_ctx *c, ctrl_cache *cache, const ctrl_path *p, char *sel)
{
  json_t *items = ctrl_cache_items (cache, p->ns);
  if (sel)
    {
      json_t *all = items;
      items = filter_labels (all, sel);
      json_decref (all);
    }
  if (c->private_lists)
    {
      json_t *shared = items;
      items = json_deep_copy (shared);
      json_decref (shared);
    }
  if (c->stats)
    atomic_fetch_add (&c->stats->cached_lists, 1);
  return items;
}

/* Serves path from cache i once it is listed and has seen this controller's writes. */
static int
list_cached (ctrl_ctx *c, int i, const ctrl_path *p, const char *path, char *sel,
             json_t **items, husk_error **err)
{
  ctrl_cache *cache = c->caches[i];
  if (!synced (c, cache))
    return husk_err (err, ECANCELED, "%s: stopping before the controller cache was listed",
                     path);
  if (!ctrl_cache_wait (cache, c->want[i], CATCH_UP_MS))
    return husk_err (err, EAGAIN,
                     "%s: the controller cache has not seen resourceVersion %llu (this "
                     "controller's last write) after %d ms",
                     path, (unsigned long long)c->want[i], CATCH_UP_MS);
  *items = cached_items (c, cache, p, sel);
  return 0;
}

int
ctrl_list (ctrl_ctx *c, const char *path, json_t **items, husk_error **err)
{
  ctrl_path p;
  int i = ctrl_informer_parse (path, &p);
  _cleanup_free_ char *sel = NULL;
  bool servable = i >= 0 && c->caches && c->caches[i] && !p.object
                  && (!p.query || simple_label_query (path, &sel));
  int ret = servable ? list_cached (c, i, &p, path, sel, items, err)
                     : list_http (c, path, i, items, err);
  ctrl_path_clear (&p);
  return ret;
}

int
ctrl_write (ctrl_ctx *c, const char *method, const char *path, const char *content_type,
            json_t *body, json_t **out, long *code, husk_error **err)
{
  _cleanup_json_ json_t *resp = NULL;
  int ret = kclient_json (c->k, method, path, content_type, body, &resp, code, err);
  if (ret < 0)
    return ret;
  ctrl_path p;
  int i = ctrl_informer_parse (path, &p);
  ctrl_path_clear (&p);
  uint64_t rv = ctrl_cache_rv_of (resp);
  if (i >= 0 && rv > c->want[i])
    c->want[i] = rv;
  if (out)
    *out = TAKE_PTR (resp);
  return 0;
}
