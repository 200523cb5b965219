/* The pure logic of the cluster controllers and admission: quota usage and messages,
   LimitRange defaults and constraints, default tolerations and NoExecute eviction times,
   PV matching. */
#include "config.h"

#include "lib/json.h"
#include "src/master/ctrl/cluster-logic.h"
#include "tests/unit/tap.h"

static json_t *
J (const char *text)
{
  json_error_t e;
  json_t *j = json_loads (text, 0, &e);
  if (!j)
    {
      printf ("Bail out! bad JSON at %d: %s\n", e.position, text);
      exit (2);
    }
  return j;
}

static void
test_format (void)
{
  char *s;
  is_str (s = quota_format ("requests.cpu", 1500), "1500m", "cpu 1500m");
  free (s);
  is_str (s = quota_format ("limits.cpu", 2000), "2", "cpu 2");
  free (s);
  is_str (s = quota_format ("requests.memory", 512LL << 20), "512Mi", "memory 512Mi");
  free (s);
  is_str (s = quota_format ("requests.memory", 3LL << 30), "3Gi", "memory 3Gi");
  free (s);
  is_str (s = quota_format ("pods", 7), "7", "a count");
  free (s);
  is_str (s = quota_format ("requests.memory", 1000), "1000", "bytes not a power of 1024");
  free (s);
}

static void
test_pod_usage (void)
{
  json_t *pod = J ("{\"spec\":{\"containers\":["
                   "{\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"},"
                   "\"limits\":{\"memory\":\"128Mi\"}}},"
                   "{\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"64Mi\"}}}],"
                   "\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"2\"}}}],"
                   "\"overhead\":{\"cpu\":\"100m\"}}}");
  json_t *u = quota_usage_of ("pods", "", pod);
  is_int (husk_json_path_int (u, "pods", -1), 1, "a pod counts 1");
  is_int (json_integer_value (json_object_get (u, "count/pods")), 1, "count/pods");
  /* containers 250m + 1 (request from limit) = 1250m < init 2000m; + overhead 100m */
  is_int (json_integer_value (json_object_get (u, "requests.cpu")), 2100,
          "requests.cpu: max(sum, init) + overhead");
  is_int (json_integer_value (json_object_get (u, "cpu")), 2100, "cpu is requests.cpu");
  is_int (json_integer_value (json_object_get (u, "requests.memory")), 128LL << 20,
          "requests.memory sums (a limit stands for a missing request)");
  is_int (json_integer_value (json_object_get (u, "limits.memory")), 192LL << 20,
          "limits.memory sums");
  json_decref (u);
  json_object_set_new (pod, "status", J ("{\"phase\":\"Succeeded\"}"));
  u = quota_usage_of ("pods", "", pod);
  is_int (json_object_size (u), 0, "a finished pod charges nothing");
  json_decref (u);
  json_t *hard = J ("{\"limits.cpu\":\"4\",\"requests.memory\":\"1Gi\",\"pods\":\"3\","
                    "\"limits.memory\":\"1Gi\"}");
  char *m = quota_missing ("pods", pod, hard);
  is_str (m, "limits.cpu,limits.memory,requests.memory",
          "must specify: what a container or init container lacks");
  free (m);
  json_decref (hard);
  json_decref (pod);

  json_t *d = J ("{\"metadata\":{\"name\":\"d\"}}");
  u = quota_usage_of ("deployments", "apps", d);
  is_int (json_integer_value (json_object_get (u, "count/deployments.apps")), 1,
          "count/deployments.apps");
  json_decref (u);
  json_decref (d);
  json_t *svc = J ("{\"spec\":{\"type\":\"NodePort\",\"ports\":[{},{}]}}");
  u = quota_usage_of ("services", "", svc);
  is_int (json_integer_value (json_object_get (u, "services.nodeports")), 2,
          "a NodePort service charges one node port per port");
  json_decref (u);
  json_decref (svc);

  char *plural;
  const char *group;
  ok (quota_resource_of ("count/deployments.apps", &plural, &group) && streq (plural, "deployments")
          && streq (group, "apps"),
      "count/deployments.apps is counted on apps deployments");
  free (plural);
  ok (quota_resource_of ("requests.storage", &plural, &group)
          && streq (plural, "persistentvolumeclaims"),
      "requests.storage is counted on claims");
  free (plural);
  ok (!quota_resource_of ("nvidia.com/gpu", &plural, &group), "an unknown name is not counted");
}

static void
test_charge (void)
{
  json_t *q = J ("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"2\","
                 "\"requests.cpu\":\"1\",\"limits.memory\":\"1Gi\"}}}");
  json_t *used = J ("{\"pods\":1,\"requests.cpu\":600,\"limits.memory\":0}");
  json_t *nu = NULL;
  json_t *delta = J ("{\"pods\":1,\"requests.cpu\":300,\"count/pods\":1}");
  char *msg = quota_charge (q, used, delta, &nu);
  is_str (msg, NULL, "within every limit");
  is_int (json_integer_value (json_object_get (nu, "requests.cpu")), 900, "used + delta");
  json_decref (nu);
  json_decref (delta);
  delta = J ("{\"pods\":1,\"requests.cpu\":500,\"limits.memory\":2147483648}");
  msg = quota_charge (q, used, delta, &nu);
  is_str (msg,
          "exceeded quota: q, requested: limits.memory=2Gi,requests.cpu=500m, used: "
          "limits.memory=0,requests.cpu=600m, limited: limits.memory=1Gi,requests.cpu=1",
          "upstream's message, exceeded names sorted");
  free (msg);
  json_decref (delta);
  json_decref (used);
  json_decref (q);
}

static void
test_scopes (void)
{
  json_t *plain = J ("{}");
  json_t *be = J ("{\"spec\":{\"hard\":{\"pods\":\"1\"},\"scopes\":[\"BestEffort\"]}}");
  json_t *term = J ("{\"spec\":{\"scopes\":[\"Terminating\",\"NotBestEffort\"]}}");
  json_t *prio = J ("{\"spec\":{\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":"
                    "\"PriorityClass\",\"operator\":\"In\",\"values\":[\"high\"]}]}}}");
  json_t *pod = J ("{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
  json_t *sized = J ("{\"spec\":{\"activeDeadlineSeconds\":30,\"priorityClassName\":\"high\","
                     "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}");
  ok (quota_in_scope (plain, "configmaps", "", pod), "an unscoped quota counts everything");
  ok (quota_in_scope (be, "pods", "", pod) && !quota_in_scope (be, "pods", "", sized),
      "BestEffort: pods without requests or limits");
  ok (!quota_in_scope (be, "configmaps", "", pod), "a scoped quota counts only pods");
  ok (quota_in_scope (term, "pods", "", sized) && !quota_in_scope (term, "pods", "", pod),
      "Terminating and NotBestEffort together");
  ok (quota_in_scope (prio, "pods", "", sized) && !quota_in_scope (prio, "pods", "", pod),
      "scopeSelector PriorityClass In [high]");
  json_decref (sized), json_decref (pod), json_decref (prio), json_decref (term);
  json_decref (be), json_decref (plain);
}

static void
test_limitrange (void)
{
  json_t *lrs = J ("[{\"spec\":{\"limits\":[{\"type\":\"Container\","
                   "\"default\":{\"cpu\":\"500m\"},\"max\":{\"memory\":\"1Gi\"},"
                   "\"min\":{\"cpu\":\"100m\"},\"maxLimitRequestRatio\":{\"memory\":\"2\"}}]}}]");
  json_t *pod = J ("{\"metadata\":{},\"spec\":{\"containers\":[{\"name\":\"a\"},"
                   "{\"name\":\"b\",\"resources\":{\"limits\":{\"memory\":\"512Mi\"}}}]}}");
  limitrange_default_pod (pod, lrs);
  json_t *c0 = json_array_get (husk_json_path (pod, "spec.containers"), 0);
  json_t *c1 = json_array_get (husk_json_path (pod, "spec.containers"), 1);
  is_str (husk_json_path_str (c0, "resources.limits.cpu"), "500m", "default limit");
  is_str (husk_json_path_str (c0, "resources.limits.memory"), "1Gi", "default limit from max");
  is_str (husk_json_path_str (c0, "resources.requests.cpu"), "500m",
          "default request from the default limit");
  is_str (husk_json_path_str (c1, "resources.requests.memory"), "512Mi",
          "a limit the user gave is the request, not the range's default");
  json_t *ann = husk_json_path (pod, "metadata.annotations");
  is_str (json_string_value (json_object_get (ann, "kubernetes.io/limit-ranger")),
          "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for "
          "container a; cpu request for container b; cpu limit for container b",
          "the annotation lists what was set");
  char *msg = limitrange_check_pod (pod, lrs);
  is_str (msg, NULL, "the defaulted pod complies");
  free (msg);
  json_t *bad = J ("{\"spec\":{\"containers\":[{\"name\":\"x\",\"resources\":{"
                   "\"requests\":{\"cpu\":\"50m\",\"memory\":\"100Mi\"},"
                   "\"limits\":{\"cpu\":\"50m\",\"memory\":\"300Mi\"}}}]}}");
  msg = limitrange_check_pod (bad, lrs);
  is_str (msg,
          "[minimum cpu usage per Container is 100m, but request is 50m, memory max limit to "
          "request ratio per Container is 2, but provided ratio is 3.000000]",
          "min and ratio violations, upstream's words");
  free (msg);
  json_t *nolim = J ("{\"spec\":{\"containers\":[{\"name\":\"x\",\"resources\":{"
                     "\"requests\":{\"cpu\":\"200m\"}}}]}}");
  msg = limitrange_check_pod (nolim, lrs);
  is_str (msg,
          "[maximum memory usage per Container is 1Gi.  No limit is specified, memory max "
          "limit to request ratio per Container is 2, but no request is specified or request "
          "is 0]",
          "missing limit and request");
  free (msg);
  json_decref (nolim);
  json_decref (bad);
  json_decref (pod);
  json_decref (lrs);
}

static void
test_taints (void)
{
  json_t *pod = J ("{\"spec\":{\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\","
                   "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":2}]}}");
  ok (taints_default_tolerations (pod, 300), "a default toleration is added");
  is_int (json_array_size (husk_json_path (pod, "spec.tolerations")), 2,
          "only not-ready (unreachable is tolerated already)");
  ok (!taints_default_tolerations (pod, 300), "idempotent");
  json_t *all = J ("{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}");
  ok (!taints_default_tolerations (all, 300), "a pod tolerating everything gets none");
  json_t *taints = J ("[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\","
                      "\"timeAdded\":\"2026-01-01T00:00:00Z\"},"
                      "{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"}]");
  is_int (taints_eviction_time (pod, taints), 1767225600 + 2,
          "evicted tolerationSeconds after the taint was added");
  is_int (taints_eviction_time (all, taints), -1, "tolerated forever");
  json_t *none = J ("{\"spec\":{}}");
  is_int (taints_eviction_time (none, taints), 0, "an untolerated NoExecute taint: now");
  json_t *t = J ("{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"}");
  ok (taints_tolerates (J ("{\"key\":\"k\",\"value\":\"v\"}"), t), "Equal, any effect");
  ok (!taints_tolerates (J ("{\"key\":\"k\",\"value\":\"w\"}"), t), "another value");
  ok (!taints_tolerates (J ("{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}"), t),
      "another effect");
  json_decref (t);
  json_decref (none);
  json_decref (taints);
  json_decref (all);
  json_decref (pod);
}

static void
test_pvmatch (void)
{
  json_t *pvs
      = J ("[{\"metadata\":{\"name\":\"big\"},\"spec\":{\"storageClassName\":\"m\",\"capacity\":{"
           "\"storage\":\"10Gi\"},\"accessModes\":[\"ReadWriteOnce\"]}},"
           "{\"metadata\":{\"name\":\"small\"},\"spec\":{\"storageClassName\":\"m\",\"capacity\":{"
           "\"storage\":\"2Gi\"},\"accessModes\":[\"ReadWriteOnce\",\"ReadOnlyMany\"]}},"
           "{\"metadata\":{\"name\":\"other\"},\"spec\":{\"storageClassName\":\"x\",\"capacity\":{"
           "\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"]}},"
           "{\"metadata\":{\"name\":\"taken\"},\"spec\":{\"storageClassName\":\"m\",\"capacity\":{"
           "\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],\"claimRef\":{\"namespace\":"
           "\"ns\",\"name\":\"mine\"}}}]");
  json_t *c = J ("{\"metadata\":{\"namespace\":\"ns\",\"name\":\"c\"},\"spec\":{"
                 "\"storageClassName\":\"m\",\"accessModes\":[\"ReadWriteOnce\"],"
                 "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}");
  is_int (pvmatch_find (c, pvs), 1, "the smallest fit of the class (small)");
  json_object_set_new (husk_json_path (c, "spec.resources.requests"), "storage",
                       json_string ("5Gi"));
  is_int (pvmatch_find (c, pvs), 0, "a larger claim gets big");
  json_object_set_new (husk_json_path (c, "spec.resources.requests"), "storage",
                       json_string ("50Gi"));
  is_int (pvmatch_find (c, pvs), -1, "nothing fits");
  json_object_set_new (husk_json_path (c, "spec.resources.requests"), "storage",
                       json_string ("1Gi"));
  json_object_set_new (json_object_get (c, "spec"), "accessModes", J ("[\"ReadWriteMany\"]"));
  is_int (pvmatch_find (c, pvs), -1, "no PV offers ReadWriteMany");
  json_object_set_new (json_object_get (c, "spec"), "accessModes", J ("[\"ReadWriteOnce\"]"));
  json_object_set_new (json_object_get (c, "metadata"), "name", json_string ("mine"));
  is_int (pvmatch_find (c, pvs), 3, "a PV pre-bound to the claim wins");
  json_decref (c);
  json_decref (pvs);
}

/* Upstream's quota admission on Update: the growth of a pod's, claim's or service's usage,
   never the counts, never a decrease, nothing for other kinds. */
static void
test_update_delta (void)
{
  json_t *a = J ("{\"spec\":{\"type\":\"ClusterIP\",\"ports\":[{},{}]}}");
  json_t *b = J ("{\"spec\":{\"type\":\"NodePort\",\"ports\":[{},{}]}}");
  json_t *c = J ("{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{},{}]}}");
  json_t *d = quota_update_delta ("services", "", b, a);
  is_int (json_object_size (d), 1, "ClusterIP -> NodePort: one name grows");
  is_int (json_integer_value (json_object_get (d, "services.nodeports")), 2,
          "services.nodeports by the number of ports");
  json_decref (d);
  d = quota_update_delta ("services", "", c, b);
  is_int (json_object_size (d), 1, "NodePort -> LoadBalancer: only loadbalancers grow");
  is_int (json_integer_value (json_object_get (d, "services.loadbalancers")), 1,
          "services.loadbalancers");
  json_decref (d);
  d = quota_update_delta ("services", "", a, c);
  is_int (json_object_size (d), 0, "a decrease charges nothing");
  json_decref (d);
  json_decref (a);
  json_decref (b);
  json_decref (c);

  a = J ("{\"spec\":{\"storageClassName\":\"fast\",\"resources\":{\"requests\":{\"storage\":"
         "\"1Gi\"}}}}");
  b = J ("{\"spec\":{\"storageClassName\":\"fast\",\"resources\":{\"requests\":{\"storage\":"
         "\"3Gi\"}}}}");
  d = quota_update_delta ("persistentvolumeclaims", "", b, a);
  is_int (json_integer_value (json_object_get (d, "requests.storage")), 2LL << 30,
          "a grown claim charges the growth of requests.storage");
  is_int (
      json_integer_value (json_object_get (d, "fast.storageclass.storage.k8s.io/requests.storage")),
      2LL << 30, "and of its class's requests.storage");
  ok (!json_object_get (d, "persistentvolumeclaims")
          && !json_object_get (d, "count/persistentvolumeclaims"),
      "counts do not change on update");
  json_decref (d);
  json_decref (a);
  json_decref (b);

  a = J ("{\"spec\":{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"100m\"},"
         "\"limits\":{\"memory\":\"1Gi\"}}}]}}");
  b = J ("{\"spec\":{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"300m\"},"
         "\"limits\":{\"memory\":\"512Mi\"}}}]}}");
  d = quota_update_delta ("pods", "", b, a);
  is_int (json_integer_value (json_object_get (d, "requests.cpu")), 200,
          "a pod's cpu request grows by 200m");
  ok (!json_object_get (d, "limits.memory") && !json_object_get (d, "pods"),
      "a shrunk limit and the pod count are not charged");
  json_decref (d);
  d = quota_update_delta ("configmaps", "", b, a);
  is_int (json_object_size (d), 0, "other kinds are charged on create only");
  json_decref (d);
  json_decref (a);
  json_decref (b);
}

int
main (void)
{
  test_format ();
  test_pod_usage ();
  test_charge ();
  test_update_delta ();
  test_scopes ();
  test_limitrange ();
  test_taints ();
  test_pvmatch ();
  return tap_done ();
}
