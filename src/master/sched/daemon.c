/* Which nodes a DaemonSet's pod belongs on (upstream's NodeShouldRunDaemonPod): nodeName,
   nodeSelector and required node affinity, and taints, with the tolerations the DaemonSet
   controller adds to every daemon pod. Resources are not checked: the scheduler (or
   preemption) deals with room. */
#include "config.h"

#include <errno.h>

#include "src/master/sched/sched-internal.h"

/* The tolerations upstream's DaemonSet controller adds (util.AddOrUpdateDaemonPodTolerations). */
static bool
implicitly_tolerated (const char *key, int effect, bool host_network)
{
  if (effect == SCHED_NO_EXECUTE)
    return streq (key, "node.kubernetes.io/not-ready")
           || streq (key, "node.kubernetes.io/unreachable");
  if (effect == SCHED_NO_SCHEDULE)
    return streq (key, "node.kubernetes.io/disk-pressure")
           || streq (key, "node.kubernetes.io/memory-pressure")
           || streq (key, "node.kubernetes.io/pid-pressure")
           || streq (key, "node.kubernetes.io/unschedulable")
           || (host_network && streq (key, "node.kubernetes.io/network-unavailable"));
  return false;
}

int
sched_daemon_fits (json_t *node, json_t *pod, bool *should_run, bool *should_continue,
                   husk_error **err)
{
  sched_cache *c = sched_cache_new ();
  sched_pod *p = NULL;
  sched_cycle cy = { 0 };
  int ret = sched_cache_set_node (c, node, err);
  if (ret == 0)
    ret = sched_pod_parse (pod, &p, err);
  if (ret == 0)
    ret = sched_cycle_init (&cy, c, p, err);
  if (ret == 0)
    {
      sched_node *n = c->nodes[0];
      bool host_net = json_is_true (husk_json_path (pod, "spec.hostNetwork"));
      bool placed = (!p->node || streq (p->node, n->name))
                    && sched_node_matches_pod_affinity_selector (&cy, n);
      bool run = placed, cont = placed;
      /* Taints as the node object has them (spec.taints), not those implied by conditions:
         the node lifecycle controller adds those, and daemon pods tolerate them. */
      json_t *t;
      size_t i;
      json_array_foreach (husk_json_path (node, "spec.taints"), i, t)
      {
        const char *key = json_string_value (json_object_get (t, "key"));
        const char *value = json_string_value (json_object_get (t, "value"));
        int effect = sched_taint_effect (json_string_value (json_object_get (t, "effect")));
        if (!key || effect == SCHED_PREFER_NO_SCHEDULE || effect <= 0)
          continue;
        if (implicitly_tolerated (key, effect, host_net)
            || sched_tolerates (p->tolerations, key, value ? value : "", effect))
          continue;
        run = false;
        if (effect == SCHED_NO_EXECUTE)
          cont = false;
      }
      *should_run = run;
      *should_continue = cont;
    }
  sched_cycle_clear (&cy);
  sched_pod_free (p);
  sched_cache_free (c);
  return ret;
}
