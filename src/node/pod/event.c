/* husk node: Events about pods and their containers (Pulled, Created, Started, Killing,
   BackOff, Unhealthy, Failed, ...), recorded as kubelet does: a repeat within 10 minutes
   bumps the first event's count instead of making a new object. Best effort: a failure to
   record is logged at debug level and forgotten. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/events.h"
#include "src/node/node-internal.h"

void
pod_event (node_agent *a, node_pod *p, node_ctr *c, const char *type, const char *reason,
           const char *fmt, ...)
{
  if (p->obj == NULL)
    return;
  if (a->events == NULL)
    a->events = agent_event_cache_new ();
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  int64_t now_ns = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  _cleanup_json_ json_t *ev = agent_event_new (p->obj, c ? c->name : NULL, c && c->init, type,
                                               reason, msg, a->name, now_ns);
  json_t *patch = NULL;
  const char *name = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int r;
  if (agent_event_correlate (a->events, ev, now_ns, &patch, &name))
    {
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/events", p->ns);
      r = kclient_json (a->kc, "POST", path, NULL, ev, NULL, NULL, &err);
    }
  else
    {
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/events/%s", p->ns, name);
      r = kclient_json (a->kc, "PATCH", path, "application/merge-patch+json", patch, NULL, NULL,
                        &err);
      json_decref (patch);
    }
  if (r < 0)
    log_debug ("event not recorded", "reason", reason, "error", err->msg);
}
