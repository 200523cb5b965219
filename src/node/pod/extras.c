/* husk node: static pods, image GC and eviction hung on the agent's timers (extras.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/events.h"
#include "src/node/pod/extras.h"
#include "src/node/pod/sysctl.h"

void
extras_node_event (node_agent *a, const char *type, const char *reason, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  int64_t now_ns = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  /* kubelet's nodeRef: kind Node, the node's name as its uid, in namespace default. */
  _cleanup_json_ json_t *ref = json_pack ("{s:{s:s, s:s, s:s}}", "metadata", "name", a->name,
                                          "namespace", "default", "uid", a->name);
  _cleanup_json_ json_t *ev = agent_event_new (ref, NULL, false, type, reason, msg, a->name, now_ns);
  json_object_set_new (json_object_get (ev, "involvedObject"), "kind", json_string ("Node"));
  json_object_del (json_object_get (ev, "involvedObject"), "namespace");
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (a->kc, "POST", "/api/v1/namespaces/default/events", NULL, ev, NULL, NULL,
                    &err) < 0)
    log_debug ("event not recorded", "reason", reason, "error", err->msg);
}

bool
node_is_mirror_pod (json_t *obj)
{
  return husk_json_path (obj, "metadata.annotations") != NULL
         && json_object_get (husk_json_path (obj, "metadata.annotations"),
                             "kubernetes.io/config.mirror")
                != NULL;
}

int
node_extras_setup (node_agent *a, husk_error **err)
{
  node_extras *x = xzalloc (sizeof *x);
  x->taints_applied = -1;
  a->extras = x;
  int r;
  /* Not an extra, but a flag checked at start like theirs: a bad list stops the node. */
  if ((r = sysctl_allowlist_check (a->cfg->allowed_unsafe_sysctls, err)) < 0)
    return r;
  a->pod_max_pids = -1;
  if (a->cfg->pod_max_pids
      && (r = extras_parse_pids ("--pod-max-pids", a->cfg->pod_max_pids, &a->pod_max_pids, err)) < 0)
    return r;
  if ((r = imagegc_setup (a, x, err)) < 0 || (r = evict_setup (a, x, err)) < 0
      || (r = static_pods_setup (a, x, err)) < 0)
    return r;
  return 0;
}

void
node_extras_tick (node_agent *a, int64_t now_ms)
{
  node_extras *x = a->extras;
  if (x == NULL)
    return;
  static_pods_tick (a, x, now_ms);
  evict_tick (a, x, now_ms);
  imagegc_tick (a, x, now_ms);
}

void
node_extras_free (node_agent *a)
{
  node_extras *x = a->extras;
  if (x == NULL)
    return;
  static_pods_free (x);
  evict_free (x);
  free (x);
  a->extras = NULL;
}
