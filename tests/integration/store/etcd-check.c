/* The etcd backend against a real etcd cluster (driven by t-etcd.sh, which starts it).
   Env: HUSK_STORE_URL=etcd://a,b,c; HUSK_ETCD_KILL_PID: pid of the member behind the first
   endpoint, killed with SIGKILL while writers and a watcher run.
   Checks: CRUD and compares, txn atomicity, lists with continue tokens (and 410 once the
   snapshot is compacted), watch order, failover of requests and of the watch stream. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "lib/json.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

static store *S;
static char run[32]; /* unique namespace per run: the cluster may hold older data */

static int
errnum_of (int ret, husk_error *err)
{
  return ret < 0 && err ? err->errnum : 0;
}

static char *
obj (const char *name, int v)
{
  return xasprintf (
      "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},\"data\":{\"v\":\"%d\"}}", name, v);
}

static bool
rv_is (const char *json, int64_t rev)
{
  _cleanup_json_ json_t *j = json ? json_loads (json, 0, NULL) : NULL;
  const char *rv = j ? husk_json_path_str (j, "metadata.resourceVersion") : NULL;
  return rv && strtoll (rv, NULL, 10) == rev;
}

static void
test_crud (void)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *a = obj ("a", 1), *a2 = obj ("a", 2), *out = NULL, *got = NULL;
  int64_t r1 = 0, r2 = 0, gr = 0;
  is_str (store_backend_name (S), "etcd", "backend is etcd");
  int ret = store_create (S, "configmaps", run, "a", a, &out, &r1, &err);
  ok (ret == 0 && rv_is (out, r1), "create: resourceVersion is etcd's revision (%lld)",
      (long long)r1);
  ret = store_get (S, "configmaps", run, "a", &got, &gr, &err);
  ok (ret == 0 && gr == r1 && rv_is (got, r1) && strstr (got, "\"v\":\"1\""), "get");
  ret = store_create (S, "configmaps", run, "a", a, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_EEXIST, "create of a present key: EEXIST");
  husk_error_free (TAKE_PTR (err));
  ret = store_update (S, "configmaps", run, "a", a2, r1 - 1, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ECONFLICT, "update with a stale mod_revision: conflict");
  husk_error_free (TAKE_PTR (err));
  free (TAKE_PTR (out));
  ret = store_update (S, "configmaps", run, "a", a2, r1, &out, &r2, &err);
  ok (ret == 0 && r2 > r1 && rv_is (out, r2), "update with the right revision");
  ret = store_update (S, "configmaps", run, "zz", a2, 0, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "update of an absent key: not found");
  husk_error_free (TAKE_PTR (err));
  free (TAKE_PTR (out));
  int64_t r3 = 0;
  ret = store_delete (S, "configmaps", run, "a", r2, &out, &r3, &err);
  ok (ret == 0 && rv_is (out, r3) && strstr (out, "\"v\":\"2\""),
      "delete returns the last state with the deletion's revision");

  _cleanup_free_ char *x = obj ("tx", 1);
  store_op bad[] = {
    { .type = STORE_OP_CREATE, .resource = "configmaps", .ns = run, .name = "tx", .json = x },
    { .type = STORE_OP_DELETE, .resource = "configmaps", .ns = run, .name = "missing" },
  };
  ret = store_txn (S, bad, 2, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "txn with a failing op fails");
  ok (err && strstr (err->msg, "missing"), "txn error names the failing op");
  husk_error_free (TAKE_PTR (err));
  free (TAKE_PTR (got));
  ret = store_get (S, "configmaps", run, "tx", &got, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "txn all-or-nothing");
  husk_error_free (TAKE_PTR (err));
}

static void
test_list (void)
{
  _cleanup_error_ husk_error *err = NULL;
  for (int i = 0; i < 23; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "l%02d", i);
      _cleanup_free_ char *o = obj (name, i);
      store_create (S, "secrets", run, name, o, NULL, NULL, NULL);
    }
  store_list_result r = { 0 };
  char *token = NULL;
  int pages = 0, total = 0;
  int64_t rev0 = 0;
  bool same = true, order = true;
  do
    {
      if (store_list (S, "secrets", run, 10, token, &r, &err) < 0)
        break;
      if (pages == 0)
        {
          rev0 = r.revision;
          _cleanup_free_ char *o = obj ("l99", 99);
          store_create (S, "secrets", run, "l99", o, NULL, NULL, NULL); /* after the snapshot */
        }
      else if (r.revision != rev0)
        same = false;
      for (size_t i = 0; i < r.n; i++)
        {
          char want[32];
          snprintf (want, sizeof want, "\"name\":\"l%02d\"", total);
          if (!strstr (r.items[i], want))
            order = false;
          total++;
        }
      pages++;
      free (token);
      token = r.continue_token ? xstrdup (r.continue_token) : NULL;
      store_list_result_free (&r);
    }
  while (token);
  ok (pages == 3 && total == 23, "23 objects in 3 pages of 10 (got %d in %d)", total, pages);
  ok (same && order, "pages in key order from the first page's snapshot (l99 not included)");

  /* A token whose snapshot was compacted away: 410. */
  store_list (S, "secrets", run, 10, NULL, &r, &err);
  _cleanup_free_ char *tok = xstrdup (r.continue_token ? r.continue_token : "");
  int64_t snap = r.revision;
  store_list_result_free (&r);
  _cleanup_free_ char *o = obj ("l98", 98);
  _cleanup_free_ char *o2 = obj ("l97", 97);
  int64_t later = 0;
  store_create (S, "secrets", run, "l98", o, NULL, NULL, NULL);
  store_create (S, "secrets", run, "l97", o2, NULL, &later, NULL); /* compact past snap + 1 */
  /* compact with etcd's own client */
  char cmd[1024];
  const char *ep = strstr (getenv ("HUSK_STORE_URL"), "://") + 3;
  char first[128];
  snprintf (first, sizeof first, "%.*s", (int)strcspn (ep, ","), ep);
  const char *ca = getenv ("HUSK_STORE_TLS_CA");
  _cleanup_free_ char *tls
      = ca ? xasprintf ("--cacert %s --cert %s --key %s", ca, getenv ("HUSK_STORE_TLS_CERT"),
                        getenv ("HUSK_STORE_TLS_KEY"))
           : xstrdup ("");
  snprintf (cmd, sizeof cmd,
            "ETCDCTL_API=3 etcdctl --endpoints %s://%s %s compaction %lld >/dev/null",
            ca ? "https" : "http", first, tls, (long long)later);
  ok (system (cmd) == 0, "compacted etcd up to revision %lld (snapshot was %lld)", (long long)later,
      (long long)snap);
  int ret = store_list (S, "secrets", run, 10, tok, &r, &err);
  is_int (errnum_of (ret, err), STORE_ETOOOLD, "continue token of a compacted snapshot: 410");
  husk_error_free (TAKE_PTR (err));
  store_watch *w = NULL;
  const store_event *ev = NULL;
  ret = store_watch_open (S, "secrets", run, snap, &w, &err);
  if (ret == 0)
    {
      ret = store_watch_next (w, 5000, &ev, &err);
      store_watch_close (w);
    }
  is_int (errnum_of (ret, err), STORE_ETOOOLD, "watch from a compacted revision: too old (410)");
  husk_error_free (TAKE_PTR (err));
}

/* ---- failover ---- */

#define FW 4
static atomic_int acked, failed;
static atomic_bool stop_writers;
static char acked_names[FW][4096][24];
static int64_t acked_revs[FW][4096];
static int acked_n[FW];
/* writes whose outcome is unknown (the connection broke): they may or may not be applied */
static char failed_names[FW][64][24];
static int failed_n[FW];

static void *
fo_writer (void *arg)
{
  int t = (int)(intptr_t)arg;
  for (int i = 0; i < 4096 && !atomic_load (&stop_writers); i++)
    {
      char name[24];
      snprintf (name, sizeof name, "w%d-%d", t, i);
      _cleanup_free_ char *o = obj (name, i);
      _cleanup_error_ husk_error *err = NULL;
      int64_t rev = 0;
      if (store_create (S, "failover", run, name, o, NULL, &rev, &err) == 0)
        {
          memcpy (acked_names[t][acked_n[t]], name, sizeof name);
          acked_revs[t][acked_n[t]++] = rev;
          atomic_fetch_add (&acked, 1);
        }
      else
        {
          if (failed_n[t] < 64)
            memcpy (failed_names[t][failed_n[t]++], name, sizeof name);
          if (atomic_fetch_add (&failed, 1) < 5)
            printf ("# write failed during failover: %s\n", err->msg);
          usleep (50000);
        }
    }
  return NULL;
}

static void
test_failover (void)
{
  const char *pid_s = getenv ("HUSK_ETCD_KILL_PID");
  if (!pid_s)
    return; /* single member (the TLS run): no failover to test */
  _cleanup_error_ husk_error *err = NULL;
  int64_t start = 0;
  store_current_revision (S, &start, NULL);
  store_watch *w = NULL;
  ok (store_watch_open (S, "failover", run, start, &w, &err) == 0, "watch opened");
  pthread_t th[FW];
  for (int i = 0; i < FW; i++)
    pthread_create (&th[i], NULL, fo_writer, (void *)(intptr_t)i);
  while (atomic_load (&acked) < 300)
    usleep (10000);
  pid_t pid = (pid_t)atoi (pid_s);
  ok (kill (pid, SIGKILL) == 0, "killed the member behind the first endpoint (pid %d) mid-stream",
      (int)pid);
  int at_kill = atomic_load (&acked);
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  while (atomic_load (&acked) < at_kill + 300)
    {
      clock_gettime (CLOCK_MONOTONIC, &t1);
      if (t1.tv_sec - t0.tv_sec > 20)
        break;
      usleep (10000);
    }
  atomic_store (&stop_writers, true);
  for (int i = 0; i < FW; i++)
    pthread_join (th[i], NULL);
  int total = atomic_load (&acked);
  ok (total >= at_kill + 300, "writes continue on the surviving members (%d acked after the kill)",
      total - at_kill);
  printf ("# %d writes failed while failing over\n", atomic_load (&failed));

  size_t missing = 0;
  for (int t = 0; t < FW; t++)
    for (int i = 0; i < acked_n[t]; i++)
      {
        char *got = NULL;
        int64_t rev = 0;
        if (store_get (S, "failover", run, acked_names[t][i], &got, &rev, NULL) < 0
            || rev != acked_revs[t][i])
          missing++;
        free (got);
      }
  is_int (missing, 0, "every acknowledged write present with its revision");

  /* The watch stream (possibly on the killed member) must deliver every acknowledged create
     once, in order; other events may only be writes whose answer was lost. */
  int seen = 0, dup_or_order = 0, unexpected = 0, ambiguous = 0;
  int64_t prev = start;
  for (;;)
    {
      const store_event *ev = NULL;
      husk_error *e2 = NULL;
      int ret = store_watch_next (w, 3000, &ev, &e2);
      if (ret <= 0)
        {
          if (ret < 0)
            printf ("# watch: %s\n", e2->msg);
          husk_error_free (e2);
          break;
        }
      if (ev->rev <= prev)
        dup_or_order++;
      prev = ev->rev;
      int t = -1, i = -1, kind = 0;
      if (sscanf (ev->name, "w%d-%d", &t, &i) == 2 && t >= 0 && t < FW)
        {
          for (int k = 0; k < acked_n[t] && !kind; k++)
            if (streq (acked_names[t][k], ev->name) && acked_revs[t][k] == ev->rev)
              kind = 1;
          for (int k = 0; k < failed_n[t] && !kind; k++)
            if (streq (failed_names[t][k], ev->name))
              kind = 2;
        }
      if (kind == 1)
        seen++;
      else if (kind == 2)
        ambiguous++;
      else
        unexpected++;
      store_event_unref (ev);
    }
  printf ("# %d events of writes whose answer was lost in the failover\n", ambiguous);
  ok (seen == total && dup_or_order == 0 && unexpected == 0,
      "watcher saw every acknowledged create once, in order, across the failover (%d of %d, "
      "%d out of order, %d unknown)",
      seen, total, dup_or_order, unexpected);
  store_watch_close (w);
}

int
main (void)
{
  const char *url = getenv ("HUSK_STORE_URL");
  if (!url)
    tap_skip_all ("HUSK_STORE_URL not set (t-etcd.sh starts a cluster)");
  snprintf (run, sizeof run, "run-%ld-%d", (long)time (NULL), (int)getpid ());
  store_options o = { .url = url,
                      .etcd_timeout_ms = 3000,
                      .tls_ca = getenv ("HUSK_STORE_TLS_CA"),
                      .tls_cert = getenv ("HUSK_STORE_TLS_CERT"),
                      .tls_key = getenv ("HUSK_STORE_TLS_KEY") };
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &S, &err) < 0)
    {
      printf ("Bail out! %s\n", err->msg);
      return 1;
    }
  test_crud ();
  test_list ();
  test_failover ();
  store_close (S);
  return tap_done ();
}
