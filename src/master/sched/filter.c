/* Node-local filters, in the order of upstream's default profile: NodeUnschedulable,
   NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, then
   PodTopologySpread and InterPodAffinity (interpod.c). Reasons are upstream's words. */
#include "config.h"

#include "src/master/sched/sched-internal.h"

#define REASON_UNSCHEDULABLE "node(s) were unschedulable"
#define REASON_NODE_NAME     "node(s) didn't match the requested node name"
#define REASON_AFFINITY      "node(s) didn't match Pod's node affinity/selector"
#define REASON_PORTS         "node(s) didn't have free ports for the requested pod ports"

void
sched_status_clear (sched_status *s)
{
  free (s->owned);
  *s = (sched_status){ 0 };
}

static void
fail (sched_status *st, int code, const char *reason)
{
  st->code = code;
  st->n = 1;
  st->reasons[0] = reason;
}

static bool
filter_unschedulable (sched_cycle *cy, sched_node *n, sched_status *st)
{
  if (n->unschedulable
      && !sched_tolerates (cy->pod->tolerations, "node.kubernetes.io/unschedulable", "",
                           SCHED_NO_SCHEDULE))
    {
      fail (st, SCHED_UNRESOLVABLE, REASON_UNSCHEDULABLE);
      return false;
    }
  return true;
}

static bool
filter_node_name (sched_cycle *cy, sched_node *n, sched_status *st)
{
  const char *want = cy->pod->node; /* the incoming pod's spec.nodeName */
  if (want && *want && !streq (want, n->name))
    {
      fail (st, SCHED_UNRESOLVABLE, REASON_NODE_NAME);
      return false;
    }
  return true;
}

static bool
filter_taints (sched_cycle *cy, sched_node *n, sched_status *st)
{
  for (size_t i = 0; i < n->n_taints; i++)
    {
      sched_taint *t = &n->taints[i];
      if (t->effect == SCHED_PREFER_NO_SCHEDULE)
        continue;
      if (sched_tolerates (cy->pod->tolerations, t->key, t->value, t->effect))
        continue;
      st->owned = xasprintf ("node(s) had untolerated taint {%s: %s}", t->key, t->value);
      fail (st, SCHED_UNRESOLVABLE, st->owned);
      return false;
    }
  return true;
}

bool
sched_node_matches_pod_affinity_selector (const sched_cycle *cy, const sched_node *n)
{
  const char *k;
  json_t *v;
  json_object_foreach (cy->node_selector, k, v)
  {
    const char *have = sched_node_label (n, k);
    if (!have || !json_is_string (v) || !streq (have, json_string_value (v)))
      return false;
  }
  if (cy->required_present
      && !sched_node_selector_terms_match (cy->required_terms, n->labels, n->name))
    return false;
  return true;
}

static bool
filter_node_affinity (sched_cycle *cy, sched_node *n, sched_status *st)
{
  if (!sched_node_matches_pod_affinity_selector (cy, n))
    {
      fail (st, SCHED_UNRESOLVABLE, REASON_AFFINITY);
      return false;
    }
  return true;
}

bool
sched_pod_in (sched_pod *const *set, size_t n, const sched_pod *p)
{
  for (size_t i = 0; i < n; i++)
    if (set[i] == p)
      return true;
  return false;
}

bool
sched_ports_free (const sched_pod *pod, const sched_node *n, sched_pod *const *removed,
                  size_t n_removed)
{
  if (pod->n_ports == 0 || n->n_port_pods == 0)
    return true;
  for (size_t i = 0; i < n->n_pods; i++)
    {
      const sched_pod *o = n->pods[i];
      if (o->n_ports == 0 || sched_pod_in (removed, n_removed, o))
        continue;
      for (size_t a = 0; a < pod->n_ports; a++)
        for (size_t b = 0; b < o->n_ports; b++)
          {
            const sched_port *x = &pod->ports[a], *y = &o->ports[b];
            if (x->port != y->port || x->proto != y->proto)
              continue;
            if (streq (x->ip, "0.0.0.0") || streq (y->ip, "0.0.0.0") || streq (x->ip, y->ip))
              return false;
          }
    }
  return true;
}

/* upstream fitsRequest. `freed` (may be NULL) are the requests of pods preemption would
   remove. Sets every insufficient resource as a reason. */
bool
sched_fits_resources (const sched_pod *pod, const sched_node *n, const sched_res *freed,
                      sched_status *st)
{
  const sched_res *r = &pod->req;
  typedef __int128 i128;
  int64_t f_cpu = freed ? freed->milli_cpu : 0, f_mem = freed ? freed->memory : 0;
  int64_t f_eph = freed ? freed->ephemeral : 0, f_pods = freed ? freed->pods : 0;
  const char *bad_scalar[SCHED_MAX_REASONS];
  size_t n_bad = 0;

  st->n = 0;
  if ((i128)n->n_pods - f_pods + 1 > n->alloc.pods)
    st->reasons[st->n++] = "Too many pods";
  if (r->milli_cpu > 0
      && r->milli_cpu > (i128)n->alloc.milli_cpu - ((i128)n->req.milli_cpu - f_cpu))
    st->reasons[st->n++] = "Insufficient cpu";
  if (r->memory > 0 && r->memory > (i128)n->alloc.memory - ((i128)n->req.memory - f_mem))
    st->reasons[st->n++] = "Insufficient memory";
  if (r->ephemeral > 0
      && r->ephemeral > (i128)n->alloc.ephemeral - ((i128)n->req.ephemeral - f_eph))
    st->reasons[st->n++] = "Insufficient ephemeral-storage";
  for (size_t i = 0; i < r->n_scalar && st->n + n_bad < SCHED_MAX_REASONS; i++)
    {
      const sched_scalar *s = &r->scalar[i];
      i128 used = (i128)sched_res_scalar (&n->req, s->name)
                  - (freed ? sched_res_scalar (freed, s->name) : 0);
      if (s->v > 0 && s->v > (i128)sched_res_scalar (&n->alloc, s->name) - used)
        bad_scalar[n_bad++] = s->name;
    }
  if (n_bad)
    {
      size_t len = 0;
      for (size_t i = 0; i < n_bad; i++)
        len += strlen ("Insufficient ") + strlen (bad_scalar[i]) + 1;
      char *buf = st->owned = xmalloc (len);
      for (size_t i = 0; i < n_bad; i++)
        {
          st->reasons[st->n++] = buf;
          buf += sprintf (buf, "Insufficient %s", bad_scalar[i]) + 1;
        }
    }
  if (st->n)
    {
      st->code = SCHED_UNSCHEDULABLE;
      return false;
    }
  return true;
}

void
sched_filter_node (sched_cycle *cy, sched_node *n, sched_status *st)
{
  if (!filter_unschedulable (cy, n, st) || !filter_node_name (cy, n, st)
      || !filter_taints (cy, n, st) || !filter_node_affinity (cy, n, st))
    return;
  if (!sched_ports_free (cy->pod, n, cy->removed, cy->n_removed))
    {
      fail (st, SCHED_UNSCHEDULABLE, REASON_PORTS);
      return;
    }
  if (!sched_fits_resources (cy->pod, n, cy->freed, st))
    return;
  if (cy->n_pv_terms || cy->n_static)
    {
      sched_volume_filter (cy, n, st);
      if (st->code)
        return;
    }
  if (cy->n_spread)
    {
      sched_spread_filter (cy, n, st);
      if (st->code)
        return;
    }
  sched_interpod_filter (cy, n, st);
}
