/* The watch ring of a resource starts small and grows up to --store-watch-history events:
   a watcher opened before a burst that crosses several growths reads every event in order,
   a watcher opened after it from a middle revision reads exactly the rest, and a ring at its
   bound (100 events, not a multiple of the growth) still drops the oldest events: a watcher
   that fell behind and a watch from before the kept history both get STORE_ETOOOLD. */
#include <inttypes.h>

#include "lib/path.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

/* Creates objects o<first>..o<first+n-1>, each with pad bytes of padding. */
static void
create_range (store *s, const char *resource, int first, int n, int pad)
{
  for (int i = first; i < first + n; i++)
    {
      char name[16], json[2048];
      snprintf (name, sizeof name, "o%04d", i);
      snprintf (json, sizeof json,
                "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\"},\"pad\":\"%.*s\"}", name, pad,
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................"
                "................................................................................");
      _cleanup_error_ husk_error *err = NULL;
      if (store_create (s, resource, "ns", name, json, NULL, NULL, &err) < 0)
        printf ("# create %s/%s: %s\n", resource, name, err->msg);
    }
}

static void
create_n (store *s, const char *resource, int n)
{
  create_range (s, resource, 0, n, 0);
}

/* Reads up to n events; they must be revisions from+1, from+2, ... of objects o<first>...
   Returns how many matched before the first error or mismatch; *errnum the error. */
static int
read_seq (store_watch *w, int64_t from, int first, int n, int *errnum)
{
  *errnum = 0;
  for (int i = 0; i < n; i++)
    {
      const store_event *ev = NULL;
      _cleanup_error_ husk_error *err = NULL;
      int r = store_watch_next (w, 5000, &ev, &err);
      if (r <= 0)
        {
          *errnum = r < 0 ? err->errnum : 0;
          return i;
        }
      char name[16];
      snprintf (name, sizeof name, "o%04d", first + i);
      bool good = ev->rev == from + 1 + i && ev->type == STORE_ADDED && streq (ev->name, name);
      if (!good)
        printf ("# event %d: rev %lld name %s, want rev %lld name %s\n", i, (long long)ev->rev,
                ev->name, (long long)(from + 1 + i), name);
      store_event_unref (ev);
      if (!good)
        return i;
    }
  return n;
}

int
main (void)
{
  char tmpl[] = "/tmp/husk-store-ring.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (!dir)
    tap_skip_all ("mkdtemp");
  store_options o = { .data_dir = dir, .watch_ring = 100 };
  store *s = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &s, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      return 1;
    }

  /* Bounded ring: 150 events into 100 slots (grown 64 -> 100). */
  int64_t r0 = 0;
  store_current_revision (s, &r0, NULL);
  store_watch *behind = NULL;
  ok (store_watch_open (s, "small", NULL, r0, &behind, &err) == 0, "watch of small opened");
  create_n (s, "small", 150);
  int errnum = 0;
  int got = read_seq (behind, r0, 0, 150, &errnum);
  ok (got == 0 && errnum == STORE_ETOOOLD,
      "a watcher that read nothing of 150 events in a ring of 100 fell behind (%d read)", got);
  store_watch_close (behind);
  store_watch *old = NULL;
  int ret = store_watch_open (s, "small", NULL, r0 + 49, &old, &err);
  ok (ret < 0 && err->errnum == STORE_ETOOOLD, "a watch from before the kept history: too old");
  husk_error_free (TAKE_PTR (err));
  store_watch *last = NULL;
  ok (store_watch_open (s, "small", NULL, r0 + 50, &last, &err) == 0,
      "a watch from the oldest kept revision opens");
  is_int (read_seq (last, r0 + 50, 50, 100, &errnum), 100, "it reads the last 100 events in order");
  store_watch_close (last);
  husk_error_free (TAKE_PTR (err));
  store_close (s);
  husk_rm_rf (dir, NULL);

  /* Growing ring: 300 events (64 -> 128 -> 256 -> 512 slots) under an unread watcher. */
  char tmpl2[] = "/tmp/husk-store-ring.XXXXXX";
  dir = mkdtemp (tmpl2);
  o = (store_options){ .data_dir = dir, .watch_ring = 1000 };
  if (store_open (&o, &s, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      return 1;
    }
  store_current_revision (s, &r0, NULL);
  store_watch *w1 = NULL, *w2 = NULL;
  ok (store_watch_open (s, "big", NULL, r0, &w1, &err) == 0, "watch of big opened");
  create_n (s, "big", 300);
  is_int (read_seq (w1, r0, 0, 300, &errnum), 300,
          "a watcher opened before 300 events reads them all in order across the ring's growths");
  ok (store_watch_open (s, "big", NULL, r0 + 150, &w2, &err) == 0, "a watch from the middle");
  is_int (read_seq (w2, r0 + 150, 150, 150, &errnum), 150, "it reads exactly the last 150 events");
  const store_event *ev = NULL;
  ok (store_watch_next (w2, 0, &ev, &err) == 0, "and nothing more");
  store_watch_close (w1);
  store_watch_close (w2);
  store_close (s);
  husk_rm_rf (dir, NULL);

  /* Growth after the ring wrapped: 200 events of ~800 bytes under a budget of 100 of them keep
     ~100 in 128 slots, so their slots wrap; 200 small ones then grow it to 256 slots. */
  char tmpl3[] = "/tmp/husk-store-ring.XXXXXX";
  dir = mkdtemp (tmpl3);
  o = (store_options){ .data_dir = dir, .watch_ring = 1000, .watch_ring_bytes = 100 * 850 };
  if (store_open (&o, &s, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      return 1;
    }
  store_current_revision (s, &r0, NULL);
  create_range (s, "wrap", 0, 200, 800);
  store_watch *w3 = NULL;
  ok (store_watch_open (s, "wrap", NULL, r0 + 200, &w3, &err) == 0, "watch of wrap opened");
  create_range (s, "wrap", 200, 200, 0);
  is_int (read_seq (w3, r0 + 200, 200, 200, &errnum), 200,
          "after the wrapped ring grew, a watcher reads the 200 new events in order");
  store_watch *w4 = NULL;
  ok (store_watch_open (s, "wrap", NULL, r0 + 150, &w4, &err) == 0,
      "a watch from within the large events opens");
  is_int (read_seq (w4, r0 + 150, 150, 250, &errnum), 250,
          "it reads the last 50 large and the 200 small events in order");
  store_watch_close (w3);
  store_watch_close (w4);
  store_close (s);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
