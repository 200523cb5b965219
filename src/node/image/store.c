/* The content-addressed image store under <data-dir>/images:

     blobs/sha256/<hex>     verified blobs (manifests, configs, compressed layers)
     layers/sha256/<hex>/   unpacked layers, keyed by their blob digest
     layers/diffid/<hex>    the verified diff_id of layers/sha256/<hex> (written first)
     layers/tmp/            layers being unpacked (renamed into place when complete)
     tmp/                   downloads and imports in progress (<hex>.partial resumes)
     locks/                 flock files: per blob, per layer, gc.lock, refs.lock
     refs.json              reference -> {digest, manifest, created}
     snapshots/<id>/        overlay snapshots (snapshot.c)

   A blob enters blobs/ only by rename after its digest and size were checked, so a crash
   never leaves a half-written blob that is later trusted. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/node/image/image-internal.h"

struct image_store
{
  char *root;
};

const char *
image_store_root (const image_store *s)
{
  return s->root;
}

int
image_store_open (const char *data_dir, image_store **out, husk_error **err)
{
  static const char *const dirs[]
      = { "blobs/sha256", "layers/sha256", "layers/diffid", "layers/tmp",
          "tmp",          "locks",         "snapshots" };
  _cleanup_free_ char *root = xasprintf ("%s/images", data_dir);
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    {
      _cleanup_free_ char *d = xasprintf ("%s/%s", root, dirs[i]);
      if (husk_mkdir_p (d, 0700, err) < 0)
        return husk_err_wrap (err, "image store %s", root);
    }
  image_store *s = xzalloc (sizeof *s);
  s->root = TAKE_PTR (root);
  *out = s;
  return 0;
}

void
image_store_free (image_store *s)
{
  if (!s)
    return;
  free (s->root);
  free (s);
}

char *
image_store_blob_path (const image_store *s, const char *digest)
{
  return xasprintf ("%s/blobs/sha256/%s", s->root, digest + 7);
}

char *
image_store_layer_path (const image_store *s, const char *digest)
{
  return xasprintf ("%s/layers/sha256/%s", s->root, digest + 7);
}

char *
image_store_partial_path (const image_store *s, const char *digest)
{
  return xasprintf ("%s/tmp/%s.partial", s->root, digest + 7);
}

bool
image_store_has_blob (const image_store *s, const char *digest)
{
  _cleanup_free_ char *p = image_store_blob_path (s, digest);
  return access (p, F_OK) == 0;
}

int
image_store_tmpfile (image_store *s, char **path_out, husk_error **err)
{
  char *p = xasprintf ("%s/tmp/blob-XXXXXX", s->root);
  int fd = mkostemp (p, O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      free (p);
      return husk_err_sys (err, e, "create temp file in %s/tmp", s->root);
    }
  *path_out = p;
  return fd;
}

static int
hash_file (const char *path, char digest[IMAGE_DIGEST_LEN + 1], uint64_t *size, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  image_hasher h;
  image_hasher_init (&h);
  _cleanup_free_ char *buf = xmalloc (1 << 20);
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "read %s", path);
      if (n == 0)
        break;
      image_hasher_update (&h, buf, n);
    }
  image_hasher_digest (&h, digest);
  *size = h.size;
  return 0;
}

int
image_store_commit_verified (image_store *s, const char *tmp, const char *digest, husk_error **err)
{
  _cleanup_free_ char *dst = image_store_blob_path (s, digest);
  if (chmod (tmp, 0644) < 0 || rename (tmp, dst) < 0)
    {
      int e = errno;
      unlink (tmp);
      return husk_err_sys (err, e, "store blob %s", digest);
    }
  return 0;
}

int
image_store_commit_blob (image_store *s, const char *tmp, const char *digest, int64_t size,
                         husk_error **err)
{
  char got[IMAGE_DIGEST_LEN + 1];
  uint64_t got_size = 0;
  int ret = hash_file (tmp, got, &got_size, err);
  if (ret < 0)
    {
      unlink (tmp);
      return ret;
    }
  if (size >= 0 && got_size != (uint64_t)size)
    {
      unlink (tmp);
      return husk_err (err, EBADMSG, "blob %s: size mismatch: got %llu bytes, want %lld", digest,
                       (unsigned long long)got_size, (long long)size);
    }
  if (!streq (got, digest))
    {
      unlink (tmp);
      return husk_err (err, EBADMSG, "blob %s: digest mismatch: content hashes to %s", digest, got);
    }
  return image_store_commit_verified (s, tmp, digest, err);
}

int
image_store_put_blob (image_store *s, const void *data, size_t len, const char *want,
                      int64_t want_size, char out[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  char got[IMAGE_DIGEST_LEN + 1];
  image_digest_of (data, len, got);
  if (want && !streq (want, got))
    return husk_err (err, EBADMSG, "blob %s: digest mismatch: content hashes to %s", want, got);
  if (want_size >= 0 && (uint64_t)want_size != len)
    return husk_err (err, EBADMSG, "blob %s: size mismatch: got %zu bytes, want %lld", got, len,
                     (long long)want_size);
  if (out)
    memcpy (out, got, sizeof got);
  if (image_store_has_blob (s, got))
    return 0;
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = image_store_tmpfile (s, &tmp, err);
  if (fd < 0)
    return fd;
  const char *p = data;
  size_t left = len;
  while (left > 0)
    {
      ssize_t n = write (fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          unlink (tmp);
          return husk_err_sys (err, e, "write blob %s", got);
        }
      p += n;
      left -= n;
    }
  return image_store_commit_verified (s, tmp, got, err);
}

int
image_store_read_blob (const image_store *s, const char *digest, size_t max, char **data,
                       size_t *len, husk_error **err)
{
  _cleanup_free_ char *p = image_store_blob_path (s, digest);
  struct stat st;
  if (stat (p, &st) < 0)
    return husk_err_errno (err, "blob %s", digest);
  if ((size_t)st.st_size > max)
    return husk_err (err, EFBIG, "blob %s: %lld bytes, more than the %zu allowed", digest,
                     (long long)st.st_size, max);
  int ret = husk_read_file (p, data, len, err);
  if (ret < 0)
    return husk_err_wrap (err, "blob %s", digest);
  return 0;
}

/* ---- locks ---- */

static int
lock_file (const char *path, bool exclusive, bool wait, int *fd_out, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return husk_err_errno (err, "open lock %s", path);
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  while (flock (fd, op) < 0)
    {
      if (errno == EINTR)
        continue;
      if (errno == EWOULDBLOCK)
        return 1;
      return husk_err_errno (err, "lock %s", path);
    }
  *fd_out = TAKE_FD (fd);
  return 0;
}

int
image_store_lock_digest (image_store *s, const char *kind, const char *digest, bool wait,
                         int *fd_out, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/locks/%s-%s.lock", s->root, kind, digest + 7);
  return lock_file (p, true, wait, fd_out, err);
}

int
image_store_lock_gc (image_store *s, bool exclusive, int *fd_out, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/locks/gc.lock", s->root);
  return lock_file (p, exclusive, true, fd_out, err);
}

static int
lock_refs (image_store *s, int *fd_out, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/locks/refs.lock", s->root);
  return lock_file (p, true, true, fd_out, err);
}

/* ---- layers ---- */

static char *
diff_id_path (const image_store *s, const char *digest)
{
  return xasprintf ("%s/layers/diffid/%s", s->root, digest + 7);
}

/* Writes a diff_id record (tmp + rename, no fsync: a record lost or torn by a crash is
   recomputed from the blob, see recorded_diff_id). */
static int
diff_id_write (const char *path, const char *diff_id, husk_error **err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s.%d.tmp", path, (int)gettid ());
  _cleanup_close_ int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return husk_err_errno (err, "create %s", tmp);
  if (write (fd, diff_id, IMAGE_DIGEST_LEN) != IMAGE_DIGEST_LEN || rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return husk_err_sys (err, e, "write %s", path);
    }
  return 0;
}

static int
diff_id_mismatch (const image_desc *layer, const char *want, const char *got, husk_error **err)
{
  return husk_err (err, EBADMSG,
                   "layer %s: diff_id mismatch: image config says %s, uncompressed content "
                   "hashes to %s",
                   layer->digest, want, got);
}

/* The diff_id recorded for an unpacked layer; a layer unpacked before they were recorded
   gets its blob hashed now. */
static int
recorded_diff_id (image_store *s, const image_desc *layer, char got[IMAGE_DIGEST_LEN + 1],
                  husk_error **err)
{
  _cleanup_free_ char *p = diff_id_path (s, layer->digest);
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (husk_read_file (p, &text, &len, NULL) == 0 && len == IMAGE_DIGEST_LEN)
    {
      memcpy (got, text, IMAGE_DIGEST_LEN);
      got[IMAGE_DIGEST_LEN] = '\0';
      if (image_digest_valid (got))
        return 0;
    }
  _cleanup_free_ char *blob = image_store_blob_path (s, layer->digest);
  int ret = image_layer_diff_id_file (blob, got, err);
  if (ret < 0)
    return husk_err_wrap (err, "layer %s", layer->digest);
  return diff_id_write (p, got, err);
}

static int
check_unpacked (image_store *s, const image_desc *layer, const char *diff_id, husk_error **err)
{
  char got[IMAGE_DIGEST_LEN + 1];
  if (!diff_id)
    return 0;
  int ret = recorded_diff_id (s, layer, got, err);
  if (ret < 0)
    return ret;
  return streq (got, diff_id) ? 0 : diff_id_mismatch (layer, diff_id, got, err);
}

/* Unpacks the blob into a temp dir, verifies the diff_id, records it, renames into dir.
   Caller holds the layer lock. */
static int
unpack_into_place (image_store *s, const image_desc *layer, const char *diff_id, const char *dir,
                   husk_error **err)
{
  _cleanup_free_ char *blob = image_store_blob_path (s, layer->digest);
  _cleanup_free_ char *tmp = xasprintf ("%s/layers/tmp/%.12s-XXXXXX", s->root, layer->digest + 7);
  _cleanup_free_ char *idp = diff_id_path (s, layer->digest);
  char got[IMAGE_DIGEST_LEN + 1];
  if (!mkdtemp (tmp))
    return husk_err_errno (err, "layer %s: create temp dir", layer->digest);
  int ret = chmod (tmp, 0755) < 0 ? husk_err_errno (err, "chmod %s", tmp) : 0;
  if (ret == 0 && (ret = image_unpack_layer_file (blob, tmp, got, err)) < 0)
    husk_err_wrap (err, "layer %s", layer->digest);
  if (ret == 0 && diff_id && !streq (got, diff_id))
    {
      ret = diff_id_mismatch (layer, diff_id, got, err);
      unlink (blob);
    }
  if (ret == 0)
    ret = diff_id_write (idp, got, err);
  if (ret == 0 && rename (tmp, dir) < 0)
    ret = husk_err_errno (err, "layer %s: rename into place", layer->digest);
  if (ret < 0)
    husk_rm_rf (tmp, NULL);
  return ret;
}

int
image_store_ensure_layer (image_store *s, const image_desc *layer, const char *diff_id,
                          char **dir_out, husk_error **err)
{
  _cleanup_free_ char *dir = image_store_layer_path (s, layer->digest);
  struct stat st;
  _cleanup_close_ int lfd = -1;
  int ret = 0;
  if (stat (dir, &st) < 0)
    {
      if ((ret = image_store_lock_digest (s, "layer", layer->digest, true, &lfd, err)) < 0)
        return ret;
      if (stat (dir, &st) < 0) /* not unpacked by another pull while we waited */
        {
          if ((ret = unpack_into_place (s, layer, diff_id, dir, err)) < 0)
            return ret;
          *dir_out = TAKE_PTR (dir);
          return 0;
        }
    }
  if ((ret = check_unpacked (s, layer, diff_id, err)) < 0)
    return ret;
  *dir_out = TAKE_PTR (dir);
  return 0;
}

int
image_store_diff_ids (image_store *s, const image_manifest *m, char ***out, husk_error **err)
{
  _cleanup_json_ json_t *config = NULL;
  int ret = image_store_load_json (s, m->config.digest, &config, err);
  if (ret < 0)
    return husk_err_wrap (err, "config");
  if ((ret = image_config_diff_ids (config, m->n_layers, out, err)) < 0)
    return husk_err_wrap (err, "%s", m->config.digest);
  return 0;
}

/* ---- the reference index ---- */

void
image_record_clear (image_record *r)
{
  free (r->ref);
  free (r->digest);
  free (r->manifest);
  free (r->created);
  free (r->last_used);
  memset (r, 0, sizeof *r);
}

static int
refs_load (image_store *s, json_t **out, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/refs.json", s->root);
  if (access (p, F_OK) < 0)
    {
      *out = json_pack ("{s:{}}", "images");
      return 0;
    }
  json_t *j = NULL;
  int ret = husk_json_load_file (p, &j, err);
  if (ret < 0)
    return ret;
  if (!json_is_object (json_object_get (j, "images")))
    {
      json_decref (j);
      return husk_err (err, EINVAL, "%s: images: expected object", p);
    }
  *out = j;
  return 0;
}

static int
refs_save (image_store *s, json_t *j, husk_error **err)
{
  _cleanup_free_ char *p = xasprintf ("%s/refs.json", s->root);
  _cleanup_free_ char *text = json_dumps (j, JSON_INDENT (1) | JSON_SORT_KEYS);
  return husk_write_file_atomic (p, text, strlen (text), 0600, err);
}

static int refs_find (json_t *images, const char *name, const char **key_out, husk_error **err);

static void
format_time (time_t t, char out[32])
{
  struct tm tm;
  strftime (out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&t, &tm));
}

int
image_store_set_ref (image_store *s, const char *ref, const char *digest, const char *manifest,
                     husk_error **err)
{
  _cleanup_close_ int lfd = -1;
  int ret = lock_refs (s, &lfd, err);
  if (ret < 0)
    return ret;
  _cleanup_json_ json_t *j = NULL;
  if ((ret = refs_load (s, &j, err)) < 0)
    return ret;
  char now[32];
  format_time (time (NULL), now);
  json_object_set_new (json_object_get (j, "images"), ref,
                       json_pack ("{s:s, s:s, s:s, s:s}", "digest", digest, "manifest", manifest,
                                  "created", now, "lastUsed", now));
  return refs_save (s, j, err);
}

int
image_store_touch (image_store *s, const char *name, time_t when, husk_error **err)
{
  _cleanup_close_ int lfd = -1;
  int ret = lock_refs (s, &lfd, err);
  if (ret < 0)
    return ret;
  _cleanup_json_ json_t *j = NULL;
  if ((ret = refs_load (s, &j, err)) < 0)
    return ret;
  json_t *images = json_object_get (j, "images");
  const char *key;
  if ((ret = refs_find (images, name, &key, err)) < 0)
    return ret;
  char t[32];
  format_time (when ? when : time (NULL), t);
  json_object_set_new (json_object_get (images, key), "lastUsed", json_string (t));
  return refs_save (s, j, err);
}

static void
record_from (const char *ref, json_t *v, image_record *r)
{
  const char *d = json_string_value (json_object_get (v, "digest"));
  const char *m = json_string_value (json_object_get (v, "manifest"));
  const char *c = json_string_value (json_object_get (v, "created"));
  const char *u = json_string_value (json_object_get (v, "lastUsed"));
  r->ref = xstrdup (ref);
  r->digest = xstrdup (d ? d : "");
  r->manifest = xstrdup (m ? m : "");
  r->created = xstrdup (c ? c : "");
  r->last_used = xstrdup (u ? u : r->created);
}

/* Finds the key of name in images: a reference, a digest or a hex prefix (>= 12). */
static int
refs_find (json_t *images, const char *name, const char **key_out, husk_error **err)
{
  image_ref *r = NULL;
  if (image_ref_parse (name, &r, NULL) == 0)
    {
      json_t *v = json_object_get (images, r->full);
      if (v)
        {
          *key_out = json_object_iter_key (json_object_iter_at (images, r->full));
          image_ref_free (r);
          return 0;
        }
      /* repo@digest: any reference of that repository resolving to the digest */
      if (r->digest)
        {
          _cleanup_free_ char *repo = image_ref_repo (r);
          size_t rn = strlen (repo);
          const char *key;
          json_object_foreach (images, key, v)
          {
            const char *d = json_string_value (json_object_get (v, "digest"));
            const char *m = json_string_value (json_object_get (v, "manifest"));
            if (strncmp (key, repo, rn) == 0 && (key[rn] == ':' || key[rn] == '@')
                && ((d && streq (d, r->digest)) || (m && streq (m, r->digest))))
              {
                *key_out = key;
                image_ref_free (r);
                return 0;
              }
          }
        }
      image_ref_free (r);
    }
  const char *hex = strncmp (name, "sha256:", 7) == 0 ? name + 7 : name;
  size_t n = strlen (hex);
  const char *found = NULL, *key;
  json_t *v;
  if (n >= 12 && strspn (hex, "0123456789abcdef") == n)
    json_object_foreach (images, key, v)
    {
      const char *d = json_string_value (json_object_get (v, "digest"));
      const char *m = json_string_value (json_object_get (v, "manifest"));
      bool hit = (d && strncmp (d + 7, hex, n) == 0) || (m && strncmp (m + 7, hex, n) == 0);
      if (!hit)
        continue;
      if (found)
        return husk_err (err, EINVAL, "image %s: ambiguous (%s, %s)", name, found, key);
      found = key;
    }
  if (!found)
    return husk_err (err, ENOENT, "image %s not found", name);
  *key_out = found;
  return 0;
}

int
image_store_get (image_store *s, const char *name, image_record *out, husk_error **err)
{
  _cleanup_json_ json_t *j = NULL;
  int ret = refs_load (s, &j, err);
  if (ret < 0)
    return ret;
  json_t *images = json_object_get (j, "images");
  const char *key;
  if ((ret = refs_find (images, name, &key, err)) < 0)
    return ret;
  record_from (key, json_object_get (images, key), out);
  return 0;
}

int
image_store_list (image_store *s, image_record **out, size_t *n, husk_error **err)
{
  _cleanup_json_ json_t *j = NULL;
  int ret = refs_load (s, &j, err);
  if (ret < 0)
    return ret;
  json_t *images = json_object_get (j, "images"), *v;
  image_record *v_out = xcalloc (json_object_size (images) + 1, sizeof *v_out);
  size_t i = 0;
  const char *key;
  json_object_foreach (images, key, v) record_from (key, v, &v_out[i++]);
  *out = v_out;
  *n = i;
  return 0;
}

int
image_store_remove_ref (image_store *s, const char *name, husk_error **err)
{
  _cleanup_close_ int lfd = -1;
  int ret = lock_refs (s, &lfd, err);
  if (ret < 0)
    return ret;
  _cleanup_json_ json_t *j = NULL;
  if ((ret = refs_load (s, &j, err)) < 0)
    return ret;
  json_t *images = json_object_get (j, "images");
  const char *key;
  if ((ret = refs_find (images, name, &key, err)) < 0)
    return ret;
  _cleanup_free_ char *k = xstrdup (key);
  json_object_del (images, k);
  return refs_save (s, j, err);
}

int
image_store_load_json (image_store *s, const char *digest, json_t **out, husk_error **err)
{
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  int ret = image_store_read_blob (s, digest, IMAGE_MANIFEST_MAX, &data, &len, err);
  if (ret < 0)
    return ret;
  if ((ret = husk_json_parse (data, len, out, err)) < 0)
    return husk_err_wrap (err, "blob %s", digest);
  return 0;
}

int
image_store_load_manifest (image_store *s, const char *digest, image_manifest **out,
                           husk_error **err)
{
  _cleanup_json_ json_t *doc = NULL;
  int ret = image_store_load_json (s, digest, &doc, err);
  if (ret < 0)
    return ret;
  if ((ret = image_manifest_parse (doc, NULL, out, err)) < 0)
    return husk_err_wrap (err, "manifest %s", digest);
  return 0;
}

int
image_store_image_size (image_store *s, const char *manifest, uint64_t *out, husk_error **err)
{
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  int ret = image_store_load_manifest (s, manifest, &m, err);
  if (ret < 0)
    return ret;
  uint64_t total = m->config.size;
  for (size_t i = 0; i < m->n_layers; i++)
    total += m->layers[i].size;
  *out = total;
  return 0;
}

int
image_store_load_config (image_store *s, const char *name, json_t **out, husk_error **err)
{
  image_record r = { 0 };
  int ret = image_store_get (s, name, &r, err);
  if (ret < 0)
    return ret;
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  ret = image_store_load_manifest (s, r.manifest, &m, err);
  if (ret == 0 && (ret = image_store_load_json (s, m->config.digest, out, err)) < 0)
    husk_err_wrap (err, "image %s: config", r.ref);
  image_record_clear (&r);
  return ret;
}

/* ---- garbage collection ---- */

static void
mark_image (image_store *s, const image_record *r, json_t *keep)
{
  json_object_set_new (keep, r->digest, json_true ());
  json_object_set_new (keep, r->manifest, json_true ());
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  if (image_store_load_manifest (s, r->manifest, &m, NULL) < 0)
    return;
  json_object_set_new (keep, m->config.digest, json_true ());
  for (size_t i = 0; i < m->n_layers; i++)
    json_object_set_new (keep, m->layers[i].digest, json_true ());
}

/* true when path is a mount point in our mount namespace */
static bool
is_mounted (const char *path)
{
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/mounts", "re");
  if (!f)
    return true; /* cannot tell: keep */
  char *line = NULL;
  size_t cap = 0;
  bool found = false;
  while (!found && getline (&line, &cap, f) > 0)
    {
      char *sp = strchr (line, ' ');
      if (!sp)
        continue;
      char *mp = sp + 1;
      char *end = strchr (mp, ' ');
      if (end)
        *end = '\0';
      found = streq (mp, path);
    }
  free (line);
  return found;
}

static void
mark_snapshots (image_store *s, json_t *keep)
{
  _cleanup_free_ char *dir = xasprintf ("%s/snapshots", s->root);
  DIR *d = opendir (dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *p = xasprintf ("%s/%s/snapshot.json", dir, de->d_name);
      _cleanup_json_ json_t *j = NULL;
      if (husk_json_load_file (p, &j, NULL) < 0)
        continue;
      const char *target = json_string_value (json_object_get (j, "target"));
      if (json_is_true (json_object_get (j, "readOnly")) && (!target || !is_mounted (target)))
        {
          /* a read-only view unmounted behind our back (reboot, umount): forget it */
          _cleanup_free_ char *sd = xasprintf ("%s/%s", dir, de->d_name);
          husk_rm_rf (sd, NULL);
          continue;
        }
      size_t i;
      json_t *v;
      json_array_foreach (json_object_get (j, "layers"), i, v)
      {
        if (json_is_string (v))
          json_object_set_new (keep, json_string_value (v), json_true ());
      }
    }
  closedir (d);
}

static uint64_t
tree_size (const char *path)
{
  struct stat st;
  if (lstat (path, &st) < 0)
    return 0;
  if (!S_ISDIR (st.st_mode))
    return st.st_blocks * 512;
  uint64_t total = st.st_blocks * 512;
  DIR *d = opendir (path);
  if (!d)
    return total;
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (streq (de->d_name, ".") || streq (de->d_name, ".."))
        continue;
      _cleanup_free_ char *p = xasprintf ("%s/%s", path, de->d_name);
      total += tree_size (p);
    }
  closedir (d);
  return total;
}

/* Per-digest lock files; only called under the exclusive GC lock, when no pull runs. */
static void
sweep_locks (image_store *s)
{
  _cleanup_free_ char *dir = xasprintf ("%s/locks", s->root);
  DIR *d = opendir (dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir (d)))
    if (strncmp (de->d_name, "blob-", 5) == 0 || strncmp (de->d_name, "layer-", 6) == 0)
      unlinkat (dirfd (d), de->d_name, 0);
  closedir (d);
}

static int
sweep (const char *dir, json_t *keep, size_t *removed, uint64_t *bytes, husk_error **err)
{
  DIR *d = opendir (dir);
  if (!d)
    return husk_err_errno (err, "open %s", dir);
  struct dirent *de;
  int ret = 0;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *digest = xasprintf ("sha256:%s", de->d_name);
      if (keep && json_object_get (keep, digest))
        continue;
      _cleanup_free_ char *p = xasprintf ("%s/%s", dir, de->d_name);
      *bytes += tree_size (p);
      if ((ret = husk_rm_rf (p, err)) < 0)
        break;
      (*removed)++;
    }
  closedir (d);
  return ret;
}

int
image_store_prune (image_store *s, image_prune_stats *st, husk_error **err)
{
  _cleanup_close_ int gfd = -1;
  int ret = image_store_lock_gc (s, true, &gfd, err);
  if (ret < 0)
    return ret;
  image_record *recs = NULL;
  size_t n = 0;
  if ((ret = image_store_list (s, &recs, &n, err)) < 0)
    return ret;
  _cleanup_json_ json_t *keep = json_object ();
  for (size_t i = 0; i < n; i++)
    {
      mark_image (s, &recs[i], keep);
      image_record_clear (&recs[i]);
    }
  free (recs);
  mark_snapshots (s, keep);

  memset (st, 0, sizeof *st);
  _cleanup_free_ char *blobs = xasprintf ("%s/blobs/sha256", s->root);
  _cleanup_free_ char *layers = xasprintf ("%s/layers/sha256", s->root);
  _cleanup_free_ char *ids = xasprintf ("%s/layers/diffid", s->root);
  _cleanup_free_ char *ltmp = xasprintf ("%s/layers/tmp", s->root);
  _cleanup_free_ char *tmp = xasprintf ("%s/tmp", s->root);
  size_t junk = 0;
  if ((ret = sweep (blobs, keep, &st->blobs_removed, &st->bytes_freed, err)) < 0
      || (ret = sweep (layers, keep, &st->layers_removed, &st->bytes_freed, err)) < 0
      || (ret = sweep (ids, keep, &junk, &st->bytes_freed, err)) < 0
      || (ret = sweep (ltmp, NULL, &junk, &st->bytes_freed, err)) < 0
      || (ret = sweep (tmp, NULL, &junk, &st->bytes_freed, err)) < 0)
    return ret;
  sweep_locks (s);
  return 0;
}
