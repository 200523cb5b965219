/* DaemonSet placement (upstream NodeShouldRunDaemonPod): whether a node should run a daemon
   pod (nodeSelector, required node affinity, NoSchedule/NoExecute taints against the pod's
   tolerations plus the ones the DaemonSet controller adds), and the pod spec pinned to the
   node through node affinity so that the scheduler binds it there. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

static bool
in_values (json_t *values, const char *v)
{
  json_t *x;
  size_t i;
  json_array_foreach (values, i, x) if (json_is_string (x) && streq (json_string_value (x), v))
      return true;
  return false;
}

/* One {key, operator, values} against the node's value for key (NULL when absent). */
static bool
requirement_matches (json_t *req, const char *value)
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
  if ((streq (op, "Gt") || streq (op, "Lt")) && value && json_array_size (values) == 1)
    {
      const char *w = json_string_value (json_array_get (values, 0));
      char *e1, *e2;
      long long have = strtoll (value, &e1, 10), want = strtoll (w ? w : "", &e2, 10);
      if (*value == '\0' || *e1 || !w || *w == '\0' || *e2)
        return false;
      return streq (op, "Gt") ? have > want : have < want;
    }
  return false;
}

static bool
term_matches (json_t *term, json_t *labels, const char *node_name)
{
  json_t *exprs = json_object_get (term, "matchExpressions");
  json_t *fields = json_object_get (term, "matchFields");
  json_t *req;
  size_t i;
  if (json_array_size (exprs) == 0 && json_array_size (fields) == 0)
    return false; /* an empty term matches nothing */
  json_array_foreach (exprs, i, req)
  {
    const char *key = json_string_value (json_object_get (req, "key"));
    if (!key || !requirement_matches (req, json_string_value (json_object_get (labels, key))))
      return false;
  }
  json_array_foreach (fields, i, req)
  {
    const char *key = json_string_value (json_object_get (req, "key"));
    if (!key || !streq (key, "metadata.name") || !requirement_matches (req, node_name))
      return false;
  }
  return true;
}

bool
ctrl_node_affinity_matches (json_t *pod_spec, json_t *node)
{
  json_t *labels = husk_json_path (node, "metadata.labels");
  const char *name = husk_json_path_str (node, "metadata.name");
  const char *k;
  json_t *v;
  json_object_foreach (json_object_get (pod_spec, "nodeSelector"), k, v)
  {
    const char *have = json_string_value (json_object_get (labels, k));
    if (!have || !json_is_string (v) || !streq (have, json_string_value (v)))
      return false;
  }
  json_t *req = husk_json_path (
      pod_spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
  if (!json_is_object (req))
    return true;
  json_t *terms = json_object_get (req, "nodeSelectorTerms"), *t;
  size_t i;
  json_array_foreach (terms, i, t) if (term_matches (t, labels, name ? name : "")) return true;
  return false;
}

/* upstream Toleration.ToleratesTaint. */
static bool
tolerated (json_t *tolerations, json_t *taint)
{
  const char *key = json_string_value (json_object_get (taint, "key"));
  const char *value = json_string_value (json_object_get (taint, "value"));
  const char *effect = json_string_value (json_object_get (taint, "effect"));
  json_t *t;
  size_t i;
  json_array_foreach (tolerations, i, t)
  {
    const char *te = json_string_value (json_object_get (t, "effect"));
    const char *tk = json_string_value (json_object_get (t, "key"));
    const char *op = json_string_value (json_object_get (t, "operator"));
    const char *tv = json_string_value (json_object_get (t, "value"));
    if (te && *te && !(effect && streq (te, effect)))
      continue;
    if (tk && *tk && !(key && streq (tk, key)))
      continue;
    if (op && streq (op, "Exists"))
      return true;
    if ((!op || !*op || streq (op, "Equal")) && streq (tv ? tv : "", value ? value : ""))
      return true;
  }
  return false;
}

static void
add_toleration (json_t *tols, const char *key, const char *effect)
{
  json_t *t;
  size_t i;
  json_array_foreach (tols, i, t)
  {
    const char *k = json_string_value (json_object_get (t, "key"));
    const char *e = json_string_value (json_object_get (t, "effect"));
    const char *op = json_string_value (json_object_get (t, "operator"));
    if (k && e && op && streq (k, key) && streq (e, effect) && streq (op, "Exists"))
      return;
  }
  json_array_append_new (
      tols, json_pack ("{s:s, s:s, s:s}", "key", key, "operator", "Exists", "effect", effect));
}

json_t *
ctrl_ds_tolerations (json_t *pod_spec)
{
  json_t *have = json_object_get (pod_spec, "tolerations");
  json_t *tols = json_is_array (have) ? json_deep_copy (have) : json_array ();
  add_toleration (tols, "node.kubernetes.io/not-ready", "NoExecute");
  add_toleration (tols, "node.kubernetes.io/unreachable", "NoExecute");
  add_toleration (tols, "node.kubernetes.io/disk-pressure", "NoSchedule");
  add_toleration (tols, "node.kubernetes.io/memory-pressure", "NoSchedule");
  add_toleration (tols, "node.kubernetes.io/pid-pressure", "NoSchedule");
  add_toleration (tols, "node.kubernetes.io/unschedulable", "NoSchedule");
  if (json_is_true (json_object_get (pod_spec, "hostNetwork")))
    add_toleration (tols, "node.kubernetes.io/network-unavailable", "NoSchedule");
  return tols;
}

void
ctrl_ds_node_should_run (json_t *pod_spec, json_t *node, bool *should_run, bool *should_continue)
{
  *should_run = *should_continue = false;
  if (!ctrl_node_affinity_matches (pod_spec, node))
    return;
  _cleanup_json_ json_t *tols = ctrl_ds_tolerations (pod_spec);
  bool run = true, cont = true;
  json_t *taint;
  size_t i;
  json_array_foreach (husk_json_path (node, "spec.taints"), i, taint)
  {
    const char *effect = json_string_value (json_object_get (taint, "effect"));
    if (!effect || streq (effect, "PreferNoSchedule") || tolerated (tols, taint))
      continue;
    run = false;
    if (streq (effect, "NoExecute"))
      cont = false;
  }
  *should_run = run;
  *should_continue = cont;
}

json_t *
ctrl_ds_pod_spec (json_t *pod_spec, const char *node)
{
  json_t *spec = json_is_object (pod_spec) ? json_deep_copy (pod_spec) : json_object ();
  json_t *affinity = json_object_get (spec, "affinity");
  if (!json_is_object (affinity))
    json_object_set_new (spec, "affinity", affinity = json_object ());
  json_t *na = json_object_get (affinity, "nodeAffinity");
  if (!json_is_object (na))
    json_object_set_new (affinity, "nodeAffinity", na = json_object ());
  /* upstream ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become one term
     naming the node (the DaemonSet's own terms were checked when the node was chosen). */
  json_object_set_new (
      na, "requiredDuringSchedulingIgnoredDuringExecution",
      json_pack ("{s:[{s:[{s:s, s:s, s:[s]}]}]}", "nodeSelectorTerms", "matchFields", "key",
                 "metadata.name", "operator", "In", "values", node));
  json_object_set_new (spec, "tolerations", ctrl_ds_tolerations (pod_spec));
  return spec;
}

const char *
ctrl_ds_pod_node (json_t *pod)
{
  const char *n = husk_json_path_str (pod, "spec.nodeName");
  if (n && *n)
    return n;
  json_t *terms = husk_json_path (
      pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
           "nodeSelectorTerms");
  json_t *t;
  size_t i, j;
  json_array_foreach (terms, i, t)
  {
    json_t *f;
    json_array_foreach (json_object_get (t, "matchFields"), j, f)
    {
      const char *key = json_string_value (json_object_get (f, "key"));
      const char *op = json_string_value (json_object_get (f, "operator"));
      json_t *vals = json_object_get (f, "values");
      if (key && op && streq (key, "metadata.name") && streq (op, "In")
          && json_array_size (vals) == 1)
        return json_string_value (json_array_get (vals, 0));
    }
  }
  return NULL;
}
