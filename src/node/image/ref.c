/* Image references with the Docker Hub defaults every Kubernetes user expects
   (the grammar of distribution/reference). */
#include "config.h"

#include <ctype.h>
#include <errno.h>

#include "src/node/image/image.h"

#define DEFAULT_DOMAIN "docker.io"
#define DEFAULT_TAG    "latest"

void
image_ref_free (image_ref *r)
{
  if (!r)
    return;
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  free (r->full);
  free (r);
}

char *
image_ref_repo (const image_ref *r)
{
  return xasprintf ("%s/%s", r->domain, r->path);
}

const char *
image_ref_registry_host (const image_ref *r)
{
  return streq (r->domain, DEFAULT_DOMAIN) ? "registry-1.docker.io" : r->domain;
}

static bool
is_alnum_lower (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool
component_valid (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_alnum_lower (s[0]) || !is_alnum_lower (s[n - 1]))
    return false;
  while (i < n)
    {
      if (is_alnum_lower (s[i]))
        {
          i++;
          continue;
        }
      size_t j = i;
      if (s[i] == '.')
        j = i + 1;
      else if (s[i] == '_')
        j = (i + 1 < n && s[i + 1] == '_') ? i + 2 : i + 1;
      else if (s[i] == '-')
        while (j < n && s[j] == '-')
          j++;
      else
        return false;
      if (j >= n || !is_alnum_lower (s[j]))
        return false;
      i = j;
    }
  return true;
}

static bool
tag_valid (const char *t)
{
  size_t n = strlen (t);
  if (n == 0 || n > 128)
    return false;
  if (!(isalnum ((unsigned char)t[0]) || t[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum ((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
      return false;
  return true;
}

/* host[:port], host a DNS name, IPv4 or [IPv6]. */
static bool
domain_valid (const char *d)
{
  const char *p = d;
  if (*p == '[')
    {
      const char *e = strchr (p, ']');
      if (!e || e == p + 1)
        return false;
      for (const char *q = p + 1; q < e; q++)
        if (!(isxdigit ((unsigned char)*q) || *q == ':' || *q == '.'))
          return false;
      p = e + 1;
    }
  else
    {
      if (!isalnum ((unsigned char)*p))
        return false;
      while (*p && *p != ':')
        {
          if (!(isalnum ((unsigned char)*p) || *p == '.' || *p == '-'))
            return false;
          p++;
        }
    }
  if (*p == ':')
    {
      p++;
      if (!*p)
        return false;
      for (; *p; p++)
        if (!isdigit ((unsigned char)*p))
          return false;
    }
  return *p == '\0';
}

static bool
looks_like_domain (const char *first, size_t n)
{
  if (n == 9 && strncmp (first, "localhost", 9) == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (first[i] == '.' || first[i] == ':' || first[i] == '[' || isupper ((unsigned char)first[i]))
      return true;
  return false;
}

int
image_ref_parse (const char *s, image_ref **out, husk_error **err)
{
  if (!s || !*s)
    return husk_err (err, EINVAL, "invalid image reference '': empty");
  if (strlen (s) > 4096)
    return husk_err (err, EINVAL, "invalid image reference: longer than 4096 bytes");
  _cleanup_free_ char *name = xstrdup (s);
  _cleanup_free_ char *digest = NULL, *tag = NULL, *domain = NULL, *path = NULL;

  char *at = strchr (name, '@');
  if (at)
    {
      *at = '\0';
      if (image_digest_check (at + 1, NULL) < 0)
        return husk_err (err, EINVAL,
                         "invalid image reference '%s': bad digest '%s' (want sha256:<64 hex>)", s,
                         at + 1);
      digest = xstrdup (at + 1);
    }
  char *slash = strrchr (name, '/');
  char *colon = strrchr (slash ? slash : name, ':');
  if (colon)
    {
      *colon = '\0';
      if (!tag_valid (colon + 1))
        return husk_err (err, EINVAL, "invalid image reference '%s': bad tag '%s'", s, colon + 1);
      tag = xstrdup (colon + 1);
    }
  if (!*name)
    return husk_err (err, EINVAL, "invalid image reference '%s': missing repository name", s);

  char *first_slash = strchr (name, '/');
  if (first_slash && looks_like_domain (name, first_slash - name))
    {
      domain = xstrndup (name, first_slash - name);
      path = xstrdup (first_slash + 1);
      if (!domain_valid (domain))
        return husk_err (err, EINVAL, "invalid image reference '%s': bad registry host '%s'", s,
                         domain);
    }
  else
    {
      domain = xstrdup (DEFAULT_DOMAIN);
      path = xstrdup (name);
    }
  if (streq (domain, "index.docker.io"))
    {
      free (domain);
      domain = xstrdup (DEFAULT_DOMAIN);
    }
  if (streq (domain, DEFAULT_DOMAIN) && !strchr (path, '/'))
    {
      char *p = xasprintf ("library/%s", path);
      free (path);
      path = p;
    }
  for (const char *c = path; *c;)
    {
      const char *e = strchrnul (c, '/');
      if (!component_valid (c, e - c))
        {
          for (const char *q = c; q < e; q++)
            if (isupper ((unsigned char)*q))
              return husk_err (err, EINVAL,
                               "invalid image reference '%s': repository name must be lowercase",
                               s);
          return husk_err (err, EINVAL, "invalid image reference '%s': bad path component '%.*s'",
                           s, (int)(e - c), c);
        }
      c = *e ? e + 1 : e;
      if (*e && !*c)
        return husk_err (err, EINVAL, "invalid image reference '%s': trailing '/'", s);
    }
  if (strlen (domain) + 1 + strlen (path) > 255)
    return husk_err (err, EINVAL, "invalid image reference '%s': name longer than 255 bytes", s);
  if (!tag && !digest)
    tag = xstrdup (DEFAULT_TAG);

  image_ref *r = xzalloc (sizeof *r);
  r->full = xasprintf ("%s/%s%s%s%s%s", domain, path, tag ? ":" : "", tag ? tag : "",
                       digest ? "@" : "", digest ? digest : "");
  r->domain = TAKE_PTR (domain);
  r->path = TAKE_PTR (path);
  r->tag = TAKE_PTR (tag);
  r->digest = TAKE_PTR (digest);
  *out = r;
  return 0;
}
