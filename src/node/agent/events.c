/* husk node agent: Events (see events.h). */
#include "lib/json.h"
#include "src/node/agent/events.h"
#include "src/node/agent/status.h"

#define CACHE_MAX 4096
#define WINDOW_NS (600LL * 1000000000LL)

json_t *
agent_event_new (json_t *pod, const char *container, bool init, const char *type,
                 const char *reason, const char *message, const char *node, int64_t now_ns)
{
  const char *name = husk_json_path_str (pod, "metadata.name");
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  const char *rv = husk_json_path_str (pod, "metadata.resourceVersion");
  _cleanup_free_ char *evname = xasprintf ("%s.%llx", name ? name : "", (unsigned long long)now_ns);
  _cleanup_free_ char *ts = agent_format_time (now_ns / 1000000000LL);
  json_t *inv
      = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace", ns ? ns : "default",
                   "name", name ? name : "", "uid", uid ? uid : "", "apiVersion", "v1");
  if (rv)
    json_object_set_new (inv, "resourceVersion", json_string (rv));
  if (container)
    {
      _cleanup_free_ char *fp
          = xasprintf ("spec.%s{%s}", init ? "initContainers" : "containers", container);
      json_object_set_new (inv, "fieldPath", json_string (fp));
    }
  return json_pack (
      "{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:i, s:s, s:n, s:s, s:s}",
      "kind", "Event", "apiVersion", "v1", "metadata", "name", evname, "namespace",
      ns ? ns : "default", "involvedObject", inv, "reason", reason, "message",
      message ? message : "", "source", "component", "kubelet", "host", node ? node : "",
      "firstTimestamp", ts, "lastTimestamp", ts, "count", 1, "type", type, "eventTime",
      "reportingComponent", "kubelet", "reportingInstance", node ? node : "");
}

typedef struct entry
{
  char *key;
  char *name;
  int count;
  int64_t last_ns;
} entry;

struct agent_event_cache
{
  entry *e;
  size_t n;
};

agent_event_cache *
agent_event_cache_new (void)
{
  return xzalloc (sizeof (agent_event_cache));
}

void
agent_event_cache_free (agent_event_cache *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    free (c->e[i].key), free (c->e[i].name);
  free (c->e);
  free (c);
}

static void
drop (agent_event_cache *c, size_t i)
{
  free (c->e[i].key);
  free (c->e[i].name);
  c->e[i] = c->e[--c->n];
}

bool
agent_event_correlate (agent_event_cache *c, json_t *ev, int64_t now_ns, json_t **patch,
                       const char **name)
{
  json_t *inv = json_object_get (ev, "involvedObject");
  _cleanup_free_ char *key = xasprintf (
      "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", husk_json_path_str (inv, "uid") ?: "",
      husk_json_path_str (inv, "fieldPath") ?: "", husk_json_path_str (ev, "type") ?: "",
      husk_json_path_str (ev, "reason") ?: "", husk_json_path_str (ev, "message") ?: "",
      husk_json_path_str (ev, "source.host") ?: "");
  size_t oldest = 0;
  for (size_t i = 0; i < c->n;)
    {
      if (now_ns - c->e[i].last_ns > WINDOW_NS)
        {
          drop (c, i);
          continue;
        }
      if (streq (c->e[i].key, key))
        {
          entry *e = &c->e[i];
          e->count++;
          e->last_ns = now_ns;
          _cleanup_free_ char *ts = agent_format_time (now_ns / 1000000000LL);
          *patch = json_pack ("{s:i, s:s}", "count", e->count, "lastTimestamp", ts);
          *name = e->name;
          return false;
        }
      if (c->e[i].last_ns < c->e[oldest].last_ns)
        oldest = i;
      i++;
    }
  if (c->n >= CACHE_MAX)
    drop (c, oldest);
  c->e = xreallocarray (c->e, c->n + 1, sizeof *c->e);
  c->e[c->n++] = (entry){ .key = TAKE_PTR (key),
                          .name = xstrdup (husk_json_path_str (ev, "metadata.name") ?: ""),
                          .count = 1,
                          .last_ns = now_ns };
  *patch = NULL;
  *name = NULL;
  return true;
}
