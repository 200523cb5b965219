/* OCI image manifests and indexes, Docker schema2 manifests and manifest lists;
   platform selection. */
#include "config.h"

#include <errno.h>
#include <sys/utsname.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/image/image-internal.h"

void
image_platform_host (image_platform *p)
{
  struct utsname u;
  p->os = "linux";
  p->architecture = "amd64";
  p->variant = NULL;
  if (uname (&u) < 0)
    return;
  static const struct
  {
    const char *machine, *arch, *variant;
  } map[] = {
    { "x86_64", "amd64", NULL },    { "aarch64", "arm64", "v8" }, { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },      { "i686", "386", NULL },      { "i386", "386", NULL },
    { "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL },   { "riscv64", "riscv64", NULL },
  };
  for (size_t i = 0; i < ARRAY_SIZE (map); i++)
    if (streq (u.machine, map[i].machine))
      {
        p->architecture = map[i].arch;
        p->variant = map[i].variant;
        return;
      }
}

int
image_platform_parse (char *s, image_platform *p, husk_error **err)
{
  char *arch = strchr (s, '/');
  if (!arch || !arch[1] || arch == s)
    return husk_err (err, EINVAL, "invalid platform '%s' (want os/arch[/variant])", s);
  *arch++ = '\0';
  char *variant = strchr (arch, '/');
  if (variant)
    *variant++ = '\0';
  p->os = s;
  p->architecture = arch;
  p->variant = variant && *variant ? variant : NULL;
  return 0;
}

void
image_desc_clear (image_desc *d)
{
  free (d->media_type);
  free (d->digest);
  d->media_type = d->digest = NULL;
  d->size = 0;
}

void
image_manifest_free (image_manifest *m)
{
  if (!m)
    return;
  free (m->media_type);
  image_desc_clear (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    image_desc_clear (&m->layers[i]);
  free (m->layers);
  free (m);
}

bool
image_manifest_is_index (const char *media_type, json_t *doc)
{
  const char *mt = json_string_value (json_object_get (doc, "mediaType"));
  if (!mt)
    mt = media_type;
  if (mt && (streq (mt, IMAGE_MT_OCI_INDEX) || streq (mt, IMAGE_MT_DOCKER_LIST)))
    return true;
  if (mt && (streq (mt, IMAGE_MT_OCI_MANIFEST) || streq (mt, IMAGE_MT_DOCKER_MANIFEST)))
    return false;
  return json_is_array (json_object_get (doc, "manifests"));
}

bool
image_layer_media_supported (const char *mt)
{
  static const char *const ok[] = {
    IMAGE_MT_OCI_LAYER,
    IMAGE_MT_OCI_LAYER_GZIP,
    IMAGE_MT_OCI_LAYER_ZSTD,
    IMAGE_MT_DOCKER_LAYER,
    IMAGE_MT_DOCKER_LAYER_TAR,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    if (streq (mt, ok[i]))
      return true;
  return false;
}

/* husk_json_type_name for possibly absent members */
static const char *
type_of (const json_t *j)
{
  return j ? husk_json_type_name (j) : "nothing";
}

int
image_desc_parse (json_t *obj, const char *where, image_desc *d, husk_error **err)
{
  const char *mt = NULL, *digest = NULL;
  json_int_t size = -1;
  int ret;
  if (!json_is_object (obj))
    return husk_err (err, EINVAL, "%s: expected object, got %s", where, type_of (obj));
  if ((ret = husk_json_get_str (obj, "mediaType", where, &mt, err)) < 0
      || (ret = husk_json_get_str (obj, "digest", where, &digest, err)) < 0
      || (ret = husk_json_get_int (obj, "size", where, &size, err)) < 0)
    return ret;
  if (!digest)
    return husk_err (err, EINVAL, "%s.digest: missing", where);
  if (image_digest_check (digest, err) < 0)
    return husk_err_wrap (err, "%s.digest", where);
  if (size < 0)
    return husk_err (err, EINVAL, "%s.size: missing or negative", where);
  d->media_type = xstrdup (mt ? mt : "");
  d->digest = xstrdup (digest);
  d->size = size;
  return 0;
}

int
image_manifest_parse (json_t *doc, const char *media_type, image_manifest **out, husk_error **err)
{
  int ret;
  if (!json_is_object (doc))
    return husk_err (err, EINVAL, "manifest: expected object, got %s", type_of (doc));
  json_int_t schema = 0;
  if ((ret = husk_json_get_int (doc, "schemaVersion", "manifest", &schema, err)) < 0)
    return ret;
  if (schema != 2)
    return husk_err (err, EINVAL, "manifest: schemaVersion %lld not supported (want 2)",
                     (long long)schema);
  const char *mt = json_string_value (json_object_get (doc, "mediaType"));
  if (!mt)
    mt = media_type && *media_type ? media_type : IMAGE_MT_OCI_MANIFEST;
  if (!streq (mt, IMAGE_MT_OCI_MANIFEST) && !streq (mt, IMAGE_MT_DOCKER_MANIFEST))
    return husk_err (err, EINVAL, "manifest: media type '%s' is not an image manifest", mt);

  _cleanup_ (image_manifest_freep) image_manifest *m = xzalloc (sizeof *m);
  m->media_type = xstrdup (mt);
  json_t *config = NULL, *layers = NULL;
  if ((ret = husk_json_get_obj (doc, "config", "manifest", &config, err)) < 0
      || (ret = husk_json_get_arr (doc, "layers", "manifest", &layers, err)) < 0)
    return ret;
  if (!config)
    return husk_err (err, EINVAL, "manifest.config: missing");
  if (!layers)
    return husk_err (err, EINVAL, "manifest.layers: missing");
  if ((ret = image_desc_parse (config, "manifest.config", &m->config, err)) < 0)
    return ret;
  m->layers = xcalloc (json_array_size (layers) + 1, sizeof *m->layers);
  for (size_t i = 0; i < json_array_size (layers); i++)
    {
      _cleanup_free_ char *where = xasprintf ("manifest.layers.%zu", i);
      if ((ret = image_desc_parse (json_array_get (layers, i), where, &m->layers[i], err)) < 0)
        return ret;
      m->n_layers++;
      if (!image_layer_media_supported (m->layers[i].media_type))
        return husk_err (err, ENOTSUP, "%s: layer media type '%s' not supported", where,
                         m->layers[i].media_type);
    }
  *out = TAKE_PTR (m);
  return 0;
}

/* Variant matching as containerd: arm64 "v8" equals no variant. */
static bool
variant_matches (const char *want, const char *have, const char *arch)
{
  if (!want || !*want)
    return true;
  if (!have || !*have)
    return streq (arch, "arm64") && streq (want, "v8");
  return streq (want, have);
}

int
image_index_select (json_t *index, const image_platform *p, image_desc *out, husk_error **err)
{
  json_t *manifests = json_object_get (index, "manifests");
  if (!json_is_array (manifests))
    return husk_err (err, EINVAL, "index.manifests: expected array, got %s", type_of (manifests));
  _cleanup_buf_ husk_buf seen = HUSK_BUF_INIT;
  int ret;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < json_array_size (manifests); i++)
      {
        json_t *m = json_array_get (manifests, i);
        json_t *plat = json_object_get (m, "platform");
        const char *os = json_string_value (json_object_get (plat, "os"));
        const char *arch = json_string_value (json_object_get (plat, "architecture"));
        const char *variant = json_string_value (json_object_get (plat, "variant"));
        if (!os || !arch)
          continue;
        if (pass == 0)
          husk_buf_printf (&seen, "%s%s/%s%s%s", seen.len ? ", " : "", os, arch, variant ? "/" : "",
                           variant ? variant : "");
        /* pass 0: exact variant; pass 1: a variant-less entry for a variant request */
        bool vm
            = pass == 0 ? variant_matches (p->variant, variant, arch) : (!variant && p->variant);
        if (!streq (os, p->os) || !streq (arch, p->architecture) || !vm)
          continue;
        _cleanup_free_ char *where = xasprintf ("index.manifests.%zu", i);
        if ((ret = image_desc_parse (m, where, out, err)) < 0)
          return ret;
        return 0;
      }
  return husk_err (err, ENOENT, "no manifest for platform %s/%s%s%s (image offers: %s)", p->os,
                   p->architecture, p->variant ? "/" : "", p->variant ? p->variant : "",
                   seen.len ? husk_buf_str (&seen) : "none");
}

int
image_config_diff_ids (json_t *config, size_t n_layers, char ***out, husk_error **err)
{
  json_t *rootfs = json_object_get (config, "rootfs");
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    return husk_err (err, EINVAL, "config rootfs.diff_ids: expected array, got %s", type_of (ids));
  if (json_array_size (ids) != n_layers)
    return husk_err (err, EINVAL,
                     "config rootfs.diff_ids: %zu entries for %zu layers (one per layer expected)",
                     json_array_size (ids), n_layers);
  _cleanup_strv_ char **v = xcalloc (n_layers + 1, sizeof *v);
  for (size_t i = 0; i < n_layers; i++)
    {
      const char *d = json_string_value (json_array_get (ids, i));
      if (!d || !image_digest_valid (d))
        return husk_err (err, EINVAL,
                         "config rootfs.diff_ids.%zu: expected a sha256 digest, got %s", i,
                         d ? d : type_of (json_array_get (ids, i)));
      v[i] = xstrdup (d);
    }
  *out = TAKE_PTR (v);
  return 0;
}
