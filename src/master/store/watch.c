/* husk store: watch hubs. One ring of reference-counted events per resource, shared by all
   of its watchers; a watcher is a cursor into the ring. Backends append in revision order. */
#include <inttypes.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "src/master/store/store-internal.h"

struct store_watch
{
  store_hub *hub;
  char *ns;         /* "" = all */
  int64_t from_rev; /* deliver only rev > from_rev */
  uint64_t cursor;  /* next ring sequence number to read */
  int64_t last_rev; /* revision of the last event returned */
  int efd;
  uint64_t epoch; /* the hub's epoch at open; a reset makes this watcher too old */
  atomic_bool cancelled;
  struct store_watch *prev, *next;
};

struct store_hub
{
  char *resource;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  store_event_impl **ring;
  uint32_t cap, max_cap; /* the ring grows by doubling from RING_INITIAL up to max_cap */
  size_t bytes, max_bytes; /* object text held by the ring, and its budget */
  uint64_t head; /* sequence number of the next append; ring holds [head-count, head) */
  uint64_t count;
  int64_t start_rev; /* watchers need from_rev >= start_rev */
  int64_t done_rev;  /* every revision <= done_rev has been appended */
  _Atomic int64_t write_rev; /* revision of the newest event ever appended (resets keep it) */
  int fail_errnum;
  char *fail_msg;
  uint64_t epoch;
  uint64_t notified_head; /* head when watchers were last woken */
  store_watch *watchers;  /* those with an eventfd */
  void *backend_data;
  store_hub *next;
};

/* An event with room for a json_len-byte object (and its NUL) at pub.json, not filled in. */
static store_event_impl *
event_alloc (store_event_type type, int64_t rev, const char *resource, const char *ns,
             const char *name, size_t json_len)
{
  size_t lr = strlen (resource) + 1, ln = strlen (ns) + 1, lm = strlen (name) + 1;
  store_event_impl *e = xmalloc (sizeof *e + lr + ln + lm + json_len + 1);
  char *p = (char *)(e + 1);
  e->pub.type = type;
  e->pub.rev = rev;
  e->pub.resource = memcpy (p, resource, lr);
  p += lr;
  e->pub.ns = memcpy (p, ns, ln);
  p += ln;
  e->pub.name = memcpy (p, name, lm);
  p += lm;
  p[json_len] = '\0';
  e->pub.json = p;
  e->pub.json_len = json_len;
  atomic_init (&e->refs, 1);
  return e;
}

store_event_impl *
store_event_new (store_event_type type, int64_t rev, const char *resource, const char *ns,
                 const char *name, const char *json, size_t json_len)
{
  store_event_impl *e = event_alloc (type, rev, resource, ns, name, json_len);
  memcpy ((char *)e->pub.json, json, json_len);
  return e;
}

store_event_impl *
store_event_splice (store_event_type type, int64_t rev, const char *resource, const char *ns,
                    const char *name, const char *text, size_t len, size_t rv_off, size_t rv_len)
{
  char num[24];
  int nl = snprintf (num, sizeof num, "%" PRId64, rev);
  size_t total = len - rv_len + (size_t)nl;
  store_event_impl *e = event_alloc (type, rev, resource, ns, name, total);
  char *out = (char *)e->pub.json;
  memcpy (out, text, rv_off);
  memcpy (out + rv_off, num, (size_t)nl);
  memcpy (out + rv_off + nl, text + rv_off + rv_len, len - rv_off - rv_len);
  return e;
}

void
store_event_ref (store_event_impl *e)
{
  atomic_fetch_add_explicit (&e->refs, 1, memory_order_relaxed);
}

void
store_event_unref (const store_event *pub)
{
  if (!pub)
    return;
  store_event_impl *e = (store_event_impl *)pub;
  if (atomic_fetch_sub_explicit (&e->refs, 1, memory_order_acq_rel) == 1)
    free (e);
}

store_hub *
store_hub_find (store *s, const char *resource)
{
  pthread_mutex_lock (&s->hubs_mu);
  store_hub *h = s->hubs;
  while (h && !streq (h->resource, resource))
    h = h->next;
  pthread_mutex_unlock (&s->hubs_mu);
  return h;
}

int64_t
store_hub_write_rev (store *s, const char *resource)
{
  store_hub *h = store_hub_find (s, resource);
  return h ? atomic_load (&h->write_rev) : 0;
}

/* Slots a hub starts with: most resources see few events while the master idles, and a ring
   of the full history (10,000 slots, 80 KB) for each of the ~20 resources cost 1.6 MB. */
#define RING_INITIAL 64

store_hub *
store_hub_get (store *s, const char *resource, int64_t start_rev, bool *created)
{
  pthread_mutex_lock (&s->hubs_mu);
  store_hub *h = s->hubs;
  while (h && !streq (h->resource, resource))
    h = h->next;
  if (created)
    *created = h == NULL;
  if (!h)
    {
      h = xzalloc (sizeof *h);
      h->resource = xstrdup (resource);
      pthread_mutex_init (&h->mu, NULL);
      pthread_condattr_t ca;
      pthread_condattr_init (&ca);
      pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
      pthread_cond_init (&h->cond, &ca);
      pthread_condattr_destroy (&ca);
      h->max_cap = s->watch_ring;
      h->cap = h->max_cap < RING_INITIAL ? h->max_cap : RING_INITIAL;
      h->max_bytes = s->watch_ring_bytes;
      h->ring = xcalloc (h->cap, sizeof *h->ring);
      h->start_rev = start_rev;
      h->done_rev = start_rev;
      h->next = s->hubs;
      s->hubs = h;
    }
  pthread_mutex_unlock (&s->hubs_mu);
  return h;
}

const char *
store_hub_resource (store_hub *h)
{
  return h->resource;
}

void *
store_hub_backend_data (store_hub *h)
{
  return h->backend_data;
}

void
store_hub_set_backend_data (store_hub *h, void *data)
{
  h->backend_data = data;
}

static void
notify_locked (store_hub *h)
{
  pthread_cond_broadcast (&h->cond);
  for (store_watch *w = h->watchers; w; w = w->next)
    {
      uint64_t one = 1;
      if (write (w->efd, &one, sizeof one) < 0)
        {
          /* EAGAIN: the counter is already non-zero, the fd is readable. */
        }
    }
}

/* Events always kept, whatever their size (upstream's default watch cache size). */
#define RING_MIN_EVENTS 100

static void
drop_oldest_locked (store_hub *h)
{
  store_event_impl *old = h->ring[(h->head - h->count) % h->cap];
  if (old->pub.rev > h->start_rev)
    h->start_rev = old->pub.rev;
  h->bytes -= old->pub.json_len;
  store_event_unref (&old->pub);
  h->count--;
}

/* Doubles the ring (up to max_cap); an event keeps its sequence number, so it moves from slot
   seq % old cap to seq % new cap, and watchers' cursors stay valid. */
static void
grow_locked (store_hub *h)
{
  uint32_t cap = h->cap > h->max_cap / 2 ? h->max_cap : h->cap * 2;
  store_event_impl **ring = xcalloc (cap, sizeof *ring);
  for (uint64_t i = h->head - h->count; i < h->head; i++)
    ring[i % cap] = h->ring[i % h->cap];
  free (h->ring);
  h->ring = ring;
  h->cap = cap;
}

void
store_hub_append (store_hub *h, store_event_impl *ev)
{
  pthread_mutex_lock (&h->mu);
  if (h->count == h->cap && h->cap < h->max_cap)
    grow_locked (h);
  if (h->count == h->cap)
    drop_oldest_locked (h);
  while (h->count >= RING_MIN_EVENTS && h->bytes + ev->pub.json_len > h->max_bytes)
    drop_oldest_locked (h);
  h->ring[h->head % h->cap] = ev;
  h->bytes += ev->pub.json_len;
  h->head++;
  h->count++;
  if (ev->pub.rev > atomic_load (&h->write_rev))
    atomic_store (&h->write_rev, ev->pub.rev);
  if (ev->pub.rev > h->done_rev)
    h->done_rev = ev->pub.rev - 1; /* complete only once advanced past it */
  pthread_mutex_unlock (&h->mu);
}

void
store_hub_advance (store_hub *h, int64_t rev)
{
  pthread_mutex_lock (&h->mu);
  if (rev > h->done_rev)
    h->done_rev = rev;
  /* Only new events wake watchers: every write advances every hub, and waking the watchers
     of all resources (an eventfd write each) for a write to one would cost the writer
     dearly. Progress alone is read when a bookmark is due (store_watch_progress). */
  if (h->head != h->notified_head)
    {
      h->notified_head = h->head;
      notify_locked (h);
    }
  pthread_mutex_unlock (&h->mu);
}

void
store_hubs_advance (store *s, int64_t rev)
{
  pthread_mutex_lock (&s->hubs_mu);
  store_hub *first = s->hubs;
  pthread_mutex_unlock (&s->hubs_mu);
  /* Hubs are only ever prepended and freed at store_close: the list from first on is stable. */
  for (store_hub *h = first; h; h = h->next)
    store_hub_advance (h, rev);
}

void
store_hub_fail (store_hub *h, int errnum, const char *msg)
{
  pthread_mutex_lock (&h->mu);
  h->fail_errnum = errnum;
  free (h->fail_msg);
  h->fail_msg = xstrdup (msg);
  notify_locked (h);
  pthread_mutex_unlock (&h->mu);
}

void
store_hub_reset (store_hub *h, int64_t start_rev)
{
  pthread_mutex_lock (&h->mu);
  h->epoch++;
  for (uint64_t i = h->head - h->count; i < h->head; i++)
    store_event_unref (&h->ring[i % h->cap]->pub);
  h->count = 0;
  h->bytes = 0;
  h->start_rev = start_rev;
  h->done_rev = start_rev;
  notify_locked (h);
  pthread_mutex_unlock (&h->mu);
}

int64_t
store_hub_start_rev (store_hub *h)
{
  pthread_mutex_lock (&h->mu);
  int64_t r = h->start_rev;
  pthread_mutex_unlock (&h->mu);
  return r;
}

void
store_hubs_free (store *s)
{
  store_hub *h = s->hubs;
  while (h)
    {
      store_hub *next = h->next;
      for (uint64_t i = h->head - h->count; i < h->head; i++)
        store_event_unref (&h->ring[i % h->cap]->pub);
      free (h->ring);
      free (h->resource);
      free (h->fail_msg);
      pthread_mutex_destroy (&h->mu);
      pthread_cond_destroy (&h->cond);
      free (h);
      h = next;
    }
  s->hubs = NULL;
}

/* First sequence number whose event has rev > from_rev (binary search; the ring is sorted). */
static uint64_t
seek_locked (store_hub *h, int64_t from_rev)
{
  uint64_t lo = h->head - h->count, hi = h->head;
  while (lo < hi)
    {
      uint64_t mid = lo + (hi - lo) / 2;
      if (h->ring[mid % h->cap]->pub.rev <= from_rev)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

int
store_watch_open (store *s, const char *resource, const char *ns, int64_t from_rev,
                  store_watch **out, husk_error **err)
{
  if (!resource || !*resource || strchr (resource, '/'))
    return husk_err (err, STORE_EINVAL, "store: bad resource name '%s'", resource ? resource : "");
  if (from_rev < 0)
    return husk_err (err, STORE_EINVAL, "store: negative watch revision");
  int ret;
  if (from_rev == 0)
    {
      ret = s->ops->current_revision (s, &from_rev, err);
      if (ret < 0)
        return ret;
    }
  store_hub *h = NULL;
  ret = s->ops->watch_hub (s, resource, from_rev, &h, err);
  if (ret < 0)
    return ret;

  pthread_mutex_lock (&h->mu);
  if (from_rev < h->start_rev)
    {
      int64_t oldest = h->start_rev;
      pthread_mutex_unlock (&h->mu);
      return husk_err (err, STORE_ETOOOLD, "too old resource version: %lld (%lld)",
                       (long long)from_rev, (long long)oldest);
    }
  store_watch *w = xzalloc (sizeof *w);
  w->hub = h;
  w->ns = xstrdup (ns ? ns : "");
  w->from_rev = from_rev;
  w->last_rev = from_rev;
  w->efd = -1;
  w->epoch = h->epoch;
  w->cursor = seek_locked (h, from_rev);
  pthread_mutex_unlock (&h->mu);
  *out = w;
  return 0;
}

static bool
pending_locked (store_watch *w)
{
  return w->cursor < w->hub->head || w->hub->fail_errnum || atomic_load (&w->cancelled)
         || w->epoch != w->hub->epoch;
}

/* Takes the next matching event under the hub lock: 1 found, 0 none, < 0 error. */
static int
take_locked (store_watch *w, const store_event **out, husk_error **err)
{
  store_hub *h = w->hub;
  if (atomic_load (&w->cancelled))
    return husk_err (err, ECANCELED, "watch cancelled");
  if (w->epoch != h->epoch)
    return husk_err (err, STORE_ETOOOLD,
                     "watch of %s: history was lost after revision %lld (the backend's stream "
                     "had to restart)",
                     h->resource, (long long)w->last_rev);
  if (w->cursor < h->head - h->count)
    return husk_err (err, STORE_ETOOOLD,
                     "watch of %s fell behind: events after revision %lld were dropped "
                     "(history of %llu events, %zu bytes)",
                     h->resource, (long long)w->last_rev, (unsigned long long)h->count,
                     h->bytes);
  while (w->cursor < h->head)
    {
      store_event_impl *e = h->ring[w->cursor % h->cap];
      w->cursor++;
      if (e->pub.rev <= w->from_rev)
        continue;
      if (*w->ns && !streq (w->ns, e->pub.ns))
        continue;
      store_event_ref (e);
      w->last_rev = e->pub.rev;
      *out = &e->pub;
      return 1;
    }
  if (h->fail_errnum)
    return husk_err (err, h->fail_errnum, "watch of %s: %s", h->resource, h->fail_msg);
  return 0;
}

static void
drain_fd (store_watch *w)
{
  uint64_t v;
  if (w->efd >= 0 && read (w->efd, &v, sizeof v) < 0)
    {
      /* EAGAIN: nothing to drain. */
    }
}

int
store_watch_next (store_watch *w, int timeout_ms, const store_event **out, husk_error **err)
{
  store_hub *h = w->hub;
  struct timespec deadline;
  clock_gettime (CLOCK_MONOTONIC, &deadline);
  if (timeout_ms > 0)
    {
      deadline.tv_sec += timeout_ms / 1000;
      deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
      if (deadline.tv_nsec >= 1000000000L)
        {
          deadline.tv_sec++;
          deadline.tv_nsec -= 1000000000L;
        }
    }
  drain_fd (w);
  pthread_mutex_lock (&h->mu);
  int ret;
  for (;;)
    {
      ret = take_locked (w, out, err);
      if (ret != 0 || timeout_ms == 0)
        break;
      if (timeout_ms < 0)
        pthread_cond_wait (&h->cond, &h->mu);
      else if (pthread_cond_timedwait (&h->cond, &h->mu, &deadline) != 0)
        {
          ret = take_locked (w, out, err);
          break;
        }
    }
  if (w->efd >= 0 && pending_locked (w))
    {
      uint64_t one = 1;
      if (write (w->efd, &one, sizeof one) < 0)
        {
          /* already readable */
        }
    }
  pthread_mutex_unlock (&h->mu);
  return ret;
}

int
store_watch_fd (store_watch *w)
{
  store_hub *h = w->hub;
  pthread_mutex_lock (&h->mu);
  if (w->efd < 0)
    {
      w->efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (w->efd >= 0)
        {
          w->next = h->watchers;
          if (h->watchers)
            h->watchers->prev = w;
          h->watchers = w;
          if (pending_locked (w))
            {
              uint64_t one = 1;
              if (write (w->efd, &one, sizeof one) < 0)
                {
                }
            }
        }
    }
  pthread_mutex_unlock (&h->mu);
  return w->efd;
}

int64_t
store_watch_progress (store_watch *w)
{
  store_hub *h = w->hub;
  pthread_mutex_lock (&h->mu);
  int64_t r = w->last_rev;
  /* Caught up: nothing unread in the ring, so everything up to done_rev is accounted for. */
  if (w->cursor >= h->head && h->done_rev > r)
    r = h->done_rev;
  pthread_mutex_unlock (&h->mu);
  return r;
}

void
store_watch_cancel (store_watch *w)
{
  store_hub *h = w->hub;
  atomic_store (&w->cancelled, true);
  pthread_mutex_lock (&h->mu);
  notify_locked (h);
  pthread_mutex_unlock (&h->mu);
}

void
store_watch_close (store_watch *w)
{
  if (!w)
    return;
  store_hub *h = w->hub;
  if (w->efd >= 0)
    {
      pthread_mutex_lock (&h->mu);
      if (w->prev)
        w->prev->next = w->next;
      else
        h->watchers = w->next;
      if (w->next)
        w->next->prev = w->prev;
      pthread_mutex_unlock (&h->mu);
      close (w->efd);
    }
  free (w->ns);
  free (w);
}
