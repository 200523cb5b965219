/* Snapshots: an image's root filesystem as an overlayfs mount of its unpacked layers,
   read-only (husk image mount) or with a private upper/work dir (a container's rootfs).
   Each live snapshot has snapshots/<key>/snapshot.json naming its layers, which keeps
   them from garbage collection while it exists. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/image/image-internal.h"

static bool
id_valid (const char *id)
{
  if (!*id || strlen (id) > 128 || id[0] == '.')
    return false;
  for (const char *p = id; *p; p++)
    if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'
          || *p == '_' || *p == '.'))
      return false;
  return true;
}

static char *
snapshot_dir (image_store *s, const char *key)
{
  return xasprintf ("%s/snapshots/%s", image_store_root (s), key);
}

/* Unpacked layer dirs of the image, bottom first. */
static int
image_layers (image_store *s, const char *ref, image_record *rec, char ***dirs_out,
              json_t **digests_out, husk_error **err)
{
  int ret = image_store_get (s, ref, rec, err);
  if (ret < 0)
    return ret;
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  if ((ret = image_store_load_manifest (s, rec->manifest, &m, err)) < 0)
    return ret;
  if (m->n_layers == 0)
    return husk_err (err, EINVAL, "image %s has no layers", ref);
  _cleanup_strv_ char **ids = NULL;
  if ((ret = image_store_diff_ids (s, m, &ids, err)) < 0)
    return husk_err_wrap (err, "image %s", ref);
  char **dirs = xcalloc (m->n_layers + 1, sizeof *dirs);
  json_t *digests = json_array ();
  for (size_t i = 0; i < m->n_layers; i++)
    {
      if ((ret = image_store_ensure_layer (s, &m->layers[i], ids[i], &dirs[i], err)) < 0)
        {
          strv_free (dirs);
          json_decref (digests);
          return ret;
        }
      json_array_append_new (digests, json_string (m->layers[i].digest));
    }
  *dirs_out = dirs;
  *digests_out = digests;
  return 0;
}

/* lowerdir=top:...:bottom[,upperdir=,workdir=]; with rel, layer dirs are given relative to
   <root>/layers/sha256 (the caller mounts from there) so that more layers fit in a page. */
static char *
overlay_options (image_store *s, char **dirs, const char *upper, const char *work, bool rel)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  size_t n = 0;
  while (dirs[n])
    n++;
  husk_buf_puts (&b, "lowerdir=");
  for (size_t i = n; i-- > 0;)
    {
      const char *d = dirs[i];
      if (rel && strrchr (d, '/'))
        d = strrchr (d, '/') + 1;
      husk_buf_puts (&b, d);
      if (i > 0)
        husk_buf_putc (&b, ':');
    }
  if (n == 1 && !upper) /* a read-only overlay needs two lower dirs */
    {
      if (rel)
        husk_buf_puts (&b, ":../empty");
      else
        husk_buf_printf (&b, ":%s/layers/empty", image_store_root (s));
    }
  if (upper)
    husk_buf_printf (&b, ",upperdir=%s,workdir=%s", upper, work);
  return husk_buf_steal (&b);
}

#define MOUNT_OPTS_MAX 4095

/* mount(2) of the overlay; options too long for a page are retried from a child process
   sitting in the layers directory, with relative layer paths. */
static int
overlay_mount (image_store *s, char **dirs, const char *upper, const char *work, const char *target,
               unsigned long flags, husk_error **err)
{
  _cleanup_free_ char *empty = xasprintf ("%s/layers/empty", image_store_root (s));
  if (husk_mkdir_p (empty, 0755, err) < 0)
    return -1;
  _cleanup_free_ char *opts = overlay_options (s, dirs, upper, work, false);
  if (strlen (opts) <= MOUNT_OPTS_MAX)
    {
      if (mount ("overlay", target, "overlay", flags, opts) < 0)
        return husk_err_errno (err, "overlayfs mount at %s", target);
      return 0;
    }
  _cleanup_free_ char *rel = overlay_options (s, dirs, upper, work, true);
  if (strlen (rel) > MOUNT_OPTS_MAX)
    {
      size_t n = 0;
      while (dirs[n])
        n++;
      return husk_err (err, E2BIG,
                       "overlayfs mount at %s: %zu layers need %zu bytes of mount options, over "
                       "the kernel's %d",
                       target, n, strlen (rel), MOUNT_OPTS_MAX);
    }
  _cleanup_free_ char *ldir = xasprintf ("%s/layers/sha256", image_store_root (s));
  pid_t pid = fork ();
  if (pid < 0)
    return husk_err_errno (err, "fork");
  if (pid == 0)
    {
      if (chdir (ldir) < 0 || mount ("overlay", target, "overlay", flags, rel) < 0)
        _exit (errno & 0xff);
      _exit (0);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return husk_err_errno (err, "wait for mount helper");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return husk_err_sys (err, WIFEXITED (status) ? WEXITSTATUS (status) : EIO,
                         "overlayfs mount at %s (relative layer paths)", target);
  return 0;
}

static void
hash_key (const char *target, char key[32])
{
  char d[IMAGE_DIGEST_LEN + 1];
  image_digest_of (target, strlen (target), d);
  snprintf (key, 32, "ro-%.16s", d + 7);
}

int
image_snapshot_mount (image_store *s, const char *ref, const char *id, const char *target,
                      husk_error **err)
{
  if (id && !id_valid (id))
    return husk_err (err, EINVAL, "snapshot id '%s': use letters, digits, '-', '_', '.'", id);
  char real[PATH_MAX];
  if (!realpath (target, real))
    return husk_err_errno (err, "mount point %s", target);
  _cleanup_close_ int gfd = -1;
  int ret = image_store_lock_gc (s, false, &gfd, err);
  if (ret < 0)
    return ret;
  image_record rec = { 0 };
  _cleanup_strv_ char **dirs = NULL;
  _cleanup_json_ json_t *digests = NULL;
  ret = image_layers (s, ref, &rec, &dirs, &digests, err);
  if (ret == 0)
    ret = image_store_touch (s, rec.ref, 0, err);
  if (ret < 0)
    {
      image_record_clear (&rec);
      return ret;
    }
  char rokey[32];
  if (!id)
    hash_key (real, rokey);
  _cleanup_free_ char *sdir = snapshot_dir (s, id ? id : rokey);
  _cleanup_free_ char *upper = id ? xasprintf ("%s/upper", sdir) : NULL;
  _cleanup_free_ char *work = id ? xasprintf ("%s/work", sdir) : NULL;
  _cleanup_free_ char *rec_path = xasprintf ("%s/snapshot.json", sdir);
  _cleanup_json_ json_t *j
      = json_pack ("{s:s, s:s, s:s, s:O, s:s, s:b}", "ref", rec.ref, "manifest", rec.manifest, "id",
                   id ? id : rokey, "layers", digests, "target", real, "readOnly", id == NULL);
  _cleanup_free_ char *text = json_dumps (j, JSON_INDENT (1));
  image_record_clear (&rec);
  if ((ret = husk_mkdir_p (sdir, 0700, err)) < 0
      || (upper && (ret = husk_mkdir_p (upper, 0755, err)) < 0)
      || (work && (ret = husk_mkdir_p (work, 0700, err)) < 0)
      || (ret = husk_write_file_atomic (rec_path, text, strlen (text), 0600, err)) < 0)
    return ret;
  if ((ret = overlay_mount (s, dirs, upper, work, real, id ? 0 : MS_RDONLY, err)) < 0)
    {
      husk_err_wrap (err, "mount image %s", ref);
      if (!id)
        husk_rm_rf (sdir, NULL);
      else
        unlink (rec_path);
      return ret;
    }
  return 0;
}

/* Finds the snapshot record whose target is real. */
static int
find_by_target (image_store *s, const char *real, char **key_out)
{
  _cleanup_free_ char *dir = xasprintf ("%s/snapshots", image_store_root (s));
  DIR *d = opendir (dir);
  if (!d)
    return -1;
  struct dirent *de;
  int ret = -1;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *p = xasprintf ("%s/%s/snapshot.json", dir, de->d_name);
      _cleanup_json_ json_t *j = NULL;
      if (husk_json_load_file (p, &j, NULL) < 0)
        continue;
      const char *t = json_string_value (json_object_get (j, "target"));
      if (t && streq (t, real))
        {
          *key_out = xstrdup (de->d_name);
          ret = 0;
          break;
        }
    }
  closedir (d);
  return ret;
}

static int
forget_target (image_store *s, const char *key, bool remove, husk_error **err)
{
  _cleanup_free_ char *sdir = snapshot_dir (s, key);
  _cleanup_free_ char *p = xasprintf ("%s/snapshot.json", sdir);
  _cleanup_json_ json_t *j = NULL;
  if (husk_json_load_file (p, &j, NULL) < 0)
    return 0;
  if (remove || json_is_true (json_object_get (j, "readOnly")))
    return husk_rm_rf (sdir, err);
  json_object_del (j, "target");
  _cleanup_free_ char *text = json_dumps (j, JSON_INDENT (1));
  return husk_write_file_atomic (p, text, strlen (text), 0600, err);
}

int
image_snapshot_unmount (image_store *s, const char *target, bool remove, husk_error **err)
{
  char real[PATH_MAX];
  if (!realpath (target, real))
    return husk_err_errno (err, "unmount %s", target);
  _cleanup_free_ char *key = NULL;
  bool known = find_by_target (s, real, &key) == 0;
  if (umount2 (real, 0) < 0 && !(known && errno == EINVAL))
    return husk_err_errno (err, "unmount %s", real);
  if (known)
    return forget_target (s, key, remove, err);
  return 0;
}

int
image_snapshot_remove (image_store *s, const char *id, husk_error **err)
{
  if (!id_valid (id))
    return husk_err (err, EINVAL, "snapshot id '%s': invalid", id);
  _cleanup_free_ char *sdir = snapshot_dir (s, id);
  _cleanup_free_ char *p = xasprintf ("%s/snapshot.json", sdir);
  _cleanup_json_ json_t *j = NULL;
  if (husk_json_load_file (p, &j, NULL) == 0)
    {
      const char *t = json_string_value (json_object_get (j, "target"));
      if (t && umount2 (t, 0) < 0 && errno != EINVAL && errno != ENOENT)
        return husk_err_errno (err, "snapshot %s: unmount %s", id, t);
    }
  return husk_rm_rf (sdir, err);
}
