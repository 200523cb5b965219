/* API object caches for the pod network loops: one list+watch thread per resource keeps a
   map of stripped objects; a change that alters a stripped object marks the resource dirty
   and wakes the worker (status churn that does not touch the fields we use is ignored). */
#include "config.h"

#include <signal.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/net/net-internal.h"

static char *
key_of (json_t *obj)
{
  const char *ns = husk_json_path_str (obj, "metadata.namespace");
  const char *name = husk_json_path_str (obj, "metadata.name");
  return xasprintf ("%s/%s", ns ? ns : "", name ? name : "");
}

static void
mark_dirty (net_cache *c)
{
  c->net->dirty |= 1u << c->id;
  pthread_cond_signal (&c->net->cond);
}

static int
on_list (void *ud, json_t *items, const char *rv)
{
  net_cache *c = ud;
  (void) rv;
  json_t *fresh = json_object ();
  size_t i;
  json_t *obj;
  json_array_foreach (items, i, obj)
    {
      _cleanup_free_ char *k = key_of (obj);
      json_object_set_new (fresh, k, c->strip (obj));
    }
  pthread_mutex_lock (&c->net->lock);
  if (!c->synced || !json_equal (fresh, c->objs))
    mark_dirty (c);
  json_decref (c->objs);
  c->objs = fresh;
  c->synced = true;
  pthread_mutex_unlock (&c->net->lock);
  return 0;
}

static int
on_event (void *ud, const char *type, json_t *obj)
{
  net_cache *c = ud;
  _cleanup_free_ char *k = key_of (obj);
  json_t *s = streq (type, "DELETED") ? NULL : c->strip (obj);
  pthread_mutex_lock (&c->net->lock);
  json_t *old = json_object_get (c->objs, k);
  if (s == NULL && old)
    {
      json_object_del (c->objs, k);
      mark_dirty (c);
    }
  else if (s && !(old && json_equal (old, s)))
    {
      json_object_set (c->objs, k, s);
      mark_dirty (c);
    }
  pthread_mutex_unlock (&c->net->lock);
  json_decref (s);
  return 0;
}

static void
on_state (void *ud, bool connected, const char *error)
{
  net_cache *c = ud;
  if (!connected)
    log_warn ("pod network: watch failing, retrying", "resource", c->path, "error", error);
}

static void *
watch_main (void *ud)
{
  net_cache *c = ud;
  sigset_t all;
  sigfillset (&all);
  pthread_sigmask (SIG_BLOCK, &all, NULL);
  kclient_watch_ops ops = {.on_list = on_list, .on_event = on_event, .on_state = on_state, .ud = c};
  kclient_watch_opts o = {0};
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_watch (c->net->kc, c->path, &o, &ops, &c->net->stop, &err) < 0)
    log_error ("pod network: watch ended", "resource", c->path, "error", err ? err->msg : "");
  return NULL;
}

void
net_cache_init (node_net *n, int id, const char *path, json_t *(*strip) (json_t *))
{
  net_cache *c = &n->caches[id];
  *c = (net_cache) {.net = n, .id = id, .path = path, .strip = strip, .objs = json_object ()};
}

int
net_cache_start (net_cache *c)
{
  int r = pthread_create (&c->thread, NULL, watch_main, c);
  if (r != 0)
    return -r;
  c->started = true;
  return 0;
}

json_t *
net_cache_items (net_cache *c)
{
  json_t *a = json_array ();
  const char *k;
  json_t *v;
  json_object_foreach (c->objs, k, v)
    json_array_append (a, v);
  return a;
}

void
net_cache_free (net_cache *c)
{
  if (c->started)
    pthread_join (c->thread, NULL);
  c->started = false;
  json_decref (c->objs);
  c->objs = NULL;
}
