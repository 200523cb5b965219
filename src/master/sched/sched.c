/* One scheduling cycle (upstream's schedulePod): PreFilter, Filter over a rotating window of
   nodes (percentageOfNodesToScore), Score with the default plugin weights, select; or the
   FitError text and preemption when nothing fits. */
#include "config.h"

#include <errno.h>

#include "src/master/sched/sched-internal.h"

/* Default plugin weights (upstream getDefaultPlugins). */
#define W_TAINT         3
#define W_NODE_AFFINITY 2
#define W_FIT           1
#define W_SPREAD        2
#define W_INTERPOD      2
#define W_BALANCED      1
#define W_IMAGE         1

void
sched_result_clear (sched_result *r)
{
  free (r->node);
  free (r->message);
  free (r->nominated_node);
  for (size_t i = 0; i < r->n_victims; i++)
    free (r->victims[i]);
  free (r->victims);
  *r = (sched_result){ 0 };
}

int
sched_cycle_init (sched_cycle *cy, sched_cache *c, sched_pod *pod, husk_error **err)
{
  *cy = (sched_cycle){ 0 };
  cy->cache = c;
  cy->pod = pod;
  cy->node_selector = husk_json_path (pod->obj, "spec.nodeSelector");
  json_t *req = husk_json_path (pod->affinity,
                                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
  if (req && !json_is_null (req))
    {
      cy->required_present = true;
      cy->required_terms = json_object_get (req, "nodeSelectorTerms");
    }
  sched_volume_prefilter (cy);
  int ret = sched_interpod_prefilter (cy, err);
  cy->inter_state = cy->has_affinity || cy->has_anti || cy->n_spread || cy->existing_anti;
  return ret;
}

static void
prefilter_clear (sched_cycle *cy)
{
  sched_map_free (cy->aff_counts, NULL);
  sched_map_free (cy->anti_counts, NULL);
  sched_map_free (cy->existing_anti, NULL);
  for (size_t i = 0; i < cy->n_spread; i++)
    {
      json_decref (cy->spread[i].selector);
      sched_map_free (cy->spread[i].counts, NULL);
    }
  free (cy->spread);
  cy->aff_counts = cy->anti_counts = cy->existing_anti = NULL;
  cy->spread = NULL;
  cy->n_spread = 0;
}

int
sched_cycle_refresh (sched_cycle *cy, husk_error **err)
{
  prefilter_clear (cy);
  return sched_interpod_prefilter (cy, err);
}

void
sched_cycle_clear (sched_cycle *cy)
{
  prefilter_clear (cy);
  sched_volume_clear (cy);
  *cy = (sched_cycle){ 0 };
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

char *
sched_fit_error_text (size_t n_nodes, sched_status *statuses, size_t n)
{
  sched_map *hist = sched_map_new ();
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < statuses[i].n; j++)
      {
        intptr_t v = (intptr_t)sched_map_get (hist, statuses[i].reasons[j]);
        sched_map_put (hist, statuses[i].reasons[j], (void *)(v + 1));
      }
  size_t m = sched_map_size (hist), k = 0, it = 0;
  char **lines = xcalloc (m + 1, sizeof *lines);
  const char *key;
  void *v;
  while (sched_map_next (hist, &it, &key, &v))
    lines[k++] = xasprintf ("%ld %s", (long)(intptr_t)v, key);
  /* upstream sorts the "<count> <reason>" strings themselves */
  qsort (lines, m, sizeof *lines, cmp_str);
  size_t len = 64;
  for (size_t i = 0; i < m; i++)
    len += strlen (lines[i]) + 2;
  char *out = xmalloc (len);
  int off = sprintf (out, "0/%zu nodes are available:", n_nodes);
  for (size_t i = 0; i < m; i++)
    {
      off += sprintf (out + off, "%s%s", i ? ", " : " ", lines[i]);
      free (lines[i]);
    }
  if (m)
    strcpy (out + off, ".");
  free (lines);
  sched_map_free (hist, NULL);
  return out;
}

/* upstream numFeasibleNodesToFind */
static size_t
nodes_to_find (const sched_config *cfg, size_t all)
{
  int pct = cfg ? cfg->percentage_of_nodes_to_score : 0;
  if (all < 100 || pct >= 100)
    return all;
  if (pct <= 0)
    {
      pct = 50 - (int)(all / 125);
      if (pct < 5)
        pct = 5;
    }
  size_t n = all * (size_t)pct / 100;
  return n < 100 ? 100 : n;
}

static uint64_t
rng_next (uint64_t *s)
{
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* Weighted sum of every score plugin for the feasible nodes. */
static void
score_nodes (sched_cycle *cy, const sched_config *cfg, sched_node **feas, size_t n, int64_t *total)
{
  int64_t *aff = xcalloc (n, sizeof *aff), *taint = xcalloc (n, sizeof *taint);
  int64_t *inter = xcalloc (n, sizeof *inter), *spread = xcalloc (n, sizeof *spread);
  for (size_t i = 0; i < n; i++)
    {
      aff[i] = sched_score_node_affinity_raw (cy->pod, feas[i]);
      taint[i] = sched_score_taint_raw (cy->pod, feas[i]);
    }
  sched_score_normalize_default (aff, n, false);
  sched_score_normalize_default (taint, n, true);
  sched_score_interpod (cy, feas, n, inter);
  sched_score_spread (cy, feas, n, spread);
  for (size_t i = 0; i < n; i++)
    total[i] = W_FIT * sched_score_resources (cfg, cy->pod, feas[i])
               + W_BALANCED * sched_score_balanced (cy->pod, feas[i])
               + W_IMAGE * sched_score_image_locality (cy->cache, cy->pod, feas[i])
               + W_NODE_AFFINITY * aff[i] + W_TAINT * taint[i] + W_INTERPOD * inter[i]
               + W_SPREAD * spread[i];
  free (aff);
  free (taint);
  free (inter);
  free (spread);
}

typedef struct walk
{
  sched_node **feas;
  size_t n_feas;
  sched_node **failed;
  sched_status *st;
  size_t n_failed;
} walk;

static void
walk_clear (walk *w)
{
  for (size_t i = 0; i < w->n_failed; i++)
    sched_status_clear (&w->st[i]);
  free (w->st);
  free (w->failed);
  free (w->feas);
}

static void
filter_nodes (sched_cycle *cy, const sched_config *cfg, walk *w)
{
  sched_cache *c = cy->cache;
  size_t all = c->n_nodes, want = nodes_to_find (cfg, all), done = 0;
  size_t start = all ? c->next_start % all : 0;
  w->feas = xcalloc (all + 1, sizeof *w->feas);
  for (; done < all && w->n_feas < want; done++)
    {
      sched_node *n = c->nodes[(start + done) % all];
      sched_status st = { 0 };
      sched_filter_node (cy, n, &st);
      if (st.code == SCHED_OK)
        {
          w->feas[w->n_feas++] = n;
          continue;
        }
      w->failed = xreallocarray (w->failed, w->n_failed + 1, sizeof *w->failed);
      w->st = xreallocarray (w->st, w->n_failed + 1, sizeof *w->st);
      w->failed[w->n_failed] = n;
      w->st[w->n_failed++] = st;
    }
  c->next_start = all ? (start + done) % all : 0;
}

static void
no_fit (sched_cycle *cy, walk *w, sched_result *out)
{
  size_t all = cy->cache->n_nodes;
  _cleanup_free_ char *fit = sched_fit_error_text (all, w->st, w->n_failed);
  sched_preemption pre;
  sched_preempt (cy, w->failed, w->st, w->n_failed, all, &pre);
  if (pre.node)
    {
      out->nominated_node = xstrdup (pre.node->name);
      out->victims = xcalloc (pre.n_victims + 1, sizeof *out->victims);
      for (size_t i = 0; i < pre.n_victims; i++)
        out->victims[i] = xstrdup (pre.victims[i]->key);
      out->n_victims = pre.n_victims;
      out->message = TAKE_PTR (fit);
    }
  else
    {
      size_t l = strlen (pre.message);
      if (l && pre.message[l - 1] == '.')
        pre.message[l - 1] = '\0';
      out->message = xasprintf ("%s %s.", fit, pre.message);
    }
  free (pre.victims);
  free (pre.message);
}

static int
run_cycle (sched_cache *c, const sched_config *cfg, json_t *pod_obj, sched_result *out,
           const char *only_node, int64_t *only_score, husk_error **err)
{
  sched_pod *pod = NULL;
  sched_cycle cy = { 0 };
  walk w = { 0 };
  int ret = sched_pod_parse (pod_obj, &pod, err);
  if (ret < 0)
    return ret;
  ret = sched_cycle_init (&cy, c, pod, err);
  if (ret < 0)
    goto done;
  if (c->n_nodes == 0)
    {
      out->message = xstrdup ("no nodes available to schedule pods");
      goto done;
    }
  if (cy.prefilter_msg)
    {
      /* A PreFilter failure: no node is evaluated, preemption cannot help (upstream). */
      size_t all = c->n_nodes;
      out->message = xasprintf ("0/%zu nodes are available: %s. preemption: 0/%zu nodes are "
                                "available: %zu Preemption is not helpful for scheduling.",
                                all, cy.prefilter_msg, all, all);
      goto done;
    }
  /* A pod nominated by an earlier preemption goes back to its node if it fits now
     (upstream evaluateNominatedNode). */
  const char *nominated = husk_json_path_str (pod_obj, "status.nominatedNodeName");
  sched_node *nn = nominated && !only_node ? sched_map_get (c->node_by_name, nominated) : NULL;
  if (nn)
    {
      sched_status st = { 0 };
      sched_filter_node (&cy, nn, &st);
      sched_status_clear (&st);
      if (st.code == SCHED_OK)
        {
          out->node = xstrdup (nn->name);
          out->feasible = 1;
          goto done;
        }
    }
  sched_config every = cfg ? *cfg : (sched_config){ 0 };
  if (only_node)
    every.percentage_of_nodes_to_score = 100;
  filter_nodes (&cy, &every, &w);
  out->feasible = w.n_feas;
  if (w.n_feas == 0)
    {
      if (only_node)
        ret = -ENOENT;
      else
        no_fit (&cy, &w, out);
      goto done;
    }
  int64_t *score = xcalloc (w.n_feas, sizeof *score);
  if (w.n_feas > 1 || only_node)
    score_nodes (&cy, cfg, w.feas, w.n_feas, score);
  /* Highest score; ties broken at random (reservoir sampling, as upstream). */
  size_t best = 0, ties = 1;
  if (cfg && cfg->seed && c->seed != cfg->seed)
    c->seed = c->rng = cfg->seed;
  for (size_t i = 1; i < w.n_feas; i++)
    if (score[i] > score[best])
      best = i, ties = 1;
    else if (score[i] == score[best] && rng_next (&c->rng) % ++ties == 0)
      best = i;
  if (only_node)
    {
      ret = -ENOENT;
      for (size_t i = 0; i < w.n_feas; i++)
        if (streq (w.feas[i]->name, only_node))
          *only_score = score[i], ret = 0;
    }
  else
    out->node = xstrdup (w.feas[best]->name);
  free (score);
done:
  walk_clear (&w);
  sched_cycle_clear (&cy);
  sched_pod_free (pod);
  return ret;
}

int
sched_schedule (sched_cache *c, const sched_config *cfg, json_t *pod, sched_result *out,
                husk_error **err)
{
  *out = (sched_result){ 0 };
  int ret = run_cycle (c, cfg, pod, out, NULL, NULL, err);
  if (ret < 0)
    sched_result_clear (out);
  return ret;
}

int
sched_score_node (sched_cache *c, const sched_config *cfg, json_t *pod, const char *node,
                  int64_t *score, husk_error **err)
{
  sched_result r = { 0 };
  int ret = run_cycle (c, cfg, pod, &r, node, score, err);
  sched_result_clear (&r);
  return ret;
}
