/* libFuzzer target: a pod (JSON from users) through the scheduler: quantities, requests,
   selectors, affinity terms, spread constraints, tolerations; scheduled on a small cluster
   with a bound pod, so every filter and score runs on it. */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "src/master/sched/sched.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static sched_cache *cache;

static void
setup (void)
{
  static const char *nodes[] = {
    "{\"metadata\":{\"name\":\"a\",\"labels\":{\"zone\":\"z1\",\"kubernetes.io/hostname\":\"a\"}},"
    "\"spec\":{\"taints\":[{\"key\":\"k\",\"value\":\"v\",\"effect\":\"PreferNoSchedule\"}]},"
    "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\",\"x.io/"
    "gpu\":\"2\"},"
    "\"images\":[{\"names\":[\"docker.io/library/nginx:latest\"],\"sizeBytes\":100000000}]}}",
    "{\"metadata\":{\"name\":\"b\",\"labels\":{\"zone\":\"z2\",\"kubernetes.io/hostname\":\"b\"}},"
    "\"spec\":{\"unschedulable\":true},\"status\":{\"allocatable\":{\"cpu\":\"2\",\"memory\":"
    "\"4Gi\",\"pods\":\"10\"},"
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}",
    "{\"metadata\":{\"name\":\"c\",\"labels\":{\"zone\":\"z2\"}},"
    "\"status\":{\"allocatable\":{\"cpu\":\"1\",\"memory\":\"1Gi\",\"pods\":\"2\"}}}",
  };
  cache = sched_cache_new ();
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++)
    {
      json_t *n = json_loads (nodes[i], 0, NULL);
      sched_cache_set_node (cache, n, NULL);
      json_decref (n);
    }
  json_t *p = json_loads (
      "{\"metadata\":{\"name\":\"e\",\"labels\":{\"app\":\"x\"}},\"spec\":{\"priority\":1,"
      "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
      "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"y\"}},\"topologyKey\":\"zone\"}]}},"
      "\"containers\":[{\"name\":\"c\",\"ports\":[{\"hostPort\":80}],"
      "\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}",
      0, NULL);
  sched_cache_assume_pod (cache, p, "a", NULL);
  json_decref (p);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (!cache)
    setup ();
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *pod = NULL;
  if (husk_json_parse ((const char *)data, size, &pod, &err) < 0)
    return 0;
  sched_config cfg = { .percentage_of_nodes_to_score = 100, .seed = 1 };
  sched_result r;
  if (sched_schedule (cache, &cfg, pod, &r, &err) == 0)
    sched_result_clear (&r);
  int64_t a, b, c;
  husk_error *e2 = NULL;
  sched_pod_requests (pod, &a, &b, &c, &e2);
  husk_error_free (e2);
  return 0;
}
