/* Property test: writer threads do random creates/updates/deletes and two-op transactions on
   a small key space (so compares fail and races happen) while watcher threads follow. Every
   watcher must see exactly the committed sequence for its filter: same events, same order,
   same objects, nothing lost or repeated. The final list must equal the replayed sequence.
   Backend: SQLite by default; HUSK_STORE_URL=etcd://... runs it against etcd. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

#define WRITERS        6
#define OPS_PER_WRITER 600
#define KEYS           40
#define NAMESPACES     3

typedef struct rec
{
  int64_t rev;
  int seq; /* op index inside its txn */
  store_event_type type;
  char *ns, *name, *json;
} rec;

typedef struct log
{
  rec *v;
  size_t n, cap;
} log_t;

static store *S;
static atomic_bool writers_done;
static atomic_llong final_rev; /* set with writers_done: the last committed revision */

static void
log_add (log_t *l, int64_t rev, int seq, store_event_type type, const char *ns, const char *name,
         const char *json)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 256;
      l->v = xreallocarray (l->v, l->cap, sizeof *l->v);
    }
  l->v[l->n++] = (rec){ rev, seq, type, xstrdup (ns), xstrdup (name), xstrdup (json) };
}

static void
log_free (log_t *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->v[i].ns);
      free (l->v[i].name);
      free (l->v[i].json);
    }
  free (l->v);
}

static const char *nss[NAMESPACES] = { "alpha", "beta", "gamma" };

static store_event_type
evtype (store_op_type t)
{
  return t == STORE_OP_CREATE ? STORE_ADDED : t == STORE_OP_UPDATE ? STORE_MODIFIED : STORE_DELETED;
}

static void *
writer (void *arg)
{
  log_t *l = arg;
  unsigned seed = (unsigned)(uintptr_t)arg;
  for (int i = 0; i < OPS_PER_WRITER; i++)
    {
      int nops = rand_r (&seed) % 5 == 0 ? 2 : 1;
      store_op ops[2] = { 0 };
      char names[2][16], *json[2] = { NULL, NULL };
      int k0 = rand_r (&seed) % KEYS;
      for (int j = 0; j < nops; j++)
        {
          int k = (k0 + j * 7) % KEYS;
          snprintf (names[j], sizeof names[j], "k%02d", k);
          ops[j].resource = "things";
          ops[j].ns = nss[k % NAMESPACES];
          ops[j].name = names[j];
          /* Read the current revision so updates/deletes sometimes compare correctly. */
          char *cur = NULL;
          int64_t crev = 0;
          _cleanup_error_ husk_error *gerr = NULL;
          bool present = store_get (S, "things", ops[j].ns, names[j], &cur, &crev, &gerr) == 0;
          free (cur);
          int dice = rand_r (&seed) % 10;
          ops[j].type = !present ? STORE_OP_CREATE : dice < 6 ? STORE_OP_UPDATE : STORE_OP_DELETE;
          if (dice == 9)
            ops[j].type = STORE_OP_CREATE; /* sometimes on a present key: EEXIST */
          ops[j].expect_rev = rand_r (&seed) % 3 == 0 ? 0 : crev;
          json[j] = xasprintf ("{\"kind\":\"Thing\",\"metadata\":{\"name\":\"%s\"},\"data\":{"
                               "\"w\":%u,\"i\":%d}}",
                               names[j], (unsigned)(uintptr_t)arg % 1000, i);
          ops[j].json = json[j];
        }
      int64_t rev = 0;
      _cleanup_error_ husk_error *err = NULL;
      if (store_txn (S, ops, nops, &rev, &err) == 0)
        for (int j = 0; j < nops; j++)
          {
            log_add (l, rev, j, evtype (ops[j].type), ops[j].ns, ops[j].name, ops[j].result);
            free (ops[j].result);
          }
      else if (err->errnum != STORE_EEXIST && err->errnum != STORE_ENOTFOUND
               && err->errnum != STORE_ECONFLICT)
        printf ("# unexpected txn error: %s\n", err->msg);
      free (json[0]);
      free (json[1]);
    }
  return NULL;
}

typedef struct watcher
{
  store_watch *w;
  const char *ns;
  int64_t from;
  log_t got;
  int errors;
} watcher;

static void *
watcher_main (void *arg)
{
  watcher *wt = arg;
  int idle_after_done = 0;
  for (;;)
    {
      const store_event *ev = NULL;
      _cleanup_error_ husk_error *err = NULL;
      /* Done once the writers are and this watcher has everything up to the last revision
         (with etcd, events arrive over a stream after the writes return). */
      bool done = atomic_load (&writers_done)
                  && store_watch_progress (wt->w) >= (int64_t)atomic_load (&final_rev);
      int ret = store_watch_next (wt->w, 50, &ev, &err);
      if (ret < 0)
        {
          printf ("# watcher error: %s\n", err->msg);
          wt->errors++;
          return NULL;
        }
      if (ret == 0 && (done || (atomic_load (&writers_done) && ++idle_after_done > 200)))
        return NULL; /* the second case (10 s without events) fails the comparison below */
      if (ret == 1)
        {
          log_add (&wt->got, ev->rev, 0, ev->type, ev->ns, ev->name, ev->json);
          store_event_unref (ev);
        }
    }
}

static int
cmp_rec (const void *a, const void *b)
{
  const rec *x = a, *y = b;
  if (x->rev != y->rev)
    return x->rev < y->rev ? -1 : 1;
  return x->seq - y->seq;
}

static bool
same (const rec *a, const rec *b)
{
  return a->rev == b->rev && a->type == b->type && streq (a->ns, b->ns) && streq (a->name, b->name)
         && streq (a->json, b->json);
}

int
main (void)
{
  char tmpl[] = "/tmp/husk-store-watch.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (!dir)
    tap_skip_all ("mkdtemp");
  const char *url = getenv ("HUSK_STORE_URL");
  store_options o = { .url = url, .data_dir = dir, .watch_ring = 100000 };
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &S, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      return 1;
    }
  /* etcd: start from a clean prefix */
  store_list_result pre = { 0 };
  store_list (S, "things", NULL, 0, NULL, &pre, NULL);
  for (size_t i = 0; i < pre.n; i++)
    {
      _cleanup_json_ json_t *j = json_loads (pre.items[i], 0, NULL);
      (void)j;
    }
  int64_t start = 0;
  store_current_revision (S, &start, NULL);
  ok (pre.n == 0, "starts empty");
  store_list_result_free (&pre);

  watcher ws[4] = {
    { .ns = NULL, .from = start },
    { .ns = "beta", .from = start },
    { .ns = NULL, .from = 0 }, /* opened later, from the revision at that moment */
    { .ns = "gamma", .from = start },
  };
  pthread_t wth[4], wrt[WRITERS];
  log_t logs[WRITERS] = { 0 };
  for (int i = 0; i < 4; i++)
    if (i != 2)
      {
        store_watch_open (S, "things", ws[i].ns, ws[i].from, &ws[i].w, &err);
        pthread_create (&wth[i], NULL, watcher_main, &ws[i]);
      }
  for (int i = 0; i < WRITERS; i++)
    pthread_create (&wrt[i], NULL, writer, &logs[i]);
  usleep (200000);
  store_current_revision (S, &ws[2].from, NULL);
  ok (store_watch_open (S, "things", NULL, ws[2].from, &ws[2].w, &err) == 0,
      "a watcher opened mid-stream from the then current revision");
  pthread_create (&wth[2], NULL, watcher_main, &ws[2]);
  for (int i = 0; i < WRITERS; i++)
    pthread_join (wrt[i], NULL);
  int64_t last = 0;
  store_current_revision (S, &last, NULL);
  atomic_store (&final_rev, last);
  atomic_store (&writers_done, true);
  for (int i = 0; i < 4; i++)
    pthread_join (wth[i], NULL);

  log_t all = { 0 };
  for (int i = 0; i < WRITERS; i++)
    for (size_t j = 0; j < logs[i].n; j++)
      {
        rec *r = &logs[i].v[j];
        log_add (&all, r->rev, r->seq, r->type, r->ns, r->name, r->json);
      }
  qsort (all.v, all.n, sizeof *all.v, cmp_rec);
  printf ("# %zu committed events, revisions %lld..%lld\n", all.n,
          all.n ? (long long)all.v[0].rev : 0LL, all.n ? (long long)all.v[all.n - 1].rev : 0LL);
  ok (all.n > (size_t)WRITERS * OPS_PER_WRITER / 4, "a good share of ops committed");
  bool distinct = true;
  for (size_t i = 1; i < all.n; i++)
    if (all.v[i].rev == all.v[i - 1].rev && all.v[i].seq == all.v[i - 1].seq)
      distinct = false;
  ok (distinct, "no two committed writes got the same revision");

  for (int i = 0; i < 4; i++)
    {
      watcher *wt = &ws[i];
      size_t k = 0, mismatch = 0;
      for (size_t j = 0; j < all.n; j++)
        {
          rec *r = &all.v[j];
          if (r->rev <= wt->from || (wt->ns && !streq (wt->ns, r->ns)))
            continue;
          if (k >= wt->got.n || !same (r, &wt->got.v[k]))
            {
              if (mismatch++ == 0)
                printf ("# watcher %d: first mismatch at committed rev %lld (got %s)\n", i,
                        (long long)r->rev, k < wt->got.n ? wt->got.v[k].json : "nothing");
            }
          k++;
        }
      ok (wt->errors == 0 && mismatch == 0 && k == wt->got.n,
          "watcher %d (ns %s, from %lld) saw exactly the committed sequence (%zu events)", i,
          wt->ns ? wt->ns : "all", (long long)wt->from, wt->got.n);
      store_watch_close (wt->w);
    }

  /* Replay the sequence: the final state must be what a list returns. */
  char *state[NAMESPACES][KEYS] = { { 0 } };
  for (size_t j = 0; j < all.n; j++)
    {
      rec *r = &all.v[j];
      int ni = 0, ki = atoi (r->name + 1);
      while (!streq (nss[ni], r->ns))
        ni++;
      free (state[ni][ki]);
      state[ni][ki] = r->type == STORE_DELETED ? NULL : xstrdup (r->json);
    }
  store_list_result lr = { 0 };
  store_list (S, "things", NULL, 0, NULL, &lr, &err);
  size_t want = 0, matched = 0;
  for (int ni = 0; ni < NAMESPACES; ni++)
    for (int ki = 0; ki < KEYS; ki++)
      if (state[ni][ki])
        {
          want++;
          for (size_t i = 0; i < lr.n; i++)
            if (streq (lr.items[i], state[ni][ki]))
              matched++;
          free (state[ni][ki]);
        }
  ok (lr.n == want && matched == want, "final list equals the replayed sequence (%zu objects)",
      want);
  store_list_result_free (&lr);
  /* etcd: clean up the prefix for the next run */
  if (url)
    for (int ni = 0; ni < NAMESPACES; ni++)
      for (int ki = 0; ki < KEYS; ki++)
        {
          char name[16];
          snprintf (name, sizeof name, "k%02d", ki);
          store_delete (S, "things", nss[ni], name, 0, NULL, NULL, NULL);
        }
  store_close (S);
  log_free (&all);
  for (int i = 0; i < WRITERS; i++)
    log_free (&logs[i]);
  for (int i = 0; i < 4; i++)
    log_free (&ws[i].got);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
