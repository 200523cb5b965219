/* Store API on the SQLite backend: CRUD and compares, resourceVersion ownership, lists with
   continue tokens, transaction atomicity, watch (410 too old, fd readiness, cancel), volatile
   kinds, event expiry, persistence across reopen. */
#include <poll.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

static char *dir;

static store *
open_store (uint32_t ring, bool durable_volatile, uint32_t ttl)
{
  store_options o = {
    .data_dir = dir, .watch_ring = ring, .durable_volatile = durable_volatile, .event_ttl_sec = ttl
  };
  store *s = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &s, &err) < 0)
    {
      printf ("Bail out! store_open: %s\n", err->msg);
      exit (1);
    }
  return s;
}

static char *
pod (const char *name, const char *extra)
{
  return xasprintf ("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                    "\"resourceVersion\":\"999999\"},\"spec\":{\"x\":\"%s\"}}",
                    name, extra);
}

static char *
rv_of (const char *json)
{
  _cleanup_json_ json_t *j = json_loads (json, 0, NULL);
  const char *rv = j ? husk_json_path_str (j, "metadata.resourceVersion") : NULL;
  return rv ? xstrdup (rv) : NULL;
}

static const char *
str_rev (int64_t r)
{
  static char b[4][32];
  static int i;
  i = (i + 1) % 4;
  snprintf (b[i], sizeof b[i], "%lld", (long long)r);
  return b[i];
}

static int
errnum_of (int ret, husk_error *err)
{
  return ret < 0 && err ? err->errnum : 0;
}

static void
test_crud (store *s)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *a = pod ("a", "1"), *out = NULL, *got = NULL;
  int64_t r0 = 0, r1 = 0, r2 = 0, gr = 0;
  store_current_revision (s, &r0, NULL);
  int ret = store_create (s, "pods", "default", "a", a, &out, &r1, &err);
  ok (ret == 0 && r1 == r0 + 1, "create takes the next revision (%lld -> %lld)", (long long)r0,
      (long long)r1);
  _cleanup_free_ char *rv = rv_of (out);
  is_str (rv, str_rev (r1), "created object's resourceVersion is its revision, not the caller's");
  ret = store_get (s, "pods", "default", "a", &got, &gr, &err);
  ok (ret == 0 && gr == r1 && got && streq (got, out), "get returns the stored object");
  ok (got && !strstr (got, " "), "stored JSON is compact");

  husk_error_free (TAKE_PTR (err));
  ret = store_create (s, "pods", "default", "a", a, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_EEXIST, "second create fails with EEXIST");
  husk_error_free (TAKE_PTR (err));

  _cleanup_free_ char *a2 = pod ("a", "2"), *out2 = NULL;
  ret = store_update (s, "pods", "default", "a", a2, r1 + 100, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ECONFLICT, "update with a stale revision conflicts");
  husk_error_free (TAKE_PTR (err));
  ret = store_update (s, "pods", "default", "a", a2, r1, &out2, &r2, &err);
  ok (ret == 0 && r2 == r1 + 1, "update with the right revision succeeds");
  _cleanup_free_ char *rv2 = rv_of (out2);
  is_str (rv2, str_rev (r2), "updated object's resourceVersion");
  ok (out2 && strstr (out2, "\"x\":\"2\""), "update stored the new content");
  ret = store_update (s, "pods", "default", "nope", a2, 0, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "update of an absent object: not found");
  husk_error_free (TAKE_PTR (err));

  ret = store_delete (s, "pods", "default", "a", r1, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ECONFLICT, "delete with a stale revision conflicts");
  husk_error_free (TAKE_PTR (err));
  _cleanup_free_ char *del = NULL;
  int64_t r3 = 0;
  ret = store_delete (s, "pods", "default", "a", r2, &del, &r3, &err);
  _cleanup_free_ char *rv3 = del ? rv_of (del) : NULL;
  ok (ret == 0 && r3 == r2 + 1, "delete succeeds");
  is_str (rv3, str_rev (r3), "deleted object carries the deletion's revision");
  ok (del && strstr (del, "\"x\":\"2\""), "deleted object is the last state");
  free (TAKE_PTR (got));
  ret = store_get (s, "pods", "default", "a", &got, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "get after delete: not found");
  husk_error_free (TAKE_PTR (err));

  _cleanup_free_ char *node = xstrdup ("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"}}");
  ret = store_create (s, "nodes", NULL, "n1", node, NULL, NULL, &err);
  free (TAKE_PTR (got));
  ok (ret == 0 && store_get (s, "nodes", "", "n1", &got, NULL, &err) == 0,
      "cluster-scoped create and get (NULL and \"\" namespace)");
  ret = store_create (s, "pods", "default", "a/b", a, NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_EINVAL, "a name with '/' is rejected");
  husk_error_free (TAKE_PTR (err));
  ret = store_create (s, "pods", "default", "arr", "[1,2]", NULL, NULL, &err);
  is_int (errnum_of (ret, err), STORE_EINVAL, "a JSON array is rejected");
  husk_error_free (TAKE_PTR (err));
}

static void
test_list (store *s)
{
  _cleanup_error_ husk_error *err = NULL;
  for (int i = 0; i < 25; i++)
    {
      _cleanup_free_ char *name = xasprintf ("p%02d", i);
      _cleanup_free_ char *p = pod (name, "l");
      store_create (s, "pods", i % 2 ? "ns-b" : "ns-a", name, p, NULL, NULL, &err);
    }
  store_list_result r = { 0 };
  int ret = store_list (s, "pods", "ns-a", 0, NULL, &r, &err);
  ok (ret == 0 && r.n == 13 && !r.continue_token, "list of one namespace, no limit: 13 items");
  int64_t cur = 0;
  store_current_revision (s, &cur, NULL);
  is_int (r.revision, cur, "list revision is the current revision");
  store_list_result_free (&r);

  /* Pages of 10 over all namespaces, with a write between pages. */
  char *token = NULL;
  int pages = 0, total = 0;
  int64_t rev0 = 0;
  bool unique = true, same_rev = true;
  char *seen[64];
  do
    {
      ret = store_list (s, "pods", NULL, 10, token, &r, &err);
      if (ret < 0)
        break;
      if (pages == 0)
        {
          rev0 = r.revision;
          _cleanup_free_ char *p = pod ("zz", "late");
          store_create (s, "pods", "ns-c", "zz", p, NULL, NULL, NULL);
        }
      else if (r.revision != rev0)
        same_rev = false;
      for (size_t i = 0; i < r.n && total < 64; i++)
        {
          _cleanup_json_ json_t *j = json_loads (r.items[i], 0, NULL);
          const char *nm = husk_json_path_str (j, "metadata.name");
          for (int k = 0; k < total; k++)
            if (nm && streq (seen[k], nm))
              unique = false;
          seen[total++] = xstrdup (nm ? nm : "");
        }
      pages++;
      free (token);
      token = r.continue_token ? xstrdup (r.continue_token) : NULL;
      store_list_result_free (&r);
    }
  while (token && pages < 10);
  ok (ret == 0, "paged list succeeds");
  is_int (pages, 3, "25 items + 1 created during paging, limit 10: 3 pages");
  is_int (total, 26, "26 items (the one created meanwhile sorts last)");
  ok (unique, "no item on two pages");
  ok (same_rev, "later pages report the first page's revision");
  /* key order: ns-a's p00,p02,.. first, then ns-b's, then ns-c/zz */
  ok (total == 26 && streq (seen[0], "p00") && streq (seen[12], "p24") && streq (seen[13], "p01")
          && streq (seen[25], "zz"),
      "items in key order (namespace, then name)");
  for (int k = 0; k < total; k++)
    free (seen[k]);

  ret = store_list (s, "pods", "ns-a", 5, "bm90IGEgdG9rZW4=", &r, &err);
  is_int (errnum_of (ret, err), STORE_EINVAL, "a garbage continue token is rejected");
  husk_error_free (TAKE_PTR (err));
  ret = store_list (s, "pods", "ns-a", 5, NULL, &r, &err);
  _cleanup_free_ char *tok = xstrdup (r.continue_token ? r.continue_token : "");
  store_list_result_free (&r);
  ret = store_list (s, "pods", "ns-b", 5, tok, &r, &err);
  is_int (errnum_of (ret, err), STORE_EINVAL, "another list's continue token is rejected");
  husk_error_free (TAKE_PTR (err));
  ret = store_list (s, "nothing", NULL, 0, NULL, &r, &err);
  ok (ret == 0 && r.n == 0, "list of an unknown resource is empty");
  store_list_result_free (&r);
}

static void
test_txn (store *s)
{
  _cleanup_error_ husk_error *err = NULL;
  int64_t before = 0, after = 0, rev = 0;
  _cleanup_free_ char *x = pod ("tx", "1"), *y = pod ("ty", "1");
  store_current_revision (s, &before, NULL);
  store_op bad[] = {
    { .type = STORE_OP_CREATE, .resource = "pods", .ns = "t", .name = "tx", .json = x },
    { .type = STORE_OP_CREATE, .resource = "configmaps", .ns = "t", .name = "cm", .json = y },
    { .type = STORE_OP_UPDATE, .resource = "pods", .ns = "t", .name = "missing", .json = y },
  };
  int ret = store_txn (s, bad, ARRAY_SIZE (bad), &rev, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "txn with a failing op fails with its class");
  ok (err && strstr (err->msg, "pods/t/missing"), "txn error names the failing op (%s)",
      err ? err->msg : "");
  husk_error_free (TAKE_PTR (err));
  char *got = NULL;
  ret = store_get (s, "pods", "t", "tx", &got, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND,
          "txn all-or-nothing: the first create left no trace");
  husk_error_free (TAKE_PTR (err));
  store_current_revision (s, &after, NULL);
  is_int (after, before, "a failed txn does not consume a revision");

  store_op good[] = {
    { .type = STORE_OP_CREATE, .resource = "pods", .ns = "t", .name = "tx", .json = x },
    { .type = STORE_OP_CREATE, .resource = "configmaps", .ns = "t", .name = "cm", .json = y },
  };
  ret = store_txn (s, good, 2, &rev, &err);
  ok (ret == 0 && rev == before + 1, "txn commits with one revision");
  _cleanup_free_ char *r1 = good[0].result ? rv_of (good[0].result) : NULL;
  _cleanup_free_ char *r2 = good[1].result ? rv_of (good[1].result) : NULL;
  is_str (r1, str_rev (rev), "first op's result has the txn revision");
  is_str (r2, str_rev (rev), "second op's result has the txn revision");
  free (good[0].result);
  free (good[1].result);
  store_op dup[] = {
    { .type = STORE_OP_UPDATE, .resource = "pods", .ns = "t", .name = "tx", .json = x },
    { .type = STORE_OP_DELETE, .resource = "pods", .ns = "t", .name = "tx" },
  };
  ret = store_txn (s, dup, 2, &rev, &err);
  is_int (errnum_of (ret, err), STORE_EINVAL, "a key twice in one txn is rejected");
}

static void
test_watch (void)
{
  store *s = open_store (8, false, 0);
  _cleanup_error_ husk_error *err = NULL;
  int64_t start = 0;
  store_current_revision (s, &start, NULL);
  store_watch *w = NULL, *lag = NULL;
  ok (store_watch_open (s, "pods", "w", 0, &lag, &err) == 0, "watch from now");
  int fd = store_watch_fd (lag);
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  ok (fd >= 0 && poll (&pfd, 1, 0) == 0, "watch fd not readable before any write");
  for (int i = 0; i < 20; i++)
    {
      _cleanup_free_ char *name = xasprintf ("w%d", i), *p = pod (name, "w");
      store_create (s, "pods", "w", name, p, NULL, NULL, NULL);
      if (i == 0)
        ok (poll (&pfd, 1, 1000) == 1, "watch fd readable after a write");
    }
  int ret = store_watch_open (s, "pods", "w", start, &w, &err);
  is_int (errnum_of (ret, err), STORE_ETOOOLD, "watch from before an 8-event ring: too old (410)");
  husk_error_free (TAKE_PTR (err));
  const store_event *ev = NULL;
  ret = store_watch_next (lag, 0, &ev, &err);
  is_int (errnum_of (ret, err), STORE_ETOOOLD, "a watcher that fell behind the ring gets too old");
  husk_error_free (TAKE_PTR (err));
  store_watch_close (lag);

  int64_t cur = 0;
  store_current_revision (s, &cur, NULL);
  ret = store_watch_open (s, "pods", "w", cur - 3, &w, &err);
  ok (ret == 0, "watch from 3 revisions back is inside the ring");
  int n = 0;
  int64_t prev = cur - 3;
  bool order = true;
  while (store_watch_next (w, 0, &ev, &err) == 1)
    {
      if (ev->rev != prev + 1 || ev->type != STORE_ADDED)
        order = false;
      _cleanup_free_ char *rv = rv_of (ev->json);
      if (!rv || !streq (rv, str_rev (ev->rev)))
        order = false;
      prev = ev->rev;
      n++;
      store_event_unref (ev);
    }
  is_int (n, 3, "exactly the 3 later events");
  ok (order, "in revision order, ADDED, objects carry their revision");
  ret = store_watch_next (w, 100, &ev, &err);
  is_int (ret, 0, "next times out when idle");
  is_int (store_watch_progress (w), cur, "progress is the current revision when caught up");

  /* delete shows as DELETED with the last state */
  int64_t drev = 0;
  store_delete (s, "pods", "w", "w19", 0, NULL, &drev, NULL);
  ret = store_watch_next (w, 1000, &ev, &err);
  ok (ret == 1 && ev->type == STORE_DELETED && ev->rev == drev && streq (ev->name, "w19")
          && streq (ev->ns, "w"),
      "DELETED event with the deletion revision");
  if (ret == 1)
    store_event_unref (ev);
  store_watch_cancel (w);
  ret = store_watch_next (w, -1, &ev, &err);
  is_int (errnum_of (ret, err), ECANCELED, "cancel wakes the watcher");
  store_watch_close (w);

  ret = store_watch_open (s, "pods", "w", cur + 1000, &w, &err);
  ok (ret == 0, "watch from a future revision waits");
  store_watch_close (w);
  store_close (s);
}

static void
test_volatile (void)
{
  _cleanup_error_ husk_error *err = NULL;
  store *s = open_store (0, false, 1);
  _cleanup_free_ char *l = pod ("node1", "lease"), *e = pod ("ev1", "event");
  int64_t lrev = 0, erev = 0;
  ok (store_create (s, "leases", "kube-node-lease", "node1", l, NULL, &lrev, &err) == 0,
      "lease create");
  store_watch *w = NULL;
  store_watch_open (s, "events", NULL, 0, &w, &err);
  bool created = true;
  for (int i = 1; i <= 3; i++)
    {
      char name[8];
      snprintf (name, sizeof name, "ev%d", i);
      created = created && store_create (s, "events", "default", name, e, NULL, &erev, &err) == 0;
    }
  ok (created, "3 events created");
  store_list_result r = { 0 };
  ok (store_list (s, "leases", NULL, 0, NULL, &r, &err) == 0 && r.n == 1, "volatile list");
  store_list_result_free (&r);
  const store_event *ev = NULL;
  int ret, added = 0, deleted = 0;
  while ((ret = store_watch_next (w, 1000, &ev, &err)) == 1 && ev->type == STORE_ADDED)
    {
      added++;
      store_event_unref (ev);
    }
  is_int (added, 3, "3 ADDED events");
  /* TTL 1 s: the expiry pass deletes them in one batch, watchers see DELETED. */
  for (; ret == 1 || (ret = store_watch_next (w, 4000, &ev, &err)) == 1; ret = 0)
    {
      if (ev->type == STORE_DELETED && ev->rev > erev)
        deleted++;
      store_event_unref (ev);
      if (deleted == 3)
        break;
    }
  is_int (deleted, 3, "events expire after their TTL with DELETED events");
  ok (store_list (s, "events", NULL, 0, NULL, &r, &err) == 0 && r.n == 0,
      "expired events are gone");
  store_list_result_free (&r);
  store_watch_close (w);
  store_close (s);

  s = open_store (0, false, 0);
  char *got = NULL;
  ret = store_get (s, "leases", "kube-node-lease", "node1", &got, NULL, &err);
  is_int (errnum_of (ret, err), STORE_ENOTFOUND, "volatile lease is gone after a restart");
  husk_error_free (TAKE_PTR (err));
  int64_t cur = 0;
  store_current_revision (s, &cur, NULL);
  ok (cur > erev, "revision never goes backwards across restarts (%lld > %lld)", (long long)cur,
      (long long)erev);
  int64_t prev = cur;
  store_close (s);
  s = open_store (0, false, 0);
  store_current_revision (s, &cur, NULL);
  is_int (cur, prev, "restart without volatile writes does not jump the revision");
  store_close (s);

  s = open_store (0, true, 0);
  ok (store_create (s, "leases", "kube-node-lease", "node2", l, NULL, NULL, &err) == 0,
      "durable lease create");
  store_close (s);
  s = open_store (0, true, 0);
  ret = store_get (s, "leases", "kube-node-lease", "node2", &got, NULL, &err);
  ok (ret == 0, "with durable_volatile the lease survives a restart");
  free (got);
  store_close (s);
}

static void
test_persist (void)
{
  _cleanup_error_ husk_error *err = NULL;
  store *s = open_store (0, false, 0);
  int64_t cur = 0, rev = 0;
  store_current_revision (s, &cur, NULL);
  char *got = NULL;
  int ret = store_get (s, "pods", "t", "tx", &got, &rev, &err);
  ok (ret == 0 && rev > 0 && rev <= cur, "objects persist across reopen with their revision");
  free (got);
  store *s2 = NULL;
  store_options o = { .data_dir = dir };
  ret = store_open (&o, &s2, &err);
  is_int (errnum_of (ret, err), EBUSY, "a second store on the same file is refused");
  store_close (s);
}

/* Opens a store with a byte budget for the watch history, writes n ~1 KiB pods in namespace
   ns, and says whether a watch from before them is still inside the history. */
static bool
history_reaches_back (size_t budget, int n, const char *ns, int64_t *first, int64_t *last)
{
  store_options o = { .data_dir = dir, .watch_ring = 10000, .watch_ring_bytes = budget };
  store *s = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &s, &err) < 0)
    {
      printf ("Bail out! store_open: %s\n", err->msg);
      exit (1);
    }
  char big[1024];
  memset (big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  store_watch *w = NULL;
  store_current_revision (s, first, NULL);
  store_watch_open (s, "pods", ns, *first, &w, NULL);
  for (int i = 0; i < n; i++)
    {
      _cleanup_free_ char *name = xasprintf ("b%d", i), *p = pod (name, big);
      store_create (s, "pods", ns, name, p, NULL, NULL, NULL);
    }
  store_current_revision (s, last, NULL);
  const store_event *ev = NULL;
  int ret = store_watch_next (w, 0, &ev, &err);
  if (ret == 1)
    store_event_unref (ev);
  store_watch_close (w);
  store_close (s);
  return ret == 1;
}

static void
test_watch_bytes (void)
{
  int64_t first = 0, last = 0;
  ok (history_reaches_back (0, 300, "wb1", &first, &last),
      "the default byte budget keeps 300 events of 1 KiB");
  ok (!history_reaches_back (64 << 10, 300, "wb2", &first, &last),
      "a 64 KiB budget drops the oldest of 300 events of 1 KiB: a lagging watcher gets too old");
  store_options o = { .data_dir = dir, .watch_ring = 10000, .watch_ring_bytes = 64 << 10 };
  store *s = NULL;
  _cleanup_error_ husk_error *err = NULL;
  store_open (&o, &s, NULL);
  char big[1024];
  memset (big, 'y', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  int64_t start = 0;
  store_current_revision (s, &start, NULL);
  for (int i = 0; i < 250; i++)
    {
      _cleanup_free_ char *name = xasprintf ("c%d", i), *p = pod (name, big);
      store_create (s, "pods", "wb3", name, p, NULL, NULL, NULL);
    }
  int64_t cur = 0;
  store_current_revision (s, &cur, NULL);
  store_watch *w = NULL;
  ok (store_watch_open (s, "pods", "wb3", cur - 100, &w, &err) == 0,
      "the newest 100 events stay whatever their size");
  int n = 0;
  const store_event *ev = NULL;
  while (store_watch_next (w, 0, &ev, &err) == 1)
    {
      n++;
      store_event_unref (ev);
    }
  is_int (n, 100, "a watch from 100 revisions back gets all 100 events");
  store_watch_close (w);
  int ret = store_watch_open (s, "pods", "wb3", start, &w, &err);
  is_int (errnum_of (ret, err), STORE_ETOOOLD, "a watch from 250 events back is too old (410)");
  store_close (s);
}

int
main (void)
{
  char tmpl[] = "/tmp/husk-store-basic.XXXXXX";
  dir = mkdtemp (tmpl);
  if (!dir)
    tap_skip_all ("mkdtemp failed");
  store *s = open_store (0, false, 0);
  is_str (store_backend_name (s), "sqlite", "default backend is sqlite");
  test_crud (s);
  test_list (s);
  test_txn (s);
  store_close (s);
  test_watch ();
  test_watch_bytes ();
  test_volatile ();
  test_persist ();
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
