/* Image GC by disk usage (kubelet's high/low thresholds): images stored by hand, a fake
   usage function that counts what the store really holds on top of other data, and a fixed
   clock for the least-recently-used order and the minimum age. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "lib/path.h"
#include "src/node/image/image.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/husk-test-gc-XXXXXX";

typedef struct fake_disk
{
  uint64_t other, capacity;
  int calls;
} fake_disk;

/* used = other data + the bytes of the store's blobs */
static int
fake_usage (void *ctx, uint64_t *used, uint64_t *capacity, husk_error **err)
{
  fake_disk *f = ctx;
  _cleanup_free_ char *blobs = xasprintf ("%s/images/blobs/sha256", dir);
  DIR *d = opendir (blobs);
  if (!d)
    return husk_err_errno (err, "open %s", blobs);
  uint64_t total = f->other;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      struct stat st;
      if (de->d_name[0] != '.' && fstatat (dirfd (d), de->d_name, &st, 0) == 0)
        total += st.st_size;
    }
  closedir (d);
  f->calls++;
  *used = total;
  *capacity = f->capacity;
  return 0;
}

/* Stores a one-layer image whose layer is `size` bytes of `fill`; returns its manifest. */
static char *
put_image (image_store *s, const char *ref, char fill, size_t size, time_t last_used)
{
  _cleanup_free_ char *layer = xmalloc (size);
  memset (layer, fill, size);
  char ld[IMAGE_DIGEST_LEN + 1], cd[IMAGE_DIGEST_LEN + 1], md[IMAGE_DIGEST_LEN + 1];
  husk_error *err = NULL;
  image_store_put_blob (s, layer, size, NULL, -1, ld, &err);
  _cleanup_free_ char *config = xasprintf (
      "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
      "[\"%s\"]}}",
      ld);
  image_store_put_blob (s, config, strlen (config), NULL, -1, cd, &err);
  _cleanup_free_ char *manifest = xasprintf (
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%zu,"
      "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\"}]}",
      IMAGE_MT_OCI_MANIFEST, IMAGE_MT_OCI_CONFIG, strlen (config), cd, IMAGE_MT_OCI_LAYER, size,
      ld);
  image_store_put_blob (s, manifest, strlen (manifest), NULL, -1, md, &err);
  image_store_set_ref (s, ref, md, md, &err);
  image_store_touch (s, ref, last_used, &err);
  ok (err == NULL, "store image %s (%s)", ref, err ? err->msg : "ok");
  husk_error_free (err);
  return xstrdup (md);
}

static bool
present (image_store *s, const char *ref)
{
  image_record r = { 0 };
  int ret = image_store_get (s, ref, &r, NULL);
  image_record_clear (&r);
  return ret == 0;
}

static bool
removed_is (const image_gc_stats *st, const char *const *want)
{
  size_t i = 0;
  for (; want[i]; i++)
    if (i >= st->images_removed || !strstr (st->removed[i], want[i]))
      return false;
  return i == st->images_removed;
}

int
main (void)
{
  if (!mkdtemp (dir))
    return 1;
  image_store *s = NULL;
  husk_error *err = NULL;
  ok (image_store_open (dir, &s, &err) == 0, "open store");

  /* 5 images of 60 kB; the disk holds 550 kB of other data out of 1 MB: ~86% full */
  put_image (s, "example.com/gc/a:1", 'a', 60000, 1000);
  _cleanup_free_ char *mb = put_image (s, "example.com/gc/b:1", 'b', 60000, 2000);
  put_image (s, "example.com/gc/c:1", 'c', 60000, 3000);
  put_image (s, "example.com/gc/d:1", 'd', 60000, 4000);
  _cleanup_free_ char *me = put_image (s, "example.com/gc/e:1", 'e', 60000, 5000);
  ok (image_store_set_ref (s, "example.com/gc/e:other-tag", me, me, &err) == 0
          && image_store_touch (s, "example.com/gc/e:other-tag", 6000, &err) == 0,
      "second tag of image e");

  image_record r = { 0 };
  int ret = image_store_get (s, "example.com/gc/a:1", &r, &err);
  ok (ret == 0 && streq (r.last_used, "1970-01-01T00:16:40Z"),
      "last-used time kept in the store (%s)", r.last_used ? r.last_used : "none");
  image_record_clear (&r);

  fake_disk disk = { .other = 550000, .capacity = 1000000 };
  _cleanup_free_ char *b_by_digest = xasprintf ("example.com/gc/b@%s", mb);
  const char *in_use[] = { b_by_digest, "example.com/gc/not-stored:1", NULL };
  image_gc_policy p = { .high_pct = 90,
                        .low_pct = 70,
                        .min_age_s = 100,
                        .in_use = in_use,
                        .usage = fake_usage,
                        .usage_ctx = &disk,
                        .now = 100000 };
  image_gc_stats st;

  ret = image_gc_by_usage (s, &p, &st, &err);
  ok (ret == 0 && st.images_removed == 0 && st.usage_before_pct == 86,
      "below the high threshold: nothing removed (%d%% < 90%%)", st.usage_before_pct);
  image_gc_stats_clear (&st);

  p.high_pct = 85;
  ret = image_gc_by_usage (s, &p, &st, &err);
  ok (ret == 0, "above the high threshold: GC runs (%s)", err ? err->msg : "ok");
  const char *const want[] = { "gc/a:1", "gc/c:1", "gc/d:1", NULL };
  ok (removed_is (&st, want),
      "least recently used first, the in-use image skipped, stops at low "
      "(removed %zu: %s, %s, %s)",
      st.images_removed, st.images_removed > 0 ? st.removed[0] : "-",
      st.images_removed > 1 ? st.removed[1] : "-", st.images_removed > 2 ? st.removed[2] : "-");
  ok (st.usage_after_pct <= 70 && st.usage_after_pct > 60, "usage under the low threshold (%d%%)",
      st.usage_after_pct);
  ok (st.bytes_freed >= 3 * 60000, "bytes freed counted (%llu)",
      (unsigned long long)st.bytes_freed);
  ok (present (s, "example.com/gc/b:1"), "in-use image kept although older");
  ok (present (s, "example.com/gc/e:1") && present (s, "example.com/gc/e:other-tag"),
      "most recently used image kept");
  ok (!present (s, "example.com/gc/a:1") && !present (s, "example.com/gc/d:1"),
      "removed images gone");
  image_gc_stats_clear (&st);

  /* only e is left to remove; its second tag is younger than the minimum age, so removing
     the first tag frees nothing and GC reports it could not reach the low threshold */
  p.high_pct = 50;
  p.low_pct = 10;
  p.now = 6050;
  err = NULL;
  ret = image_gc_by_usage (s, &p, &st, &err);
  ok (ret < 0 && err && err->errnum == ENOSPC && strstr (err->msg, "above the low threshold 10%"),
      "not enough to remove: ENOSPC (%s)", err ? err->msg : "no error");
  const char *const want2[] = { "gc/e:1", NULL };
  ok (removed_is (&st, want2), "the old tag was removed, the young one kept");
  ok (present (s, "example.com/gc/e:other-tag") && present (s, "example.com/gc/b:1"),
      "young and in-use images kept");
  husk_error_free (err);
  err = NULL;
  image_gc_stats_clear (&st);

  p.low_pct = 95;
  ret = image_gc_by_usage (s, &p, &st, &err);
  ok (ret < 0 && err && err->errnum == EINVAL && strstr (err->msg, "low threshold 95% above"),
      "low above high refused (%s)", err ? err->msg : "no error");
  husk_error_free (err);
  image_gc_stats_clear (&st);

  image_store_free (s);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
