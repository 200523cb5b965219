/* husk node: lifecycle hooks of a pod's containers (container.lifecycle.postStart and
   .preStop), run through src/node/agent/hooks.h: exec hooks inside the container through the
   runtime library, httpGet against the pod's address, sleep. They run on the agent's main
   thread, so a slow hook delays the other pods' sync by as long (bounded by the grace
   period, as kubelet bounds them). */
#include "config.h"

#include <signal.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/hooks.h"
#include "src/node/node-internal.h"

static int64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
run_hook (node_agent *a, node_pod *p, node_ctr *c, json_t *handler, int64_t timeout_s,
          husk_error **err)
{
  pod_exec_ctx x = {a, p, c};
  agent_probe_target t = {.pod_ip = p->pod_ip, .exec = pod_exec_sync, .exec_ud = &x};
  if (p->host_network || t.pod_ip == NULL)
    t.pod_ip = a->node_ip;
  return agent_hook_run (p->obj, c->spec, handler, &t,
                         (int) (timeout_s > 0 ? timeout_s : AGENT_MIN_GRACE_SECONDS), err);
}

bool
pod_hook_post_start (node_agent *a, node_pod *p, node_ctr *c)
{
  json_t *h = husk_json_path (c->spec, "lifecycle.postStart");
  if (h == NULL)
    return true;
  _cleanup_error_ husk_error *err = NULL;
  if (run_hook (a, p, c, h, agent_grace_seconds (p->obj, NULL), &err) == 0)
    return true;
  log_warn ("postStart hook failed: killing the container", "pod", p->name, "ns", p->ns,
            "container", c->name, "error", err->msg);
  pod_event (a, p, c, "Warning", "FailedPostStartHook", "%s", err->msg);
  free (c->message);
  c->message = xstrdup (err->msg);
  pod_ctr_signal (a, p, c, SIGKILL);
  return false;
}

int64_t
pod_hook_pre_stop (node_agent *a, node_pod *p, node_ctr *c, int64_t grace_s)
{
  json_t *h = husk_json_path (c->spec, "lifecycle.preStop");
  if (h == NULL || c->pid <= 0 || grace_s <= 0)
    return 0;
  int64_t t0 = mono_ms ();
  _cleanup_error_ husk_error *err = NULL;
  if (run_hook (a, p, c, h, grace_s, &err) < 0)
    {
      log_warn ("preStop hook failed", "pod", p->name, "ns", p->ns, "container", c->name,
                "error", err->msg);
      pod_event (a, p, c, "Warning", "FailedPreStopHook", "%s", err->msg);
    }
  return mono_ms () - t0;
}
