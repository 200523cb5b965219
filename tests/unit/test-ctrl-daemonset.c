/* DaemonSet placement (node selector, node affinity, taints against tolerations incl. the
   automatic ones) and one rolling-update step at a time. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/logic.h"
#include "tests/unit/tap.h"

static json_t *
J (const char *s)
{
  json_t *j = json_loads (s, 0, NULL);
  if (!j)
    {
      printf ("Bail out! bad JSON %s\n", s);
      exit (2);
    }
  return j;
}

static void
placement (void)
{
  json_auto_t *node = J ("{\"metadata\":{\"name\":\"n1\",\"labels\":{\"disk\":\"ssd\",\"gen\":\"5\"}},"
                         "\"spec\":{\"unschedulable\":true}}");
  json_auto_t *plain = J ("{}");
  bool run, cont;
  ctrl_ds_node_should_run (plain, node, &run, &cont);
  ok (run && cont, "no selector: runs, even on a cordoned node");
  json_auto_t *sel = J ("{\"nodeSelector\":{\"disk\":\"hdd\"}}");
  ctrl_ds_node_should_run (sel, node, &run, &cont);
  ok (!run && !cont, "nodeSelector not matching: no pod");
  json_auto_t *aff = J ("{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                        "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\","
                        "\"values\":[\"4\"]}]}]}}}}");
  ctrl_ds_node_should_run (aff, node, &run, &cont);
  ok (run && cont, "required node affinity Gt matches");
  json_object_set_new (json_object_get (husk_json_path (node, "metadata"), "labels"), "gen",
                       json_string ("3"));
  ctrl_ds_node_should_run (aff, node, &run, &cont);
  ok (!run && !cont, "... and fails below");
  json_auto_t *field = J ("{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                          "{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":\"metadata.name\","
                          "\"operator\":\"In\",\"values\":[\"n1\"]}]}]}}}}");
  ctrl_ds_node_should_run (field, node, &run, &cont);
  ok (run && cont, "matchFields metadata.name In [n1] matches node n1");
  json_auto_t *hostnet = J ("{\"hostNetwork\":true}");
  json_auto_t *nonet = J ("{\"metadata\":{\"name\":\"n6\"},\"spec\":{\"taints\":["
                          "{\"key\":\"node.kubernetes.io/network-unavailable\",\"effect\":\"NoSchedule\"}]}}");
  ctrl_ds_node_should_run (plain, nonet, &run, &cont);
  ok (!run && cont, "network-unavailable keeps ordinary daemon pods away");
  ctrl_ds_node_should_run (hostnet, nonet, &run, &cont);
  ok (run, "... but not hostNetwork ones");

  json_auto_t *tainted = J ("{\"metadata\":{\"name\":\"n2\"},\"spec\":{\"taints\":["
                            "{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}}");
  ctrl_ds_node_should_run (plain, tainted, &run, &cont);
  ok (!run && cont, "untolerated NoSchedule: no new pod, a running one stays");
  json_auto_t *tol = J ("{\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\","
                        "\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}");
  ctrl_ds_node_should_run (tol, tainted, &run, &cont);
  ok (run && cont, "tolerated NoSchedule: runs");
  json_auto_t *noexec = J ("{\"metadata\":{\"name\":\"n3\"},\"spec\":{\"taints\":["
                           "{\"key\":\"evict\",\"effect\":\"NoExecute\"}]}}");
  ctrl_ds_node_should_run (tol, noexec, &run, &cont);
  ok (!run && !cont, "untolerated NoExecute: the pod must go");
  json_auto_t *notready = J ("{\"metadata\":{\"name\":\"n4\"},\"spec\":{\"taints\":["
                             "{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"},"
                             "{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"}]}}");
  ctrl_ds_node_should_run (plain, notready, &run, &cont);
  ok (run && cont, "not-ready and unschedulable taints are tolerated automatically");
  json_auto_t *soft = J ("{\"metadata\":{\"name\":\"n5\"},\"spec\":{\"taints\":["
                         "{\"key\":\"x\",\"effect\":\"PreferNoSchedule\"}]}}");
  ctrl_ds_node_should_run (plain, soft, &run, &cont);
  ok (run, "PreferNoSchedule does not keep a daemon pod away");
}

static void
pinning (void)
{
  json_auto_t *spec = J ("{\"containers\":[{\"name\":\"c\"}],\"tolerations\":[{\"key\":\"a\","
                         "\"operator\":\"Exists\"}],\"affinity\":{\"nodeAffinity\":{"
                         "\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":["
                         "{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"Exists\"}]}]}}}}");
  json_auto_t *p = ctrl_ds_pod_spec (spec, "node-7");
  json_auto_t *pod = json_pack ("{s:O}", "spec", p);
  is_str (ctrl_ds_pod_node (pod), "node-7", "the pod is pinned to its node by matchFields");
  is_int ((long long)json_array_size (husk_json_path (p, "affinity.nodeAffinity."
                                                         "requiredDuringSchedulingIgnoredDuringExecution."
                                                         "nodeSelectorTerms")),
          1, "one term replaces the template's required terms");
  is_int ((long long)json_array_size (json_object_get (p, "tolerations")), 7,
          "the template's toleration plus the six automatic ones");
  json_auto_t *bound = J ("{\"spec\":{\"nodeName\":\"n9\"}}");
  is_str (ctrl_ds_pod_node (bound), "n9", "a bound pod's node is spec.nodeName");
  json_auto_t *again = ctrl_ds_tolerations (p);
  is_int ((long long)json_array_size (again), 7, "automatic tolerations are not added twice");
}

static size_t
count (ctrl_ds_node *n, size_t k, bool del)
{
  size_t c = 0;
  for (size_t i = 0; i < k; i++)
    c += del ? n[i].delete_old : n[i].create_new;
  return c;
}

static void
rolling (void)
{
  ctrl_ds_node n[4];
  for (size_t i = 0; i < 4; i++)
    n[i] = (ctrl_ds_node){ .ok = true, .has_old = true, .old_avail = true };
  ctrl_ds_rolling_step (n, 4, 0, 1);
  is_int ((long long)count (n, 4, true), 1, "maxUnavailable 1: one old pod deleted");
  ctrl_ds_rolling_step (n, 4, 0, 2);
  is_int ((long long)count (n, 4, true), 2, "maxUnavailable 2: two");
  n[0] = (ctrl_ds_node){ .ok = true, .has_new = true, .new_avail = false };
  ctrl_ds_rolling_step (n, 4, 0, 1);
  is_int ((long long)count (n, 4, true), 0, "a new pod not yet available uses the budget");
  n[0].new_avail = true;
  n[1].old_avail = false;
  ctrl_ds_rolling_step (n, 4, 0, 1);
  ok (n[1].delete_old && count (n, 4, true) == 2,
      "an unavailable old pod is replaced regardless, plus one within the budget");
  for (size_t i = 0; i < 4; i++)
    n[i] = (ctrl_ds_node){ .ok = true, .has_old = true, .old_avail = true };
  ctrl_ds_rolling_step (n, 4, 1, 0);
  ok (count (n, 4, false) == 1 && count (n, 4, true) == 0, "maxSurge 1: one new pod next to an old one");
  n[0].has_new = true;
  ctrl_ds_rolling_step (n, 4, 1, 0);
  ok (count (n, 4, false) == 0, "... and no more while it is not available");
  n[0].new_avail = true;
  ctrl_ds_rolling_step (n, 4, 1, 0);
  ok (n[0].delete_old && count (n, 4, false) == 1,
      "once available its old pod goes and the next node surges");
}

int
main (void)
{
  placement ();
  pinning ();
  rolling ();
  return tap_done ();
}
