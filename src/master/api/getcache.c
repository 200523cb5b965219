/* husk api: a small cache of single-object GETs in front of the store. A GET otherwise costs
   a SQLite read (a pooled connection, the WAL read lock's two fcntl calls, a B-tree walk):
   about a fifth of the master's CPU per GET. Direct-mapped: a slot per hash of
   resource/namespace/name, replaced by the last object fetched into it; validity comes from the
   store's per-resource write revision, so a write anywhere in the resource invalidates all of
   its entries at once (cheap and obviously correct; GET-heavy clients read objects that do not
   change at every request). */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "lib/error.h"
#include "lib/util.h"
#include "src/master/api/getcache.h"
#include "src/master/store/store.h"

#define SLOTS 512
#define LOCKS 16
#define MAX_OBJECT 8192 /* larger objects are not cached: at most SLOTS x 8 KiB = 4 MiB */

typedef struct slot
{
  char *key; /* "resource\0ns\0name\0" */
  size_t key_len;
  char *json;
  size_t json_len;
  int64_t write_rev;
} slot;

struct api_getcache
{
  pthread_mutex_t locks[LOCKS];
  slot slots[SLOTS];
};

api_getcache *
api_getcache_new (void)
{
  api_getcache *c = xzalloc (sizeof *c);
  for (size_t i = 0; i < LOCKS; i++)
    pthread_mutex_init (&c->locks[i], NULL);
  return c;
}

void
api_getcache_free (api_getcache *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < SLOTS; i++)
    {
      free (c->slots[i].key);
      free (c->slots[i].json);
    }
  for (size_t i = 0; i < LOCKS; i++)
    pthread_mutex_destroy (&c->locks[i]);
  free (c);
}

static size_t
make_key (char *buf, size_t cap, const char *resource, const char *ns, const char *name)
{
  size_t a = strlen (resource) + 1, b = strlen (ns) + 1, n = strlen (name) + 1;
  if (a + b + n > cap)
    return 0;
  memcpy (buf, resource, a);
  memcpy (buf + a, ns, b);
  memcpy (buf + a + b, name, n);
  return a + b + n;
}

static uint32_t
hash (const char *p, size_t n)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char) p[i]) * 16777619u;
  return h;
}

/* A malloc'd copy of the slot's object when it is the key's and still current. */
static char *
lookup (api_getcache *c, size_t i, const char *key, size_t key_len, int64_t write_rev)
{
  slot *s = &c->slots[i];
  char *out = NULL;
  pthread_mutex_lock (&c->locks[i % LOCKS]);
  if (s->key && s->key_len == key_len && s->write_rev == write_rev
      && memcmp (s->key, key, key_len) == 0)
    {
      out = xmalloc (s->json_len + 1);
      memcpy (out, s->json, s->json_len + 1);
    }
  pthread_mutex_unlock (&c->locks[i % LOCKS]);
  return out;
}

static void
store_slot (api_getcache *c, size_t i, const char *key, size_t key_len, const char *json,
            int64_t write_rev)
{
  size_t len = strlen (json);
  if (len > MAX_OBJECT)
    return;
  slot *s = &c->slots[i];
  char *k = xmalloc (key_len), *j = xmalloc (len + 1);
  memcpy (k, key, key_len);
  memcpy (j, json, len + 1);
  pthread_mutex_lock (&c->locks[i % LOCKS]);
  char *old_k = s->key, *old_j = s->json;
  s->key = k, s->key_len = key_len, s->json = j, s->json_len = len, s->write_rev = write_rev;
  pthread_mutex_unlock (&c->locks[i % LOCKS]);
  free (old_k);
  free (old_j);
}

int
api_getcache_get (api_getcache *c, store *st, const char *resource, const char *ns,
                  const char *name, char **json_out, husk_error **err)
{
  char key[512];
  size_t key_len = c ? make_key (key, sizeof key, resource, ns ? ns : "", name) : 0;
  /* Read before the store: a write that lands after this read changes the revision, so an
     entry fetched meanwhile is never served as current. */
  int64_t write_rev = key_len ? store_resource_write_rev (st, resource) : -1;
  size_t i = key_len ? hash (key, key_len) % SLOTS : 0;
  if (write_rev >= 0 && (*json_out = lookup (c, i, key, key_len, write_rev)) != NULL)
    return 0;
  int ret = store_get (st, resource, ns, name, json_out, NULL, err);
  if (ret == 0 && write_rev >= 0)
    store_slot (c, i, key, key_len, *json_out, write_rev);
  return ret;
}
