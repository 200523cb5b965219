/* Layer unpacking with libarchive: gzip, zstd or plain tar into a private directory.

   OCI whiteouts become overlayfs ones: ".wh.NAME" -> a 0:0 character device NAME,
   ".wh..wh..opq" -> xattr trusted.overlay.opaque=y on the directory. Ownership, modes,
   times, xattrs, hard links and symlinks are kept. An entry whose path is absolute,
   climbs with "..", or whose parent is a symlink (so it would land outside the layer
   directory) is refused with an error naming the entry.

   The layer is read in one pass through two libarchive readers: the outer one only
   decompresses (format "raw"), the inner one parses the tar from the outer one's blocks,
   so that the uncompressed stream (the layer's diff_id) is hashed on the way. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "lib/buf.h"
#include "lib/path.h"
#include "src/node/image/image-internal.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

typedef struct unpacker
{
  const char *dir;
  struct archive *raw, *r, *w; /* decompressor, tar reader, disk writer */
  image_hasher h;              /* of the uncompressed stream */
  char *checked_parent;        /* last parent directory found symlink-free (relative) */
} unpacker;

/* Cleans an entry name: strips leading "./" and trailing "/", refuses absolute paths and
   "..". Returns NULL for the root entry ("." or "./"). */
static int
clean_name (const char *name, const char *what, char **out, husk_error **err)
{
  if (!name || !*name)
    return husk_err (err, EINVAL, "tar entry with an empty %s", what);
  if (name[0] == '/')
    return husk_err (err, EPERM,
                     "tar entry '%s': absolute %s refused (would land outside the layer)", name,
                     what);
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  const char *p = name;
  while (*p)
    {
      const char *e = strchrnul (p, '/');
      size_t n = e - p;
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return husk_err (err, EPERM,
                         "tar entry '%s': '..' in %s refused (would land outside the layer)", name,
                         what);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (b.len)
            husk_buf_putc (&b, '/');
          husk_buf_append (&b, p, n);
        }
      p = *e ? e + 1 : e;
    }
  *out = b.len ? husk_buf_steal (&b) : NULL;
  return 0;
}

/* Every existing ancestor of rel under dir must be a real directory, not a symlink. */
static int
check_parents (unpacker *u, const char *entry, const char *rel, husk_error **err)
{
  const char *slash = strrchr (rel, '/');
  if (!slash)
    return 0;
  size_t plen = slash - rel;
  if (u->checked_parent && strlen (u->checked_parent) == plen
      && strncmp (u->checked_parent, rel, plen) == 0)
    return 0;
  _cleanup_free_ char *path = xasprintf ("%s/%.*s", u->dir, (int)plen, rel);
  size_t base = strlen (u->dir) + 1;
  for (char *c = path + base;; c++)
    {
      if (*c != '/' && *c != '\0')
        continue;
      char saved = *c;
      *c = '\0';
      struct stat st;
      if (lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
        return husk_err (err, EPERM,
                         "tar entry '%s': parent '%s' is a symlink (would land outside the layer)",
                         entry, path + base);
      *c = saved;
      if (!saved)
        break;
    }
  free (u->checked_parent);
  u->checked_parent = xstrndup (rel, plen);
  return 0;
}

static int
mkdir_parent (unpacker *u, const char *rel, husk_error **err)
{
  const char *slash = strrchr (rel, '/');
  if (!slash)
    return 0;
  _cleanup_free_ char *p = xasprintf ("%s/%.*s", u->dir, (int)(slash - rel), rel);
  return husk_mkdir_p (p, 0755, err);
}

static int
whiteout (unpacker *u, const char *entry, const char *rel, husk_error **err)
{
  const char *slash = strrchr (rel, '/');
  const char *base = slash ? slash + 1 : rel;
  _cleanup_free_ char *parent
      = slash ? xasprintf ("%s/%.*s", u->dir, (int)(slash - rel), rel) : xstrdup (u->dir);
  int ret = mkdir_parent (u, rel, err);
  if (ret < 0)
    return ret;
  if (streq (base, WH_OPAQUE))
    {
      if (lsetxattr (parent, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return husk_err_errno (err, "tar entry '%s': set opaque xattr on %s", entry, parent);
      return 0;
    }
  if (strncmp (base, WH_PREFIX WH_PREFIX, 8) == 0) /* other aufs metadata: ignored */
    return 0;
  const char *name = base + strlen (WH_PREFIX);
  if (!*name || streq (name, ".") || streq (name, ".."))
    return husk_err (err, EINVAL, "tar entry '%s': bad whiteout", entry);
  _cleanup_free_ char *target = xasprintf ("%s/%s", parent, name);
  husk_rm_rf (target, NULL);
  if (mknod (target, S_IFCHR | 0000, makedev (0, 0)) < 0)
    return husk_err_errno (err, "tar entry '%s': create whiteout %s", entry, target);
  return 0;
}

static int
copy_data (unpacker *u, const char *entry, husk_error **err)
{
  const void *buf;
  size_t size;
  la_int64_t off;
  for (;;)
    {
      int r = archive_read_data_block (u->r, &buf, &size, &off);
      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return husk_err (err, EIO, "tar entry '%s': read: %s", entry, archive_error_string (u->r));
      if (archive_write_data_block (u->w, buf, size, off) < ARCHIVE_WARN)
        return husk_err (err, EIO, "tar entry '%s': write: %s", entry, archive_error_string (u->w));
    }
}

static int
unpack_entry (unpacker *u, struct archive_entry *e, husk_error **err)
{
  const char *pn = archive_entry_pathname (e);
  _cleanup_free_ char *name = xstrdup (pn ? pn : "");
  _cleanup_free_ char *rel = NULL, *link_rel = NULL;
  int ret = clean_name (name, "path", &rel, err);
  if (ret < 0)
    return ret;
  if (!rel) /* the layer root itself */
    return 0;
  if ((ret = check_parents (u, name, rel, err)) < 0)
    return ret;
  const char *base = strrchr (rel, '/');
  base = base ? base + 1 : rel;
  if (strncmp (base, WH_PREFIX, strlen (WH_PREFIX)) == 0)
    return whiteout (u, name, rel, err);

  _cleanup_free_ char *dst = xasprintf ("%s/%s", u->dir, rel);
  const char *hl = archive_entry_hardlink (e);
  if (hl)
    {
      if ((ret = clean_name (hl, "hard link target", &link_rel, err)) < 0)
        return ret;
      if (!link_rel)
        return husk_err (err, EINVAL, "tar entry '%s': hard link to the layer root", name);
      if ((ret = check_parents (u, hl, link_rel, err)) < 0)
        return husk_err_wrap (err, "tar entry '%s'", name);
      _cleanup_free_ char *t = xasprintf ("%s/%s", u->dir, link_rel);
      archive_entry_set_hardlink (e, t);
    }
  /* A non-directory left from an earlier entry is replaced, never written through. */
  struct stat st;
  if (lstat (dst, &st) == 0 && !(S_ISDIR (st.st_mode) && archive_entry_filetype (e) == AE_IFDIR))
    if ((ret = husk_rm_rf (dst, err)) < 0)
      return ret;
  if (hl || archive_entry_filetype (e) == AE_IFLNK)
    {
      /* the entry may turn a checked directory into a symlink */
      free (u->checked_parent);
      u->checked_parent = NULL;
    }
  archive_entry_set_pathname (e, dst); /* libarchive creates missing parents */
  if (archive_write_header (u->w, e) < ARCHIVE_WARN)
    return husk_err (err, EIO, "tar entry '%s': %s", name, archive_error_string (u->w));
  if (archive_entry_size (e) > 0 && (ret = copy_data (u, name, err)) < 0)
    return ret;
  if (archive_write_finish_entry (u->w) < ARCHIVE_WARN)
    return husk_err (err, EIO, "tar entry '%s': %s", name, archive_error_string (u->w));
  return 0;
}

static int
unpack_all (unpacker *u, husk_error **err)
{
  struct archive_entry *e;
  for (;;)
    {
      int r = archive_read_next_header (u->r, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return husk_err (err, EIO, "read layer: %s", archive_error_string (u->r));
      int ret = unpack_entry (u, e, err);
      if (ret < 0)
        return ret;
    }
  if (archive_write_close (u->w) < ARCHIVE_WARN)
    return husk_err (err, EIO, "finish layer: %s", archive_error_string (u->w));
  return 0;
}

/* The tar reader's input: the decompressed blocks of the outer reader, hashed. */
static la_ssize_t
raw_read (struct archive *a, void *ctx, const void **out)
{
  unpacker *u = ctx;
  size_t size = 0;
  la_int64_t off;
  int r = archive_read_data_block (u->raw, out, &size, &off);
  if (r == ARCHIVE_EOF)
    return 0;
  if (r < ARCHIVE_WARN)
    {
      archive_set_error (a, EIO, "%s", archive_error_string (u->raw));
      return -1;
    }
  image_hasher_update (&u->h, *out, size);
  return size;
}

/* Hashes what follows the tar's end-of-archive blocks: the diff_id covers all of it. */
static int
drain (unpacker *u, husk_error **err)
{
  const void *buf;
  la_ssize_t n;
  while ((n = raw_read (u->r, u, &buf)) > 0)
    ;
  if (n < 0)
    return husk_err (err, EIO, "read layer: %s", archive_error_string (u->raw));
  return 0;
}

static int
open_readers (unpacker *u, int fd, husk_error **err)
{
  struct archive_entry *e;
  archive_read_support_filter_gzip (u->raw);
  archive_read_support_filter_zstd (u->raw);
  archive_read_support_filter_xz (u->raw);
  archive_read_support_filter_none (u->raw);
  archive_read_support_format_raw (u->raw);
  if (archive_read_open_fd (u->raw, fd, IMAGE_UNPACK_BLOCK) != ARCHIVE_OK
      || archive_read_next_header (u->raw, &e) != ARCHIVE_OK)
    return husk_err (err, EIO, "read layer: %s", archive_error_string (u->raw));
  archive_read_support_filter_none (u->r);
  archive_read_support_format_tar (u->r);
  if (archive_read_open (u->r, u, NULL, raw_read, NULL) != ARCHIVE_OK)
    return husk_err (err, EIO, "read layer: %s", archive_error_string (u->r));
  return 0;
}

int
image_unpack_layer_fd (int fd, const char *dir, char diff_id[IMAGE_DIGEST_LEN + 1],
                       husk_error **err)
{
  unpacker u = { .dir = dir };
  image_hasher_init (&u.h);
  u.raw = archive_read_new ();
  u.r = archive_read_new ();
  u.w = archive_write_disk_new ();
  archive_write_disk_set_options (u.w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM
                                           | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
                                           | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  int ret = open_readers (&u, fd, err);
  if (ret == 0)
    ret = unpack_all (&u, err);
  if (ret == 0)
    ret = drain (&u, err);
  if (ret == 0 && diff_id)
    image_hasher_digest (&u.h, diff_id);
  archive_read_free (u.r);
  archive_read_free (u.raw);
  archive_write_free (u.w);
  free (u.checked_parent);
  return ret;
}

int
image_unpack_layer_file (const char *path, const char *dir, char diff_id[IMAGE_DIGEST_LEN + 1],
                         husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  return image_unpack_layer_fd (fd, dir, diff_id, err);
}

int
image_layer_diff_id_file (const char *path, char diff_id[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  unpacker u = { 0 };
  image_hasher_init (&u.h);
  u.raw = archive_read_new ();
  u.r = archive_read_new ();
  int ret = open_readers (&u, fd, err);
  if (ret == 0)
    ret = drain (&u, err);
  if (ret == 0)
    image_hasher_digest (&u.h, diff_id);
  archive_read_free (u.r);
  archive_read_free (u.raw);
  return ret;
}
