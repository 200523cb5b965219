/* husk api: a small cache of single-object GETs in front of the store. A GET otherwise costs
   a SQLite read (a pooled connection, the WAL read lock's two fcntl calls, a B-tree walk):
   about a fifth of the master's CPU per GET. Direct-mapped: a slot per hash of
   resource/namespace/name, replaced by the last object fetched into it; validity comes from the
   store's per-resource write revision, so a write anywhere in the resource invalidates all of
   its entries at once (cheap and obviously correct; GET-heavy clients read objects that do not
   change at every request).

   An entry also carries the 200 reply for its object, built once: the text and its newline in
   a libmicrohttpd response with the API's headers. libmicrohttpd counts a response's
   references under its own lock, so many connections may send one response at once; a GET
   served from the cache then costs no copy of the text, no response object, no header list.
   Entries are reference-counted: a request holds its entry while it queues the reply, and an
   entry replaced meanwhile goes when its last holder lets go (the response itself when the
   last connection sending it is done). */
#include "config.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "lib/error.h"
#include "lib/util.h"
#include "src/master/api/getcache.h"
#include "src/master/store/store.h"

#define SLOTS 512
#define LOCKS 16
#define MAX_OBJECT 8192 /* larger objects are not cached: at most SLOTS x 8 KiB = 4 MiB */

struct api_getcache_entry
{
  atomic_int refs;            /* the slot's, if cached, and each holder's */
  struct MHD_Response *resp;  /* owns text: the object, '\n', '\0' */
  char *text;
  size_t len;                 /* of the object, without the newline */
};

typedef struct slot
{
  char *key; /* "resource\0ns\0name\0" */
  size_t key_len;
  int64_t write_rev;
  api_getcache_entry *entry;
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
      api_getcache_release (c->slots[i].entry);
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

/* A text of len bytes (NUL-terminated) as an entry with one reference and its reply. */
static api_getcache_entry *
entry_new (char *json, size_t len)
{
  api_getcache_entry *e = xzalloc (sizeof *e);
  atomic_init (&e->refs, 1);
  json = xrealloc (json, len + 2);
  json[len] = '\n';
  json[len + 1] = '\0';
  e->text = json;
  e->len = len;
  e->resp = MHD_create_response_from_buffer (len + 1, json, MHD_RESPMEM_MUST_FREE);
  if (e->resp == NULL)
    husk_oom ();
  MHD_add_response_header (e->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_add_response_header (e->resp, "Cache-Control", "no-cache, private");
  return e;
}

void
api_getcache_release (api_getcache_entry *e)
{
  if (e == NULL || atomic_fetch_sub_explicit (&e->refs, 1, memory_order_acq_rel) != 1)
    return;
  MHD_destroy_response (e->resp); /* frees text, or leaves it to the last connection */
  free (e);
}

const char *
api_getcache_json (const api_getcache_entry *e, size_t *len)
{
  *len = e->len;
  return e->text;
}

struct MHD_Response *
api_getcache_response (const api_getcache_entry *e)
{
  return e->resp;
}

/* The slot's entry, referenced, when it is the key's and still current. */
static api_getcache_entry *
lookup (api_getcache *c, size_t i, const char *key, size_t key_len, int64_t write_rev)
{
  slot *s = &c->slots[i];
  api_getcache_entry *e = NULL;
  pthread_mutex_lock (&c->locks[i % LOCKS]);
  if (s->entry && s->key_len == key_len && s->write_rev == write_rev
      && memcmp (s->key, key, key_len) == 0)
    {
      e = s->entry;
      atomic_fetch_add_explicit (&e->refs, 1, memory_order_relaxed);
    }
  pthread_mutex_unlock (&c->locks[i % LOCKS]);
  return e;
}

static void
store_slot (api_getcache *c, size_t i, const char *key, size_t key_len, api_getcache_entry *e,
            int64_t write_rev)
{
  if (e->len > MAX_OBJECT)
    return;
  slot *s = &c->slots[i];
  char *k = xmalloc (key_len);
  memcpy (k, key, key_len);
  atomic_fetch_add_explicit (&e->refs, 1, memory_order_relaxed);
  pthread_mutex_lock (&c->locks[i % LOCKS]);
  char *old_k = s->key;
  api_getcache_entry *old = s->entry;
  s->key = k, s->key_len = key_len, s->entry = e, s->write_rev = write_rev;
  pthread_mutex_unlock (&c->locks[i % LOCKS]);
  free (old_k);
  api_getcache_release (old);
}

int
api_getcache_hold (api_getcache *c, store *st, const char *resource, const char *ns,
                   const char *name, api_getcache_entry **out, husk_error **err)
{
  char key[512];
  size_t key_len = c ? make_key (key, sizeof key, resource, ns ? ns : "", name) : 0;
  /* Read before the store: a write that lands after this read changes the revision, so an
     entry fetched meanwhile is never served as current. */
  int64_t write_rev = key_len ? store_resource_write_rev (st, resource) : -1;
  size_t i = key_len ? hash (key, key_len) % SLOTS : 0;
  if (write_rev >= 0 && (*out = lookup (c, i, key, key_len, write_rev)) != NULL)
    return 0;
  char *json = NULL;
  int ret = store_get (st, resource, ns, name, &json, NULL, err);
  if (ret < 0)
    return ret;
  api_getcache_entry *e = entry_new (json, strlen (json));
  if (write_rev >= 0)
    store_slot (c, i, key, key_len, e, write_rev);
  *out = e;
  return 0;
}

int
api_getcache_get (api_getcache *c, store *st, const char *resource, const char *ns,
                  const char *name, char **json_out, husk_error **err)
{
  api_getcache_entry *e = NULL;
  int ret = api_getcache_hold (c, st, resource, ns, name, &e, err);
  if (ret < 0)
    return ret;
  *json_out = xstrndup (e->text, e->len);
  api_getcache_release (e);
  return 0;
}
