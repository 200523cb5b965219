/* The scheduling queue: priority order, unschedulable pods waiting for a cluster change,
   back-off 1 s doubling to 10 s, the 5-minute flush. */
#include "config.h"

#include "src/master/sched/queue.h"
#include "tests/unit/tap.h"

static void
pop_is (sched_queue *q, int64_t now, const char *want, const char *name)
{
  char *got = sched_queue_pop (q, now);
  is_str (got, want, name);
  free (got);
}

int
main (void)
{
  static const int64_t want[] = { 1000, 2000, 4000, 8000, 10000, 10000 };
  for (int i = 0; i < 6; i++)
    is_int (sched_queue_backoff_ms (i + 1), want[i], "back-off per attempt");

  sched_queue *q = sched_queue_new ();
  sched_queue_add (q, "ns/a", 0, 0);
  sched_queue_add (q, "ns/b", 10, 1);
  sched_queue_add (q, "ns/c", 10, 2);
  sched_queue_add (q, "ns/d", -5, 3);
  pop_is (q, 10, "ns/b", "highest priority first");
  pop_is (q, 10, "ns/c", "then the earlier of equal priority");
  pop_is (q, 10, "ns/a", "then lower priority");
  sched_queue_done (q, "ns/a");
  sched_queue_unschedulable (q, "ns/b", 100);
  sched_queue_done (q, "ns/c");
  pop_is (q, 200, "ns/d", "negative priority last");
  sched_queue_done (q, "ns/d");
  pop_is (q, 300, NULL, "an unschedulable pod waits for a cluster change");
  is_int (sched_queue_wait_ms (q, 300), 5 * 60 * 1000 - 200, "sleep until the 5-minute flush");
  sched_queue_move_all (q, 500);
  size_t a, b, u;
  sched_queue_counts (q, &a, &b, &u);
  ok (a == 0 && b == 1 && u == 0, "the cluster changed: into back-off (%zu %zu %zu)", a, b, u);
  pop_is (q, 600, NULL, "still backing off (1 s after the attempt)");
  is_int (sched_queue_wait_ms (q, 600), 500, "wake when the back-off ends");
  pop_is (q, 1100, "ns/b", "retried after 1 s");
  sched_queue_unschedulable (q, "ns/b", 1200);
  sched_queue_move_all (q, 1300);
  pop_is (q, 3100, NULL, "second failure: 2 s");
  pop_is (q, 3200, "ns/b", "retried after 2 s");
  sched_queue_unschedulable (q, "ns/b", 4000);
  sched_queue_move_all (q, 4000 + 60000);
  pop_is (q, 4000 + 60000, "ns/b", "a change after the back-off: active at once");
  sched_queue_unschedulable (q, "ns/b", 70000);
  pop_is (q, 70000 + 5 * 60 * 1000 - 1, NULL, "no change: waits");
  pop_is (q, 70000 + 5 * 60 * 1000, "ns/b", "flushed after 5 minutes");
  sched_queue_unschedulable (q, "ns/b", 400000);
  sched_queue_add (q, "ns/b", 1, 400001);
  pop_is (q, 400002, "ns/b", "an updated pod is tried again");
  sched_queue_unschedulable (q, "ns/b", 400003);
  sched_queue_remove (q, "ns/b");
  sched_queue_move_all (q, 900000);
  pop_is (q, 900000, NULL, "a removed pod is gone");
  is_int (sched_queue_wait_ms (q, 900000), -1, "nothing waits");

  for (int i = 0; i < 1000; i++)
    {
      char k[32];
      snprintf (k, sizeof k, "ns/p%04d", i);
      sched_queue_add (q, k, (i * 7919) % 13, i);
    }
  int prev_prio = 1000, in_order = 1;
  for (int i = 0; i < 1000; i++)
    {
      char *k = sched_queue_pop (q, 2000);
      int n = atoi (k + 4), prio = (n * 7919) % 13;
      in_order &= prio <= prev_prio;
      prev_prio = prio;
      sched_queue_done (q, k);
      free (k);
    }
  ok (in_order, "1000 pods come out by priority");
  sched_queue_free (q);
  return tap_done ();
}
