/* Hash-consing of JSON trees (intern.h). An open-addressing table of canonical nodes keyed
   by a hash of their contents; the members of a canonical array or object are canonical
   themselves, so that two containers are equal when they hold the same member pointers
   (under the same keys): one level is compared, never a whole subtree. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "src/master/sched/intern.h"

typedef struct slot
{
  uint64_t h;
  json_t *v; /* one reference held by the table; NULL: empty */
} slot;

struct sched_intern
{
  pthread_mutex_t mu;
  slot *slots;
  size_t cap, n;
  size_t sweep_at; /* sweep before the table grows beyond this many nodes */
};

#define MIN_SWEEP 4096

sched_intern *
sched_intern_new (void)
{
  sched_intern *t = xzalloc (sizeof *t);
  pthread_mutex_init (&t->mu, NULL);
  t->cap = 1024;
  t->slots = xcalloc (t->cap, sizeof *t->slots);
  t->sweep_at = MIN_SWEEP;
  return t;
}

void
sched_intern_free (sched_intern *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->cap; i++)
    json_decref (t->slots[i].v);
  free (t->slots);
  pthread_mutex_destroy (&t->mu);
  free (t);
}

static sched_intern *shared, *transient;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;

static void
shared_init (void)
{
  shared = sched_intern_new ();
  transient = sched_intern_new ();
}

sched_intern *
sched_intern_transient (void)
{
  pthread_once (&shared_once, shared_init);
  return transient;
}

sched_intern *
sched_intern_shared (void)
{
  pthread_once (&shared_once, shared_init);
  return shared;
}

/* ---- hashing ---- */

static uint64_t
mix (uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static uint64_t
bytes_hash (const char *s, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return mix (h ^ n);
}

static uint64_t
ptr_hash (const json_t *v)
{
  return mix ((uint64_t)(uintptr_t)v);
}

/* ---- the table ---- */

static void
place (slot *slots, size_t cap, uint64_t h, json_t *v)
{
  size_t i = (size_t)h & (cap - 1);
  while (slots[i].v)
    i = (i + 1) & (cap - 1);
  slots[i] = (slot){ h, v };
}

static void
rehash (sched_intern *t, size_t cap)
{
  slot *s = xcalloc (cap, sizeof *s);
  for (size_t i = 0; i < t->cap; i++)
    if (t->slots[i].v)
      place (s, cap, t->slots[i].h, t->slots[i].v);
  free (t->slots);
  t->slots = s;
  t->cap = cap;
}

/* Under t->mu. Drops nodes only the table holds, as long as some go (a freed container
   leaves its members to the table alone). Nobody else can take a new reference to such a
   node: it is reachable only through the table. */
static void
sweep (sched_intern *t)
{
  size_t dropped, total = 0;
  do
    {
      dropped = 0;
      for (size_t i = 0; i < t->cap; i++)
        {
          json_t *v = t->slots[i].v;
          if (v && __atomic_load_n (&v->refcount, __ATOMIC_ACQUIRE) == 1)
            {
              t->slots[i].v = NULL;
              json_decref (v);
              dropped++;
            }
        }
      t->n -= dropped;
      total += dropped;
    }
  while (dropped);
  t->sweep_at = t->n * 2 > MIN_SWEEP ? t->n * 2 : MIN_SWEEP;
  if (total == 0)
    return;
  size_t cap = 1024;
  while (cap < t->n * 2)
    cap *= 2;
  rehash (t, cap);
}

static void
insert (sched_intern *t, uint64_t h, json_t *v)
{
  if (t->n + 1 > t->sweep_at)
    sweep (t);
  if ((t->n + 1) * 10 > t->cap * 7)
    rehash (t, t->cap * 2);
  place (t->slots, t->cap, h, json_incref (v));
  t->n++;
}

/* A member list being interned: keys (NULL for an array) and canonical members. */
typedef struct members
{
  size_t n;
  const char **keys;
  json_t **vals;
} members;

static bool
scalar_equal (const json_t *a, const json_t *b)
{
  if (json_typeof (a) != json_typeof (b))
    return false;
  switch (json_typeof (a))
    {
    case JSON_STRING:
      return json_string_length (a) == json_string_length (b)
             && memcmp (json_string_value (a), json_string_value (b), json_string_length (a))
                    == 0;
    case JSON_INTEGER:
      return json_integer_value (a) == json_integer_value (b);
    case JSON_REAL:
      {
        double x = json_real_value (a), y = json_real_value (b);
        return memcmp (&x, &y, sizeof x) == 0;
      }
    default:
      return false;
    }
}

static bool
container_equal (const json_t *c, json_type type, const members *m)
{
  if (json_typeof (c) != type)
    return false;
  if (type == JSON_ARRAY)
    {
      if (json_array_size (c) != m->n)
        return false;
      for (size_t i = 0; i < m->n; i++)
        if (json_array_get (c, i) != m->vals[i])
          return false;
      return true;
    }
  if (json_object_size (c) != m->n)
    return false;
  for (size_t i = 0; i < m->n; i++)
    if (json_object_get (c, m->keys[i]) != m->vals[i])
      return false;
  return true;
}

/* The canonical node equal to v (scalar) or to a container of type with members m;
   NULL when there is none yet. */
static json_t *
lookup (sched_intern *t, uint64_t h, const json_t *v, json_type type, const members *m)
{
  for (size_t i = (size_t)h & (t->cap - 1); t->slots[i].v; i = (i + 1) & (t->cap - 1))
    {
      if (t->slots[i].h != h)
        continue;
      json_t *c = t->slots[i].v;
      if (v ? scalar_equal (c, v) : container_equal (c, type, m))
        return c;
    }
  return NULL;
}

static uint64_t
scalar_hash (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return bytes_hash (json_string_value (v), json_string_length (v));
    case JSON_INTEGER:
      return mix ((uint64_t)json_integer_value (v) ^ 0x1111);
    default:
      {
        double d = json_real_value (v);
        uint64_t bits;
        memcpy (&bits, &d, sizeof bits);
        return mix (bits ^ 0x2222);
      }
    }
}

static json_t *
scalar_copy (const json_t *v)
{
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return json_stringn_nocheck (json_string_value (v), json_string_length (v));
    case JSON_INTEGER:
      return json_integer (json_integer_value (v));
    default:
      return json_real (json_real_value (v));
    }
}

/* Under t->mu. */
static json_t *
intern_scalar (sched_intern *t, json_t *v)
{
  uint64_t h = scalar_hash (v);
  json_t *c = lookup (t, h, v, json_typeof (v), NULL);
  if (c)
    return json_incref (c);
  c = scalar_copy (v);
  insert (t, h, c);
  return c;
}

static json_t *intern_node (sched_intern *t, json_t *v, bool fresh,
                            const char *const *fresh_members);

static bool
named (const char *const *names, const char *key)
{
  for (; names && *names; names++)
    if (streq (*names, key))
      return true;
  return false;
}

static void
members_free (members *m)
{
  for (size_t i = 0; i < m->n; i++)
    json_decref (m->vals[i]);
  free (m->keys);
  free (m->vals);
}

/* The canonical members of container v and their hash (order-independent for objects). */
static uint64_t
collect (sched_intern *t, json_t *v, const char *const *fresh_members, members *m)
{
  bool obj = json_is_object (v);
  size_t n = obj ? json_object_size (v) : json_array_size (v);
  m->n = 0;
  m->keys = obj ? xcalloc (n ? n : 1, sizeof *m->keys) : NULL;
  m->vals = xcalloc (n ? n : 1, sizeof *m->vals);
  uint64_t h = obj ? 0x6f626a : 0x617272;
  if (obj)
    {
      const char *k;
      json_t *x;
      json_object_foreach (v, k, x)
      {
        json_t *c = intern_node (t, x, named (fresh_members, k), NULL);
        m->keys[m->n] = k;
        m->vals[m->n++] = c;
        h += mix (bytes_hash (k, strlen (k)) ^ ptr_hash (c));
      }
      return mix (h + n);
    }
  for (size_t i = 0; i < n; i++)
    {
      json_t *c = intern_node (t, json_array_get (v, i), false, NULL);
      m->vals[m->n++] = c;
      h = mix (h ^ ptr_hash (c)) + i;
    }
  return mix (h + n);
}

/* Under t->mu. */
static json_t *
intern_container (sched_intern *t, json_t *v, bool fresh, const char *const *fresh_members)
{
  members m;
  uint64_t h = collect (t, v, fresh_members, &m);
  json_type type = json_typeof (v);
  json_t *c = fresh ? NULL : lookup (t, h, NULL, type, &m);
  if (c)
    {
      members_free (&m);
      return json_incref (c);
    }
  c = type == JSON_OBJECT ? json_object () : json_array ();
  for (size_t i = 0; i < m.n; i++)
    {
      if (type == JSON_OBJECT)
        json_object_set_nocheck (c, m.keys[i], m.vals[i]);
      else
        json_array_append (c, m.vals[i]);
    }
  members_free (&m);
  if (!fresh)
    insert (t, h, c);
  return c;
}

static json_t *
intern_node (sched_intern *t, json_t *v, bool fresh, const char *const *fresh_members)
{
  switch (json_typeof (v))
    {
    case JSON_OBJECT:
    case JSON_ARRAY:
      return intern_container (t, v, fresh, fresh_members);
    case JSON_STRING:
    case JSON_INTEGER:
    case JSON_REAL:
      return intern_scalar (t, v);
    default: /* true, false, null: jansson's singletons */
      return json_incref (v);
    }
}

json_t *
sched_intern_tree (sched_intern *t, json_t *v, const char *const *fresh)
{
  if (v == NULL)
    return NULL;
  pthread_mutex_lock (&t->mu);
  json_t *out = intern_node (t, v, true, fresh);
  pthread_mutex_unlock (&t->mu);
  return out;
}

json_t *
sched_intern_value (sched_intern *t, json_t *v)
{
  if (v == NULL)
    return NULL;
  pthread_mutex_lock (&t->mu);
  json_t *out = intern_node (t, v, false, NULL);
  pthread_mutex_unlock (&t->mu);
  return out;
}

size_t
sched_intern_sweep (sched_intern *t)
{
  pthread_mutex_lock (&t->mu);
  sweep (t);
  size_t n = t->n;
  pthread_mutex_unlock (&t->mu);
  return n;
}

size_t
sched_intern_size (sched_intern *t)
{
  pthread_mutex_lock (&t->mu);
  size_t n = t->n;
  pthread_mutex_unlock (&t->mu);
  return n;
}
