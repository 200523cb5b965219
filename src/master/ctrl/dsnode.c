/* DaemonSet placement (upstream NodeShouldRunDaemonPod): whether a node should run a daemon
   pod is the scheduler's sched_daemon_fits (nodeSelector, required node affinity,
   NoSchedule/NoExecute taints against the pod's tolerations plus the ones the DaemonSet
   controller adds: one copy of the predicates); here the tolerations written into daemon
   pods, and the pod spec pinned to the node through node affinity so that the scheduler
   binds it there. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/json.h"
#include "src/master/ctrl/logic.h"
#include "src/master/sched/sched.h"

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
  /* The scheduler reads a Pod: the template's spec under a name of its own. */
  _cleanup_json_ json_t *empty = json_object ();
  _cleanup_json_ json_t *pod
      = json_pack ("{s:{s:s}, s:O}", "metadata", "name", "daemon", "spec",
                   json_is_object (pod_spec) ? pod_spec : empty);
  _cleanup_error_ husk_error *err = NULL;
  if (sched_daemon_fits (node, pod, should_run, should_continue, &err) < 0)
    {
      /* A template the scheduler cannot read (the API validated it): start nothing new,
         remove nothing running. */
      *should_run = false;
      *should_continue = true;
    }
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
