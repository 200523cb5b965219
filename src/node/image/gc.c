/* Image garbage collection by disk usage, as kubelet's image GC manager does: when the
   filesystem holding the store is at least high_pct full, remove the least recently used
   images that no container uses (and that are older than min_age) until it is under
   low_pct. Each removal is followed by a prune, so that what the next decision sees is
   the usage the removal really freed (images share layers: removing one may free little). */
#include "config.h"

#include <errno.h>
#include <sys/statvfs.h>

#include "lib/json.h"
#include "src/node/image/image-internal.h"

int
image_gc_statvfs_usage (void *ctx, uint64_t *used, uint64_t *capacity, husk_error **err)
{
  image_store *s = ctx;
  struct statvfs v;
  if (statvfs (image_store_root (s), &v) < 0)
    return husk_err_errno (err, "statvfs %s", image_store_root (s));
  *capacity = (uint64_t)v.f_blocks * v.f_frsize;
  *used = *capacity - (uint64_t)v.f_bavail * v.f_frsize;
  return 0;
}

typedef struct gc_candidate
{
  char *ref;
  time_t last_used;
} gc_candidate;

static time_t
parse_time (const char *s)
{
  struct tm tm = { 0 };
  const char *end = s ? strptime (s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
  return end && *end == '\0' ? timegm (&tm) : 0;
}

static int
by_last_used (const void *a, const void *b)
{
  const gc_candidate *x = a, *y = b;
  if (x->last_used != y->last_used)
    return x->last_used < y->last_used ? -1 : 1;
  return strcmp (x->ref, y->ref);
}

/* The manifest digests of the images containers use (names not in the store are skipped). */
static json_t *
in_use_set (image_store *s, const char *const *in_use)
{
  json_t *set = json_object ();
  for (size_t i = 0; in_use && in_use[i]; i++)
    {
      image_record r = { 0 };
      if (image_store_get (s, in_use[i], &r, NULL) == 0)
        json_object_set_new (set, r.manifest, json_true ());
      image_record_clear (&r);
    }
  return set;
}

/* Images that may go, least recently used first; *n_kept counts those protected. */
static int
candidates (image_store *s, const image_gc_policy *p, time_t now, gc_candidate **out, size_t *n_out,
            size_t *n_kept, husk_error **err)
{
  image_record *recs = NULL;
  size_t n = 0;
  int ret = image_store_list (s, &recs, &n, err);
  if (ret < 0)
    return ret;
  _cleanup_json_ json_t *used = in_use_set (s, p->in_use);
  gc_candidate *c = xcalloc (n + 1, sizeof *c);
  size_t k = 0;
  *n_kept = 0;
  for (size_t i = 0; i < n; i++)
    {
      time_t t = parse_time (recs[i].last_used);
      if (json_object_get (used, recs[i].manifest) || now - t < p->min_age_s)
        (*n_kept)++;
      else
        c[k++] = (gc_candidate){ .ref = xstrdup (recs[i].ref), .last_used = t };
      image_record_clear (&recs[i]);
    }
  free (recs);
  qsort (c, k, sizeof *c, by_last_used);
  *out = c;
  *n_out = k;
  return 0;
}

static int
usage_now (image_store *s, const image_gc_policy *p, uint64_t *used, uint64_t *cap,
           husk_error **err)
{
  int ret = p->usage ? p->usage (p->usage_ctx, used, cap, err)
                     : image_gc_statvfs_usage (s, used, cap, err);
  if (ret < 0)
    return husk_err_wrap (err, "image GC: disk usage");
  if (*cap == 0)
    return husk_err (err, EINVAL, "image GC: disk usage: capacity is 0");
  return 0;
}

static int
pct (uint64_t used, uint64_t cap)
{
  return (int)((used * 100 + cap - 1) / cap);
}

static int
check_policy (const image_gc_policy *p, husk_error **err)
{
  if (p->high_pct < 0 || p->high_pct > 100 || p->low_pct < 0 || p->low_pct > 100)
    return husk_err (err, EINVAL, "image GC: thresholds must be 0-100 (high %d, low %d)",
                     p->high_pct, p->low_pct);
  if (p->low_pct > p->high_pct)
    return husk_err (err, EINVAL, "image GC: low threshold %d%% above the high threshold %d%%",
                     p->low_pct, p->high_pct);
  return 0;
}

/* Removes candidates in order until usage is at most target bytes. */
static int
remove_until (image_store *s, const image_gc_policy *p, gc_candidate *c, size_t n, uint64_t target,
              image_gc_stats *st, uint64_t *used, uint64_t *cap, husk_error **err)
{
  for (size_t i = 0; i < n && (*used) > target; i++)
    {
      image_prune_stats ps;
      _cleanup_error_ husk_error *e = NULL;
      int ret = image_store_remove_ref (s, c[i].ref, &e);
      if (ret < 0 && e->errnum == ENOENT)
        continue; /* removed by someone else meanwhile */
      if (ret < 0)
        {
          if (err)
            husk_error_move (err, &e);
          return ret;
        }
      if ((ret = image_store_prune (s, &ps, err)) < 0)
        return ret;
      st->removed = xreallocarray (st->removed, st->images_removed + 2, sizeof *st->removed);
      st->removed[st->images_removed++] = TAKE_PTR (c[i].ref);
      st->removed[st->images_removed] = NULL;
      st->bytes_freed += ps.bytes_freed;
      if ((ret = usage_now (s, p, used, cap, err)) < 0)
        return ret;
    }
  return 0;
}

int
image_gc_by_usage (image_store *s, const image_gc_policy *p, image_gc_stats *st, husk_error **err)
{
  memset (st, 0, sizeof *st);
  uint64_t used = 0, cap = 0;
  int ret = check_policy (p, err);
  if (ret < 0 || (ret = usage_now (s, p, &used, &cap, err)) < 0)
    return ret;
  st->usage_before_pct = st->usage_after_pct = pct (used, cap);
  if (st->usage_before_pct < p->high_pct)
    return 0;
  time_t now = p->now ? p->now : time (NULL);
  gc_candidate *c = NULL;
  size_t n = 0, kept = 0;
  if ((ret = candidates (s, p, now, &c, &n, &kept, err)) < 0)
    return ret;
  uint64_t target = cap / 100 * p->low_pct + cap % 100 * p->low_pct / 100;
  ret = remove_until (s, p, c, n, target, st, &used, &cap, err);
  for (size_t i = 0; i < n; i++)
    free (c[i].ref);
  free (c);
  if (ret < 0)
    return ret;
  st->usage_after_pct = pct (used, cap);
  if (used > target)
    return husk_err (err, ENOSPC,
                     "image GC: disk %d%% full, still above the low threshold %d%% after removing "
                     "%zu images (%zu kept: in use or used less than %llds ago)",
                     st->usage_after_pct, p->low_pct, st->images_removed, kept,
                     (long long)p->min_age_s);
  return 0;
}

void
image_gc_stats_clear (image_gc_stats *st)
{
  strv_free (st->removed);
  memset (st, 0, sizeof *st);
}
