/* Hash-consing of JSON trees (src/master/sched/intern.c): equal parts shared, the result
   equal to its input and independent of it, roots and "fresh" members never shared,
   scalars of different types or lengths kept apart, sweeps free what only the table
   holds, concurrent interning from several threads. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>

#include "lib/json.h"

#include "src/master/sched/intern.h"
#include "tests/unit/tap.h"

static const char *const fresh[] = { "metadata", NULL };

static json_t *
pod (int i, const char *node)
{
  json_t *p = json_pack ("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s}]},"
                         " s:{s:s, s:[{s:s, s:{s:{s:s, s:s}}}], s:[{s:s, s:i}]},"
                         " s:{s:s, s:s}}",
                         "apiVersion", "v1", "kind", "Pod", "metadata", "name", "web", "namespace",
                         "default", "labels", "app", "web", "tier", "frontend", "ownerReferences",
                         "kind", "ReplicaSet", "uid", "u-1", "spec", "nodeName", node, "containers",
                         "name", "app", "resources", "requests", "cpu", "10m", "memory", "16Mi",
                         "tolerations", "key", "k", "tolerationSeconds", 300, "status", "phase",
                         "Running", "qosClass", "Burstable");
  json_t *m = json_object_get (p, "metadata");
  char name[32];
  snprintf (name, sizeof name, "web-%d", i);
  json_object_set_new (m, "name", json_string (name));
  json_object_set_new (m, "uid", json_sprintf ("uid-%d", i));
  return p;
}

/* True when no node of a is a node of b (pointer-wise, a few levels deep). */
static bool
disjoint (json_t *a, json_t *b)
{
  if (a == b && !json_is_true (a) && !json_is_false (a) && !json_is_null (a))
    return false;
  if (json_is_object (a) && json_is_object (b))
    {
      const char *k;
      json_t *v;
      json_object_foreach (a, k, v) if (!disjoint (v, json_object_get (b, k))) return false;
    }
  if (json_is_array (a) && json_is_array (b))
    for (size_t i = 0; i < json_array_size (a) && i < json_array_size (b); i++)
      if (!disjoint (json_array_get (a, i), json_array_get (b, i)))
        return false;
  return true;
}

static void
sharing (void)
{
  sched_intern *t = sched_intern_new ();
  json_t *in1 = pod (1, "n1"), *in2 = pod (2, "n1"), *in3 = pod (3, "n2");
  json_t *a = sched_intern_tree (t, in1, fresh);
  json_t *b = sched_intern_tree (t, in2, fresh);
  json_t *c = sched_intern_tree (t, in3, fresh);
  ok (json_equal (a, in1) && json_equal (b, in2) && json_equal (c, in3),
      "an interned tree equals its input");
  ok (disjoint (a, in1), "and shares no node with it");
  ok (a != b && json_object_get (a, "metadata") != json_object_get (b, "metadata"),
      "roots and fresh members are the object's own");
  ok (husk_json_path (a, "metadata.labels") == husk_json_path (b, "metadata.labels"),
      "equal labels are one object");
  ok (husk_json_path (a, "metadata.ownerReferences")
          == husk_json_path (c, "metadata.ownerReferences"),
      "equal owner references are one array");
  ok (json_object_get (a, "spec") == json_object_get (b, "spec"), "equal specs are one object");
  ok (json_object_get (a, "spec") != json_object_get (c, "spec"),
      "specs that differ (nodeName) are not");
  ok (husk_json_path (a, "spec.containers") == husk_json_path (c, "spec.containers"),
      "but their equal containers are one array");
  ok (json_object_get (a, "status") == json_object_get (c, "status"), "equal status: one object");
  ok (husk_json_path (a, "metadata.namespace") == husk_json_path (c, "metadata.namespace"),
      "equal strings are one string");
  json_decref (in1);
  json_decref (in2);
  json_decref (in3);

  /* Kept apart: types, lengths, embedded NULs. */
  json_t *mix = json_pack ("[i, f, s, s#, s#, {s:i}, {s:f}, [i, i], [i, i], {s:i, s:i}, {s:i, s:i}]",
                           1, 1.0, "1", "a\0b", (int)3, "a\0c", (int)3, "x", 1, "x", 1.0, 1, 2,
                           2, 1, "p", 1, "q", 2, "q", 2, "p", 1);
  json_t *m = sched_intern_tree (t, mix, NULL);
  ok (json_equal (m, mix), "scalars of every type survive");
  ok (json_array_get (m, 0) != json_array_get (m, 1), "1 and 1.0 are different nodes");
  ok (json_array_get (m, 3) != json_array_get (m, 4), "strings differing after a NUL differ");
  ok (json_array_get (m, 5) != json_array_get (m, 6), "objects with 1 and 1.0 differ");
  ok (json_array_get (m, 7) != json_array_get (m, 8), "arrays are ordered");
  ok (json_array_get (m, 9) == json_array_get (m, 10), "objects are not (same members)");
  json_decref (mix);

  json_t *l1 = json_pack ("{s:s}", "app", "web");
  json_t *v1 = sched_intern_value (t, l1), *v2 = sched_intern_value (t, l1);
  ok (v1 == v2 && v1 != l1 && json_equal (v1, l1), "sched_intern_value shares the root too");
  json_decref (l1);
  json_decref (v1);
  json_decref (v2);

  ok (sched_intern_size (t) > 0, "the table holds nodes");
  json_t *keep = json_incref (husk_json_path (c, "spec.containers"));
  json_decref (a);
  json_decref (b);
  json_decref (c);
  json_decref (m);
  size_t left = sched_intern_sweep (t);
  ok (left > 0, "a sweep keeps nodes held elsewhere (%zu)", left);
  is_str (json_string_value (husk_json_path (keep, "0.resources.requests.cpu")), "10m",
          "and they stay intact");
  json_decref (keep);
  is_int ((long long)sched_intern_sweep (t), 0, "a sweep frees what only the table holds");
  sched_intern_free (t);
}

static void
growth (void)
{
  sched_intern *t = sched_intern_new ();
  json_t *held[64] = { 0 };
  for (int i = 0; i < 20000; i++)
    {
      json_t *in = pod (i, i % 2 ? "n1" : "n2");
      json_t *out = sched_intern_tree (t, in, fresh);
      if (!json_equal (in, out))
        {
          ok (0, "pod %d interned unequal", i);
          return;
        }
      json_decref (in);
      json_decref (held[i % 64]);
      held[i % 64] = out;
    }
  ok (1, "20,000 trees interned equal to their inputs");
  ok (sched_intern_size (t) < 20000, "sweeps on growth keep the table near what is live (%zu)",
      sched_intern_size (t));
  for (int i = 0; i < 64; i++)
    json_decref (held[i]);
  is_int ((long long)sched_intern_sweep (t), 0, "nothing left once every tree is released");
  sched_intern_free (t);
}

typedef struct worker
{
  sched_intern *t;
  int base;
  int bad;
} worker;

static void *
work (void *ud)
{
  worker *w = ud;
  for (int i = 0; i < 5000; i++)
    {
      json_t *in = pod (w->base + i % 100, i % 3 ? "n1" : "n2");
      json_t *out = sched_intern_tree (w->t, in, fresh);
      w->bad += !json_equal (in, out);
      if (i % 1000 == 0)
        sched_intern_sweep (w->t);
      json_decref (in);
      json_decref (out);
    }
  return NULL;
}

static void
threads (void)
{
  sched_intern *t = sched_intern_new ();
  pthread_t th[4];
  worker w[4];
  for (int i = 0; i < 4; i++)
    {
      w[i] = (worker){ t, i * 50, 0 };
      pthread_create (&th[i], NULL, work, &w[i]);
    }
  int bad = 0;
  for (int i = 0; i < 4; i++)
    {
      pthread_join (th[i], NULL);
      bad += w[i].bad;
    }
  is_int (bad, 0, "4 threads interning and sweeping at once: every tree equal to its input");
  is_int ((long long)sched_intern_sweep (t), 0, "and nothing left afterwards");
  sched_intern_free (t);
}

int
main (void)
{
  sharing ();
  growth ();
  threads ();
  return tap_done ();
}
