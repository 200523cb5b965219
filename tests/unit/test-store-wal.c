/* The SQLite store's WAL stays bounded under continuous writes (checkpoints run in a thread
   of their own, and the writer checkpoints itself when the WAL gets large so that it can start
   over), and the checkpointed database holds every object after a reopen. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "lib/path.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

#define WRITERS 16
#define OBJECTS 24000

static store *S;
static char *wal_path;
static atomic_long next_i, failures;
static atomic_bool writing;
static off_t max_wal;

static void *
writer (void *arg)
{
  static const char pad[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  for (;;)
    {
      long i = atomic_fetch_add (&next_i, 1);
      if (i >= OBJECTS)
        break;
      char name[32];
      snprintf (name, sizeof name, "o-%ld", i);
      /* about 1.3 KB, the size of a small pod */
      _cleanup_free_ char *json = xasprintf (
          "{\"metadata\":{\"name\":\"%s\"},\"data\":{\"a\":\"%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s"
          "%s%s\"}}",
          name, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad, pad,
          pad, pad, pad);
      husk_error *err = NULL;
      if (store_create (S, "configmaps", "wal", name, json, NULL, NULL, &err) < 0)
        {
          if (atomic_fetch_add (&failures, 1) == 0)
            printf ("# create %s: %s\n", name, err->msg);
          husk_error_free (err);
        }
    }
  return NULL;
}

static void *
sampler (void *arg)
{
  while (atomic_load (&writing))
    {
      struct stat st;
      if (stat (wal_path, &st) == 0 && st.st_size > max_wal)
        max_wal = st.st_size;
      usleep (5000);
    }
  return NULL;
}

int
main (void)
{
  char tmpl[] = "/tmp/husk-store-wal.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (!dir)
    tap_skip_all ("mkdtemp failed");
  wal_path = xasprintf ("%s/state.db-wal", dir);
  _cleanup_free_ char *db_path = xasprintf ("%s/state.db", dir);
  store_options o = { .data_dir = dir, .watch_ring = 100 };
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &S, &err) < 0)
    {
      printf ("Bail out! store_open: %s\n", err->msg);
      return 1;
    }
  atomic_store (&writing, true);
  pthread_t th[WRITERS], samp;
  pthread_create (&samp, NULL, sampler, NULL);
  for (int i = 0; i < WRITERS; i++)
    pthread_create (&th[i], NULL, writer, NULL);
  for (int i = 0; i < WRITERS; i++)
    pthread_join (th[i], NULL);
  atomic_store (&writing, false);
  pthread_join (samp, NULL);
  ok (atomic_load (&failures) == 0, "%d writers made %d creates of ~1.3 KB without an error",
      WRITERS, OBJECTS);
  /* ~36 MB of rows, far more WAL frames than that without checkpoints; the writer starts the
     WAL over once it reaches 8,000 frames (about 33 MB) */
  printf ("# largest WAL seen: %lld bytes\n", (long long)max_wal);
  ok (max_wal > 0 && max_wal < 40 * 1024 * 1024, "the WAL stayed below 40 MB (%lld bytes)",
      (long long)max_wal);
  struct stat st = { 0 };
  int sr = stat (db_path, &st);
  ok (sr == 0 && st.st_size > 16 * 1024 * 1024,
      "checkpoints moved the rows into the database file while writing (%lld bytes)",
      (long long)st.st_size);
  store_close (S);

  if (store_open (&o, &S, &err) < 0)
    {
      printf ("Bail out! reopen: %s\n", err->msg);
      return 1;
    }
  store_list_result res = { 0 };
  int ret = store_list (S, "configmaps", "wal", 0, NULL, &res, &err);
  ok (ret == 0 && res.n == OBJECTS, "after a reopen all %d objects are there (%zu)", OBJECTS,
      res.n);
  store_list_result_free (&res);
  store_close (S);
  husk_rm_rf (dir, NULL);
  free (wal_path);
  return tap_done ();
}
