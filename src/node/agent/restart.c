/* husk node agent: restart policy, back-off, reasons and pod phase (see restart.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/path.h"

#include "src/node/agent/restart.h"

static const char *const policy_names[] = { "Always", "OnFailure", "Never" };

int
agent_restart_policy_parse (const char *s, agent_restart_policy *out, husk_error **err)
{
  if (!s || !*s)
    {
      *out = AGENT_RESTART_ALWAYS;
      return 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (policy_names); i++)
    if (streq (s, policy_names[i]))
      {
        *out = i;
        return 0;
      }
  return husk_err (err, EINVAL,
                   "restartPolicy: Unsupported value: \"%s\": supported values: \"Always\", "
                   "\"OnFailure\", \"Never\"",
                   s);
}

const char *
agent_restart_policy_name (agent_restart_policy p)
{
  return p < ARRAY_SIZE (policy_names) ? policy_names[p] : "Always";
}

bool
agent_restart_wanted (agent_restart_policy p, int exit_code)
{
  switch (p)
    {
    case AGENT_RESTART_ALWAYS:
      return true;
    case AGENT_RESTART_ON_FAILURE:
      return exit_code != 0;
    default:
      return false;
    }
}

static int64_t
b_initial (const agent_backoff *b)
{
  return b->initial_ms > 0 ? b->initial_ms : AGENT_BACKOFF_INITIAL_MS;
}

static int64_t
b_max (const agent_backoff *b)
{
  return b->max_ms > 0 ? b->max_ms : AGENT_BACKOFF_MAX_MS;
}

/* flowcontrol's hasExpired: quiet for more than twice the maximum. */
static bool
expired (const agent_backoff *b, int64_t event_ms)
{
  return event_ms - b->last_ms > 2 * b_max (b);
}

int64_t
agent_backoff_check (agent_backoff *b, int64_t finished_ms, int64_t now_ms)
{
  /* IsInBackOffSince(finishedAt) */
  if (b->delay_ms > 0 && !expired (b, finished_ms))
    {
      int64_t since = now_ms - finished_ms;
      if (since < b->delay_ms)
        return b->delay_ms - since;
    }
  /* Next(finishedAt) */
  if (b->delay_ms == 0 || expired (b, finished_ms))
    b->delay_ms = b_initial (b);
  else
    b->delay_ms = b->delay_ms * 2 > b_max (b) ? b_max (b) : b->delay_ms * 2;
  b->last_ms = finished_ms;
  return 0;
}

int64_t
agent_backoff_delay (const agent_backoff *b)
{
  return b->delay_ms;
}

char *
agent_backoff_message (const agent_backoff *b, const char *container, const char *pod,
                       const char *ns, const char *uid)
{
  /* Go's time.Duration String(): 10s, 1m20s, 5m0s. */
  int64_t s = b->delay_ms / 1000;
  _cleanup_free_ char *d = s >= 60 ? xasprintf ("%ldm%lds", (long)(s / 60), (long)(s % 60))
                                   : xasprintf ("%lds", (long)s);
  return xasprintf ("back-off %s restarting failed container=%s pod=%s_%s(%s)", d, container, pod,
                    ns, uid);
}

const char *
agent_terminated_reason (int exit_code, bool oom_killed)
{
  if (oom_killed)
    return "OOMKilled";
  return exit_code == 0 ? "Completed" : "Error";
}

bool
agent_cgroup_oom_killed (const char *cgroup_dir)
{
  _cleanup_free_ char *path = xasprintf ("%s/memory.events", cgroup_dir);
  _cleanup_free_ char *text = NULL;
  if (husk_read_file (path, &text, NULL, NULL) < 0 || text == NULL)
    return false;
  /* "oom_kill N" at the start of a line ("oom_group_kill N" is another key). */
  const char *key = strstr (text, "oom_kill ");
  while (key && key != text && key[-1] != '\n')
    key = strstr (key + 1, "oom_kill ");
  return key && strtoll (key + 9, NULL, 10) > 0;
}

int
agent_exit_code_from_status (int st)
{
  if (WIFEXITED (st))
    return WEXITSTATUS (st);
  if (WIFSIGNALED (st))
    return 128 + WTERMSIG (st);
  return 255;
}

const char *
agent_pod_phase (agent_restart_policy policy, const agent_ctr_phase_input *c, size_t n,
                 bool initialized)
{
  int pending_init = 0, pending_sidecar = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (size_t i = 0; i < n; i++)
    {
      const agent_ctr_phase_input *s = &c[i];
      if (s->init && !s->sidecar)
        switch (s->state)
          {
          case AGENT_CTR_RUNNING:
            pending_init++;
            break;
          case AGENT_CTR_TERMINATED:
            if (s->exit_code != 0)
              failed_init++;
            break;
          case AGENT_CTR_WAITING:
            if (s->last_terminated)
              {
                if (s->exit_code != 0)
                  failed_init++;
              }
            else
              pending_init++;
            break;
          default:
            pending_init++;
          }
      else if (s->init)
        switch (s->state)
          {
          case AGENT_CTR_RUNNING:
            if (!s->started)
              pending_sidecar++;
            running++;
            break;
          case AGENT_CTR_TERMINATED:
            break;
          case AGENT_CTR_WAITING:
            if (!s->last_terminated)
              {
                pending_sidecar++;
                waiting++;
              }
            break;
          default:
            pending_sidecar++;
            unknown++;
          }
      else
        switch (s->state)
          {
          case AGENT_CTR_RUNNING:
            running++;
            break;
          case AGENT_CTR_TERMINATED:
            stopped++;
            if (s->exit_code == 0)
              succeeded++;
            break;
          case AGENT_CTR_WAITING:
            if (s->last_terminated)
              stopped++;
            else
              waiting++;
            break;
          default:
            unknown++;
          }
    }
  if (failed_init > 0 && policy == AGENT_RESTART_NEVER)
    return "Failed";
  if (pending_init > 0 || (pending_sidecar > 0 && !initialized) || waiting > 0)
    return "Pending";
  if (running > 0 && unknown == 0)
    return "Running";
  if (running == 0 && stopped > 0 && unknown == 0)
    {
      if (policy == AGENT_RESTART_ALWAYS)
        return "Running";
      if (stopped == succeeded)
        return "Succeeded";
      if (policy == AGENT_RESTART_NEVER)
        return "Failed";
      return "Running";
    }
  return "Pending";
}
