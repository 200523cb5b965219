/* A Job's podFailurePolicy applied to a failed pod (upstream matchPodFailurePolicy): the
   first rule whose onExitCodes or onPodConditions match decides. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

static bool
in_values (json_t *values, json_int_t code)
{
  json_t *v;
  size_t i;
  json_array_foreach (values, i,
                      v) if (json_is_integer (v) && json_integer_value (v) == code) return true;
  return false;
}

/* The first terminated container (regular, then init) with a non-zero exit code that the
   requirement selects. */
static json_t *
match_exit_codes (json_t *status, json_t *req)
{
  static const char *const lists[] = { "containerStatuses", "initContainerStatuses" };
  const char *want = json_string_value (json_object_get (req, "containerName"));
  const char *op = json_string_value (json_object_get (req, "operator"));
  json_t *values = json_object_get (req, "values");
  for (size_t l = 0; l < ARRAY_SIZE (lists); l++)
    {
      json_t *cs;
      size_t i;
      json_array_foreach (json_object_get (status, lists[l]), i, cs)
      {
        json_t *term = json_object_get (json_object_get (cs, "state"), "terminated");
        const char *name = json_string_value (json_object_get (cs, "name"));
        if (!json_is_object (term) || (want && (!name || !streq (want, name))))
          continue;
        json_int_t code = json_integer_value (json_object_get (term, "exitCode"));
        if (code == 0 || !op)
          continue;
        if ((streq (op, "In") && in_values (values, code))
            || (streq (op, "NotIn") && !in_values (values, code)))
          return cs;
      }
    }
  return NULL;
}

static json_t *
match_conditions (json_t *status, json_t *patterns)
{
  json_t *cond, *pat;
  size_t i, j;
  json_array_foreach (json_object_get (status, "conditions"), i, cond)
      json_array_foreach (patterns, j, pat)
  {
    const char *t = json_string_value (json_object_get (cond, "type"));
    const char *s = json_string_value (json_object_get (cond, "status"));
    const char *pt = json_string_value (json_object_get (pat, "type"));
    const char *ps = json_string_value (json_object_get (pat, "status"));
    if (t && s && pt && streq (t, pt) && streq (s, ps ? ps : "True"))
      return cond;
  }
  return NULL;
}

static ctrl_pfp_action
action_of (const char *a)
{
  if (!a)
    return CTRL_PFP_COUNT;
  if (streq (a, "FailJob"))
    return CTRL_PFP_FAIL_JOB;
  if (streq (a, "Ignore"))
    return CTRL_PFP_IGNORE;
  if (streq (a, "FailIndex"))
    return CTRL_PFP_FAIL_INDEX;
  return CTRL_PFP_COUNT;
}

ctrl_pfp_action
ctrl_job_pod_failure_policy (json_t *policy, json_t *pod, char **message)
{
  json_t *status = json_object_get (pod, "status");
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *name = husk_json_path_str (pod, "metadata.name");
  json_t *rule;
  size_t i;
  *message = NULL;
  json_array_foreach (json_object_get (policy, "rules"), i, rule)
  {
    const char *a = json_string_value (json_object_get (rule, "action"));
    json_t *codes = json_object_get (rule, "onExitCodes");
    json_t *conds = json_object_get (rule, "onPodConditions");
    json_t *hit = NULL;
    if (json_is_object (codes))
      hit = match_exit_codes (status, codes);
    else if (json_is_array (conds))
      hit = match_conditions (status, conds);
    if (!hit)
      continue;
    ctrl_pfp_action act = action_of (a);
    if (act == CTRL_PFP_FAIL_JOB && json_is_object (codes))
      *message = xasprintf (
          "Container %s for pod %s/%s failed with exit code %lld matching FailJob "
          "rule at index %zu",
          json_string_value (json_object_get (hit, "name")), ns ? ns : "default", name ? name : "",
          (long long)json_integer_value (husk_json_path (hit, "state.terminated.exitCode")), i);
    else if (act == CTRL_PFP_FAIL_JOB)
      *message = xasprintf ("Pod %s/%s has condition %s matching FailJob rule at index %zu",
                            ns ? ns : "default", name ? name : "",
                            json_string_value (json_object_get (hit, "type")), i);
    return act;
  }
  return CTRL_PFP_COUNT;
}
