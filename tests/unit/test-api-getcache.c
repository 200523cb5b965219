/* The API server's single-object GET cache (src/master/api/getcache.c) over a real SQLite
   store: a second GET is served from the cache (proved by changing the row behind the store's
   back), any write of the resource through the store invalidates it, other resources' writes
   do not, deleted objects are not served, and a colliding key never returns another object.
   Held entries (the shared reply of a GET) stay whole while replaced under many threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "lib/path.h"
#include "src/master/api/getcache.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

static char *dir;

static store *
open_store (void)
{
  store_options o = {.data_dir = dir};
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
cm (const char *name, const char *v)
{
  return xasprintf ("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
                    "\"namespace\":\"default\"},\"data\":{\"k\":\"%s\"}}",
                    name, v);
}

/* The value of data.k in what a GET through the cache returns, or "ERR". */
static char *
get_k (api_getcache *c, store *s, const char *name)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *json = NULL;
  if (api_getcache_get (c, s, "configmaps", "default", name, &json, &err) < 0)
    return xstrdup ("ERR");
  const char *p = strstr (json, "\"k\":\"");
  return p ? xstrndup (p + 5, strcspn (p + 5, "\"")) : xstrdup ("?");
}

/* Changes the stored row of configmaps/default/NAME without the store knowing. */
static void
poke_row (const char *name, const char *from, const char *to)
{
  _cleanup_free_ char *db_path = xasprintf ("%s/state.db", dir);
  sqlite3 *db;
  ok (sqlite3_open (db_path, &db) == SQLITE_OK, "open the store's database directly");
  _cleanup_free_ char *sql = xasprintf (
      "UPDATE kv SET value = replace(value, '\"k\":\"%s\"', '\"k\":\"%s\"') WHERE key LIKE "
      "'%%/configmaps/default/%s'",
      from, to, name);
  char *msg = NULL;
  ok (sqlite3_exec (db, sql, NULL, NULL, &msg) == SQLITE_OK && sqlite3_changes (db) == 1,
      "row of %s changed behind the store (%s)", name, msg ? msg : "ok");
  sqlite3_free (msg);
  sqlite3_close (db);
}

static void
put (store *s, const char *name, const char *v)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *j = cm (name, v);
  ok (store_update (s, "configmaps", "default", name, j, 0, NULL, NULL, &err) == 0,
      "update %s = %s", name, v);
}

/* data.k of a held entry's text. */
static char *
entry_k (api_getcache_entry *e)
{
  size_t len;
  const char *t = api_getcache_json (e, &len);
  const char *p = strstr (t, "\"k\":\"");
  return p && p < t + len ? xstrndup (p + 5, strcspn (p + 5, "\"")) : xstrdup ("?");
}

static store *shared_store;
static api_getcache *shared_cache;
static atomic_int torn;

/* Holds configmaps/default/h over and over while another thread rewrites it: every text held
   must be a whole object, its length as stored, and stay so until released. */
static void *
holder (void *arg)
{
  (void) arg;
  for (int i = 0; i < 3000; i++)
    {
      api_getcache_entry *e = NULL;
      if (api_getcache_hold (shared_cache, shared_store, "configmaps", "default", "h", &e, NULL)
          < 0)
        continue;
      size_t len;
      const char *t = api_getcache_json (e, &len);
      char *k = entry_k (e);
      if (len != strlen (t) - 1 || t[len] != '\n' || t[len - 1] != '}' || k[0] != 'v'
          || api_getcache_response (e) == NULL)
        atomic_fetch_add (&torn, 1);
      free (k);
      api_getcache_release (e);
    }
  return NULL;
}

static void
test_hold (store *s, api_getcache *c)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *h = cm ("h", "v0");
  ok (store_create (s, "configmaps", "default", "h", h, NULL, NULL, &err) == 0, "create h");
  api_getcache_entry *e1 = NULL, *e2 = NULL, *e3 = NULL;
  ok (api_getcache_hold (c, s, "configmaps", "default", "h", &e1, &err) == 0
          && api_getcache_hold (c, s, "configmaps", "default", "h", &e2, &err) == 0,
      "hold h twice");
  ok (e1 == e2 && api_getcache_response (e1) != NULL,
      "both GETs share one entry and its prebuilt reply");
  put (s, "h", "v1");
  ok (api_getcache_hold (c, s, "configmaps", "default", "h", &e3, &err) == 0 && e3 != e1,
      "after a write the next GET gets a new entry");
  char *k1 = entry_k (e1), *k3 = entry_k (e3);
  is_str (k1, "v0", "the replaced entry is still whole while held");
  is_str (k3, "v1", "the new entry has the write");
  free (k1);
  free (k3);
  api_getcache_release (e1);
  api_getcache_release (e2);
  api_getcache_release (e3);

  shared_store = s;
  shared_cache = c;
  pthread_t t[8];
  for (int i = 0; i < 8; i++)
    pthread_create (&t[i], NULL, holder, NULL);
  for (int i = 2; i < 200; i++)
    {
      char v[32];
      snprintf (v, sizeof v, "v%d", i);
      _cleanup_free_ char *j = cm ("h", v);
      store_update (s, "configmaps", "default", "h", j, 0, NULL, NULL, NULL);
    }
  for (int i = 0; i < 8; i++)
    pthread_join (t[i], NULL);
  is_int (atomic_load (&torn), 0,
          "8 threads x 3,000 holds while h is rewritten 198 times: every held text whole");
}

int
main (void)
{
  char tmpl[] = "/tmp/test-api-getcache-XXXXXX";
  dir = mkdtemp (tmpl);
  store *s = open_store ();
  api_getcache *c = api_getcache_new ();
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *a = cm ("a", "1"), *b = cm ("b", "1");
  ok (store_create (s, "configmaps", "default", "a", a, NULL, NULL, &err) == 0, "create a");
  ok (store_create (s, "configmaps", "default", "b", b, NULL, NULL, &err) == 0, "create b");

  char *v = get_k (c, s, "a");
  is_str (v, "1", "first GET reads the store");
  free (v);
  poke_row ("a", "1", "behind");
  v = get_k (c, s, "a");
  is_str (v, "1", "second GET is served from the cache (the row changed behind it)");
  free (v);
  v = get_k (NULL, s, "a");
  is_str (v, "behind", "without a cache the store's row is read");
  free (v);

  /* A write of another resource keeps the entry; a write of any configmap drops it. */
  _cleanup_free_ char *sec = xstrdup ("{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":"
                                      "{\"name\":\"x\",\"namespace\":\"default\"}}");
  ok (store_create (s, "secrets", "default", "x", sec, NULL, NULL, &err) == 0, "create a secret");
  v = get_k (c, s, "a");
  is_str (v, "1", "a write of another resource keeps the entry");
  free (v);
  put (s, "b", "2");
  v = get_k (c, s, "a");
  is_str (v, "behind", "a write of another configmap invalidates the entry");
  free (v);
  put (s, "a", "3");
  v = get_k (c, s, "a");
  is_str (v, "3", "GET after an update returns the update");
  free (v);
  v = get_k (c, s, "b");
  is_str (v, "2", "b is its own entry");
  free (v);

  ok (store_delete (s, "configmaps", "default", "a", 0, NULL, NULL, &err) == 0, "delete a");
  v = get_k (c, s, "a");
  is_str (v, "ERR", "a deleted object is not served from the cache");
  free (v);

  /* Many keys share the 512 slots: each GET returns its own object. */
  for (int i = 0; i < 2000; i++)
    {
      char name[32], val[32];
      snprintf (name, sizeof name, "m%d", i);
      snprintf (val, sizeof val, "v%d", i);
      _cleanup_free_ char *j = cm (name, val);
      store_create (s, "configmaps", "default", name, j, NULL, NULL, NULL);
    }
  int wrong = 0;
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 2000; i++)
      {
        char name[32], val[32];
        snprintf (name, sizeof name, "m%d", i);
        snprintf (val, sizeof val, "v%d", i);
        char *got = get_k (c, s, name);
        wrong += !streq (got, val);
        free (got);
      }
  is_int (wrong, 0, "4000 GETs of 2000 objects through colliding slots: each its own object");

  test_hold (s, c);

  api_getcache_free (c);
  store_close (s);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
