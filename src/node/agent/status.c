/* husk node agent: containerStatuses and pod conditions (see status.h). */
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/status.h"

char *
agent_format_time (int64_t t)
{
  struct tm tm;
  time_t tt = (time_t)t;
  char buf[32];
  gmtime_r (&tt, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

static void
set_time (json_t *o, const char *key, int64_t t)
{
  if (t > 0)
    {
      _cleanup_free_ char *s = agent_format_time (t);
      json_object_set_new (o, key, json_string (s));
    }
  else
    json_object_set_new (o, key, json_null ());
}

static json_t *
term_json (const agent_ctr_term *t)
{
  json_t *o = json_object ();
  json_object_set_new (o, "exitCode", json_integer (t->exit_code));
  if (t->signal)
    json_object_set_new (o, "signal", json_integer (t->signal));
  json_object_set_new (
      o, "reason",
      json_string (t->reason ? t->reason : agent_terminated_reason (t->exit_code, false)));
  if (t->message && *t->message)
    json_object_set_new (o, "message", json_string (t->message));
  set_time (o, "startedAt", t->started_at);
  set_time (o, "finishedAt", t->finished_at);
  if (t->container_id)
    json_object_set_new (o, "containerID", json_string (t->container_id));
  return o;
}

json_t *
agent_ctr_status_json (const agent_ctr_status *s)
{
  json_t *o = json_object (), *state = json_object (), *x;
  json_object_set_new (o, "name", json_string (s->name ? s->name : ""));
  switch (s->state)
    {
    case AGENT_CTR_RUNNING:
      x = json_object ();
      set_time (x, "startedAt", s->started_at);
      json_object_set_new (state, "running", x);
      break;
    case AGENT_CTR_TERMINATED:
      json_object_set_new (state, "terminated", term_json (&s->term));
      break;
    default:
      x = json_object ();
      json_object_set_new (
          x, "reason",
          json_string (s->waiting_reason ? s->waiting_reason : AGENT_REASON_CONTAINER_CREATING));
      if (s->waiting_message && *s->waiting_message)
        json_object_set_new (x, "message", json_string (s->waiting_message));
      json_object_set_new (state, "waiting", x);
    }
  json_object_set_new (o, "state", state);
  x = json_object ();
  if (s->has_last)
    json_object_set_new (x, "terminated", term_json (&s->last));
  json_object_set_new (o, "lastState", x);
  json_object_set_new (o, "ready", json_boolean (s->ready));
  json_object_set_new (o, "restartCount", json_integer (s->restart_count));
  json_object_set_new (o, "image", json_string (s->image ? s->image : ""));
  json_object_set_new (o, "imageID", json_string (s->image_id ? s->image_id : ""));
  if (s->container_id)
    json_object_set_new (o, "containerID", json_string (s->container_id));
  if (s->started >= 0)
    json_object_set_new (o, "started", json_boolean (s->started > 0));
  return o;
}

agent_ctr_phase_input
agent_ctr_status_phase_input (const agent_ctr_status *s)
{
  agent_ctr_phase_input in = { .state = s->state,
                               .last_terminated = s->has_last,
                               .init = s->init,
                               .sidecar = s->sidecar,
                               .started = s->started > 0 };
  if (s->state == AGENT_CTR_TERMINATED)
    in.exit_code = s->term.exit_code;
  else if (s->has_last)
    in.exit_code = s->last.exit_code;
  return in;
}

/* ---- conditions --------------------------------------------------------------------- */

static const agent_ctr_status *
find (const agent_ctr_status *s, size_t n, const char *name, bool init)
{
  for (size_t i = 0; i < n; i++)
    if (s[i].name && streq (s[i].name, name) && s[i].init == init)
      return &s[i];
  return NULL;
}

typedef struct names
{
  husk_buf b;
  int n;
} names;

static void
names_add (names *l, const char *name)
{
  husk_buf_printf (&l->b, "%s%s", l->n++ ? " " : "", name);
}

/* Go's %s of a []string: "[a b]" */
static void
msg_add (husk_buf *msg, const char *what, names *l)
{
  if (!l->n)
    return;
  husk_buf_printf (msg, "%scontainers with %s status: [%s]", msg->len ? ", " : "", what,
                   husk_buf_str (&l->b));
}

static bool
is_sidecar_spec (json_t *c)
{
  const char *p = json_string_value (json_object_get (c, "restartPolicy"));
  return p && streq (p, "Always");
}

static json_t *
condition (const char *type, bool status, const char *reason, const char *message, json_t *old,
           int64_t now)
{
  json_t *c = json_object ();
  const char *st = status ? "True" : "False";
  int64_t when = now;
  size_t i;
  json_t *o;
  json_object_set_new (c, "type", json_string (type));
  json_object_set_new (c, "status", json_string (st));
  json_object_set_new (c, "lastProbeTime", json_null ());
  json_array_foreach (old, i, o)
  {
    const char *ot = json_string_value (json_object_get (o, "type"));
    const char *os = json_string_value (json_object_get (o, "status"));
    json_t *lt = json_object_get (o, "lastTransitionTime");
    if (ot && os && streq (ot, type) && streq (os, st) && json_is_string (lt))
      {
        json_object_set (c, "lastTransitionTime", lt);
        when = -1;
      }
  }
  if (when >= 0)
    set_time (c, "lastTransitionTime", when);
  if (reason)
    json_object_set_new (c, "reason", json_string (reason));
  if (message && *message)
    json_object_set_new (c, "message", json_string (message));
  return c;
}

static bool
any_regular_started (json_t *spec, const agent_ctr_status *s, size_t n)
{
  size_t i;
  json_t *c;
  json_array_foreach (json_object_get (spec, "containers"), i, c)
  {
    const agent_ctr_status *st
        = find (s, n, json_string_value (json_object_get (c, "name")) ?: "", false);
    if (st && (st->state == AGENT_CTR_RUNNING || st->state == AGENT_CTR_TERMINATED || st->has_last))
      return true;
  }
  return false;
}

json_t *
agent_pod_conditions (json_t *pod, const agent_ctr_status *s, size_t n, const char *phase,
                      bool sandbox_ready, json_t *old, int64_t now)
{
  json_t *spec = json_object_get (pod, "spec");
  json_t *out = json_array ();
  bool succeeded = phase && streq (phase, "Succeeded");
  size_t i;
  json_t *c;

  json_array_append_new (
      out, condition ("PodReadyToStartContainers", sandbox_ready, NULL, NULL, old, now));

  /* Initialized */
  names unknown = { HUSK_BUF_INIT, 0 }, incomplete = { HUSK_BUF_INIT, 0 };
  json_array_foreach (json_object_get (spec, "initContainers"), i, c)
  {
    const char *name = json_string_value (json_object_get (c, "name")) ?: "";
    const agent_ctr_status *st = find (s, n, name, true);
    if (!st)
      names_add (&unknown, name);
    else if (is_sidecar_spec (c))
      {
        if (st->started <= 0)
          names_add (&incomplete, name);
      }
    else if (st->state != AGENT_CTR_TERMINATED || st->term.exit_code != 0)
      names_add (&incomplete, name);
  }
  husk_buf msg = HUSK_BUF_INIT;
  if (json_array_size (json_object_get (spec, "initContainers")) == 0)
    json_array_append_new (out, condition ("Initialized", true, NULL, NULL, old, now));
  else if (succeeded && unknown.n == 0)
    json_array_append_new (out, condition ("Initialized", true, "PodCompleted", NULL, old, now));
  else if (any_regular_started (spec, s, n))
    json_array_append_new (out, condition ("Initialized", true, NULL, NULL, old, now));
  else
    {
      msg_add (&msg, "unknown", &unknown);
      msg_add (&msg, "incomplete", &incomplete);
      json_array_append_new (out, condition ("Initialized", msg.len == 0,
                                             msg.len ? "ContainersNotInitialized" : NULL,
                                             husk_buf_str (&msg), old, now));
    }
  husk_buf_free (&unknown.b);
  husk_buf_free (&incomplete.b);
  husk_buf_reset (&msg);

  /* ContainersReady and Ready */
  names unk = { HUSK_BUF_INIT, 0 }, unready = { HUSK_BUF_INIT, 0 };
  static const char *const lists[] = { "initContainers", "containers" };
  for (int l = 0; l < 2; l++)
    json_array_foreach (json_object_get (spec, lists[l]), i, c)
    {
      if (l == 0 && !is_sidecar_spec (c))
        continue;
      const char *name = json_string_value (json_object_get (c, "name")) ?: "";
      const agent_ctr_status *st = find (s, n, name, l == 0);
      if (!st)
        names_add (&unk, name);
      else if (!st->ready)
        names_add (&unready, name);
    }
  bool cready;
  const char *reason = NULL;
  if (succeeded && unk.n == 0)
    {
      cready = false;
      reason = "PodCompleted";
    }
  else
    {
      msg_add (&msg, "unknown", &unk);
      msg_add (&msg, "unready", &unready);
      cready = msg.len == 0;
      if (!cready)
        reason = "ContainersNotReady";
    }
  json_t *ready_cond;
  if (!cready)
    ready_cond = condition ("Ready", false, reason, husk_buf_str (&msg), old, now);
  else
    {
      /* readiness gates: conditions other components set on the pod */
      husk_buf gm = HUSK_BUF_INIT;
      json_t *g;
      json_array_foreach (json_object_get (spec, "readinessGates"), i, g)
      {
        const char *type = json_string_value (json_object_get (g, "conditionType")) ?: "";
        json_t *found = NULL, *o;
        size_t j;
        json_array_foreach (husk_json_path (pod, "status.conditions"), j, o)
        {
          const char *ot = json_string_value (json_object_get (o, "type"));
          if (ot && streq (ot, type))
            found = o;
        }
        const char *gs = found ? json_string_value (json_object_get (found, "status")) : NULL;
        if (!found)
          husk_buf_printf (&gm,
                           "%scorresponding condition of pod readiness gate \"%s\" does not exist.",
                           gm.len ? ", " : "", type);
        else if (!gs || !streq (gs, "True"))
          husk_buf_printf (&gm,
                           "%sthe status of pod readiness gate \"%s\" is not \"True\", but %s.",
                           gm.len ? ", " : "", type, gs ? gs : "");
      }
      ready_cond = gm.len ? condition ("Ready", false, "ReadinessGatesNotReady", husk_buf_str (&gm),
                                       old, now)
                          : condition ("Ready", true, NULL, NULL, old, now);
      husk_buf_free (&gm);
    }
  json_array_append_new (out, ready_cond);
  json_array_append_new (
      out, condition ("ContainersReady", cready, reason, husk_buf_str (&msg), old, now));
  husk_buf_free (&unk.b);
  husk_buf_free (&unready.b);
  husk_buf_free (&msg);

  /* the conditions others own (PodScheduled, readiness gates, DisruptionTarget) stay */
  json_t *o;
  json_array_foreach (old, i, o)
  {
    const char *t = json_string_value (json_object_get (o, "type"));
    if (t && !streq (t, "PodReadyToStartContainers") && !streq (t, "Initialized")
        && !streq (t, "Ready") && !streq (t, "ContainersReady"))
      json_array_append (out, o);
  }
  return out;
}
