/* DefaultPreemption: on each node where preemption might help, remove every pod of lower
   priority, check the pod fits, then reprieve victims from the most important down while it
   still fits; pick the node whose victims matter least. */
#include "config.h"

#include "src/master/sched/sched-internal.h"

#define NOT_HELPFUL "Preemption is not helpful for scheduling"
#define NO_VICTIMS  "No preemption victims found for incoming pod"

/* More important first: higher priority, then the pod that has been around longer. */
static int
cmp_importance (const void *a, const void *b)
{
  const sched_pod *x = *(sched_pod *const *)a, *y = *(sched_pod *const *)b;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Runs every filter on n as if the pods in gone were deleted (upstream re-runs the
   filter plugins with the victims removed from a copy of the node). */
static bool
fits_without (sched_cycle *cy, sched_node *n, sched_pod **gone, size_t n_gone, sched_status *st)
{
  sched_res freed = { 0 };
  for (size_t i = 0; i < n_gone; i++)
    sched_res_add (&freed, &gone[i]->req, 1);
  sched_status_clear (st);
  cy->removed = gone;
  cy->n_removed = n_gone;
  cy->freed = &freed;
  if (cy->inter_state)
    sched_cycle_refresh (cy, NULL); /* the pod parsed once already: cannot fail now */
  sched_filter_node (cy, n, st);
  cy->removed = NULL;
  cy->n_removed = 0;
  cy->freed = NULL;
  sched_res_free (&freed);
  return st->code == SCHED_OK;
}

/* Victims on one node, or a status saying why there are none. */
static bool
select_victims (sched_cycle *cy, sched_node *n, sched_pod ***out, size_t *n_out, sched_status *st)
{
  sched_pod **cand = xcalloc (n->n_pods + 1, sizeof *cand);
  size_t nc = 0;
  for (size_t i = 0; i < n->n_pods; i++)
    if (n->pods[i]->priority < cy->pod->priority)
      cand[nc++] = n->pods[i];
  if (nc == 0)
    {
      free (cand);
      sched_status_clear (st);
      *st = (sched_status){ SCHED_UNRESOLVABLE, 1, { NO_VICTIMS }, NULL };
      return false;
    }
  if (!fits_without (cy, n, cand, nc, st))
    {
      free (cand);
      return false;
    }
  qsort (cand, nc, sizeof *cand, cmp_importance);
  /* Reprieve: put pods back one by one, most important first, while the pod still fits. */
  sched_pod **gone = xcalloc (nc, sizeof *gone);
  size_t ng = nc;
  memcpy (gone, cand, nc * sizeof *gone);
  size_t nv = 0;
  for (size_t i = 0; i < nc; i++)
    {
      /* try keeping cand[i]: remove it from `gone` */
      size_t k = 0;
      for (size_t j = 0; j < ng; j++)
        if (gone[j] != cand[i])
          gone[k++] = gone[j];
      sched_status tmp = { 0 };
      if (fits_without (cy, n, gone, k, &tmp))
        ng = k; /* reprieved */
      else
        {
          cand[nv++] = cand[i];
          gone[ng - 1] = cand[i]; /* put back into the removed set */
          ng = k + 1;
        }
      sched_status_clear (&tmp);
    }
  free (gone);
  *out = cand;
  *n_out = nv;
  return true;
}

typedef struct candidate
{
  sched_node *node;
  sched_pod **victims;
  size_t n;
  int64_t max_prio, sum_prio;
} candidate;

/* pickOneNodeForPreemption without PDBs: lowest highest-victim priority, lowest sum of
   priorities, fewest victims, then the first in node order. */
static bool
better (const candidate *a, const candidate *b)
{
  if (a->max_prio != b->max_prio)
    return a->max_prio < b->max_prio;
  if (a->sum_prio != b->sum_prio)
    return a->sum_prio < b->sum_prio;
  return a->n < b->n;
}

void
sched_preempt (sched_cycle *cy, sched_node **nodes, sched_status *statuses, size_t n, size_t n_all,
               sched_preemption *out)
{
  candidate best = { 0 };
  sched_status *pst = xcalloc (n ? n : 1, sizeof *pst);

  *out = (sched_preemption){ 0 };
  if (cy->pod->preempt_never)
    {
      out->message = xstrdup ("preemption: not eligible due to preemptionPolicy=Never.");
      free (pst);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      if (statuses[i].code == SCHED_UNRESOLVABLE)
        {
          pst[i] = (sched_status){ SCHED_UNRESOLVABLE, 1, { NOT_HELPFUL }, NULL };
          continue;
        }
      candidate c = { nodes[i], NULL, 0, INT64_MIN, 0 };
      if (!select_victims (cy, nodes[i], &c.victims, &c.n, &pst[i]))
        continue;
      for (size_t v = 0; v < c.n; v++)
        {
          c.max_prio = c.victims[v]->priority > c.max_prio ? c.victims[v]->priority : c.max_prio;
          c.sum_prio += c.victims[v]->priority;
        }
      if (!best.node || better (&c, &best))
        {
          free (best.victims);
          best = c;
        }
      else
        free (c.victims);
    }
  if (best.node)
    {
      out->node = best.node;
      out->victims = best.victims;
      out->n_victims = best.n;
    }
  else
    {
      _cleanup_free_ char *fit = sched_fit_error_text (n_all, pst, n);
      out->message = xasprintf ("preemption: %s", fit);
    }
  for (size_t i = 0; i < n; i++)
    sched_status_clear (&pst[i]);
  free (pst);
}
