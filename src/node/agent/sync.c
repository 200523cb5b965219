/* husk node agent: computePodActions (see sync.h). */
#include <errno.h>

#include "lib/json.h"
#include "src/node/agent/sync.h"

void
agent_pod_actions_clear (agent_pod_actions *a)
{
  for (size_t i = 0; i < a->nkill; i++)
    free (a->kill[i].reason);
  for (size_t i = 0; i < a->nwait; i++)
    free (a->wait[i].message);
  free (a->kill);
  free (a->start);
  free (a->wait);
  *a = (agent_pod_actions){ 0 };
}

static void
add_start (agent_pod_actions *a, bool init, size_t i)
{
  a->start = xreallocarray (a->start, a->nstart + 1, sizeof *a->start);
  a->start[a->nstart++] = (agent_ctr_ref){ init, i };
}

static void
add_kill (agent_pod_actions *a, bool init, size_t i, char *reason)
{
  a->kill = xreallocarray (a->kill, a->nkill + 1, sizeof *a->kill);
  a->kill[a->nkill++] = (agent_ctr_kill){ { init, i }, reason };
}

static const char *
ctr_name (json_t *spec, bool init, size_t i)
{
  const char *n = json_string_value (json_object_get (
      json_array_get (json_object_get (spec, init ? "initContainers" : "containers"), i), "name"));
  return n ? n : "?";
}

static bool
is_sidecar (json_t *c)
{
  const char *p = json_string_value (json_object_get (c, "restartPolicy"));
  return p && streq (p, "Always");
}

/* kubelet's ShouldContainerBeRestarted for a container that is not running. */
static bool
should_start (agent_restart_policy policy, const agent_ctr_runtime *rt)
{
  if (rt->state == AGENT_CTR_UNKNOWN)
    return true;
  return agent_restart_wanted (policy, rt->exit_code);
}

/* Probe failures on a running container: kill it. Returns true when it was killed. */
static bool
kill_on_probe (agent_pod_actions *a, json_t *spec, bool init, size_t i, const agent_ctr_runtime *rt,
               agent_restart_policy policy)
{
  if (rt->state != AGENT_CTR_RUNNING || !(rt->liveness_failed || rt->startup_failed))
    return false;
  const char *name = ctr_name (spec, init, i);
  bool restart = init || policy != AGENT_RESTART_NEVER;
  add_kill (a, init, i,
            restart ? xasprintf ("Container %s failed %s probe, will be restarted", name,
                                 rt->liveness_failed ? "liveness" : "startup")
                    : xasprintf ("Container %s failed %s probe", name,
                                 rt->liveness_failed ? "liveness" : "startup"));
  return true;
}

/* Init containers, in order. Returns true when the pod is initialized (regular
   containers may run). */
static bool
init_actions (agent_pod_actions *a, json_t *spec, agent_restart_policy policy,
              const agent_ctr_runtime *init, size_t ninit, bool initialized)
{
  json_t *list = json_object_get (spec, "initContainers");
  for (size_t i = 0; i < ninit; i++)
    {
      const agent_ctr_runtime *rt = &init[i];
      if (is_sidecar (json_array_get (list, i)))
        {
          if (kill_on_probe (a, spec, true, i, rt, policy))
            {
              if (!initialized)
                return false;
              continue;
            }
          if (rt->state != AGENT_CTR_RUNNING)
            {
              add_start (a, true, i); /* sidecars always come back */
              if (!initialized)
                return false;
              continue;
            }
          if (!rt->started && !initialized)
            return false; /* the next init container waits for this one to be started */
          continue;
        }
      if (initialized)
        continue; /* regular init containers ran to completion already */
      switch (rt->state)
        {
        case AGENT_CTR_UNKNOWN:
          add_start (a, true, i);
          return false;
        case AGENT_CTR_RUNNING:
          return false;
        default:
          if (rt->exit_code == 0)
            continue;
          if (policy == AGENT_RESTART_NEVER)
            {
              a->kill_pod = true; /* the pod failed */
              a->done = true;
              return false;
            }
          add_start (a, true, i);
          return false;
        }
    }
  return true;
}

/* Moves restarts still in back-off from start to wait. */
static void
apply_backoff (agent_pod_actions *a, json_t *pod, const agent_ctr_runtime *init,
               const agent_ctr_runtime *ctrs, int64_t now_ms)
{
  json_t *spec = json_object_get (pod, "spec");
  const char *pname = husk_json_path_str (pod, "metadata.name");
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  size_t kept = 0;
  for (size_t i = 0; i < a->nstart; i++)
    {
      agent_ctr_ref r = a->start[i];
      const agent_ctr_runtime *rt = r.init ? &init[r.index] : &ctrs[r.index];
      int64_t left = 0;
      if (rt->state == AGENT_CTR_TERMINATED && rt->backoff)
        left = agent_backoff_check (rt->backoff, rt->finished_ms, now_ms);
      if (left <= 0)
        {
          a->start[kept++] = r;
          continue;
        }
      a->wait = xreallocarray (a->wait, a->nwait + 1, sizeof *a->wait);
      a->wait[a->nwait++]
          = (agent_ctr_wait){ r, left,
                              agent_backoff_message (rt->backoff, ctr_name (spec, r.init, r.index),
                                                     pname ? pname : "", ns ? ns : "default",
                                                     uid ? uid : "") };
    }
  a->nstart = kept;
}

int
agent_pod_compute_actions (json_t *pod, bool sandbox_exists, bool sandbox_ready,
                           const agent_ctr_runtime *init, size_t ninit,
                           const agent_ctr_runtime *ctrs, size_t n, int64_t now_ms,
                           agent_pod_actions *out, husk_error **err)
{
  json_t *spec = json_object_get (pod, "spec");
  agent_restart_policy policy;
  *out = (agent_pod_actions){ 0 };
  int ret = agent_restart_policy_parse (json_string_value (json_object_get (spec, "restartPolicy")),
                                        &policy, err);
  if (ret < 0)
    return ret;
  if (ninit != json_array_size (json_object_get (spec, "initContainers"))
      || n != json_array_size (json_object_get (spec, "containers")))
    return husk_err (err, EINVAL, "runtime view does not match the pod's containers");
  agent_pod_actions *a = out;
  bool any_status = false, initialized = false;
  for (size_t i = 0; i < ninit; i++)
    any_status |= init[i].state != AGENT_CTR_UNKNOWN;
  for (size_t i = 0; i < n; i++)
    if (ctrs[i].state != AGENT_CTR_UNKNOWN)
      any_status = initialized = true;

  if (!sandbox_exists || !sandbox_ready)
    {
      /* kubelet: a Never pod whose sandbox died after containers ran is not revived */
      if (policy == AGENT_RESTART_NEVER && sandbox_exists && any_status)
        {
          a->kill_pod = true;
          a->done = true;
          return 0;
        }
      a->create_sandbox = true;
      a->kill_pod = sandbox_exists;
      if (ninit > 0)
        add_start (a, true, 0);
      else
        {
          for (size_t i = 0; i < n; i++)
            if (should_start (policy, &ctrs[i]))
              add_start (a, false, i);
          if (a->nstart == 0)
            {
              /* all finished for good: no sandbox for nothing to run */
              a->create_sandbox = false;
              a->done = true;
              return 0;
            }
        }
      apply_backoff (a, pod, init, ctrs, now_ms);
      return 0;
    }

  if (!init_actions (a, spec, policy, init, ninit, initialized))
    {
      apply_backoff (a, pod, init, ctrs, now_ms);
      return 0;
    }

  size_t keep = 0, regular_starts = 0;
  for (size_t i = 0; i < n; i++)
    {
      const agent_ctr_runtime *rt = &ctrs[i];
      if (rt->state == AGENT_CTR_RUNNING)
        {
          if (!kill_on_probe (a, spec, false, i, rt, policy))
            keep++;
          continue;
        }
      if (should_start (policy, rt))
        {
          add_start (a, false, i);
          regular_starts++;
        }
    }
  bool probe_kills = false;
  for (size_t i = 0; i < a->nkill; i++)
    probe_kills |= !a->kill[i].ref.init && policy != AGENT_RESTART_NEVER;
  if (keep == 0 && regular_starts == 0 && !probe_kills && n > 0)
    {
      /* every regular container is finished for good: stop the sidecars and the sandbox */
      a->kill_pod = true;
      a->done = true;
      a->nstart = 0;
      return 0;
    }
  apply_backoff (a, pod, init, ctrs, now_ms);
  return 0;
}

/* ---- images -------------------------------------------------------------------------- */

/* True when image names no tag and no digest, or the tag "latest". */
static bool
latest_or_untagged (const char *image)
{
  if (strchr (image, '@'))
    return false;
  const char *slash = strrchr (image, '/');
  const char *colon = strrchr (slash ? slash : image, ':');
  return !colon || streq (colon + 1, "latest");
}

int
agent_pull_policy_of (const char *policy, const char *image, agent_pull_policy *out,
                      husk_error **err)
{
  if (!policy || !*policy)
    *out = latest_or_untagged (image ? image : "") ? AGENT_PULL_ALWAYS : AGENT_PULL_IF_NOT_PRESENT;
  else if (streq (policy, "Always"))
    *out = AGENT_PULL_ALWAYS;
  else if (streq (policy, "IfNotPresent"))
    *out = AGENT_PULL_IF_NOT_PRESENT;
  else if (streq (policy, "Never"))
    *out = AGENT_PULL_NEVER;
  else
    return husk_err (err, EINVAL,
                     "imagePullPolicy: Unsupported value: \"%s\": supported values: \"Always\", "
                     "\"IfNotPresent\", \"Never\"",
                     policy);
  return 0;
}

int
agent_pull_needed (agent_pull_policy p, const char *image, bool present, husk_error **err)
{
  switch (p)
    {
    case AGENT_PULL_ALWAYS:
      return 1;
    case AGENT_PULL_IF_NOT_PRESENT:
      return present ? 0 : 1;
    default:
      if (present)
        return 0;
      return husk_err (err, ENOENT,
                       "Container image \"%s\" is not present with pull policy of Never",
                       image ? image : "");
    }
}

char *
agent_pull_backoff_message (const char *image)
{
  return xasprintf ("Back-off pulling image \"%s\"", image ? image : "");
}
