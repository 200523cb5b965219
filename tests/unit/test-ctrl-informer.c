/* The controllers' informers (src/master/ctrl/informer.c) against a scripted API server on
   127.0.0.1: the cache follows a list, the watch's events in order, a 410 Gone and the relist
   that replaces its contents; ctrl_list serves plain collection paths and equality label
   selectors from the cache (no LIST reaches the server), sends other queries to the server,
   waits for a resourceVersion the controller wrote (ctrl_write) before answering, and hands
   deep copies to a controller with private lists. */
#include "config.h"

#include <microhttpd.h>
#include <pthread.h>
#include <unistd.h>

#include "lib/json.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "tests/unit/script-http.h"
#include "tests/unit/tap.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int lists, query_lists, posts;
static int first_limit, continued; /* the first list's limit; pages asked by continue */
static atomic_int release_late; /* the watch from 21 answers once this is set */

#define POD(ns, name, rv, app)                                                                     \
  "{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\",\"resourceVersion\":\"" rv       \
  "\",\"labels\":{\"app\":\"" app "\"},\"managedFields\":[{\"manager\":\"x\"}]},"                  \
  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"env\":[]}]}}"

static enum MHD_Result
watch_reply (struct MHD_Connection *c, const char *rv)
{
  if (strcmp (rv, "10") == 0)
    return script_reply (c, 200,
                  "{\"type\":\"MODIFIED\",\"object\":" POD ("d", "a", "11", "web") "}\n"
                  "{\"type\":\"DELETED\",\"object\":" POD ("d", "b", "12", "web") "}\n");
  if (strcmp (rv, "12") == 0)
    return script_reply (c, 410, "{\"kind\":\"Status\",\"message\":\"too old\",\"code\":410}");
  if (strcmp (rv, "20") == 0)
    return script_reply (c, 200, "{\"type\":\"ADDED\",\"object\":" POD ("e", "z", "21", "db") "}\n");
  if (strcmp (rv, "21") == 0)
    {
      for (int i = 0; i < 1500 && !atomic_load (&release_late); i++)
        usleep (20 * 1000);
      return script_reply (c, 200, "{\"type\":\"ADDED\",\"object\":" POD ("d", "late", "30", "web") "}\n");
    }
  usleep (200 * 1000);
  return script_reply (c, 200, "");
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *upload, size_t *upload_size, void **state)
{
  (void)cls, (void)version, (void)upload;
  if (script_request_pending (state, upload_size))
    return MHD_YES;
  if (strcmp (method, "POST") == 0)
    {
      pthread_mutex_lock (&mu);
      posts++;
      pthread_mutex_unlock (&mu);
      return script_reply (c, 201, POD ("d", "late", "30", "web"));
    }
  const char *watch = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "watch");
  const char *rv = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "resourceVersion");
  if (watch)
    return watch_reply (c, rv ? rv : "");
  const char *limit = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "limit");
  const char *cont = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "continue");
  pthread_mutex_lock (&mu);
  bool page2 = cont && strcmp (cont, "p/2") == 0;
  continued += page2;
  int n = strcmp (url, "/api/v1/pods") == 0 && !page2 ? ++lists : 0;
  if (n == 1)
    first_limit = limit ? atoi (limit) : 0;
  if (MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "fieldSelector"))
    query_lists++;
  pthread_mutex_unlock (&mu);
  /* The first list in two pages when asked for pages (a snapshot at 10). */
  if (n == 1 && limit)
    return script_reply (c, 200,
                  "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\","
                  "\"continue\":\"p/2\"},\"items\":[" POD ("d", "a", "5", "web") "]}");
  if (page2)
    return script_reply (c, 200,
                  "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":["
                  POD ("d", "b", "6", "web") "]}");
  if (n == 1)
    return script_reply (c, 200,
                  "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":["
                  POD ("d", "a", "5", "web") "," POD ("d", "b", "6", "web") "]}");
  return script_reply (c, 200,
                "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"20\"},\"items\":["
                POD ("d", "a", "11", "web") "," POD ("d", "c", "19", "db") "]}");
}

typedef struct run
{
  kclient *k;
  ctrl_cache *cache;
  atomic_int stop;
  atomic_int changes;
  int ret;
} run;

static void
changed (void *ud, bool listed)
{
  (void)listed;
  atomic_fetch_add (&((run *)ud)->changes, 1);
}

static void *
informer_main (void *p)
{
  run *r = p;
  r->ret = ctrl_informer_run (r->k, "/api/v1/pods", r->cache, changed, r, &r->stop, NULL);
  return NULL;
}

static char *
names (json_t *items)
{
  static char buf[256];
  buf[0] = '\0';
  json_t *o;
  size_t i;
  json_array_foreach (items, i, o)
  snprintf (buf + strlen (buf), sizeof buf - strlen (buf), "%s%s/%s", i ? " " : "",
            husk_json_path_str (o, "metadata.namespace"), husk_json_path_str (o, "metadata.name"));
  return buf;
}

static void
test_parse (void)
{
  ctrl_path p;
  is_int (ctrl_informer_parse ("/api/v1/pods", &p), 0, "/api/v1/pods: the pods informer");
  ok (!p.ns && !p.object && !p.query, "a plain collection");
  ctrl_informer_parse ("/apis/apps/v1/namespaces/ns1/replicasets/web/status?x=1", &p);
  ok (p.informer >= 0 && streq (ctrl_informer_defs[p.informer].path, "/apis/apps/v1/replicasets")
          && p.ns && streq (p.ns, "ns1") && p.object && p.query,
      "a namespaced object's subresource with a query");
  ctrl_path_clear (&p);
  ctrl_informer_parse ("/api/v1/namespaces/kube-system", &p);
  ok (p.informer >= 0 && streq (ctrl_informer_defs[p.informer].path, "/api/v1/namespaces")
          && !p.ns && p.object,
      "a namespace object is one of /api/v1/namespaces");
  is_int (ctrl_informer_parse ("/api/v1/namespaces/d/configmaps", &p), -1,
          "a type without a cache");
  ctrl_path_clear (&p);
  is_int (ctrl_informer_parse ("/healthz", &p), -1, "not an API path");
}

int
main (void)
{
  test_parse ();
  int port;
  struct MHD_Daemon *d = script_server_start (on_request, &port);
  _cleanup_free_ char *url = xasprintf ("http://127.0.0.1:%d", port);
  kclient_config cfg = { .server = url };
  run r = { .cache = ctrl_cache_new (ctrl_cache_project_pod) };
  if (kclient_new (&cfg, &r.k, NULL) < 0)
    {
      printf ("Bail out! no client\n");
      return 1;
    }
  pthread_t th;
  pthread_create (&th, NULL, informer_main, &r);

  ctrl_cache *caches[CTRL_N_INFORMERS] = { 0 };
  caches[CTRL_INFORMER_PODS] = r.cache;
  ctrl_list_stats stats = { 0 };
  ctrl_ctx c = { .k = r.k, .stop = &r.stop, .caches = caches, .stats = &stats };
  /* list(a, b) -> MODIFIED a, DELETED b -> 410 -> relist(a, c) -> ADDED e/z */
  for (int i = 0; i < 250 && ctrl_cache_size (r.cache) != 3; i++)
    usleep (20 * 1000);
  json_t *items = NULL;
  _cleanup_error_ husk_error *err = NULL;
  ok (ctrl_list (&c, "/api/v1/pods", &items, &err) == 0, "ctrl_list answers");
  is_str (names (items), "d/a d/c e/z", "events applied in order, 410 relisted, then events again");
  is_int (ctrl_cache_lists (r.cache), 2, "two lists: the first and the relist after 410");
  is_int (first_limit, 100, "the informer lists in pages of 100");
  ok (continued >= 1, "and asks for the next page with the continue token (%d)", continued);
  json_t *ctr = json_array_get (husk_json_path (json_array_get (items, 0), "spec.containers"), 0);
  ok (husk_json_path (json_array_get (items, 0), "metadata.managedFields") == NULL && ctr
          && json_object_get (ctr, "name") && !json_object_get (ctr, "env")
          && !json_object_get (ctr, "image"),
      "pods are cached as projections (no managedFields, container env or image)");
  json_decref (items);
  pthread_mutex_lock (&mu);
  int served = lists;
  pthread_mutex_unlock (&mu);

  ok (ctrl_list (&c, "/api/v1/namespaces/d/pods", &items, &err) == 0, "a namespace's pods");
  is_str (names (items), "d/a d/c", "filtered from the cache");
  json_decref (items);
  ok (ctrl_list (&c, "/api/v1/pods?labelSelector=app%3Dweb", &items, &err) == 0,
      "an equality label selector");
  is_str (names (items), "d/a", "filtered from the cache");
  json_decref (items);
  ok (ctrl_list (&c, "/api/v1/pods?labelSelector=app!=web,!nope", &items, &err) == 0
          && streq (names (items), "d/c e/z"),
      "!= and !key");
  json_decref (items);
  pthread_mutex_lock (&mu);
  ok (lists == served, "none of these reached the server (%d LISTs)", lists);
  pthread_mutex_unlock (&mu);
  is_int (atomic_load (&stats.cached_lists), 4, "four lists served from the cache");

  ok (ctrl_list (&c, "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1", &items, &err) == 0,
      "a field selector");
  json_decref (items);
  pthread_mutex_lock (&mu);
  ok (query_lists == 1, "goes to the server");
  pthread_mutex_unlock (&mu);
  is_int (atomic_load (&stats.pod_http_lists), 1, "and is counted as a pod LIST over HTTP");

  /* Read-your-writes: the POST answers resourceVersion 30; the watch delivers it later. */
  json_t *body = json_pack ("{s:s}", "kind", "Pod");
  ok (ctrl_write (&c, "POST", "/api/v1/namespaces/d/pods", NULL, body, NULL, NULL, &err) == 0,
      "a write");
  json_decref (body);
  is_int (c.want[CTRL_INFORMER_PODS], 30, "remembers the resourceVersion it was answered");
  atomic_store (&release_late, 1);
  ok (ctrl_list (&c, "/api/v1/namespaces/d/pods", &items, &err) == 0, "the next list");
  is_str (names (items), "d/a d/c d/late", "waited until the cache had the write");
  json_t *shared = json_incref (json_array_get (items, 0));
  json_decref (items);

  c.private_lists = true;
  ok (ctrl_list (&c, "/api/v1/namespaces/d/pods", &items, &err) == 0, "private lists");
  ok (json_array_get (items, 0) != shared
          && json_equal (json_array_get (items, 0), shared),
      "are deep copies of the cached objects");
  json_decref (items);
  json_decref (shared);

  atomic_store (&r.stop, 1);
  pthread_join (th, NULL);
  ok (r.ret == 0, "the informer stops when asked");
  ok (atomic_load (&r.changes) >= 4, "and reported each change (%d)", atomic_load (&r.changes));
  ctrl_cache_free (r.cache);
  kclient_free (r.k);
  MHD_stop_daemon (d);
  return tap_done ();
}
