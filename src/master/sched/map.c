/* A string-keyed hash map with open addressing and linear probing (FNV-1a). Deleted slots
   become tombstones; the table grows at 70% load counting them. */
#include "config.h"

#include "src/master/sched/sched-internal.h"

#define TOMB ((char *)1)

typedef struct slot
{
  char *key; /* NULL empty, TOMB deleted */
  void *value;
  uint32_t hash;
} slot;

struct sched_map
{
  size_t cap, used, live;
  slot *slots;
};

static uint32_t
hash_str (const char *s)
{
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

sched_map *
sched_map_new (void)
{
  sched_map *m = xzalloc (sizeof *m);
  m->cap = 16;
  m->slots = xcalloc (m->cap, sizeof (slot));
  return m;
}

void
sched_map_free (sched_map *m, void (*free_value) (void *))
{
  if (!m)
    return;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key && m->slots[i].key != TOMB)
      {
        if (free_value)
          free_value (m->slots[i].value);
        free (m->slots[i].key);
      }
  free (m->slots);
  free (m);
}

static slot *
find (const sched_map *m, const char *key, uint32_t h)
{
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask)
    {
      slot *s = &m->slots[i];
      if (!s->key)
        return NULL;
      if (s->key != TOMB && s->hash == h && streq (s->key, key))
        return s;
    }
}

void *
sched_map_get (const sched_map *m, const char *key)
{
  slot *s = find (m, key, hash_str (key));
  return s ? s->value : NULL;
}

static void
grow (sched_map *m)
{
  size_t oldcap = m->cap;
  slot *old = m->slots;
  m->cap = m->live * 2 + 1 > oldcap / 2 ? oldcap * 2 : oldcap;
  m->slots = xcalloc (m->cap, sizeof (slot));
  m->used = m->live;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].key && old[i].key != TOMB)
      {
        size_t mask = m->cap - 1, j = old[i].hash & mask;
        while (m->slots[j].key)
          j = (j + 1) & mask;
        m->slots[j] = old[i];
      }
  free (old);
}

void *
sched_map_put (sched_map *m, const char *key, void *value)
{
  uint32_t h = hash_str (key);
  slot *s = find (m, key, h);
  if (s)
    {
      void *prev = s->value;
      s->value = value;
      return prev;
    }
  if ((m->used + 1) * 10 >= m->cap * 7)
    grow (m);
  size_t mask = m->cap - 1, i = h & mask;
  while (m->slots[i].key && m->slots[i].key != TOMB)
    i = (i + 1) & mask;
  if (!m->slots[i].key)
    m->used++;
  m->slots[i] = (slot){ xstrdup (key), value, h };
  m->live++;
  return NULL;
}

void *
sched_map_del (sched_map *m, const char *key)
{
  slot *s = find (m, key, hash_str (key));
  if (!s)
    return NULL;
  void *v = s->value;
  free (s->key);
  s->key = TOMB;
  s->value = NULL;
  m->live--;
  return v;
}

size_t
sched_map_size (const sched_map *m)
{
  return m->live;
}

bool
sched_map_next (const sched_map *m, size_t *i, const char **key, void **value)
{
  for (; *i < m->cap; (*i)++)
    if (m->slots[*i].key && m->slots[*i].key != TOMB)
      {
        *key = m->slots[*i].key;
        *value = m->slots[*i].value;
        (*i)++;
        return true;
      }
  return false;
}
