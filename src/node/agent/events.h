/* husk node agent: Events as kubelet records them — the objects, their reasons, and the
   correlation that turns a repeated event into a count on the first one. */
#ifndef HUSK_AGENT_EVENTS_H
#define HUSK_AGENT_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

/* kubelet's reasons (pkg/kubelet/events) */
#define AGENT_EV_PULLING           "Pulling"
#define AGENT_EV_PULLED            "Pulled"
#define AGENT_EV_FAILED            "Failed"
#define AGENT_EV_BACKOFF           "BackOff"
#define AGENT_EV_CREATED           "Created"
#define AGENT_EV_STARTED           "Started"
#define AGENT_EV_KILLING           "Killing"
#define AGENT_EV_UNHEALTHY         "Unhealthy"
#define AGENT_EV_FAILED_MOUNT      "FailedMount"
#define AGENT_EV_FAILED_POST_START "FailedPostStartHook"
#define AGENT_EV_FAILED_PRE_STOP   "FailedPreStopHook"
#define AGENT_EV_SANDBOX_CHANGED   "SandboxChanged"
#define AGENT_EV_FAILED_SANDBOX    "FailedCreatePodSandBox"
#define AGENT_EV_INVALID_ENV       "InvalidEnvironmentVariableNames"
#define AGENT_EV_EVICTED           "Evicted"
#define AGENT_EV_NODE_READY        "NodeReady"
#define AGENT_EV_STARTING          "Starting"

/* A core/v1 Event about pod (or about one of its containers: container names it,
   init tells which list), type "Normal" or "Warning", from component "kubelet" on node.
   Name "<pod>.<hex nanoseconds>" as kubelet's recorder makes it. */
json_t *agent_event_new (json_t *pod, const char *container, bool init, const char *type,
                         const char *reason, const char *message, const char *node, int64_t now_ns);

typedef struct agent_event_cache agent_event_cache;

agent_event_cache *agent_event_cache_new (void);
void agent_event_cache_free (agent_event_cache *c);
/* The recorder's correlation: an event with the same object, field, type, reason and
   message as one recorded in the last 10 minutes is a repeat. Returns true for a new
   event (create ev as it is); false for a repeat: *patch is the merge patch for the
   first event ({"count":N,"lastTimestamp":...}) and *name its name (valid until the
   next call). */
bool agent_event_correlate (agent_event_cache *c, json_t *ev, int64_t now_ns, json_t **patch,
                            const char **name);

#endif
