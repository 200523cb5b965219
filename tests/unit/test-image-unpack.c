/* Layer unpacking: whiteouts, opaque dirs, links, modes, ownership, xattrs, compression,
   and entries that try to escape the layer directory. Needs root (mknod, chown, trusted.*). */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "lib/path.h"
#include "src/node/image/image.h"
#include "tests/unit/tap.h"

typedef struct ent
{
  const char *name;
  int type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, 0 = hard link */
  const char *data_or_target;
  int mode, uid, gid;
  const char *xattr_name, *xattr_val;
} ent;

static char tmpdir[] = "/tmp/husk-test-unpack-XXXXXX";

static char *
make_tar (const char *file, const char *filter, const ent *ents)
{
  char *path = xasprintf ("%s/%s", tmpdir, file);
  struct archive *a = archive_write_new ();
  archive_write_set_format_pax_restricted (a);
  if (streq (filter, "gzip"))
    archive_write_add_filter_gzip (a);
  else if (streq (filter, "zstd"))
    archive_write_add_filter_zstd (a);
  archive_write_open_filename (a, path);
  for (const ent *x = ents; x->name; x++)
    {
      struct archive_entry *e = archive_entry_new ();
      archive_entry_set_pathname (e, x->name);
      archive_entry_set_uid (e, x->uid);
      archive_entry_set_gid (e, x->gid);
      archive_entry_set_mtime (e, 1000000000, 0);
      if (x->type == 0)
        {
          archive_entry_set_filetype (e, AE_IFREG);
          archive_entry_set_perm (e, 0644);
          archive_entry_set_hardlink (e, x->data_or_target);
          archive_entry_set_size (e, 0);
        }
      else
        {
          archive_entry_set_filetype (e, x->type);
          archive_entry_set_perm (e, x->mode ? x->mode : (x->type == AE_IFDIR ? 0755 : 0644));
          if (x->type == AE_IFLNK)
            archive_entry_set_symlink (e, x->data_or_target);
          if (x->type == AE_IFREG)
            archive_entry_set_size (e, x->data_or_target ? strlen (x->data_or_target) : 0);
        }
      if (x->xattr_name)
        archive_entry_xattr_add_entry (e, x->xattr_name, x->xattr_val, strlen (x->xattr_val));
      archive_write_header (a, e);
      if (x->type == AE_IFREG && x->data_or_target)
        archive_write_data (a, x->data_or_target, strlen (x->data_or_target));
      archive_entry_free (e);
    }
  archive_write_close (a);
  archive_write_free (a);
  return path;
}

static int
unpack (const char *tar, const char *sub, char **err_msg)
{
  _cleanup_free_ char *dir = xasprintf ("%s/%s", tmpdir, sub);
  mkdir (dir, 0755);
  husk_error *err = NULL;
  int ret = image_unpack_layer_file (tar, dir, NULL, &err);
  if (err_msg)
    *err_msg = err ? xstrdup (err->msg) : NULL;
  husk_error_free (err);
  return ret;
}

static char *
slurp (const char *sub, const char *rel)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s/%s", tmpdir, sub, rel);
  char *data = NULL;
  if (husk_read_file (p, &data, NULL, NULL) < 0)
    return NULL;
  return data;
}

static bool
exists (const char *sub, const char *rel, struct stat *st)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s/%s", tmpdir, sub, rel);
  return lstat (p, st) == 0;
}

static void
test_contents (const char *filter)
{
  static const ent ents[] = {
    { "./", AE_IFDIR, NULL, 0755, 0, 0, NULL, NULL },
    { "./bin/", AE_IFDIR, NULL, 0755, 0, 0, NULL, NULL },
    { "./bin/busybox", AE_IFREG, "BUSYBOX", 04755, 0, 0, NULL, NULL },
    { "./bin/sh", AE_IFLNK, "busybox", 0777, 0, 0, NULL, NULL },
    { "./bin/ls", 0, "./bin/busybox", 0, 0, 0, NULL, NULL },
    { "./home/user/file", AE_IFREG, "mine", 0600, 1000, 1001, "user.note", "hello" },
    { "./etc/", AE_IFDIR, NULL, 0755, 0, 0, NULL, NULL },
    { "./etc/.wh.removed", AE_IFREG, NULL, 0644, 0, 0, NULL, NULL },
    { "./var/cache/", AE_IFDIR, NULL, 0700, 0, 0, NULL, NULL },
    { "./var/cache/.wh..wh..opq", AE_IFREG, NULL, 0644, 0, 0, NULL, NULL },
    { "./var/cache/new", AE_IFREG, "n", 0644, 0, 0, NULL, NULL },
    { NULL, 0, NULL, 0, 0, 0, NULL, NULL },
  };
  _cleanup_free_ char *file = xasprintf ("layer.%s", filter);
  _cleanup_free_ char *tar = make_tar (file, filter, ents);
  _cleanup_free_ char *msg = NULL;
  int ret = unpack (tar, filter, &msg);
  if (!ok (ret == 0, "%s layer unpacks", filter))
    printf ("#   %s\n", msg);
  _cleanup_free_ char *bb = slurp (filter, "bin/busybox");
  is_str (bb, "BUSYBOX", "file content");
  struct stat st, st2;
  ok (exists (filter, "bin/busybox", &st) && (st.st_mode & 07777) == 04755, "setuid mode kept (%o)",
      st.st_mode & 07777);
  ok (exists (filter, "bin/ls", &st2) && st2.st_ino == st.st_ino && st.st_nlink == 2,
      "hard link kept");
  char target[64] = "";
  _cleanup_free_ char *sh = xasprintf ("%s/%s/bin/sh", tmpdir, filter);
  ssize_t n = readlink (sh, target, sizeof target - 1);
  ok (n > 0 && streq (target, "busybox"), "symlink kept (%s)", target);
  ok (exists (filter, "home/user/file", &st) && st.st_uid == 1000 && st.st_gid == 1001
          && (st.st_mode & 0777) == 0600,
      "ownership and mode kept (%d:%d %o)", st.st_uid, st.st_gid, st.st_mode & 0777);
  _cleanup_free_ char *uf = xasprintf ("%s/%s/home/user/file", tmpdir, filter);
  char val[16] = "";
  ok (lgetxattr (uf, "user.note", val, sizeof val) == 5 && strncmp (val, "hello", 5) == 0,
      "xattr kept");
  ok (exists (filter, "etc/removed", &st) && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0),
      "whiteout is a 0:0 char device");
  ok (!exists (filter, "etc/.wh.removed", &st), "no .wh. file left");
  _cleanup_free_ char *vc = xasprintf ("%s/%s/var/cache", tmpdir, filter);
  memset (val, 0, sizeof val);
  ok (lgetxattr (vc, "trusted.overlay.opaque", val, sizeof val) == 1 && val[0] == 'y',
      "opaque dir has trusted.overlay.opaque=y");
  ok (exists (filter, "var/cache", &st) && (st.st_mode & 0777) == 0700, "dir mode kept");
  ok (!exists (filter, "var/cache/.wh..wh..opq", &st), "no opaque marker file left");
  ok (exists (filter, "var/cache/new", &st), "file next to opaque marker");
}

static void
test_refused (const char *sub, const ent *ents, const char *want)
{
  _cleanup_free_ char *file = xasprintf ("%s.tar", sub);
  _cleanup_free_ char *tar = make_tar (file, "none", ents);
  _cleanup_free_ char *msg = NULL;
  int ret = unpack (tar, sub, &msg);
  ok (ret < 0, "%s refused", sub);
  ok (msg && strstr (msg, want), "%s: error names '%s' (%s)", sub, want, msg ? msg : "none");
  struct stat st;
  ok (!exists ("", "escaped", &st) && access ("/tmp/escaped-husk-test", F_OK) < 0,
      "%s: nothing written outside", sub);
}

static void
file_digest (const char *path, char out[IMAGE_DIGEST_LEN + 1])
{
  char *data = NULL;
  size_t len = 0;
  husk_read_file (path, &data, &len, NULL);
  image_digest_of (data, len, out);
  free (data);
}

/* The diff_id is the sha256 of the whole uncompressed stream, trailing blocks included,
   whatever the compression; computed while unpacking and without unpacking. */
static void
test_diff_id (void)
{
  static const ent ents[] = { { "etc/", AE_IFDIR, NULL, 0755, 0, 0, NULL, NULL },
                              { "etc/hostname", AE_IFREG, "layer\n", 0644, 0, 0, NULL, NULL },
                              { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  _cleanup_free_ char *tar = make_tar ("id.tar", "none", ents);
  _cleanup_free_ char *padded = make_tar ("padded.tar", "none", ents);
  _cleanup_free_ char *gz = make_tar ("id.tar.gz", "gzip", ents);
  _cleanup_free_ char *zst = make_tar ("id.tar.zst", "zstd", ents);
  /* extra zero blocks after the end-of-archive marker, as some tar writers leave */
  FILE *f = fopen (padded, "a");
  static const char zeros[10240];
  fwrite (zeros, 1, sizeof zeros, f);
  fclose (f);
  char want[IMAGE_DIGEST_LEN + 1], want_padded[IMAGE_DIGEST_LEN + 1];
  file_digest (tar, want);
  file_digest (padded, want_padded);
  ok (!streq (want, want_padded), "padding changes the digest");
  const char *files[] = { tar, padded, gz, zst };
  for (int i = 0; i < 4; i++)
    {
      const char *name = strrchr (files[i], '/') + 1;
      const char *w = i == 1 ? want_padded : want;
      _cleanup_free_ char *dir = xasprintf ("%s/id%d", tmpdir, i);
      mkdir (dir, 0755);
      char got[IMAGE_DIGEST_LEN + 1] = "";
      husk_error *err = NULL;
      int ret = image_unpack_layer_file (files[i], dir, got, &err);
      ok (ret == 0 && streq (got, w), "%s: diff_id while unpacking is the tar's sha256 (%s)", name,
          ret == 0 ? got : err->msg);
      husk_error_free (err);
      err = NULL;
      memset (got, 0, sizeof got);
      ret = image_layer_diff_id_file (files[i], got, &err);
      ok (ret == 0 && streq (got, w), "%s: diff_id without unpacking", name);
      husk_error_free (err);
    }
}

int
main (void)
{
  if (geteuid () != 0)
    tap_skip_all ("needs root (mknod, chown, trusted xattrs)");
  if (!mkdtemp (tmpdir))
    return 1;
  test_contents ("none");
  test_contents ("gzip");
  test_contents ("zstd");
  test_diff_id ();

  static const ent dotdot[] = { { "ok", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
                                { "a/../../escaped", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
                                { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  test_refused ("dotdot", dotdot, "'a/../../escaped': '..'");
  static const ent absolute[] = { { "/tmp/escaped-husk-test", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
                                  { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  test_refused ("absolute", absolute, "'/tmp/escaped-husk-test': absolute");
  static const ent via_link[] = { { "link", AE_IFLNK, "/tmp", 0, 0, 0, NULL, NULL },
                                  { "link/escaped-husk-test", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
                                  { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  test_refused ("symlink", via_link, "'link/escaped-husk-test': parent 'link' is a symlink");
  static const ent dir_then_link[]
      = { { "d/a", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
          { "d", AE_IFLNK, "/tmp", 0, 0, 0, NULL, NULL },
          { "d/escaped-husk-test", AE_IFREG, "x", 0, 0, 0, NULL, NULL },
          { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  test_refused ("dir-then-link", dir_then_link, "parent 'd' is a symlink");
  static const ent hardlink_out[] = { { "h", 0, "../../etc/passwd", 0, 0, 0, NULL, NULL },
                                      { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  test_refused ("hardlink", hardlink_out, "'..' in hard link target");

  /* a truncated gzip layer */
  static const ent big[]
      = { { "f", AE_IFREG, "0123456789abcdefghijklmnopqrstuvwxyz", 0, 0, 0, NULL, NULL },
          { NULL, 0, NULL, 0, 0, 0, NULL, NULL } };
  _cleanup_free_ char *gz = make_tar ("trunc.tar.gz", "gzip", big);
  struct stat st;
  stat (gz, &st);
  ok (truncate (gz, st.st_size / 2) == 0, "truncate gzip");
  _cleanup_free_ char *msg = NULL;
  ok (unpack (gz, "trunc", &msg) < 0, "truncated gzip refused (%s)", msg ? msg : "none");

  husk_rm_rf (tmpdir, NULL);
  return tap_done ();
}
