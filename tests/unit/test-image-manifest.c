/* Manifests, indexes and platform selection; registry credentials and auth challenges. */
#include "config.h"

#include "lib/json.h"
#include "src/node/image/image-internal.h"
#include "tests/unit/tap.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static json_t *
parse (const char *s)
{
  json_t *j = NULL;
  husk_json_parse (s, strlen (s), &j, NULL);
  return j;
}

static void
test_manifest (void)
{
  json_t *doc
      = parse ("{\"schemaVersion\":2,\"mediaType\":\"" IMAGE_MT_DOCKER_MANIFEST "\","
               "\"config\":{\"mediaType\":\"" IMAGE_MT_DOCKER_CONFIG "\",\"size\":7,"
               "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":\"" IMAGE_MT_DOCKER_LAYER
               "\",\"size\":100,\"digest\":\"" D2 "\"},{\"mediaType\":\"" IMAGE_MT_OCI_LAYER_ZSTD
               "\",\"size\":5,\"digest\":\"" D3 "\"}]}");
  image_manifest *m = NULL;
  husk_error *err = NULL;
  ok (!image_manifest_is_index (NULL, doc), "manifest is not an index");
  ok (image_manifest_parse (doc, NULL, &m, &err) == 0, "docker schema2 manifest parses");
  if (m)
    {
      is_str (m->config.digest, D1, "config digest");
      is_int (m->config.size, 7, "config size");
      is_int (m->n_layers, 2, "two layers");
      is_str (m->layers[1].digest, D3, "layer digest");
      is_str (m->layers[1].media_type, IMAGE_MT_OCI_LAYER_ZSTD, "layer media type");
    }
  image_manifest_free (m);
  json_decref (doc);

  static const struct
  {
    const char *json, *want;
  } bad[] = {
    { "{\"schemaVersion\":1}", "schemaVersion 1 not supported" },
    { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1
      "\",\"size\":1},\"layers\":[{\"digest\":\"sha256:12\",\"size\":1}]}",
      "manifest.layers.0.digest" },
    { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1
      "\",\"size\":1},\"layers\":[{\"digest\":\"" D2 "\"}]}",
      "manifest.layers.0.size: missing" },
    { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":{}}",
      "manifest.layers: expected array" },
    { "{\"schemaVersion\":2,\"layers\":[]}", "manifest.config: missing" },
    { "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1
      "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/x-foo\",\"digest\":\"" D2
      "\",\"size\":1}]}",
      "layer media type 'application/x-foo' not supported" },
    { "[]", "manifest: expected object" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      json_t *j = parse (bad[i].json);
      husk_error *e = NULL;
      image_manifest *mm = NULL;
      ok (image_manifest_parse (j, NULL, &mm, &e) < 0 && e && strstr (e->msg, bad[i].want),
          "bad manifest %zu: %s (%s)", i, bad[i].want, e ? e->msg : "accepted");
      husk_error_free (e);
      image_manifest_free (mm);
      json_decref (j);
    }
}

static void
test_index (void)
{
  json_t *idx = parse (
      "{\"schemaVersion\":2,\"mediaType\":\"" IMAGE_MT_OCI_INDEX "\",\"manifests\":["
      "{\"digest\":\"" D1
      "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
      "{\"digest\":\"" D2
      "\",\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
      "{\"digest\":\"" D3
      "\",\"size\":3,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
      "{\"digest\":\"" D3
      "\",\"size\":3,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}");
  ok (image_manifest_is_index (NULL, idx), "index detected");
  image_desc d = { 0 };
  image_platform amd = { "linux", "amd64", NULL }, arm64 = { "linux", "arm64", "v8" },
                 armv7 = { "linux", "arm", "v7" }, s390 = { "linux", "s390x", NULL };
  ok (image_index_select (idx, &amd, &d, NULL) == 0 && streq (d.digest, D3), "amd64 chosen");
  image_desc_clear (&d);
  ok (image_index_select (idx, &arm64, &d, NULL) == 0 && streq (d.digest, D2),
      "arm64/v8 matches arm64 without variant");
  image_desc_clear (&d);
  husk_error *err = NULL;
  ok (image_index_select (idx, &armv7, &d, &err) < 0, "arm/v7 not offered (only v6)");
  husk_error_free (err);
  err = NULL;
  ok (image_index_select (idx, &s390, &d, &err) < 0 && err
          && strstr (err->msg, "no manifest for platform linux/s390x (image offers: linux/arm/v6, "
                               "linux/arm64, linux/amd64, unknown/unknown)"),
      "missing platform lists what is offered (%s)", err ? err->msg : "");
  husk_error_free (err);
  json_decref (idx);

  json_t *list = parse ("{\"manifests\":[]}");
  ok (image_manifest_is_index (IMAGE_MT_DOCKER_LIST, list), "docker manifest list by media type");
  json_decref (list);

  image_platform p;
  char s[] = "linux/arm/v7";
  ok (image_platform_parse (s, &p, NULL) == 0 && streq (p.architecture, "arm")
          && streq (p.variant, "v7"),
      "platform parse");
  char bad[] = "linux";
  ok (image_platform_parse (bad, &p, NULL) < 0, "platform without arch refused");
}

static void
test_auth (void)
{
  /* "dXNlcjpwYXNz" = user:pass */
  json_t *cfg = parse ("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},"
                       "\"127.0.0.1:5000\":{\"auth\":\"dXNlcjpwYXNz\"},"
                       "\"http://reg.example\":{\"username\":\"u\",\"password\":\"p\"},"
                       "\"bad.example\":{\"auth\":\"!!!\"}}}");
  char *u = NULL, *p = NULL;
  ok (image_auth_lookup (cfg, "127.0.0.1:5000", &u, &p, NULL) == 1 && streq (u, "user")
          && streq (p, "pass"),
      "auth by host:port");
  free (u), free (p), u = p = NULL;
  ok (image_auth_lookup (cfg, "docker.io", &u, &p, NULL) == 1 && streq (u, "hub")
          && streq (p, "hubpw"),
      "docker hub key https://index.docker.io/v1/ matches docker.io");
  free (u), free (p), u = p = NULL;
  ok (image_auth_lookup (cfg, "reg.example", &u, &p, NULL) == 1 && streq (u, "u"),
      "username/password fields, scheme stripped");
  free (u), free (p), u = p = NULL;
  ok (image_auth_lookup (cfg, "other.example", &u, &p, NULL) == 0, "no entry -> 0");
  husk_error *err = NULL;
  ok (image_auth_lookup (cfg, "bad.example", &u, &p, &err) < 0 && strstr (err->msg, "base64"),
      "bad base64 is an error naming it");
  husk_error_free (err);
  json_decref (cfg);

  image_challenge c;
  ok (image_challenge_parse (
          "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
          "scope=\"repository:library/busybox:pull,push\"",
          &c, NULL)
          == 0,
      "Bearer challenge parses");
  is_str (c.scheme, "Bearer", "scheme");
  is_str (c.realm, "https://auth.docker.io/token", "realm");
  is_str (c.service, "registry.docker.io", "service");
  is_str (c.scope, "repository:library/busybox:pull,push", "scope with a comma");
  image_challenge_clear (&c);
  ok (image_challenge_parse ("Basic realm=\"Registry Realm\"", &c, NULL) == 0
          && streq (c.scheme, "Basic") && streq (c.realm, "Registry Realm"),
      "Basic challenge");
  image_challenge_clear (&c);
  err = NULL;
  ok (image_challenge_parse ("Bearer realm=\"x", &c, &err) < 0, "unterminated quote refused");
  image_challenge_clear (&c);
  husk_error_free (err);
}

static void
diff_ids_case (const char *json, size_t n, const char *want_err, const char *name)
{
  json_t *cfg = json_loads (json, 0, NULL);
  char **ids = NULL;
  husk_error *err = NULL;
  int ret = image_config_diff_ids (cfg, n, &ids, &err);
  if (!want_err)
    ok (ret == 0 && ids && ids[n] == NULL && (n == 0 || strncmp (ids[0], "sha256:", 7) == 0), "%s",
        name);
  else
    ok (ret < 0 && err && strstr (err->msg, want_err), "%s (%s)", name,
        err ? err->msg : "no error");
  strv_free (ids);
  husk_error_free (err);
  json_decref (cfg);
}

static void
test_diff_ids (void)
{
  const char *d = "\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"";
  _cleanup_free_ char *two
      = xasprintf ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s,%s]}}", d, d);
  diff_ids_case (two, 2, NULL, "two diff_ids for two layers");
  diff_ids_case (two, 3, "rootfs.diff_ids: 2 entries for 3 layers", "count must match the layers");
  diff_ids_case ("{\"rootfs\":{}}", 1, "rootfs.diff_ids: expected array", "missing diff_ids");
  diff_ids_case ("{\"rootfs\":{\"diff_ids\":[\"md5:abc\"]}}", 1,
                 "rootfs.diff_ids.0: expected a sha256 digest, got md5:abc", "bad digest named");
}

int
main (void)
{
  test_diff_ids ();
  test_manifest ();
  test_index ();
  test_auth ();
  return tap_done ();
}
