/* Label selectors, node selector terms and tolerations, with upstream's semantics. */
#include "config.h"

#include <errno.h>

#include "src/master/sched/sched-internal.h"

static bool
in_values (json_t *values, const char *v)
{
  json_t *x;
  size_t i;
  json_array_foreach (values, i,
                      x) if (json_is_string (x) && streq (json_string_value (x), v)) return true;
  return false;
}

static bool
parse_int (const char *s, long long *out)
{
  char *end;
  if (!s || !*s)
    return false;
  errno = 0;
  *out = strtoll (s, &end, 10);
  return !*end && !errno;
}

/* One requirement {key, operator, values}; `value` is the object's value for key (NULL when
   absent). Gt/Lt only for node selectors. */
static bool
requirement_matches (json_t *req, const char *value, bool allow_gt_lt)
{
  const char *op = json_string_value (json_object_get (req, "operator"));
  json_t *values = json_object_get (req, "values");
  if (!op)
    return false;
  if (streq (op, "In"))
    return value && in_values (values, value);
  if (streq (op, "NotIn"))
    return !value || !in_values (values, value);
  if (streq (op, "Exists"))
    return value != NULL;
  if (streq (op, "DoesNotExist"))
    return value == NULL;
  if (allow_gt_lt && (streq (op, "Gt") || streq (op, "Lt")))
    {
      long long have, want;
      if (json_array_size (values) != 1 || !value || !parse_int (value, &have)
          || !parse_int (json_string_value (json_array_get (values, 0)), &want))
        return false;
      return streq (op, "Gt") ? have > want : have < want;
    }
  return false;
}

bool
sched_label_selector_matches (json_t *selector, json_t *labels)
{
  const char *k;
  json_t *v, *req;
  size_t i;
  if (!json_is_object (selector))
    return false;
  json_object_foreach (json_object_get (selector, "matchLabels"), k, v)
  {
    const char *have = json_string_value (json_object_get (labels, k));
    if (!have || !json_is_string (v) || !streq (have, json_string_value (v)))
      return false;
  }
  json_array_foreach (json_object_get (selector, "matchExpressions"), i, req)
  {
    const char *key = json_string_value (json_object_get (req, "key"));
    if (!key)
      return false;
    if (!requirement_matches (req, json_string_value (json_object_get (labels, key)), false))
      return false;
  }
  return true;
}

bool
sched_node_selector_term_matches (json_t *term, json_t *labels, const char *node_name)
{
  json_t *exprs = json_object_get (term, "matchExpressions");
  json_t *fields = json_object_get (term, "matchFields");
  json_t *req;
  size_t i;
  /* An empty term matches no objects (upstream's nodeaffinity helper). */
  if (json_array_size (exprs) == 0 && json_array_size (fields) == 0)
    return false;
  json_array_foreach (exprs, i, req)
  {
    const char *key = json_string_value (json_object_get (req, "key"));
    if (!key || !requirement_matches (req, json_string_value (json_object_get (labels, key)), true))
      return false;
  }
  json_array_foreach (fields, i, req)
  {
    const char *key = json_string_value (json_object_get (req, "key"));
    if (!key || !streq (key, "metadata.name") || !requirement_matches (req, node_name, false))
      return false;
  }
  return true;
}

bool
sched_node_selector_terms_match (json_t *terms, json_t *labels, const char *node_name)
{
  json_t *term;
  size_t i;
  json_array_foreach (
      terms, i, term) if (sched_node_selector_term_matches (term, labels, node_name)) return true;
  return false;
}

static int
effect_of (const char *e)
{
  if (!e || !*e)
    return SCHED_EFFECT_ALL;
  if (streq (e, "NoSchedule"))
    return SCHED_NO_SCHEDULE;
  if (streq (e, "PreferNoSchedule"))
    return SCHED_PREFER_NO_SCHEDULE;
  if (streq (e, "NoExecute"))
    return SCHED_NO_EXECUTE;
  return -1;
}

/* upstream Toleration.ToleratesTaint: the effect must match unless the toleration has none;
   an empty key matches every key (with Exists); Equal compares values. */
bool
sched_tolerates (json_t *tolerations, const char *key, const char *value, int effect)
{
  json_t *t;
  size_t i;
  json_array_foreach (tolerations, i, t)
  {
    int te = effect_of (json_string_value (json_object_get (t, "effect")));
    const char *tk = json_string_value (json_object_get (t, "key"));
    const char *op = json_string_value (json_object_get (t, "operator"));
    const char *tv = json_string_value (json_object_get (t, "value"));
    if (te != SCHED_EFFECT_ALL && te != effect)
      continue;
    if (tk && *tk && !streq (tk, key))
      continue;
    if (op && streq (op, "Exists"))
      return true;
    if ((!op || !*op || streq (op, "Equal")) && streq (tv ? tv : "", value ? value : ""))
      return true;
  }
  return false;
}

int
sched_taint_effect (const char *e)
{
  return effect_of (e);
}
