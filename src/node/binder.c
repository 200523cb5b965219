/* husk node: the stand-in binder of a one-node `husk up`. Until the master runs the
   scheduler, pending pods that ask for the default scheduler would stay Pending; on a
   cluster of exactly one node the decision is trivial, so this binds them there at once. (`husk up` composes its
   master itself and runs no scheduler; should one bind first, ours is a harmless 409.) */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/node.h"
#include "lib/kclient.h"

typedef struct binder
{
  kclient *kc;
  const char *node;
} binder;

static void
bind_pod (binder *b, json_t *pod)
{
  if (husk_json_path_str (pod, "spec.nodeName") || husk_json_path (pod, "metadata.deletionTimestamp"))
    return;
  const char *sched = husk_json_path_str (pod, "spec.schedulerName");
  if (sched && !streq (sched, "default-scheduler"))
    return;
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *name = husk_json_path_str (pod, "metadata.name");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  if (!ns || !name || !uid)
    return;
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s/binding", ns, name);
  _cleanup_json_ json_t *body
      = json_pack ("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                   "Binding", "metadata", "name", name, "namespace", ns, "uid", uid, "target",
                   "apiVersion", "v1", "kind", "Node", "name", b->node);
  long status = 0;
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (b->kc, "POST", path, NULL, body, NULL, &status, &err) < 0 && status != 409
      && status != 404)
    log_warn ("binding failed", "pod", name, "ns", ns, "error", err->msg);
}

static int
on_list (void *ud, json_t *items, const char *rv)
{
  (void) rv;
  size_t i;
  json_t *p;
  json_array_foreach (items, i, p)
  bind_pod (ud, p);
  return 0;
}

static int
on_event (void *ud, const char *type, json_t *obj)
{
  if (streq (type, "ADDED") || streq (type, "MODIFIED"))
    bind_pod (ud, obj);
  return 0;
}

int
node_binder_run (const char *server, const char *token, const char *ca_file, const char *node,
                 atomic_int *stop, husk_error **err)
{
  kclient_config cfg = {.server = (char *) server, .token = (char *) token,
                        .ca_file = (char *) ca_file};
  binder b = {.node = node};
  int r = kclient_new (&cfg, &b.kc, err);
  if (r < 0)
    return r;
  kclient_watch_opts o = {.query = "fieldSelector=spec.nodeName%3D"};
  kclient_watch_ops ops = {on_list, on_event, NULL, &b};
  r = kclient_watch (b.kc, "/api/v1/pods", &o, &ops, stop, err);
  kclient_free (b.kc);
  return r;
}
