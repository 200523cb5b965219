/* The snapshot API the node agent uses for container root filesystems: mount a writable
   snapshot of an image stored by hand (manifest, config, one tar layer), write into it,
   then image_snapshot_remove unmounts it and deletes its changes. Needs root and overlayfs. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/node/image/image.h"
#include "tests/unit/tap.h"

static char dir[] = "/tmp/husk-test-snapshot-XXXXXX";

/* A one-file tar layer in memory. */
static size_t
make_layer (char *buf, size_t cap)
{
  size_t used = 0;
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  archive_write_open_memory (a, buf, cap, &used);
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, "hello");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, 6);
  archive_write_header (a, e);
  archive_write_data (a, "world\n", 6);
  archive_entry_free (e);
  archive_write_close (a);
  archive_write_free (a);
  return used;
}

int
main (void)
{
  if (geteuid () != 0)
    tap_skip_all ("needs root (overlayfs mounts)");
  if (!mkdtemp (dir))
    return 1;
  image_store *s = NULL;
  husk_error *err = NULL;
  ok (image_store_open (dir, &s, &err) == 0, "open store");

  static char layer[64 * 1024];
  size_t llen = make_layer (layer, sizeof layer);
  char ld[IMAGE_DIGEST_LEN + 1], cd[IMAGE_DIGEST_LEN + 1], md[IMAGE_DIGEST_LEN + 1];
  image_store_put_blob (s, layer, llen, NULL, -1, ld, &err);
  /* a plain tar layer: its diff_id is its digest */
  _cleanup_free_ char *config
      = xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\","
                   "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                   ld);
  image_store_put_blob (s, config, strlen (config), NULL, -1, cd, &err);
  _cleanup_free_ char *manifest
      = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                   "\"size\":%zu,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"%s\",\"size\":%zu,"
                   "\"digest\":\"%s\"}]}",
                   IMAGE_MT_OCI_MANIFEST, IMAGE_MT_OCI_CONFIG, strlen (config), cd,
                   IMAGE_MT_OCI_LAYER, llen, ld);
  ok (image_store_put_blob (s, manifest, strlen (manifest), NULL, -1, md, &err) == 0,
      "store manifest");
  ok (image_store_set_ref (s, "example.com/t/snap:1", md, md, &err) == 0, "set ref");

  json_t *cfg = NULL;
  ok (image_store_load_config (s, "example.com/t/snap:1", &cfg, &err) == 0
          && streq (json_string_value (json_object_get (cfg, "os")), "linux"),
      "image config for the agent");
  json_decref (cfg);

  _cleanup_free_ char *target = xasprintf ("%s/rootfs", dir);
  mkdir (target, 0755);
  int ret = image_snapshot_mount (s, "example.com/t/snap:1", "pod1-ctr", target, &err);
  if (ret < 0 && err && err->errnum == EPERM)
    {
      husk_rm_rf (dir, NULL);
      tap_skip_all ("overlayfs mounts not permitted here");
    }
  if (!ok (ret == 0, "snapshot mounted (layer unpacked on demand)"))
    printf ("#   %s\n", err ? err->msg : "");
  _cleanup_free_ char *hello = xasprintf ("%s/hello", target);
  char *data = NULL;
  ok (husk_read_file (hello, &data, NULL, NULL) == 0 && streq (data, "world\n"),
      "layer content visible");
  free (data);
  _cleanup_free_ char *newf = xasprintf ("%s/new", target);
  ok (husk_write_file_atomic (newf, "x", 1, 0644, NULL) == 0, "write in the snapshot");
  _cleanup_free_ char *upper = xasprintf ("%s/images/snapshots/pod1-ctr/upper/new", dir);
  ok (access (upper, F_OK) == 0, "write landed in the snapshot's upper dir");

  ok (image_snapshot_remove (s, "pod1-ctr", &err) == 0, "snapshot removed");
  ok (access (newf, F_OK) < 0 && access (hello, F_OK) < 0, "unmounted");
  _cleanup_free_ char *sdir = xasprintf ("%s/images/snapshots/pod1-ctr", dir);
  ok (access (sdir, F_OK) < 0, "snapshot dir deleted");
  ok (image_snapshot_remove (s, "../etc", &err) < 0, "bad id refused");
  husk_error_free (err);
  err = NULL;

  /* the verified diff_id is recorded; a layer unpacked without a record (older husk) gets
     its blob hashed once, and a record that disagrees with the config is refused */
  _cleanup_free_ char *rec = xasprintf ("%s/images/layers/diffid/%s", dir, ld + 7);
  char *got = NULL;
  ok (husk_read_file (rec, &got, NULL, NULL) == 0 && streq (got, ld), "diff_id recorded");
  free (got);
  got = NULL;
  unlink (rec);
  ret = image_snapshot_mount (s, "example.com/t/snap:1", "pod2-ctr", target, &err);
  ok (ret == 0 && husk_read_file (rec, &got, NULL, NULL) == 0 && streq (got, ld),
      "missing record: blob hashed, record written again");
  free (got);
  image_snapshot_remove (s, "pod2-ctr", NULL);
  const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  husk_write_file_atomic (rec, other, strlen (other), 0644, NULL);
  ret = image_snapshot_mount (s, "example.com/t/snap:1", "pod3-ctr", target, &err);
  ok (ret < 0 && err && strstr (err->msg, "diff_id mismatch") && strstr (err->msg, other),
      "recorded diff_id disagreeing with the config refused (%s)", err ? err->msg : "mounted");
  husk_error_free (err);
  image_snapshot_remove (s, "pod3-ctr", NULL);

  image_store_free (s);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
