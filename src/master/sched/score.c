/* Node-local scores: NodeResourcesFit (LeastAllocated / MostAllocated), BalancedAllocation,
   ImageLocality, NodeAffinity (preferred) and TaintToleration (PreferNoSchedule), with
   upstream's formulas and normalization. */
#include "config.h"

#include <math.h>

#include "src/master/sched/sched-internal.h"

static int64_t
least_requested (int64_t requested, int64_t capacity)
{
  if (capacity <= 0 || requested > capacity)
    return 0;
  return (int64_t)((__int128)(capacity - requested) * SCHED_MAX_SCORE / capacity);
}

static int64_t
most_requested (int64_t requested, int64_t capacity)
{
  if (capacity <= 0)
    return 0;
  if (requested > capacity)
    requested = capacity; /* pods without requests count with the non-zero defaults */
  return (int64_t)((__int128)requested * SCHED_MAX_SCORE / capacity);
}

/* cpu and memory, weight 1 each; resources a node does not offer are skipped. */
int64_t
sched_score_resources (const sched_config *cfg, const sched_pod *pod, const sched_node *n)
{
  int64_t req[2]
      = { sched_sat_add (n->nz_cpu, pod->nz_cpu), sched_sat_add (n->nz_mem, pod->nz_mem) };
  int64_t cap[2] = { n->alloc.milli_cpu, n->alloc.memory };
  int64_t sum = 0, weights = 0;
  for (int i = 0; i < 2; i++)
    {
      if (cap[i] <= 0)
        continue;
      sum += cfg && cfg->strategy == SCHED_MOST_ALLOCATED ? most_requested (req[i], cap[i])
                                                          : least_requested (req[i], cap[i]);
      weights++;
    }
  return weights ? sum / weights : 0;
}

int64_t
sched_score_balanced (const sched_pod *pod, const sched_node *n)
{
  int64_t req[2]
      = { sched_sat_add (n->nz_cpu, pod->nz_cpu), sched_sat_add (n->nz_mem, pod->nz_mem) };
  int64_t cap[2] = { n->alloc.milli_cpu, n->alloc.memory };
  double f[2];
  int k = 0;
  for (int i = 0; i < 2; i++)
    {
      if (cap[i] <= 0)
        continue;
      double x = (double)req[i] / (double)cap[i];
      f[k++] = x > 1 ? 1 : x;
    }
  double std = k == 2 ? fabs ((f[0] - f[1]) / 2) : 0;
  return (int64_t)((1 - std) * SCHED_MAX_SCORE);
}

#define MB                            (1024LL * 1024)
#define IMAGE_MIN_THRESHOLD           (23 * MB)
#define IMAGE_MAX_CONTAINER_THRESHOLD (1000 * MB)

/* Sum over the pod's images present on the node of size x (share of nodes holding it),
   clamped between 23 MB and 1000 MB per container, scaled to 0..100. */
int64_t
sched_score_image_locality (const sched_cache *c, const sched_pod *pod, const sched_node *n)
{
  int64_t sum = 0;
  if (pod->n_images == 0 || c->n_nodes == 0)
    return 0;
  for (size_t i = 0; i < pod->n_images; i++)
    {
      const char *name = pod->images[i];
      for (size_t j = 0; j < n->n_images; j++)
        if (streq (n->images[j].name, name))
          {
            double spread
                = (double)(intptr_t)sched_map_get (c->image_nodes, name) / (double)c->n_nodes;
            double add = (double)n->images[j].size * spread;
            sum = add >= 9e18 ? INT64_MAX : sched_sat_add (sum, add > 0 ? (int64_t)add : 0);
            break;
          }
    }
  int64_t max
      = IMAGE_MAX_CONTAINER_THRESHOLD * (int64_t)(pod->n_images > 1000 ? 1000 : pod->n_images);
  if (sum < IMAGE_MIN_THRESHOLD)
    sum = IMAGE_MIN_THRESHOLD;
  else if (sum > max)
    sum = max;
  return SCHED_MAX_SCORE * (sum - IMAGE_MIN_THRESHOLD) / (max - IMAGE_MIN_THRESHOLD);
}

int64_t
sched_score_node_affinity_raw (const sched_pod *pod, const sched_node *n)
{
  json_t *pref = pod->pref_node_terms;
  json_t *t;
  size_t i;
  int64_t s = 0;
  json_array_foreach (pref, i, t)
  {
    int64_t w = json_integer_value (json_object_get (t, "weight"));
    w = w < 0 ? 0 : w > 100 ? 100 : w; /* validation allows 1..100 */
    if (w
        && sched_node_selector_term_matches (json_object_get (t, "preference"), n->labels, n->name))
      s += w;
  }
  return s;
}

int64_t
sched_score_taint_raw (const sched_pod *pod, const sched_node *n)
{
  int64_t cnt = 0;
  for (size_t i = 0; i < n->n_taints; i++)
    if (n->taints[i].effect == SCHED_PREFER_NO_SCHEDULE
        && !sched_tolerates (pod->tolerations, n->taints[i].key, n->taints[i].value,
                             SCHED_PREFER_NO_SCHEDULE))
      cnt++;
  return cnt;
}

/* upstream helper.DefaultNormalizeScore. */
void
sched_score_normalize_default (int64_t *s, size_t n, bool reverse)
{
  int64_t max = 0;
  for (size_t i = 0; i < n; i++)
    max = s[i] > max ? s[i] : max;
  if (max == 0)
    {
      if (reverse)
        for (size_t i = 0; i < n; i++)
          s[i] = SCHED_MAX_SCORE;
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      s[i] = SCHED_MAX_SCORE * s[i] / max;
      if (reverse)
        s[i] = SCHED_MAX_SCORE - s[i];
    }
}
