/* A Deployment's status as upstream's controller computes it (calculateStatus,
   syncRolloutStatus, checkPausedConditions): the replica counts `kubectl rollout status`
   reads and the Available / Progressing conditions with their reasons and messages. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

static char *
rfc3339 (int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  char buf[32];
  gmtime_r (&tt, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

static int64_t
parse_time (const char *s)
{
  struct tm tm = { 0 };
  if (!s || !strptime (s, "%Y-%m-%dT%H:%M:%SZ", &tm))
    return 0;
  return (int64_t)timegm (&tm);
}

static json_t *
get_condition (json_t *status, const char *type)
{
  json_t *c;
  size_t i;
  json_array_foreach (json_object_get (status, "conditions"), i, c)
  {
    const char *t = json_string_value (json_object_get (c, "type"));
    if (t && streq (t, type))
      return c;
  }
  return NULL;
}

static void
remove_condition (json_t *status, const char *type)
{
  json_t *conds = json_object_get (status, "conditions");
  for (size_t i = 0; i < json_array_size (conds);)
    {
      const char *t = json_string_value (json_object_get (json_array_get (conds, i), "type"));
      if (t && streq (t, type))
        json_array_remove (conds, i);
      else
        i++;
    }
}

/* upstream SetDeploymentCondition: same status and reason is no update; same status keeps
   lastTransitionTime. */
static void
set_condition (json_t *status, const char *type, const char *cstatus, const char *reason,
               const char *message, int64_t now, const char *keep_transition)
{
  json_t *cur = get_condition (status, type);
  const char *cur_status = json_string_value (json_object_get (cur, "status"));
  const char *cur_reason = json_string_value (json_object_get (cur, "reason"));
  if (cur && cur_status && cur_reason && streq (cur_status, cstatus) && streq (cur_reason, reason))
    return;
  _cleanup_free_ char *ts = rfc3339 (now);
  const char *transition = keep_transition ? keep_transition : ts;
  _cleanup_free_ char *kept = NULL;
  if (cur && cur_status && streq (cur_status, cstatus))
    kept = xstrdup (json_string_value (json_object_get (cur, "lastTransitionTime")));
  json_t *c = json_pack ("{ss ss ss ss ss ss}", "type", type, "status", cstatus, "lastUpdateTime",
                         ts, "lastTransitionTime", kept ? kept : transition, "reason", reason,
                         "message", message);
  remove_condition (status, type);
  json_t *conds = json_object_get (status, "conditions");
  if (!conds)
    json_object_set_new (status, "conditions", conds = json_array ());
  json_array_append_new (conds, c);
}

static int32_t
i32 (json_t *obj, const char *path)
{
  return (int32_t)json_integer_value (husk_json_path (obj, path));
}

int
ctrl_deployment_status (json_t *deployment, const ctrl_rs_status *rs, size_t n, int64_t now,
                        json_t **out, husk_error **err)
{
  json_t *spec = json_object_get (deployment, "spec");
  json_t *old = json_object_get (deployment, "status");
  const char *dname = husk_json_path_str (deployment, "metadata.name");
  json_t *reps = json_object_get (spec, "replicas");
  int32_t desired = reps ? (int32_t)json_integer_value (reps) : 1;
  int32_t unavailable = 0, surge;
  const char *strategy = husk_json_path_str (spec, "strategy.type");
  if (!strategy || streq (strategy, "RollingUpdate"))
    {
      int ret
          = ctrl_rollout_fenceposts (husk_json_path (spec, "strategy.rollingUpdate.maxSurge"),
                                     husk_json_path (spec, "strategy.rollingUpdate.maxUnavailable"),
                                     desired, &surge, &unavailable, err);
      if (ret < 0)
        return husk_err_wrap (err, "deployment %s: spec.strategy.rollingUpdate",
                              dname ? dname : "");
      if (unavailable > desired)
        unavailable = desired;
    }

  int32_t total = 0, actual = 0, ready = 0, available = 0, updated = 0;
  const char *new_name = NULL;
  for (size_t i = 0; i < n; i++)
    {
      total += rs[i].spec_replicas;
      actual += rs[i].replicas;
      ready += rs[i].ready;
      available += rs[i].available;
      if (rs[i].is_new)
        updated = rs[i].replicas, new_name = rs[i].name;
    }
  json_t *st = json_pack (
      "{sI si si si si si}", "observedGeneration",
      (json_int_t)json_integer_value (husk_json_path (deployment, "metadata.generation")),
      "replicas", actual, "updatedReplicas", updated, "readyReplicas", ready, "availableReplicas",
      available, "unavailableReplicas", total - available > 0 ? total - available : 0);
  json_t *cc = json_object_get (old, "collisionCount");
  if (cc)
    json_object_set (st, "collisionCount", cc);
  if (json_is_array (json_object_get (old, "conditions")))
    json_object_set_new (st, "conditions", json_deep_copy (json_object_get (old, "conditions")));

  if (available >= desired - unavailable)
    set_condition (st, "Available", "True", "MinimumReplicasAvailable",
                   "Deployment has minimum availability.", now, NULL);
  else
    set_condition (st, "Available", "False", "MinimumReplicasUnavailable",
                   "Deployment does not have minimum availability.", now, NULL);

  json_t *pds = json_object_get (spec, "progressDeadlineSeconds");
  int64_t deadline = pds ? json_integer_value (pds) : 600;
  bool has_deadline = !(pds && json_is_null (pds)) && deadline != INT32_MAX;
  bool paused = json_is_true (json_object_get (spec, "paused"));
  json_t *cur = get_condition (old, "Progressing");
  const char *cur_reason = json_string_value (json_object_get (cur, "reason"));

  if (paused || (cur_reason && streq (cur_reason, "DeploymentPaused")))
    {
      /* checkPausedConditions */
      if (paused && !(cur_reason && streq (cur_reason, "DeploymentPaused")))
        set_condition (st, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused",
                       now, NULL);
      else if (!paused)
        set_condition (st, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed",
                       now, NULL);
      *out = st;
      return 0;
    }
  if (!has_deadline)
    {
      remove_condition (st, "Progressing");
      *out = st;
      return 0;
    }
  bool complete_before
      = actual == updated && cur_reason && streq (cur_reason, "NewReplicaSetAvailable");
  if (complete_before)
    {
      *out = st;
      return 0;
    }
  _cleanup_free_ char *who = new_name ? xasprintf ("ReplicaSet \"%s\"", new_name)
                                      : xasprintf ("Deployment \"%s\"", dname ? dname : "");
  bool complete = updated == desired && actual == desired && available == desired;
  int32_t old_updated = i32 (old, "updatedReplicas"), old_replicas = i32 (old, "replicas");
  bool progressing = updated > old_updated || (actual - updated) < (old_replicas - old_updated)
                     || ready > i32 (old, "readyReplicas")
                     || available > i32 (old, "availableReplicas");
  if (complete)
    {
      _cleanup_free_ char *m = xasprintf ("%s has successfully progressed.", who);
      set_condition (st, "Progressing", "True", "NewReplicaSetAvailable", m, now, NULL);
    }
  else if (progressing)
    {
      _cleanup_free_ char *m = xasprintf ("%s is progressing.", who);
      const char *cs = json_string_value (json_object_get (cur, "status"));
      const char *keep = cs && streq (cs, "True")
                             ? json_string_value (json_object_get (cur, "lastTransitionTime"))
                             : NULL;
      _cleanup_free_ char *keep_copy = keep ? xstrdup (keep) : NULL;
      remove_condition (st, "Progressing");
      set_condition (st, "Progressing", "True", "ReplicaSetUpdated", m, now, keep_copy);
    }
  else
    {
      json_t *pc = get_condition (st, "Progressing");
      const char *r = json_string_value (json_object_get (pc, "reason"));
      bool timed_out
          = pc && r && !streq (r, "NewReplicaSetAvailable")
            && (streq (r, "ProgressDeadlineExceeded")
                || parse_time (json_string_value (json_object_get (pc, "lastUpdateTime")))
                           + deadline
                       < now);
      if (timed_out)
        {
          _cleanup_free_ char *m = xasprintf ("%s has timed out progressing.", who);
          set_condition (st, "Progressing", "False", "ProgressDeadlineExceeded", m, now, NULL);
        }
    }
  *out = st;
  return 0;
}
