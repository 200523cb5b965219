/* Inter-pod affinity and anti-affinity (InterPodAffinity) and topology spread constraints
   (PodTopologySpread): PreFilter counts per topology domain, Filter, and their scores. */
#include "config.h"

#include <errno.h>
#include <math.h>

#include "src/master/sched/sched-internal.h"

#define REASON_AFFINITY      "node(s) didn't match pod affinity rules"
#define REASON_ANTI          "node(s) didn't match pod anti-affinity rules"
#define REASON_EXISTING_ANTI "node(s) didn't satisfy existing pods anti-affinity rules"
#define REASON_SPREAD        "node(s) didn't match pod topology spread constraints"
#define REASON_SPREAD_LABEL  REASON_SPREAD " (missing required label)"

/* Counts are stored with an offset so that a domain with no pods (or a negative sum of
   weights) is still present. */
#define COUNT_OFF ((intptr_t)1 << 40)
static int64_t
count_get (sched_map *m, const char *key, bool *present)
{
  intptr_t v = (intptr_t)sched_map_get (m, key);
  if (present)
    *present = v != 0;
  return v ? v - COUNT_OFF : 0;
}

static void
count_add (sched_map *m, const char *key, int64_t d)
{
  intptr_t v = (intptr_t)sched_map_get (m, key);
  sched_map_put (m, key, (void *)(intptr_t)((v ? v : COUNT_OFF) + d));
}

static char *
pair (const char *key, const char *value)
{
  return xasprintf ("%s\x1f%s", key, value);
}

static bool
in_namespaces (json_t *term, const char *ns, const char *pod_ns)
{
  json_t *list = json_object_get (term, "namespaces");
  json_t *nssel = json_object_get (term, "namespaceSelector");
  json_t *x;
  size_t i;
  if (json_array_size (list) > 0)
    {
      json_array_foreach (list, i, x) if (json_is_string (x)
                                          && streq (json_string_value (x), ns)) return true;
      /* namespaces and an empty namespaceSelector: the union means every namespace. */
      return json_is_object (nssel) && json_object_size (nssel) == 0;
    }
  if (json_is_object (nssel) && json_object_size (nssel) == 0)
    return true;
  return streq (ns, pod_ns);
}

bool
sched_pod_matches_term (const sched_pod *existing, json_t *term, const char *pod_ns)
{
  return in_namespaces (term, existing->ns, pod_ns)
         && sched_label_selector_matches (json_object_get (term, "labelSelector"),
                                          existing->labels);
}

static bool
matches_all_terms (const sched_pod *p, json_t *terms, const char *pod_ns)
{
  json_t *t;
  size_t i;
  if (json_array_size (terms) == 0)
    return false;
  json_array_foreach (terms, i, t) if (!sched_pod_matches_term (p, t, pod_ns)) return false;
  return true;
}

static void
existing_anti_prefilter (sched_cycle *cy)
{
  sched_cache *c = cy->cache;
  for (size_t i = 0; i < c->n_nodes; i++)
    {
      sched_node *n = c->nodes[i];
      if (!n->n_anti)
        continue;
      for (size_t j = 0; j < n->n_pods; j++)
        {
          sched_pod *e = n->pods[j];
          if (!e->has_required_anti || sched_pod_in (cy->removed, cy->n_removed, e))
            continue;
          json_t *terms = husk_json_path (
              e->affinity, "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution");
          json_t *t;
          size_t k;
          json_array_foreach (terms, k, t)
          {
            const char *key = json_string_value (json_object_get (t, "topologyKey"));
            const char *val = key ? sched_node_label (n, key) : NULL;
            if (!val || !sched_pod_matches_term (cy->pod, t, e->ns))
              continue;
            if (!cy->existing_anti)
              cy->existing_anti = sched_map_new ();
            _cleanup_free_ char *p = pair (key, val);
            count_add (cy->existing_anti, p, 1);
          }
        }
    }
}

static void
incoming_prefilter (sched_cycle *cy)
{
  sched_cache *c = cy->cache;
  sched_pod *pod = cy->pod;
  for (size_t i = 0; i < c->n_nodes; i++)
    {
      sched_node *n = c->nodes[i];
      for (size_t j = 0; j < n->n_pods; j++)
        {
          sched_pod *e = n->pods[j];
          json_t *t;
          size_t k;
          if (sched_pod_in (cy->removed, cy->n_removed, e))
            continue;
          if (cy->has_affinity && matches_all_terms (e, cy->aff_terms, pod->ns))
            json_array_foreach (cy->aff_terms, k, t)
            {
              const char *key = json_string_value (json_object_get (t, "topologyKey"));
              const char *val = key ? sched_node_label (n, key) : NULL;
              if (!val)
                continue;
              _cleanup_free_ char *p = pair (key, val);
              count_add (cy->aff_counts, p, 1);
            }
          if (cy->has_anti)
            json_array_foreach (cy->anti_terms, k, t)
            {
              const char *key = json_string_value (json_object_get (t, "topologyKey"));
              const char *val = key ? sched_node_label (n, key) : NULL;
              if (!val || !sched_pod_matches_term (e, t, pod->ns))
                continue;
              _cleanup_free_ char *p = pair (key, val);
              count_add (cy->anti_counts, p, 1);
            }
        }
    }
  cy->aff_self_match = cy->has_affinity && matches_all_terms (pod, cy->aff_terms, pod->ns);
}

/* ---- topology spread ---- */

static json_t *
spread_selector (json_t *con, const sched_pod *pod)
{
  json_t *sel = json_object_get (con, "labelSelector");
  json_t *keys = json_object_get (con, "matchLabelKeys");
  if (!json_is_object (sel))
    return NULL;
  json_t *out = json_deep_copy (sel);
  json_t *k;
  size_t i;
  json_array_foreach (keys, i, k)
  {
    const char *v = json_string_value (json_object_get (pod->labels, json_string_value (k)));
    if (!v)
      continue;
    json_t *exprs = json_object_get (out, "matchExpressions");
    if (!exprs)
      json_object_set_new (out, "matchExpressions", exprs = json_array ());
    json_array_append_new (exprs,
                           json_pack ("{sOss s[s]}", "key", k, "operator", "In", "values", v));
  }
  return out;
}

static bool
node_has_spread_keys (const sched_cycle *cy, const sched_node *n, bool hard)
{
  for (size_t i = 0; i < cy->n_spread; i++)
    if (cy->spread[i].hard == hard && !sched_node_label (n, cy->spread[i].key))
      return false;
  return true;
}

static int
spread_prefilter (sched_cycle *cy, husk_error **err)
{
  json_t *cons = husk_json_path (cy->pod->obj, "spec.topologySpreadConstraints");
  json_t *con;
  size_t i;
  if (json_array_size (cons) == 0)
    return 0;
  cy->spread = xcalloc (json_array_size (cons), sizeof *cy->spread);
  json_array_foreach (cons, i, con)
  {
    sched_spread *s = &cy->spread[cy->n_spread];
    s->key = json_string_value (json_object_get (con, "topologyKey"));
    s->max_skew = json_integer_value (json_object_get (con, "maxSkew"));
    if (s->max_skew > INT32_MAX)
      s->max_skew = INT32_MAX;
    const char *when = json_string_value (json_object_get (con, "whenUnsatisfiable"));
    if (!s->key || s->max_skew <= 0 || !when)
      return husk_err (err, EINVAL,
                       "spec.topologySpreadConstraints[%zu]: topologyKey, maxSkew > 0 and "
                       "whenUnsatisfiable are required",
                       i);
    s->hard = streq (when, "DoNotSchedule");
    s->min_domains = json_integer_value (json_object_get (con, "minDomains"));
    s->selector = spread_selector (con, cy->pod);
    s->counts = sched_map_new ();
    s->self_match = sched_label_selector_matches (s->selector, cy->pod->labels);
    cy->n_spread++;
  }
  sched_cache *c = cy->cache;
  for (size_t ni = 0; ni < c->n_nodes; ni++)
    {
      sched_node *n = c->nodes[ni];
      /* nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore (the defaults). */
      if (!sched_node_matches_pod_affinity_selector (cy, n))
        continue;
      for (size_t k = 0; k < cy->n_spread; k++)
        {
          sched_spread *s = &cy->spread[k];
          if (!node_has_spread_keys (cy, n, s->hard))
            continue;
          int64_t cnt = 0;
          for (size_t j = 0; j < n->n_pods; j++)
            {
              sched_pod *e = n->pods[j];
              if (!e->terminating && streq (e->ns, cy->pod->ns)
                  && !sched_pod_in (cy->removed, cy->n_removed, e)
                  && sched_label_selector_matches (s->selector, e->labels))
                cnt++;
            }
          count_add (s->counts, sched_node_label (n, s->key), cnt);
        }
    }
  for (size_t k = 0; k < cy->n_spread; k++)
    {
      sched_spread *s = &cy->spread[k];
      size_t it = 0;
      const char *key;
      void *v;
      s->min = INT64_MAX;
      while (sched_map_next (s->counts, &it, &key, &v))
        if ((intptr_t)v - COUNT_OFF < s->min)
          s->min = (intptr_t)v - COUNT_OFF;
      if (s->min == INT64_MAX || (int64_t)sched_map_size (s->counts) < s->min_domains)
        s->min = 0;
      s->weight = log ((double)sched_map_size (s->counts) + 2);
    }
  return 0;
}

void
sched_spread_filter (sched_cycle *cy, sched_node *n, sched_status *st)
{
  for (size_t k = 0; k < cy->n_spread; k++)
    {
      sched_spread *s = &cy->spread[k];
      if (!s->hard)
        continue;
      const char *val = sched_node_label (n, s->key);
      if (!val)
        {
          st->code = SCHED_UNRESOLVABLE, st->n = 1, st->reasons[0] = REASON_SPREAD_LABEL;
          return;
        }
      int64_t cnt = count_get (s->counts, val, NULL);
      if (cnt + s->self_match - s->min > s->max_skew)
        {
          st->code = SCHED_UNSCHEDULABLE, st->n = 1, st->reasons[0] = REASON_SPREAD;
          return;
        }
    }
}

int
sched_interpod_prefilter (sched_cycle *cy, husk_error **err)
{
  json_t *aff = husk_json_path (cy->pod->affinity, "podAffinity");
  json_t *anti = husk_json_path (cy->pod->affinity, "podAntiAffinity");
  cy->aff_terms = json_object_get (aff, "requiredDuringSchedulingIgnoredDuringExecution");
  cy->anti_terms = json_object_get (anti, "requiredDuringSchedulingIgnoredDuringExecution");
  cy->has_affinity = json_array_size (cy->aff_terms) > 0;
  cy->has_anti = json_array_size (cy->anti_terms) > 0;
  if (cy->has_affinity)
    cy->aff_counts = sched_map_new ();
  if (cy->has_anti)
    cy->anti_counts = sched_map_new ();
  if (cy->has_affinity || cy->has_anti)
    incoming_prefilter (cy);
  existing_anti_prefilter (cy);
  return spread_prefilter (cy, err);
}

static bool
satisfies_affinity (sched_cycle *cy, sched_node *n)
{
  bool exist = true;
  json_t *t;
  size_t i;
  json_array_foreach (cy->aff_terms, i, t)
  {
    const char *key = json_string_value (json_object_get (t, "topologyKey"));
    const char *val = key ? sched_node_label (n, key) : NULL;
    if (!val)
      return false;
    _cleanup_free_ char *p = pair (key, val);
    if (count_get (cy->aff_counts, p, NULL) <= 0)
      exist = false;
  }
  /* The first pod of a group that selects itself may go anywhere its terms' keys exist. */
  if (!exist)
    return sched_map_size (cy->aff_counts) == 0 && cy->aff_self_match;
  return true;
}

static bool
satisfies_anti (sched_cycle *cy, sched_node *n)
{
  json_t *t;
  size_t i;
  json_array_foreach (cy->anti_terms, i, t)
  {
    const char *key = json_string_value (json_object_get (t, "topologyKey"));
    const char *val = key ? sched_node_label (n, key) : NULL;
    if (!val)
      continue;
    _cleanup_free_ char *p = pair (key, val);
    if (count_get (cy->anti_counts, p, NULL) > 0)
      return false;
  }
  return true;
}

static bool
satisfies_existing_anti (sched_cycle *cy, sched_node *n)
{
  size_t it = 0;
  const char *k;
  void *v;
  if (!cy->existing_anti)
    return true;
  while (sched_map_next (cy->existing_anti, &it, &k, &v))
    {
      const char *sep = strchr (k, '\x1f');
      _cleanup_free_ char *key = xstrndup (k, (size_t)(sep - k));
      const char *have = sched_node_label (n, key);
      if (have && streq (have, sep + 1) && (intptr_t)v - COUNT_OFF > 0)
        return false;
    }
  return true;
}

void
sched_interpod_filter (sched_cycle *cy, sched_node *n, sched_status *st)
{
  if (cy->has_affinity && !satisfies_affinity (cy, n))
    st->code = SCHED_UNRESOLVABLE, st->n = 1, st->reasons[0] = REASON_AFFINITY;
  else if (cy->has_anti && !satisfies_anti (cy, n))
    st->code = SCHED_UNSCHEDULABLE, st->n = 1, st->reasons[0] = REASON_ANTI;
  else if (!satisfies_existing_anti (cy, n))
    st->code = SCHED_UNSCHEDULABLE, st->n = 1, st->reasons[0] = REASON_EXISTING_ANTI;
}

/* ---- scores ---- */

static void
add_weighted_terms (sched_map *dom, json_t *weighted, const sched_pod *subject, const char *ns,
                    const sched_node *at, int sign)
{
  json_t *wt;
  size_t k;
  json_array_foreach (weighted, k, wt)
  {
    json_t *t = json_object_get (wt, "podAffinityTerm");
    int64_t w = json_integer_value (json_object_get (wt, "weight"));
    w = w < 0 ? 0 : w > 100 ? 100 : w; /* validation allows 1..100 */
    const char *key = json_string_value (json_object_get (t, "topologyKey"));
    const char *val = key ? sched_node_label (at, key) : NULL;
    if (!val || !sched_pod_matches_term (subject, t, ns))
      continue;
    _cleanup_free_ char *p = pair (key, val);
    count_add (dom, p, sign * w);
  }
}

/* InterPodAffinity scoring (upstream processExistingPod): the incoming pod's preferred
   terms matched by existing pods, and existing pods' terms matched by the incoming pod
   (required affinity with hardPodAffinityWeight 1, preferred affinity +weight, preferred
   anti-affinity -weight), summed per topology domain; min-max normalized. */
void
sched_score_interpod (sched_cycle *cy, sched_node **nodes, size_t n, int64_t *out)
{
  json_t *pref_aff = husk_json_path (cy->pod->affinity,
                                     "podAffinity.preferredDuringSchedulingIgnoredDuringExecution");
  json_t *pref_anti = husk_json_path (
      cy->pod->affinity, "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution");
  bool own = json_array_size (pref_aff) > 0 || json_array_size (pref_anti) > 0;
  sched_cache *c = cy->cache;
  bool others = false;
  memset (out, 0, n * sizeof *out);
  for (size_t i = 0; i < c->n_nodes && !others; i++)
    others = c->nodes[i]->n_affinity > 0;
  if (!own && !others)
    return;
  sched_map *dom = sched_map_new ();
  for (size_t i = 0; i < c->n_nodes; i++)
    {
      sched_node *at = c->nodes[i];
      if (!own && !at->n_affinity)
        continue;
      for (size_t j = 0; j < at->n_pods; j++)
        {
          sched_pod *e = at->pods[j];
          if (own)
            {
              add_weighted_terms (dom, pref_aff, e, cy->pod->ns, at, 1);
              add_weighted_terms (dom, pref_anti, e, cy->pod->ns, at, -1);
            }
          if (!e->has_pod_affinity)
            continue;
          json_t *t;
          size_t k;
          json_array_foreach (
              husk_json_path (e->affinity,
                              "podAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
              k, t)
          {
            const char *key = json_string_value (json_object_get (t, "topologyKey"));
            const char *val = key ? sched_node_label (at, key) : NULL;
            if (!val || !sched_pod_matches_term (cy->pod, t, e->ns))
              continue;
            _cleanup_free_ char *p = pair (key, val);
            count_add (dom, p, 1); /* hardPodAffinityWeight */
          }
          add_weighted_terms (
              dom,
              husk_json_path (e->affinity,
                              "podAffinity.preferredDuringSchedulingIgnoredDuringExecution"),
              cy->pod, e->ns, at, 1);
          add_weighted_terms (
              dom,
              husk_json_path (e->affinity,
                              "podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"),
              cy->pod, e->ns, at, -1);
        }
    }
  int64_t mn = INT64_MAX, mx = INT64_MIN;
  for (size_t i = 0; i < n; i++)
    {
      size_t it = 0;
      const char *k;
      void *v;
      int64_t s = 0;
      while (sched_map_next (dom, &it, &k, &v))
        {
          const char *sep = strchr (k, '\x1f');
          _cleanup_free_ char *key = xstrndup (k, (size_t)(sep - k));
          const char *have = sched_node_label (nodes[i], key);
          if (have && streq (have, sep + 1))
            s += (intptr_t)v - COUNT_OFF;
        }
      out[i] = s;
      mn = s < mn ? s : mn;
      mx = s > mx ? s : mx;
    }
  for (size_t i = 0; i < n; i++)
    out[i] = mx > mn ? SCHED_MAX_SCORE * (out[i] - mn) / (mx - mn) : 0;
  sched_map_free (dom, NULL);
}

/* ScheduleAnyway constraints: fewer matching pods in a node's domains scores higher. */
void
sched_score_spread (sched_cycle *cy, sched_node **nodes, size_t n, int64_t *out)
{
  bool any = false;
  for (size_t k = 0; k < cy->n_spread; k++)
    any |= !cy->spread[k].hard;
  memset (out, 0, n * sizeof *out);
  if (!any)
    return;
  int64_t mn = INT64_MAX, mx = 0;
  bool *ignored = xcalloc (n, sizeof *ignored);
  for (size_t i = 0; i < n; i++)
    {
      double s = 0;
      if (!node_has_spread_keys (cy, nodes[i], false))
        {
          ignored[i] = true;
          continue;
        }
      for (size_t k = 0; k < cy->n_spread; k++)
        {
          sched_spread *sp = &cy->spread[k];
          if (sp->hard)
            continue;
          int64_t cnt = count_get (sp->counts, sched_node_label (nodes[i], sp->key), NULL);
          s += (double)cnt * sp->weight + (double)(sp->max_skew - 1);
        }
      out[i] = llround (s);
      mn = out[i] < mn ? out[i] : mn;
      mx = out[i] > mx ? out[i] : mx;
    }
  for (size_t i = 0; i < n; i++)
    {
      if (ignored[i])
        out[i] = 0;
      else if (mx == 0)
        out[i] = SCHED_MAX_SCORE;
      else
        out[i] = SCHED_MAX_SCORE * (mx + mn - out[i]) / mx;
    }
  free (ignored);
}
