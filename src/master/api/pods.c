/* husk api: what pod creation computes besides defaults: status.qosClass (upstream's
   GetPodQOS) and spec.priority from the PriorityClass (upstream's Priority admission). */
#include "config.h"

#include <errno.h>

#include "lib/quantity.h"
#include "src/master/api/handlers.h"
#include "src/master/api/pods.h"

/* Sums the non-zero cpu and memory quantities of one resources map into sums
   (cpu in millicores); returns a bitmask of the resources found (1 cpu, 2 memory). */
static unsigned
add_resources (const json_t *m, int64_t sums[2])
{
  static const char *const names[] = {"cpu", "memory"};
  unsigned found = 0;
  for (int i = 0; i < 2; i++)
    {
      int64_t v = 0;
      json_t *q = json_object_get (m, names[i]);
      if (q == NULL || husk_quantity_json (q, i == 0 ? 1000 : 1, NULL, &v, NULL) < 0 || v <= 0)
        continue;
      sums[i] += v;
      found |= 1u << i;
    }
  return found;
}

static void
add_containers (const json_t *list, int64_t req[2], int64_t lim[2], unsigned *req_found,
                unsigned *lim_found, bool *guaranteed)
{
  size_t i;
  json_t *c;
  json_array_foreach (list, i, c)
  {
    json_t *res = json_object_get (c, "resources");
    *req_found |= add_resources (json_object_get (res, "requests"), req);
    unsigned l = add_resources (json_object_get (res, "limits"), lim);
    *lim_found |= l;
    if (l != 3)
      *guaranteed = false;
  }
}

const char *
api_pod_qos (const json_t *pod)
{
  json_t *spec = json_object_get (pod, "spec");
  int64_t req[2] = {0, 0}, lim[2] = {0, 0};
  unsigned req_found = 0, lim_found = 0;
  bool guaranteed = true;
  add_containers (json_object_get (spec, "containers"), req, lim, &req_found, &lim_found,
                  &guaranteed);
  add_containers (json_object_get (spec, "initContainers"), req, lim, &req_found, &lim_found,
                  &guaranteed);
  if (req_found == 0 && lim_found == 0)
    return "BestEffort";
  for (int i = 0; i < 2 && guaranteed; i++)
    if ((req_found & (1u << i)) && (!(lim_found & (1u << i)) || lim[i] != req[i]))
      guaranteed = false;
  return guaranteed && req_found == lim_found ? "Guaranteed" : "Burstable";
}

/* The global default PriorityClass (value and name), if one exists. */
static bool
global_default (api_req *r, int64_t *value, char **name, char **policy)
{
  store_list_result res = {0};
  _cleanup_error_ husk_error *err = NULL;
  bool found = false;
  if (store_list (r->srv->store, "priorityclasses", NULL, 0, NULL, &res, &err) < 0)
    return false;
  for (size_t i = 0; i < res.n && !found; i++)
    {
      json_auto_t *pc = json_loads (res.items[i], 0, NULL);
      if (!json_is_true (json_object_get (pc, "globalDefault")))
        continue;
      *value = json_integer_value (json_object_get (pc, "value"));
      *name = xstrdup (husk_json_path_str (pc, "metadata.name"));
      const char *p = json_string_value (json_object_get (pc, "preemptionPolicy"));
      *policy = p ? xstrdup (p) : NULL;
      found = true;
    }
  store_list_result_free (&res);
  return found;
}

static bool
named_class (api_req *r, const char *name, int64_t *value, char **policy)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_get (r->srv->store, "priorityclasses", NULL, name, &json, NULL, &err) < 0)
    return false;
  json_auto_t *pc = json_loads (json, 0, NULL);
  *value = json_integer_value (json_object_get (pc, "value"));
  const char *p = json_string_value (json_object_get (pc, "preemptionPolicy"));
  *policy = p ? xstrdup (p) : NULL;
  return true;
}

bool
api_pod_priority (api_req *r, json_t *pod)
{
  json_t *spec = json_object_get (pod, "spec");
  if (!json_is_object (spec))
    return true;
  const char *cls = json_string_value (json_object_get (spec, "priorityClassName"));
  int64_t value = 0;
  _cleanup_free_ char *policy = NULL, *def_name = NULL;
  if (cls && *cls)
    {
      if (!named_class (r, cls, &value, &policy))
        {
          api_reply_error (r, 403, "Forbidden",
                           "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                           husk_json_path_str (pod, "metadata.name") ?: "", cls);
          return false;
        }
    }
  else if (global_default (r, &value, &def_name, &policy))
    json_object_set_new (spec, "priorityClassName", json_string (def_name));
  json_t *given = json_object_get (spec, "priority");
  if (json_is_integer (given) && json_integer_value (given) != value)
    {
      api_reply_error (r, 403, "Forbidden",
                       "pods \"%s\" is forbidden: the integer value of priority (%lld) must not "
                       "be provided in pod spec; priority admission controller computed %lld "
                       "from the given PriorityClass name",
                       husk_json_path_str (pod, "metadata.name") ?: "",
                       (long long) json_integer_value (given), (long long) value);
      return false;
    }
  json_object_set_new (spec, "priority", json_integer (value));
  if (json_object_get (spec, "preemptionPolicy") == NULL)
    json_object_set_new (spec, "preemptionPolicy",
                         json_string (policy ? policy : "PreemptLowerPriority"));
  return true;
}

bool
api_pod_create (api_req *r, json_t *pod)
{
  if (!api_pod_priority (r, pod))
    return false;
  json_t *st = json_object_get (pod, "status");
  if (!json_is_object (st))
    json_object_set_new (pod, "status", st = json_object ());
  json_object_set_new (st, "qosClass", json_string (api_pod_qos (pod)));
  return true;
}

void
api_default_priorityclass (json_t *o)
{
  if (json_object_get (o, "preemptionPolicy") == NULL)
    json_object_set_new (o, "preemptionPolicy", json_string ("PreemptLowerPriority"));
}

void
api_validate_priorityclass (const json_t *o, const json_t *old, api_problems *p)
{
  const char *name = husk_json_path_str (o, "metadata.name");
  json_int_t v = json_integer_value (json_object_get (o, "value"));
  bool system = name && strncmp (name, "system-", 7) == 0;
  if (old == NULL && system && !streq (name, "system-cluster-critical")
      && !streq (name, "system-node-critical"))
    api_problem_invalid (p, "metadata.name", "FieldValueForbidden",
                         "Forbidden: priority class names with 'system-' prefix are reserved for "
                         "system use only");
  if (!system && v > 1000000000)
    api_problem_invalid (p, "value", "FieldValueForbidden",
                         "Forbidden: maximum allowed value of a user defined priority is "
                         "1000000000");
  if (old && json_integer_value (json_object_get (old, "value")) != v)
    api_problem_invalid (p, "value", "FieldValueForbidden",
                         "Forbidden: may not be changed in an update.");
}

json_t *
api_cell_pc_value (const json_t *o)
{
  return json_integer (json_integer_value (json_object_get (o, "value")));
}

json_t *
api_cell_pc_default (const json_t *o)
{
  return json_string (json_is_true (json_object_get (o, "globalDefault")) ? "true" : "false");
}
