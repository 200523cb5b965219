/* sha256 content digests (the only algorithm registries use in practice). */
#include "config.h"

#include <errno.h>

#include "src/node/image/image.h"

bool
image_digest_valid (const char *s)
{
  if (!s || strncmp (s, "sha256:", 7) != 0 || strlen (s) != IMAGE_DIGEST_LEN)
    return false;
  for (const char *p = s + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

int
image_digest_check (const char *s, husk_error **err)
{
  if (image_digest_valid (s))
    return 0;
  if (s && strchr (s, ':') && strncmp (s, "sha256:", 7) != 0)
    return husk_err (err, EINVAL, "unsupported digest algorithm in '%s' (only sha256)", s);
  return husk_err (err, EINVAL, "invalid digest '%s' (want sha256:<64 lowercase hex>)",
                   s ? s : "(null)");
}

void
image_hasher_init (image_hasher *h)
{
  sha256_init (&h->ctx);
  h->size = 0;
}

void
image_hasher_update (image_hasher *h, const void *data, size_t len)
{
  sha256_update (&h->ctx, len, data);
  h->size += len;
}

void
image_hasher_digest (image_hasher *h, char out[IMAGE_DIGEST_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_digest (&h->ctx, sizeof d, d);
  memcpy (out, "sha256:", 7);
  for (size_t i = 0; i < sizeof d; i++)
    {
      out[7 + 2 * i] = hex[d[i] >> 4];
      out[7 + 2 * i + 1] = hex[d[i] & 15];
    }
  out[IMAGE_DIGEST_LEN] = '\0';
}

void
image_digest_of (const void *data, size_t len, char out[IMAGE_DIGEST_LEN + 1])
{
  image_hasher h;
  image_hasher_init (&h);
  image_hasher_update (&h, data, len);
  image_hasher_digest (&h, out);
}
