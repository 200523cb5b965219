/* The content-addressed store: verified commits, the reference index, garbage collection. */
#include "config.h"

#include <sys/stat.h>

#include "lib/path.h"
#include "src/node/image/image-internal.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/husk-test-store-XXXXXX";

static int
count (const char *sub)
{
  _cleanup_free_ char *p = xasprintf ("%s/images/%s", dir, sub);
  _cleanup_free_ char *cmd = xasprintf ("ls -A '%s' | wc -l", p);
  FILE *f = popen (cmd, "r");
  int n = -1;
  if (f)
    {
      if (fscanf (f, "%d", &n) != 1)
        n = -1;
      pclose (f);
    }
  return n;
}

int
main (void)
{
  if (!mkdtemp (dir))
    return 1;
  image_store *s = NULL;
  husk_error *err = NULL;
  ok (image_store_open (dir, &s, &err) == 0, "open store");

  char d[IMAGE_DIGEST_LEN + 1];
  ok (image_store_put_blob (s, "hello", 5, NULL, -1, d, &err) == 0, "put blob");
  ok (image_store_has_blob (s, d), "blob present");
  char *data = NULL;
  size_t len = 0;
  ok (image_store_read_blob (s, d, 100, &data, &len, &err) == 0 && len == 5
          && memcmp (data, "hello", 5) == 0,
      "read back");
  free (data);
  ok (image_store_read_blob (s, d, 3, &data, &len, &err) < 0, "read refuses over max");
  husk_error_free (err);
  err = NULL;

  const char *want = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  ok (image_store_put_blob (s, "x", 1, want, -1, NULL, &err) < 0 && strstr (err->msg, want)
          && strstr (err->msg, "digest mismatch"),
      "mismatch names the digest");
  ok (!image_store_has_blob (s, want), "mismatched blob not stored");
  husk_error_free (err);
  err = NULL;

  /* commit of a temp file: size and digest checked, file removed on mismatch */
  char *tmp = NULL;
  int fd = image_store_tmpfile (s, &tmp, &err);
  ok (fd >= 0 && write (fd, "abc", 3) == 3, "temp file");
  close (fd);
  char abc[IMAGE_DIGEST_LEN + 1];
  image_digest_of ("abc", 3, abc);
  ok (image_store_commit_blob (s, tmp, abc, 4, &err) < 0 && strstr (err->msg, "size mismatch"),
      "size mismatch refused");
  ok (access (tmp, F_OK) < 0, "temp file removed after mismatch");
  husk_error_free (err);
  err = NULL;
  free (tmp);
  fd = image_store_tmpfile (s, &tmp, &err);
  ok (write (fd, "abc", 3) == 3, "temp file again");
  close (fd);
  ok (image_store_commit_blob (s, tmp, abc, 3, &err) == 0 && image_store_has_blob (s, abc),
      "verified commit");
  free (tmp);

  /* reference index */
  ok (image_store_set_ref (s, "docker.io/library/busybox:latest", d, abc, &err) == 0, "set ref");
  image_record r = { 0 };
  ok (image_store_get (s, "busybox", &r, &err) == 0 && streq (r.manifest, abc),
      "get by short name");
  image_record_clear (&r);
  ok (image_store_get (s, abc, &r, &err) == 0 && streq (r.ref, "docker.io/library/busybox:latest"),
      "get by manifest digest");
  image_record_clear (&r);
  char prefix[20];
  snprintf (prefix, sizeof prefix, "%.12s", abc + 7);
  ok (image_store_get (s, prefix, &r, &err) == 0, "get by 12-hex prefix");
  image_record_clear (&r);
  _cleanup_free_ char *bydigest = xasprintf ("busybox@%s", abc);
  ok (image_store_get (s, bydigest, &r, &err) == 0
          && streq (r.ref, "docker.io/library/busybox:latest"),
      "repo@digest finds the tag resolving to it");
  image_record_clear (&r);
  _cleanup_free_ char *otherrepo = xasprintf ("alpine@%s", abc);
  ok (image_store_get (s, otherrepo, &r, &err) < 0, "digest of another repository not matched");
  husk_error_free (err);
  err = NULL;
  ok (image_store_get (s, "alpine", &r, &err) < 0 && strstr (err->msg, "not found"),
      "unknown image");
  husk_error_free (err);
  err = NULL;

  /* a lock held elsewhere is reported busy without waiting */
  int l1 = -1, l2 = -1;
  ok (image_store_lock_digest (s, "blob", abc, false, &l1, &err) == 0, "lock");
  ok (image_store_lock_digest (s, "blob", abc, false, &l2, &err) == 1, "second lock is busy");
  close (l1);
  ok (image_store_lock_digest (s, "blob", abc, false, &l2, &err) == 0, "free after release");
  close (l2);

  /* prune: the manifest blob "abc" is not a manifest, so only refs' digests are kept */
  char junk[IMAGE_DIGEST_LEN + 1];
  image_store_put_blob (s, "junk", 4, NULL, -1, junk, &err);
  _cleanup_free_ char *partial = image_store_partial_path (s, junk);
  husk_write_file_atomic (partial, "p", 1, 0600, NULL);
  image_prune_stats ps;
  ok (image_store_prune (s, &ps, &err) == 0, "prune");
  ok (!image_store_has_blob (s, junk), "unreferenced blob removed");
  ok (image_store_has_blob (s, d) && image_store_has_blob (s, abc), "referenced blobs kept");
  is_int (count ("tmp"), 0, "stale partial removed");
  ok (image_store_remove_ref (s, "busybox", &err) == 0, "remove ref");
  ok (image_store_prune (s, &ps, &err) == 0 && ps.blobs_removed == 2, "prune frees the rest");
  is_int (count ("blobs/sha256"), 0, "store empty");

  image_store_free (s);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
