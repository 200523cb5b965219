/* The scheduling queue (upstream's PriorityQueue, simplified): pending pods wait in an
   active heap ordered by PrioritySort (higher priority, then earlier arrival); a pod that
   failed waits in the unschedulable set until the cluster changes (sched_queue_move_all)
   or 5 minutes pass, then sits out its back-off (1 s doubling to 10 s per attempt). */
#include "config.h"

#include "src/master/sched/queue.h"
#include "src/master/sched/sched-internal.h"

#define INITIAL_BACKOFF_MS   1000
#define MAX_BACKOFF_MS       10000
#define MAX_UNSCHEDULABLE_MS (5 * 60 * 1000)

enum
{
  IN_ACTIVE,
  IN_BACKOFF,
  IN_UNSCHEDULABLE,
  IN_FLIGHT, /* popped, being scheduled */
};

typedef struct entry
{
  char *key;
  int32_t priority;
  int64_t arrived, last_try;
  uint64_t seq;
  int attempts, where;
  size_t heap_i;
} entry;

struct sched_queue
{
  sched_map *by_key;
  entry **heap;
  size_t n_heap, cap_heap;
  uint64_t seq;
};

static bool
before (const entry *a, const entry *b)
{
  if (a->priority != b->priority)
    return a->priority > b->priority;
  if (a->arrived != b->arrived)
    return a->arrived < b->arrived;
  return a->seq < b->seq;
}

static void
heap_set (sched_queue *q, size_t i, entry *e)
{
  q->heap[i] = e;
  e->heap_i = i;
}

static void
sift_up (sched_queue *q, size_t i)
{
  entry *e = q->heap[i];
  while (i > 0 && before (e, q->heap[(i - 1) / 2]))
    {
      heap_set (q, i, q->heap[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
  heap_set (q, i, e);
}

static void
sift_down (sched_queue *q, size_t i)
{
  entry *e = q->heap[i];
  for (;;)
    {
      size_t l = 2 * i + 1, best = i;
      entry *b = e;
      if (l < q->n_heap && before (q->heap[l], b))
        best = l, b = q->heap[l];
      if (l + 1 < q->n_heap && before (q->heap[l + 1], b))
        best = l + 1, b = q->heap[l + 1];
      if (best == i)
        break;
      heap_set (q, i, b);
      i = best;
    }
  heap_set (q, i, e);
}

static void
heap_push (sched_queue *q, entry *e)
{
  if (q->n_heap == q->cap_heap)
    {
      q->cap_heap = q->cap_heap ? q->cap_heap * 2 : 64;
      q->heap = xreallocarray (q->heap, q->cap_heap, sizeof *q->heap);
    }
  heap_set (q, q->n_heap++, e);
  sift_up (q, e->heap_i);
  e->where = IN_ACTIVE;
}

static void
heap_remove (sched_queue *q, entry *e)
{
  size_t i = e->heap_i;
  entry *last = q->heap[--q->n_heap];
  if (i == q->n_heap)
    return;
  heap_set (q, i, last);
  sift_up (q, i);
  sift_down (q, last->heap_i);
}

sched_queue *
sched_queue_new (void)
{
  sched_queue *q = xzalloc (sizeof *q);
  q->by_key = sched_map_new ();
  return q;
}

static void
entry_free (void *p)
{
  entry *e = p;
  free (e->key);
  free (e);
}

void
sched_queue_free (sched_queue *q)
{
  if (!q)
    return;
  sched_map_free (q->by_key, entry_free);
  free (q->heap);
  free (q);
}

int64_t
sched_queue_backoff_ms (int attempts)
{
  int64_t d = INITIAL_BACKOFF_MS;
  for (int i = 1; i < attempts; i++)
    {
      if (d > MAX_BACKOFF_MS - d)
        return MAX_BACKOFF_MS;
      d += d;
    }
  return d;
}

void
sched_queue_add (sched_queue *q, const char *key, int32_t priority, int64_t now_ms)
{
  entry *e = sched_map_get (q->by_key, key);
  if (e)
    {
      /* An update: new priority; a pod waiting for a cluster change is worth a new try. */
      if (e->where == IN_ACTIVE)
        heap_remove (q, e);
      e->priority = priority;
      if (e->where != IN_FLIGHT)
        heap_push (q, e);
      return;
    }
  e = xzalloc (sizeof *e);
  e->key = xstrdup (key);
  e->priority = priority;
  e->arrived = now_ms;
  e->seq = q->seq++;
  sched_map_put (q->by_key, key, e);
  heap_push (q, e);
}

void
sched_queue_remove (sched_queue *q, const char *key)
{
  entry *e = sched_map_del (q->by_key, key);
  if (!e)
    return;
  if (e->where == IN_ACTIVE)
    heap_remove (q, e);
  entry_free (e);
}

/* Back-offs that ended, and pods unschedulable for too long, become active. */
static void
flush (sched_queue *q, int64_t now_ms)
{
  size_t it = 0;
  const char *k;
  void *v;
  while (sched_map_next (q->by_key, &it, &k, &v))
    {
      entry *e = v;
      if (e->where == IN_BACKOFF && now_ms >= e->last_try + sched_queue_backoff_ms (e->attempts))
        heap_push (q, e);
      else if (e->where == IN_UNSCHEDULABLE && now_ms - e->last_try >= MAX_UNSCHEDULABLE_MS)
        heap_push (q, e);
    }
}

char *
sched_queue_pop (sched_queue *q, int64_t now_ms)
{
  flush (q, now_ms);
  if (q->n_heap == 0)
    return NULL;
  entry *e = q->heap[0];
  heap_remove (q, e);
  e->where = IN_FLIGHT;
  return xstrdup (e->key);
}

void
sched_queue_done (sched_queue *q, const char *key)
{
  sched_queue_remove (q, key);
}

void
sched_queue_unschedulable (sched_queue *q, const char *key, int64_t now_ms)
{
  entry *e = sched_map_get (q->by_key, key);
  if (!e)
    return;
  if (e->where == IN_ACTIVE)
    heap_remove (q, e);
  e->attempts++;
  e->last_try = now_ms;
  e->where = IN_UNSCHEDULABLE;
}

void
sched_queue_move_all (sched_queue *q, int64_t now_ms)
{
  size_t it = 0;
  const char *k;
  void *v;
  while (sched_map_next (q->by_key, &it, &k, &v))
    {
      entry *e = v;
      if (e->where != IN_UNSCHEDULABLE)
        continue;
      if (now_ms >= e->last_try + sched_queue_backoff_ms (e->attempts))
        heap_push (q, e);
      else
        e->where = IN_BACKOFF;
    }
}

int64_t
sched_queue_wait_ms (sched_queue *q, int64_t now_ms)
{
  int64_t best = -1;
  size_t it = 0;
  const char *k;
  void *v;
  if (q->n_heap)
    return 0;
  while (sched_map_next (q->by_key, &it, &k, &v))
    {
      entry *e = v;
      int64_t at = e->where == IN_BACKOFF ? e->last_try + sched_queue_backoff_ms (e->attempts)
                   : e->where == IN_UNSCHEDULABLE ? e->last_try + MAX_UNSCHEDULABLE_MS
                                                  : -1;
      if (at < 0)
        continue;
      int64_t w = at > now_ms ? at - now_ms : 0;
      if (best < 0 || w < best)
        best = w;
    }
  return best;
}

void
sched_queue_counts (const sched_queue *q, size_t *active, size_t *backoff, size_t *unschedulable)
{
  size_t it = 0, a = 0, b = 0, u = 0;
  const char *k;
  void *v;
  while (sched_map_next (q->by_key, &it, &k, &v))
    {
      entry *e = v;
      a += e->where == IN_ACTIVE;
      b += e->where == IN_BACKOFF;
      u += e->where == IN_UNSCHEDULABLE;
    }
  *active = a;
  *backoff = b;
  *unschedulable = u;
}
