/* Import and export for air-gapped hosts: OCI image layout directories and tarballs,
   and `docker save` tarballs. Every blob is verified against its digest on the way in. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/path.h"
#include "src/node/image/image-internal.h"

/* Where the archive's files are: a directory, or a tarball streamed once into the store. */
typedef struct source
{
  image_store *s;
  const char *origin; /* the path given, for messages */
  const char *dir;    /* directory source, or NULL */
  json_t *files;      /* tar source: path -> digest of the stored file */
  json_t *links;      /* tar source: symlink path -> target path */
  char *index_json, *manifest_json;
  size_t index_len, manifest_len;
} source;

static void
source_clear (source *src)
{
  json_decref (src->files);
  json_decref (src->links);
  free (src->index_json);
  free (src->manifest_json);
}

/* Streams fd into a temp file of the store while hashing. */
static int
store_stream (image_store *s, struct archive *a, int in_fd, char digest[IMAGE_DIGEST_LEN + 1],
              char **tmp_out, uint64_t *size, husk_error **err)
{
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = image_store_tmpfile (s, &tmp, err);
  if (fd < 0)
    return fd;
  image_hasher h;
  image_hasher_init (&h);
  _cleanup_free_ char *buf = xmalloc (1 << 20);
  for (;;)
    {
      ssize_t n = a ? archive_read_data (a, buf, 1 << 20) : read (in_fd, buf, 1 << 20);
      if (n < 0 && !a && errno == EINTR)
        continue;
      if (n < 0)
        {
          unlink (tmp);
          return a ? husk_err (err, EIO, "read: %s", archive_error_string (a))
                   : husk_err_errno (err, "read");
        }
      if (n == 0)
        break;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (fd, buf + off, n - off);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            {
              int e = errno;
              unlink (tmp);
              return husk_err_sys (err, e, "write %s", tmp);
            }
          off += w;
        }
      image_hasher_update (&h, buf, n);
    }
  image_hasher_digest (&h, digest);
  *size = h.size;
  *tmp_out = TAKE_PTR (tmp);
  return 0;
}

/* Stores the stream; when its name is blobs/sha256/<hex> the content must hash to it. */
static int
store_entry (source *src, struct archive *a, int fd, const char *name,
             char digest[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  _cleanup_free_ char *tmp = NULL;
  uint64_t size = 0;
  int ret = store_stream (src->s, a, fd, digest, &tmp, &size, err);
  if (ret < 0)
    return husk_err_wrap (err, "%s: %s", src->origin, name);
  if (strncmp (name, "blobs/sha256/", 13) == 0 && !streq (name + 13, digest + 7))
    {
      unlink (tmp);
      return husk_err (err, EBADMSG, "%s: blob sha256:%s: digest mismatch: content hashes to %s",
                       src->origin, name + 13, digest);
    }
  if (image_store_has_blob (src->s, digest))
    {
      unlink (tmp);
      return 0;
    }
  return image_store_commit_verified (src->s, tmp, digest, err);
}

static char *
clean_path (const char *p)
{
  if (!p)
    p = "";
  while (p[0] == '.' && p[1] == '/')
    p += 2;
  return husk_path_normalize (p[0] == '/' ? p + 1 : p);
}

static int
read_small (struct archive *a, const char *name, char **out, size_t *len, husk_error **err)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  char buf[65536];
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, sizeof buf);
      if (n < 0)
        return husk_err (err, EIO, "%s: %s", name, archive_error_string (a));
      if (n == 0)
        break;
      if (b.len + n > IMAGE_MANIFEST_MAX)
        return husk_err (err, EFBIG, "%s: larger than %d bytes", name, IMAGE_MANIFEST_MAX);
      husk_buf_append (&b, buf, n);
    }
  *len = b.len;
  *out = husk_buf_steal (&b);
  return 0;
}

static int
source_read_tar (source *src, const char *path, husk_error **err)
{
  struct archive *a = archive_read_new ();
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  archive_read_support_filter_xz (a);
  archive_read_support_filter_none (a);
  archive_read_support_format_tar (a);
  src->files = json_object ();
  src->links = json_object ();
  int ret = 0;
  if (archive_read_open_filename (a, path, 1 << 17) != ARCHIVE_OK)
    ret = husk_err (err, EIO, "%s: %s", path, archive_error_string (a));
  struct archive_entry *e;
  while (ret == 0)
    {
      int r = archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          ret = husk_err (err, EIO, "%s: %s", path, archive_error_string (a));
          break;
        }
      _cleanup_free_ char *name = clean_path (archive_entry_pathname (e));
      if (archive_entry_filetype (e) == AE_IFLNK)
        {
          const char *t = archive_entry_symlink (e);
          if (!t)
            continue;
          _cleanup_free_ char *dirn = xstrdup (name);
          char *sl = strrchr (dirn, '/');
          _cleanup_free_ char *joined = t[0] == '/' ? xstrdup (t)
                                        : sl        ? (sl[0] = '\0', xasprintf ("%s/%s", dirn, t))
                                                    : xstrdup (t);
          _cleanup_free_ char *target = clean_path (joined);
          json_object_set_new (src->links, name, json_string (target));
          continue;
        }
      if (archive_entry_filetype (e) != AE_IFREG)
        continue;
      if (streq (name, "index.json"))
        ret = read_small (a, name, &src->index_json, &src->index_len, err);
      else if (streq (name, "manifest.json"))
        ret = read_small (a, name, &src->manifest_json, &src->manifest_len, err);
      else if (streq (name, "oci-layout") || streq (name, "repositories"))
        continue;
      else
        {
          char digest[IMAGE_DIGEST_LEN + 1];
          ret = store_entry (src, a, -1, name, digest, err);
          if (ret == 0)
            json_object_set_new (src->files, name, json_string (digest));
        }
    }
  archive_read_free (a);
  return ret;
}

/* Makes the file at name (relative to the archive root) a verified blob: want (optional)
   and size (< 0: any) must match. */
static int
source_blob (source *src, const char *name, const char *want, int64_t want_size,
             char digest[IMAGE_DIGEST_LEN + 1], husk_error **err)
{
  _cleanup_free_ char *rel = clean_path (name);
  if (strncmp (rel, "../", 3) == 0 || streq (rel, ".."))
    return husk_err (err, EPERM, "%s: '%s' points outside the archive", src->origin, name);
  int ret;
  if (src->dir)
    {
      _cleanup_free_ char *p = xasprintf ("%s/%s", src->dir, rel);
      _cleanup_close_ int fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return husk_err_errno (err, "%s: %s", src->origin, rel);
      if ((ret = store_entry (src, NULL, fd, rel, digest, err)) < 0)
        return ret;
    }
  else
    {
      const char *d = NULL;
      for (int hops = 0; hops < 8 && !d; hops++)
        {
          d = json_string_value (json_object_get (src->files, rel));
          const char *l = json_string_value (json_object_get (src->links, rel));
          if (!d && !l)
            break;
          if (!d)
            {
              free (rel);
              rel = xstrdup (l);
            }
        }
      if (!d)
        return husk_err (err, ENOENT, "%s: %s missing from the archive", src->origin, name);
      memcpy (digest, d, IMAGE_DIGEST_LEN + 1);
    }
  if (want && !streq (want, digest))
    return husk_err (err, EBADMSG, "%s: blob %s: digest mismatch: content hashes to %s",
                     src->origin, want, digest);
  if (want_size >= 0)
    {
      _cleanup_free_ char *bp = image_store_blob_path (src->s, digest);
      struct stat st;
      if (stat (bp, &st) < 0 || st.st_size != want_size)
        return husk_err (err, EBADMSG, "%s: blob %s: size mismatch: got %lld bytes, want %lld",
                         src->origin, digest, (long long)st.st_size, (long long)want_size);
    }
  return 0;
}

static int
source_desc (source *src, const image_desc *d, husk_error **err)
{
  char digest[IMAGE_DIGEST_LEN + 1];
  _cleanup_free_ char *name = xasprintf ("blobs/sha256/%s", d->digest + 7);
  return source_blob (src, name, d->digest, d->size, digest, err);
}

static int
load_doc (image_store *s, const char *digest, json_t **out, husk_error **err)
{
  return image_store_load_json (s, digest, out, err);
}

/* Stores config and layers of manifest digest and unpacks the layers. */
static int
import_manifest (source *src, const char *digest, husk_error **err)
{
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  int ret = image_store_load_manifest (src->s, digest, &m, err);
  if (ret < 0)
    return ret;
  /* blobs already in the store were verified when they entered it */
  if (!image_store_has_blob (src->s, m->config.digest)
      && (ret = source_desc (src, &m->config, err)) < 0)
    return husk_err_wrap (err, "config");
  _cleanup_strv_ char **ids = NULL;
  if ((ret = image_store_diff_ids (src->s, m, &ids, err)) < 0)
    return ret;
  for (size_t i = 0; i < m->n_layers; i++)
    {
      _cleanup_free_ char *dir = NULL;
      if ((!image_store_has_blob (src->s, m->layers[i].digest)
           && (ret = source_desc (src, &m->layers[i], err)) < 0)
          || (ret = image_store_ensure_layer (src->s, &m->layers[i], ids[i], &dir, err)) < 0)
        return ret;
    }
  return 0;
}

/* The reference to store an OCI index entry under. */
static int
entry_name (json_t *ann, const char *name, size_t n_entries, char **out, husk_error **err)
{
  const char *full = json_string_value (json_object_get (ann, "io.containerd.image.name"));
  const char *rn = json_string_value (json_object_get (ann, "org.opencontainers.image.ref.name"));
  const char *pick = name && n_entries == 1 ? name : full;
  if (!pick && rn && strpbrk (rn, "/:@"))
    pick = rn;
  if (!pick && name && rn)
    {
      /* NAME with the archive's tag */
      _cleanup_ (image_ref_freep) image_ref *r = NULL;
      if (image_ref_parse (name, &r, err) < 0)
        return -1;
      _cleanup_free_ char *repo = image_ref_repo (r);
      *out = xasprintf ("%s:%s", repo, rn);
      return 0;
    }
  if (!pick)
    return husk_err (err, EINVAL, "image has %s%s%s; give a name with --name REF",
                     rn ? "only the tag '" : "no name", rn ? rn : "", rn ? "'" : "");
  _cleanup_ (image_ref_freep) image_ref *r = NULL;
  if (image_ref_parse (pick, &r, err) < 0)
    return -1;
  *out = xstrdup (r->full);
  return 0;
}

static int
import_oci (source *src, const char *name, const image_platform *plat, char ***refs_out,
            husk_error **err)
{
  _cleanup_json_ json_t *index = NULL;
  int ret = husk_json_parse (src->index_json, src->index_len, &index, err);
  if (ret < 0)
    return husk_err_wrap (err, "%s: index.json", src->origin);
  json_t *mans = json_object_get (index, "manifests");
  if (!json_is_array (mans) || json_array_size (mans) == 0)
    return husk_err (err, EINVAL, "%s: index.json lists no manifests", src->origin);
  size_t n = json_array_size (mans);
  char **refs = xcalloc (n + 1, sizeof *refs);
  size_t nr = 0;
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      json_t *ent = json_array_get (mans, i);
      image_desc d = { 0 };
      char top[IMAGE_DIGEST_LEN + 1], man[IMAGE_DIGEST_LEN + 1];
      _cleanup_free_ char *ref = NULL;
      _cleanup_json_ json_t *doc = NULL;
      _cleanup_free_ char *where = xasprintf ("%s: index.json.manifests.%zu", src->origin, i);
      ret = entry_name (json_object_get (ent, "annotations"), name, n, &ref, err);
      if (ret == 0)
        ret = image_desc_parse (ent, where, &d, err);
      if (ret == 0)
        ret = source_desc (src, &d, err);
      if (ret == 0)
        ret = load_doc (src->s, d.digest, &doc, err);
      if (ret == 0)
        {
          memcpy (top, d.digest, sizeof top);
          memcpy (man, d.digest, sizeof man);
        }
      if (ret == 0 && image_manifest_is_index (d.media_type, doc))
        {
          image_desc pd = { 0 };
          ret = image_index_select (doc, plat, &pd, err);
          if (ret == 0)
            ret = source_desc (src, &pd, err);
          if (ret == 0)
            memcpy (man, pd.digest, sizeof man);
          image_desc_clear (&pd);
        }
      if (ret == 0)
        ret = import_manifest (src, man, err);
      if (ret == 0)
        ret = image_store_set_ref (src->s, ref, top, man, err);
      if (ret == 0)
        refs[nr++] = TAKE_PTR (ref);
      image_desc_clear (&d);
    }
  if (ret < 0)
    {
      strv_free (refs);
      return ret;
    }
  *refs_out = refs;
  return 0;
}

static const char *
sniff_layer_type (image_store *s, const char *digest)
{
  _cleanup_free_ char *p = image_store_blob_path (s, digest);
  _cleanup_close_ int fd = open (p, O_RDONLY | O_CLOEXEC);
  unsigned char m[4] = { 0 };
  if (fd < 0 || read (fd, m, 4) != 4)
    return IMAGE_MT_DOCKER_LAYER_TAR;
  if (m[0] == 0x1f && m[1] == 0x8b)
    return IMAGE_MT_DOCKER_LAYER;
  if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    return IMAGE_MT_OCI_LAYER_ZSTD;
  return IMAGE_MT_DOCKER_LAYER_TAR;
}

static int64_t
blob_size (image_store *s, const char *digest)
{
  _cleanup_free_ char *p = image_store_blob_path (s, digest);
  struct stat st;
  return stat (p, &st) == 0 ? st.st_size : -1;
}

/* One entry of docker's manifest.json: store a schema2 manifest made from it. */
static int
import_docker_entry (source *src, json_t *ent, size_t idx, const char *name, size_t n_entries,
                     char ***refs, size_t *nr, husk_error **err)
{
  _cleanup_free_ char *where = xasprintf ("%s: manifest.json.%zu", src->origin, idx);
  const char *cfg = json_string_value (json_object_get (ent, "Config"));
  json_t *layers = json_object_get (ent, "Layers");
  if (!cfg || !json_is_array (layers))
    return husk_err (err, EINVAL, "%s: needs Config and Layers", where);
  char cdg[IMAGE_DIGEST_LEN + 1];
  int ret = source_blob (src, cfg, NULL, -1, cdg, err);
  if (ret < 0)
    return ret;
  json_t *jl = json_array ();
  _cleanup_json_ json_t *man
      = json_pack ("{s:i, s:s, s:{s:s, s:I, s:s}, s:o}", "schemaVersion", 2, "mediaType",
                   IMAGE_MT_DOCKER_MANIFEST, "config", "mediaType", IMAGE_MT_DOCKER_CONFIG, "size",
                   (json_int_t)blob_size (src->s, cdg), "digest", cdg, "layers", jl);
  size_t i;
  json_t *l;
  json_array_foreach (layers, i, l)
  {
    char ldg[IMAGE_DIGEST_LEN + 1];
    if (!json_is_string (l))
      return husk_err (err, EINVAL, "%s.Layers.%zu: expected string", where, i);
    if ((ret = source_blob (src, json_string_value (l), NULL, -1, ldg, err)) < 0)
      return ret;
    json_array_append_new (jl, json_pack ("{s:s, s:I, s:s}", "mediaType",
                                          sniff_layer_type (src->s, ldg), "size",
                                          (json_int_t)blob_size (src->s, ldg), "digest", ldg));
  }
  _cleanup_free_ char *text = husk_json_dump (man);
  char mdg[IMAGE_DIGEST_LEN + 1];
  if ((ret = image_store_put_blob (src->s, text, strlen (text), NULL, -1, mdg, err)) < 0
      || (ret = import_manifest (src, mdg, err)) < 0)
    return ret;
  json_t *tags = json_object_get (ent, "RepoTags");
  size_t k;
  json_t *t;
  bool named = false;
  if (name && n_entries == 1)
    tags = NULL;
  json_array_foreach (tags, k, t)
  {
    _cleanup_ (image_ref_freep) image_ref *r = NULL;
    if (!json_is_string (t) || image_ref_parse (json_string_value (t), &r, err) < 0)
      return husk_err_wrap (err, "%s.RepoTags.%zu", where, k);
    if ((ret = image_store_set_ref (src->s, r->full, mdg, mdg, err)) < 0)
      return ret;
    *refs = xreallocarray (*refs, *nr + 2, sizeof **refs);
    (*refs)[(*nr)++] = xstrdup (r->full);
    (*refs)[*nr] = NULL;
    named = true;
  }
  if (named)
    return 0;
  if (!name)
    return husk_err (err, EINVAL, "%s: image has no RepoTags; give a name with --name REF", where);
  _cleanup_ (image_ref_freep) image_ref *r = NULL;
  if (image_ref_parse (name, &r, err) < 0
      || (ret = image_store_set_ref (src->s, r->full, mdg, mdg, err)) < 0)
    return -1;
  *refs = xreallocarray (*refs, *nr + 2, sizeof **refs);
  (*refs)[(*nr)++] = xstrdup (r->full);
  (*refs)[*nr] = NULL;
  return 0;
}

static int
import_docker (source *src, const char *name, char ***refs_out, husk_error **err)
{
  _cleanup_json_ json_t *mj = NULL;
  int ret = husk_json_parse (src->manifest_json, src->manifest_len, &mj, err);
  if (ret < 0)
    return husk_err_wrap (err, "%s: manifest.json", src->origin);
  if (!json_is_array (mj) || json_array_size (mj) == 0)
    return husk_err (err, EINVAL, "%s: manifest.json: expected a non-empty array", src->origin);
  char **refs = xcalloc (1, sizeof *refs);
  size_t nr = 0;
  size_t i;
  json_t *ent;
  json_array_foreach (mj, i, ent)
  {
    if ((ret = import_docker_entry (src, ent, i, name, json_array_size (mj), &refs, &nr, err)) < 0)
      {
        strv_free (refs);
        return ret;
      }
  }
  *refs_out = refs;
  return 0;
}

static int
read_dir_file (const char *dir, const char *name, char **out, size_t *len)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  if (access (p, F_OK) < 0)
    return 0;
  return husk_read_file (p, out, len, NULL);
}

int
image_import (image_store *s, const char *path, const char *name, const image_platform *platform,
              char ***refs_out, husk_error **err)
{
  _cleanup_close_ int gfd = -1;
  int ret = image_store_lock_gc (s, false, &gfd, err);
  if (ret < 0)
    return ret;
  image_platform host;
  if (!platform)
    {
      image_platform_host (&host);
      platform = &host;
    }
  source src = { .s = s, .origin = path };
  struct stat st;
  if (stat (path, &st) < 0)
    return husk_err_errno (err, "import %s", path);
  if (S_ISDIR (st.st_mode))
    {
      src.dir = path;
      if (read_dir_file (path, "index.json", &src.index_json, &src.index_len) < 0
          || read_dir_file (path, "manifest.json", &src.manifest_json, &src.manifest_len) < 0)
        ret = husk_err (err, EIO, "import %s: cannot read index.json or manifest.json", path);
    }
  else if ((ret = source_read_tar (&src, path, err)) < 0 && err && *err && (*err)->errnum == EIO)
    husk_err_wrap (err, "import (expected an OCI layout or a docker save tarball)");
  if (ret == 0)
    {
      /* docker >= 25 writes both; the OCI index names images fully */
      if (src.index_json)
        ret = import_oci (&src, name, platform, refs_out, err);
      else if (src.manifest_json)
        ret = import_docker (&src, name, refs_out, err);
      else
        ret = husk_err (err, EINVAL,
                        "import %s: neither an OCI layout (index.json) nor a docker save archive "
                        "(manifest.json)",
                        path);
    }
  source_clear (&src);
  return ret;
}

int
image_import_dir (image_store *s, const char *dir, const image_platform *platform, char ***refs_out,
                  husk_error **err)
{
  DIR *d = opendir (dir);
  if (!d)
    return errno == ENOENT ? 0 : husk_err_errno (err, "import dir %s", dir);
  char **all = xcalloc (1, sizeof *all);
  size_t n_all = 0;
  struct dirent *de;
  int first = 0;
  while ((de = readdir (d)))
    {
      if (de->d_name[0] == '.')
        continue;
      _cleanup_free_ char *p = xasprintf ("%s/%s", dir, de->d_name);
      char **refs = NULL;
      husk_error *e = NULL;
      int ret = image_import (s, p, NULL, platform, &refs, &e);
      for (char **r = refs; r && *r; r++)
        {
          all = xreallocarray (all, n_all + 2, sizeof *all);
          all[n_all++] = TAKE_PTR (*r);
          all[n_all] = NULL;
        }
      strv_free (refs);
      if (ret < 0 && !first)
        {
          first = ret;
          if (err)
            husk_error_move (err, &e);
        }
      husk_error_free (e);
    }
  closedir (d);
  if (refs_out)
    *refs_out = all;
  else
    strv_free (all);
  return first;
}

/* ---- export ---- */

typedef struct sink
{
  struct archive *a; /* tar, or NULL for a directory */
  const char *dir;
} sink;

static int
sink_file (sink *k, const char *name, const char *src_path, const void *data, size_t len,
           husk_error **err)
{
  if (k->dir)
    {
      _cleanup_free_ char *p = xasprintf ("%s/%s", k->dir, name);
      _cleanup_free_ char *parent = xstrdup (p);
      *strrchr (parent, '/') = '\0';
      if (husk_mkdir_p (parent, 0755, err) < 0)
        return -1;
      if (data)
        return husk_write_file_atomic (p, data, len, 0644, err);
      if (access (p, F_OK) == 0)
        return 0;
      if (link (src_path, p) == 0)
        return 0;
      char *content = NULL;
      size_t clen = 0;
      if (husk_read_file (src_path, &content, &clen, err) < 0)
        return -1;
      int ret = husk_write_file_atomic (p, content, clen, 0644, err);
      free (content);
      return ret;
    }
  struct stat st = { 0 };
  _cleanup_close_ int fd = -1;
  if (!data)
    {
      fd = open (src_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || fstat (fd, &st) < 0)
        return husk_err_errno (err, "export: open %s", src_path);
      len = st.st_size;
    }
  struct archive_entry *e = archive_entry_new ();
  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, len);
  int r = archive_write_header (k->a, e);
  archive_entry_free (e);
  if (r < ARCHIVE_WARN)
    return husk_err (err, EIO, "export %s: %s", name, archive_error_string (k->a));
  if (data)
    {
      if (archive_write_data (k->a, data, len) < 0)
        return husk_err (err, EIO, "export %s: %s", name, archive_error_string (k->a));
      return 0;
    }
  _cleanup_free_ char *buf = xmalloc (1 << 20);
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "export: read %s", src_path);
      if (n == 0)
        break;
      if (archive_write_data (k->a, buf, n) < 0)
        return husk_err (err, EIO, "export %s: %s", name, archive_error_string (k->a));
    }
  return 0;
}

static int
sink_blob (sink *k, image_store *s, const char *digest, husk_error **err)
{
  _cleanup_free_ char *name = xasprintf ("blobs/sha256/%s", digest + 7);
  _cleanup_free_ char *p = image_store_blob_path (s, digest);
  return sink_file (k, name, p, NULL, 0, err);
}

/* docker's short form: docker.io/library/busybox:latest -> busybox:latest */
static char *
familiar (const image_ref *r)
{
  if (!r->tag)
    return NULL;
  const char *path = r->path;
  if (streq (r->domain, "docker.io"))
    {
      if (strncmp (path, "library/", 8) == 0)
        path += 8;
      return xasprintf ("%s:%s", path, r->tag);
    }
  return xasprintf ("%s/%s:%s", r->domain, path, r->tag);
}

static int
export_to (sink *k, image_store *s, const image_record *rec, husk_error **err)
{
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  int ret = image_store_load_manifest (s, rec->manifest, &m, err);
  if (ret < 0)
    return ret;
  _cleanup_ (image_ref_freep) image_ref *r = NULL;
  image_ref_parse (rec->ref, &r, NULL);
  const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
  if ((ret = sink_file (k, "oci-layout", NULL, layout, strlen (layout), err)) < 0
      || (ret = sink_blob (k, s, rec->manifest, err)) < 0
      || (ret = sink_blob (k, s, m->config.digest, err)) < 0)
    return ret;
  json_t *layers = json_array ();
  for (size_t i = 0; i < m->n_layers; i++)
    {
      json_array_append_new (layers, json_sprintf ("blobs/sha256/%s", m->layers[i].digest + 7));
      if ((ret = sink_blob (k, s, m->layers[i].digest, err)) < 0)
        {
          json_decref (layers);
          return ret;
        }
    }
  json_t *ann = json_pack ("{s:s}", "io.containerd.image.name", rec->ref);
  if (r && r->tag)
    json_object_set_new (ann, "org.opencontainers.image.ref.name", json_string (r->tag));
  _cleanup_json_ json_t *index = json_pack (
      "{s:i, s:s, s:[{s:s, s:s, s:I, s:o}]}", "schemaVersion", 2, "mediaType", IMAGE_MT_OCI_INDEX,
      "manifests", "mediaType", m->media_type, "digest", rec->manifest, "size",
      (json_int_t)blob_size (s, rec->manifest), "annotations", ann);
  _cleanup_free_ char *fam = r ? familiar (r) : NULL;
  _cleanup_json_ json_t *dm
      = json_pack ("[{s:s+, s:o, s:o}]", "Config", "blobs/sha256/", m->config.digest + 7,
                   "RepoTags", fam ? json_pack ("[s]", fam) : json_array (), "Layers", layers);
  _cleanup_free_ char *it = husk_json_dump (index);
  _cleanup_free_ char *mt = husk_json_dump (dm);
  if ((ret = sink_file (k, "index.json", NULL, it, strlen (it), err)) < 0
      || (ret = sink_file (k, "manifest.json", NULL, mt, strlen (mt), err)) < 0)
    return ret;
  return 0;
}

int
image_export (image_store *s, const char *name, const char *path, husk_error **err)
{
  image_record rec = { 0 };
  int ret = image_store_get (s, name, &rec, err);
  if (ret < 0)
    return ret;
  struct stat st;
  sink k = { 0 };
  _cleanup_free_ char *tmp = NULL;
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    {
      k.dir = path;
      ret = export_to (&k, s, &rec, err);
    }
  else
    {
      tmp = xasprintf ("%s.tmp-husk", path);
      k.a = archive_write_new ();
      archive_write_set_format_pax_restricted (k.a);
      if (archive_write_open_filename (k.a, tmp) != ARCHIVE_OK)
        ret = husk_err (err, EIO, "export %s: %s", path, archive_error_string (k.a));
      else
        ret = export_to (&k, s, &rec, err);
      if (archive_write_close (k.a) != ARCHIVE_OK && ret == 0)
        ret = husk_err (err, EIO, "export %s: %s", path, archive_error_string (k.a));
      archive_write_free (k.a);
      if (ret == 0 && rename (tmp, path) < 0)
        ret = husk_err_errno (err, "export: rename to %s", path);
      if (ret < 0)
        unlink (tmp);
    }
  image_record_clear (&rec);
  return ret;
}
