/* husk api: namespace deletion as upstream's namespace lifecycle: DELETE marks the namespace
   Terminating (deletionTimestamp, status.phase); its contents are deleted the way a client's
   DELETE would (objects with finalizers and pods on live nodes are only marked and go when
   their finalizers or nodes let them); the namespace itself goes once it is empty and no
   finalizer but "kubernetes" is left in spec.finalizers. A sweeper thread retries every
   second until then. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "lib/log.h"
#include "src/master/api/handlers.h"
#include "src/master/api/namespaces.h"

static bool
on_live_node (api_server *srv, const json_t *pod)
{
  const char *node = husk_json_path_str (pod, "spec.nodeName");
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  return node && store_get (srv->store, "nodes", NULL, node, &json, NULL, &err) == 0;
}

/* Marks o (stored as storage/ns/name) as being deleted, once. */
static void
mark (api_server *srv, const char *storage, const char *ns, json_t *o, json_int_t grace)
{
  json_t *meta = json_object_get (o, "metadata");
  if (json_object_get (meta, "deletionTimestamp"))
    return;
  _cleanup_free_ char *now = api_now_rfc3339 ();
  json_object_set_new (meta, "deletionTimestamp", json_string (now));
  json_object_set_new (meta, "deletionGracePeriodSeconds", json_integer (grace));
  _cleanup_free_ char *s = husk_json_dump (o);
  _cleanup_error_ husk_error *err = NULL;
  store_update (srv->store, storage, ns, husk_json_path_str (o, "metadata.name"), s, 0, NULL,
                NULL, &err);
}

/* Deletes or marks one object; returns whether it is still there. */
static bool
delete_content (api_server *srv, const api_resource *res, const char *ns, json_t *o)
{
  const char *storage = api_resource_storage (res);
  if (json_array_size (husk_json_path (o, "metadata.finalizers")) > 0)
    {
      mark (srv, storage, ns, o, 0);
      return true;
    }
  if (streq (res->plural, "pods") && on_live_node (srv, o))
    {
      json_t *g = husk_json_path (o, "spec.terminationGracePeriodSeconds");
      mark (srv, storage, ns, o, g ? json_integer_value (g) : 30);
      return true;
    }
  _cleanup_error_ husk_error *err = NULL;
  return store_delete (srv->store, storage, ns, husk_json_path_str (o, "metadata.name"), 0, NULL,
                       NULL, &err)
             < 0
         && err->errnum != STORE_ENOTFOUND;
}

/* One pass over the namespace's contents; returns how many objects remain. */
static size_t
sweep_contents (api_server *srv, const char *ns)
{
  size_t left = 0;
  for (const api_resource *res = api_resources; res->plural; res++)
    {
      if (!res->namespaced || res->review || res->to_storage)
        continue; /* other versions of one storage are swept through their own entry */
      store_list_result l = {0};
      _cleanup_error_ husk_error *err = NULL;
      if (store_list (srv->store, api_resource_storage (res), ns, 0, NULL, &l, &err) < 0)
        continue;
      for (size_t i = 0; i < l.n; i++)
        {
          json_auto_t *o = NULL;
          if (husk_json_parse (l.items[i], strlen (l.items[i]), &o, NULL) == 0
              && delete_content (srv, res, ns, o))
            left++;
        }
      store_list_result_free (&l);
    }
  return left;
}

static bool
only_kubernetes_finalizer (const json_t *nsobj)
{
  size_t i;
  json_t *f;
  json_array_foreach (husk_json_path (nsobj, "spec.finalizers"), i, f)
  if (!streq (json_string_value (f) ?: "", "kubernetes"))
    return false;
  return json_array_size (husk_json_path (nsobj, "metadata.finalizers")) == 0;
}

bool
api_namespace_sweep (api_server *srv, const char *name)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int64_t rev = 0;
  if (store_get (srv->store, "namespaces", NULL, name, &json, &rev, &err) < 0)
    return err->errnum == STORE_ENOTFOUND;
  json_auto_t *nsobj = NULL;
  if (husk_json_parse (json, strlen (json), &nsobj, NULL) < 0
      || husk_json_path (nsobj, "metadata.deletionTimestamp") == NULL)
    return false;
  if (sweep_contents (srv, name) > 0 || !only_kubernetes_finalizer (nsobj))
    return false;
  _cleanup_error_ husk_error *derr = NULL;
  return store_delete (srv->store, "namespaces", NULL, name, rev, NULL, NULL, &derr) == 0;
}

enum MHD_Result
api_namespace_delete (api_req *r, const api_route *rt, json_t *old, int64_t rev)
{
  json_t *meta = json_object_get (old, "metadata");
  if (json_object_get (meta, "deletionTimestamp") == NULL)
    {
      _cleanup_free_ char *now = api_now_rfc3339 ();
      json_object_set_new (meta, "deletionTimestamp", json_string (now));
      json_object_set_new (meta, "deletionGracePeriodSeconds", json_integer (0));
      json_t *st = json_object_get (old, "status");
      if (!json_is_object (st))
        json_object_set_new (old, "status", st = json_object ());
      json_object_set_new (st, "phase", json_string ("Terminating"));
      if (!api_dry_run (r))
        {
          _cleanup_free_ char *s = husk_json_dump (old);
          _cleanup_free_ char *out = NULL;
          _cleanup_error_ husk_error *err = NULL;
          if (store_update (r->srv->store, "namespaces", NULL, rt->name, s, rev, &out, NULL, &err)
              < 0)
            return api_reply_store_error (r, rt, err);
        }
    }
  if (!api_dry_run (r))
    api_namespace_sweep (r->srv, rt->name);
  _cleanup_free_ char *s = husk_json_dump (old);
  return api_reply_object (r, rt, 200, s);
}

static void *
sweeper (void *arg)
{
  api_server *srv = arg;
  while (!__atomic_load_n (&srv->ns_stop, __ATOMIC_ACQUIRE))
    {
      sleep (1);
      store_list_result l = {0};
      _cleanup_error_ husk_error *err = NULL;
      if (store_list (srv->store, "namespaces", NULL, 0, NULL, &l, &err) < 0)
        continue;
      for (size_t i = 0; i < l.n; i++)
        if (strstr (l.items[i], "\"deletionTimestamp\""))
          {
            json_auto_t *o = NULL;
            if (husk_json_parse (l.items[i], strlen (l.items[i]), &o, NULL) == 0)
              api_namespace_sweep (srv, husk_json_path_str (o, "metadata.name"));
          }
      store_list_result_free (&l);
    }
  return NULL;
}

void
api_namespace_sweeper_start (api_server *srv)
{
  if (pthread_create (&srv->ns_thread, NULL, sweeper, srv) == 0)
    srv->ns_thread_started = true;
  else
    log_warn ("namespace sweeper not started", "error", strerror (errno));
}

void
api_namespace_sweeper_stop (api_server *srv)
{
  if (!srv->ns_thread_started)
    return;
  __atomic_store_n (&srv->ns_stop, true, __ATOMIC_RELEASE);
  pthread_join (srv->ns_thread, NULL);
  srv->ns_thread_started = false;
}
