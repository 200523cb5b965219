/* Registry credentials: docker config.json "auths" (also the shape of a Kubernetes
   kubernetes.io/dockerconfigjson secret) and WWW-Authenticate challenges. */
#include "config.h"

#include <errno.h>
#include <nettle/base64.h>

#include "lib/json.h"
#include "src/node/image/image-internal.h"

/* "https://host/v1/" -> "host" */
static char *
auth_key_host (const char *key)
{
  const char *p = strstr (key, "://");
  p = p ? p + 3 : key;
  return xstrndup (p, strcspn (p, "/"));
}

static bool
host_matches (const char *key_host, const char *host)
{
  if (streq (key_host, host))
    return true;
  static const char *const hub[]
      = { "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" };
  bool a = false, b = false;
  for (size_t i = 0; i < ARRAY_SIZE (hub); i++)
    {
      a = a || streq (key_host, hub[i]);
      b = b || streq (host, hub[i]);
    }
  return a && b;
}

static int
decode_auth (const char *b64, const char *host, char **user, char **pass, husk_error **err)
{
  struct base64_decode_ctx ctx;
  size_t n = strlen (b64);
  _cleanup_free_ uint8_t *out = xmalloc (BASE64_DECODE_LENGTH (n) + 1);
  size_t outlen = BASE64_DECODE_LENGTH (n);
  base64_decode_init (&ctx);
  if (!base64_decode_update (&ctx, &outlen, out, n, b64) || !base64_decode_final (&ctx))
    return husk_err (err, EINVAL, "credentials for %s: 'auth' is not valid base64", host);
  out[outlen] = '\0';
  char *colon = memchr (out, ':', outlen);
  if (!colon || strlen ((char *)out) != outlen)
    return husk_err (err, EINVAL, "credentials for %s: 'auth' is not user:password", host);
  *colon = '\0';
  *user = xstrdup ((char *)out);
  *pass = xstrdup (colon + 1);
  return 1;
}

int
image_auth_lookup (json_t *config, const char *host, char **user, char **pass, husk_error **err)
{
  json_t *auths = json_object_get (config, "auths"), *v;
  if (!json_is_object (auths))
    return 0;
  const char *key;
  json_object_foreach (auths, key, v)
  {
    _cleanup_free_ char *kh = auth_key_host (key);
    if (!host_matches (kh, host))
      continue;
    const char *a = json_string_value (json_object_get (v, "auth"));
    if (a && *a)
      return decode_auth (a, host, user, pass, err);
    const char *u = json_string_value (json_object_get (v, "username"));
    const char *p = json_string_value (json_object_get (v, "password"));
    if (u && p)
      {
        *user = xstrdup (u);
        *pass = xstrdup (p);
        return 1;
      }
  }
  return 0;
}

/* Explicit options, then the secret-shaped object, then the config file. */
int
image_auth_find (const image_pull_opts *o, const char *host, char **user, char **pass,
                 husk_error **err)
{
  if (o->username)
    {
      *user = xstrdup (o->username);
      *pass = xstrdup (o->password ? o->password : "");
      return 1;
    }
  int ret;
  if (o->auths && (ret = image_auth_lookup (o->auths, host, user, pass, err)) != 0)
    return ret;
  _cleanup_free_ char *path = NULL;
  if (o->auth_file)
    path = xstrdup (o->auth_file);
  else if (getenv ("REGISTRY_AUTH_FILE"))
    path = xstrdup (getenv ("REGISTRY_AUTH_FILE"));
  else if (getenv ("DOCKER_CONFIG"))
    path = xasprintf ("%s/config.json", getenv ("DOCKER_CONFIG"));
  else if (getenv ("HOME"))
    path = xasprintf ("%s/.docker/config.json", getenv ("HOME"));
  if (!path || (access (path, F_OK) < 0 && !o->auth_file))
    return 0;
  _cleanup_json_ json_t *cfg = NULL;
  if ((ret = husk_json_load_file (path, &cfg, err)) < 0)
    return husk_err_wrap (err, "registry credentials");
  if ((ret = image_auth_lookup (cfg, host, user, pass, err)) < 0)
    return husk_err_wrap (err, "%s", path);
  return ret;
}

void
image_challenge_clear (image_challenge *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
  memset (c, 0, sizeof *c);
}

/* Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
int
image_challenge_parse (const char *h, image_challenge *c, husk_error **err)
{
  memset (c, 0, sizeof *c);
  while (*h == ' ')
    h++;
  size_t n = strcspn (h, " ");
  if (n == 0)
    return husk_err (err, EINVAL, "empty WWW-Authenticate challenge");
  c->scheme = xstrndup (h, n);
  const char *p = h + n;
  while (*p)
    {
      while (*p == ' ' || *p == ',')
        p++;
      if (!*p)
        break;
      const char *eq = strchr (p, '=');
      if (!eq)
        break;
      _cleanup_free_ char *key = xstrndup (p, eq - p);
      p = eq + 1;
      _cleanup_free_ char *val = NULL;
      if (*p == '"')
        {
          const char *end = strchr (p + 1, '"');
          if (!end)
            return husk_err (err, EINVAL, "WWW-Authenticate: unterminated quote in '%s'", h);
          val = xstrndup (p + 1, end - p - 1);
          p = end + 1;
        }
      else
        {
          size_t vn = strcspn (p, ",");
          val = xstrndup (p, vn);
          p += vn;
        }
      char **slot = strcasecmp (key, "realm") == 0     ? &c->realm
                    : strcasecmp (key, "service") == 0 ? &c->service
                    : strcasecmp (key, "scope") == 0   ? &c->scope
                                                       : NULL;
      if (slot)
        {
          free (*slot);
          *slot = TAKE_PTR (val);
        }
    }
  return 0;
}
