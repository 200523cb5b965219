/* husk node: image garbage collection on a timer, as kubelet's image GC manager: every
   --image-gc-period (5m) the image filesystem's usage is compared with
   --image-gc-high-threshold (85 %); above it, the least recently used images that no
   container of a pod on this node uses and that were not used for --image-minimum-gc-age
   (2m) are removed until usage is at --image-gc-low-threshold (80 %). Falling short is a
   FreeDiskSpaceFailed Warning on the Node, and a second failure in a row ImageGCFailed. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/pod/extras.h"

int
imagegc_setup (node_agent *a, node_extras *x, husk_error **err)
{
  const node_config *c = a->cfg;
  int r;
  x->gc_high = 85, x->gc_low = 80;
  x->gc_min_age_s = 120;
  int64_t period = 300;
  if ((c->image_gc_high
       && (r = extras_parse_percent ("--image-gc-high-threshold", c->image_gc_high, &x->gc_high, err)) < 0)
      || (c->image_gc_low
          && (r = extras_parse_percent ("--image-gc-low-threshold", c->image_gc_low, &x->gc_low, err)) < 0)
      || (c->image_min_age
          && (r = extras_parse_duration ("--image-minimum-gc-age", c->image_min_age, &x->gc_min_age_s, err)) < 0)
      || (c->image_gc_period
          && (r = extras_parse_duration ("--image-gc-period", c->image_gc_period, &period, err)) < 0))
    return r;
  if (x->gc_low > x->gc_high)
    return husk_err (err, EINVAL,
                     "--image-gc-low-threshold %d must not be above --image-gc-high-threshold %d",
                     x->gc_low, x->gc_high);
  if (period <= 0)
    return husk_err (err, EINVAL, "--image-gc-period must be at least 1s");
  x->gc_period_ms = period * 1000;
  x->next_gc_ms = node_now_ms () + x->gc_period_ms;
  return 0;
}

/* The images the containers of the node's pods use, as references the store resolves. */
static char **
images_in_use (node_agent *a)
{
  size_t n = 0;
  char **v = xcalloc (1, sizeof *v);
  for (node_pod *p = a->pods; p; p = p->next)
    for (size_t i = 0; i < p->nctrs; i++)
      {
        node_ctr *c = &p->ctrs[i];
        const char *names[] = {c->image_ref, c->image_id,
                               json_string_value (json_object_get (c->spec, "image"))};
        for (size_t k = 0; k < ARRAY_SIZE (names); k++)
          {
            if (names[k] == NULL || *names[k] == '\0')
              continue;
            v = xreallocarray (v, n + 2, sizeof *v);
            v[n++] = xstrdup (names[k]);
            v[n] = NULL;
          }
      }
  return v;
}

static void
imagegc_run (node_agent *a, node_extras *x)
{
  if (x->gc_high >= 100)
    return; /* kubelet: a high threshold of 100 turns image GC off */
  uint64_t used = 0, cap = 0;
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_strv_ char **in_use = images_in_use (a);
  image_gc_policy pol = {.high_pct = x->gc_high, .low_pct = x->gc_low,
                         .min_age_s = x->gc_min_age_s, .in_use = (const char *const *) in_use};
  image_gc_stats st;
  image_gc_statvfs_usage (a->images, &used, &cap, NULL);
  int r = image_gc_by_usage (a->images, &pol, &st, &err);
  for (size_t i = 0; i < st.images_removed; i++)
    log_info ("image GC removed an image", "image", st.removed[i]);
  if (r == 0)
    {
      x->gc_failed_before = false;
      image_gc_stats_clear (&st);
      return;
    }
  if (err->errnum == ENOSPC)
    {
      uint64_t target = cap / 100 * (uint64_t) x->gc_low;
      extras_node_event (a, "Warning", "FreeDiskSpaceFailed",
                         "Failed to garbage collect required amount of images. Attempted to free "
                         "%llu bytes, but only found %llu bytes eligible to free.",
                         (unsigned long long) (used > target ? used - target : 0),
                         (unsigned long long) st.bytes_freed);
    }
  log_warn ("image garbage collection failed", "error", err->msg);
  /* kubelet records ImageGCFailed only for repeated failures. */
  if (x->gc_failed_before)
    extras_node_event (a, "Warning", "ImageGCFailed", "%s", err->msg);
  x->gc_failed_before = true;
  image_gc_stats_clear (&st);
}

void
imagegc_tick (node_agent *a, node_extras *x, int64_t now_ms)
{
  if (now_ms < x->next_gc_ms)
    return;
  x->next_gc_ms = now_ms + x->gc_period_ms;
  imagegc_run (a, x);
}
