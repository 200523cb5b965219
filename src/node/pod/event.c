/* husk node: Events about pods and their containers (Pulled, Created, Started, Killing,
   BackOff, Unhealthy, Failed, ...), recorded as kubelet does: a repeat within 10 minutes
   bumps the first event's count instead of making a new object. Sent off the main thread
   (pod/apiq.c). Best effort: a failure to record is logged at debug level and forgotten. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/events.h"
#include "src/node/node-internal.h"

/* Through the events sender (pod/apiq.c); here when it is not running. */
static void
send_event (node_agent *a, const char *method, const char *path, const char *ctype, json_t *body)
{
  if (a->apiq)
    {
      node_apiq_event (a->apiq, method, path, ctype, husk_json_dump (body));
      return;
    }
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (a->kc, method, path, ctype, body, NULL, NULL, &err) < 0)
    log_debug ("event not recorded", "path", path, "error", err->msg);
}

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
  if (agent_event_correlate (a->events, ev, now_ns, &patch, &name))
    {
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/events", p->ns);
      send_event (a, "POST", path, "application/json", ev);
    }
  else
    {
      _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/events/%s", p->ns, name);
      send_event (a, "PATCH", path, "application/merge-patch+json", patch);
      json_decref (patch);
    }
}
