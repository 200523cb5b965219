/* husk controllers: taints and tolerations for admission and the node lifecycle
   controller: upstream's DefaultTolerationSeconds plugin and the NoExecute taint manager's
   arithmetic. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/cluster-logic.h"
#include <time.h>

static const char *
str (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

static int64_t
time_parse (const char *s)
{
  struct tm tm = { 0 };
  if (!*s || strptime (s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
    return 0;
  return (int64_t)timegm (&tm);
}

bool
taints_tolerates (const json_t *tol, const json_t *taint)
{
  const char *effect = str (tol, "effect"), *key = str (tol, "key"), *op = str (tol, "operator");
  if (*effect && !streq (effect, str (taint, "effect")))
    return false;
  if (*key && !streq (key, str (taint, "key")))
    return false;
  if (streq (op, "Exists"))
    return true;
  return (streq (op, "") || streq (op, "Equal")) && *key
         && streq (str (tol, "value"), str (taint, "value"));
}

static bool
tolerates_key (const json_t *tols, const char *key)
{
  size_t i;
  json_t *t;
  json_array_foreach ((json_t *)tols, i, t)
  {
    const char *k = str (t, "key"), *e = str (t, "effect");
    if ((streq (k, key) || !*k) && (streq (e, "NoExecute") || !*e))
      return true;
  }
  return false;
}

bool
taints_default_tolerations (json_t *pod, int64_t seconds)
{
  json_t *spec = json_object_get (pod, "spec");
  if (!json_is_object (spec))
    return false;
  json_t *tols = json_object_get (spec, "tolerations");
  if (!json_is_array (tols))
    {
      tols = json_array ();
      json_object_set_new (spec, "tolerations", tols);
    }
  bool changed = false;
  static const char *const keys[] = { TAINT_NOT_READY, TAINT_UNREACHABLE };
  for (size_t i = 0; i < 2; i++)
    if (!tolerates_key (tols, keys[i]))
      {
        json_array_append_new (tols, json_pack ("{s:s, s:s, s:s, s:I}", "key", keys[i], "operator",
                                                "Exists", "effect", "NoExecute",
                                                "tolerationSeconds", (json_int_t)seconds));
        changed = true;
      }
  return changed;
}

int64_t
taints_eviction_time (const json_t *pod, const json_t *taints)
{
  json_t *tols = husk_json_path (pod, "spec.tolerations");
  int64_t since = 0, min_secs = -1;
  size_t i, j;
  json_t *taint, *tol;
  json_array_foreach ((json_t *)taints, i, taint)
  {
    if (!streq (str (taint, "effect"), "NoExecute"))
      continue;
    bool tolerated = false;
    json_array_foreach (tols, j, tol)
    {
      if (!taints_tolerates (tol, taint))
        continue;
      tolerated = true;
      json_t *s = json_object_get (tol, "tolerationSeconds");
      if (json_is_integer (s))
        {
          int64_t v = json_integer_value (s) < 0 ? 0 : json_integer_value (s);
          if (min_secs < 0 || v < min_secs)
            min_secs = v;
        }
    }
    if (!tolerated)
      return 0;
    int64_t added = time_parse (str (taint, "timeAdded"));
    if (added > 0 && (since == 0 || added < since))
      since = added;
  }
  if (min_secs < 0)
    return -1;
  return since + min_secs;
}
