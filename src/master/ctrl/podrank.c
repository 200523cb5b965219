/* Which pods a ReplicaSet deletes first when it scales down (upstream ActivePodsWithRanks
   with LogarithmicScaleDown and PodDeletionCost, both on by default). */
#include "config.h"

#include <math.h>
#include <time.h>

#include "lib/json.h"
#include "src/master/ctrl/logic.h"

typedef struct ranked
{
  json_t *pod;
  const char *node, *uid;
  int phase; /* Pending 0 < Unknown 1 < Running 2 */
  bool ready;
  int64_t ready_since; /* 0: unknown */
  int64_t created;     /* 0: unknown */
  int32_t cost;        /* controller.kubernetes.io/pod-deletion-cost */
  int32_t restarts;    /* max over containers */
  size_t rank;         /* related pods on the same node */
} ranked;

static int64_t
ts (const char *s)
{
  struct tm tm = { 0 };
  if (!s || !strptime (s, "%Y-%m-%dT%H:%M:%SZ", &tm))
    return 0;
  return (int64_t)timegm (&tm);
}

static void
describe (ranked *r, json_t *pod)
{
  json_t *st = json_object_get (pod, "status");
  const char *phase = json_string_value (json_object_get (st, "phase"));
  r->pod = pod;
  r->node = husk_json_path_str (pod, "spec.nodeName");
  if (r->node && !*r->node)
    r->node = NULL;
  r->uid = husk_json_path_str (pod, "metadata.uid");
  r->phase = !phase || streq (phase, "Pending") ? 0 : streq (phase, "Running") ? 2 : 1;
  json_t *c;
  size_t i;
  json_array_foreach (json_object_get (st, "conditions"), i,
                      c) if (streq (json_string_value (json_object_get (c, "type")) ?: "", "Ready"))
  {
    r->ready = streq (json_string_value (json_object_get (c, "status")) ?: "", "True");
    r->ready_since = ts (json_string_value (json_object_get (c, "lastTransitionTime")));
  }
  r->created = ts (husk_json_path_str (pod, "metadata.creationTimestamp"));
  json_t *ann = husk_json_path (pod, "metadata.annotations");
  const char *cost
      = json_string_value (json_object_get (ann, "controller.kubernetes.io/pod-deletion-cost"));
  r->cost = cost ? (int32_t)strtol (cost, NULL, 10) : 0;
  json_array_foreach (json_object_get (st, "containerStatuses"), i, c)
  {
    int32_t n = (int32_t)json_integer_value (json_object_get (c, "restartCount"));
    r->restarts = n > r->restarts ? n : r->restarts;
  }
}

/* afterOrZero: an unknown time sorts first, then the later one. */
static int
after_or_zero (int64_t a, int64_t b)
{
  if (a == 0 || b == 0)
    return a == 0 ? -1 : 1;
  return a > b ? -1 : 1;
}

static int
log_rank (int64_t t, int64_t now)
{
  double d = ((double)now - (double)t) * 1e9; /* Go durations are nanoseconds */
  return d > 0 ? (int)log2 (d) : -1;
}

static int
by_time (int64_t a, int64_t b, int64_t now, const char *ua, const char *ub)
{
  if (now == 0 || a == 0 || b == 0)
    return after_or_zero (a, b);
  int diff = log_rank (a, now) - log_rank (b, now);
  if (diff == 0)
    return strcmp (ua ? ua : "", ub ? ub : "");
  return diff < 0 ? -1 : 1;
}

static int
cmp_ranked (const void *pa, const void *pb, void *arg)
{
  const ranked *a = pa, *b = pb;
  int64_t now = *(const int64_t *)arg;
  if ((a->node == NULL) != (b->node == NULL))
    return a->node == NULL ? -1 : 1;
  if (a->phase != b->phase)
    return a->phase < b->phase ? -1 : 1;
  if (a->ready != b->ready)
    return !a->ready ? -1 : 1;
  if (a->cost != b->cost)
    return a->cost < b->cost ? -1 : 1;
  if (a->rank != b->rank)
    return a->rank > b->rank ? -1 : 1;
  if (a->ready && b->ready && a->ready_since != b->ready_since)
    return by_time (a->ready_since, b->ready_since, now, a->uid, b->uid);
  if (a->restarts != b->restarts)
    return a->restarts > b->restarts ? -1 : 1;
  if (a->created != b->created)
    return by_time (a->created, b->created, now, a->uid, b->uid);
  return 0;
}

void
ctrl_rank_pods_for_deletion (json_t **pods, size_t n, int64_t now)
{
  ranked *r = xcalloc (n + 1, sizeof *r);
  for (size_t i = 0; i < n; i++)
    describe (&r[i], pods[i]);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      if (r[i].node && r[j].node && streq (r[i].node, r[j].node))
        r[i].rank++;
  qsort_r (r, n, sizeof *r, cmp_ranked, &now);
  for (size_t i = 0; i < n; i++)
    pods[i] = r[i].pod;
  free (r);
}
