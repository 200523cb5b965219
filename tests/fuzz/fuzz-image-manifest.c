/* libFuzzer target: registry documents (manifests, indexes, docker config.json auths)
   and WWW-Authenticate challenges, all outside input. */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "src/node/image/image-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup ((const char *)data, size);
  image_challenge c;
  if (image_challenge_parse (s, &c, NULL) == 0)
    image_challenge_clear (&c);
  else
    image_challenge_clear (&c);

  _cleanup_json_ json_t *doc = NULL;
  if (husk_json_parse ((const char *)data, size, &doc, NULL) < 0)
    return 0;
  _cleanup_error_ husk_error *err = NULL;
  if (image_manifest_is_index (NULL, doc))
    {
      image_platform p = { "linux", "arm64", "v8" };
      image_desc d = { 0 };
      if (image_index_select (doc, &p, &d, &err) == 0)
        image_desc_clear (&d);
    }
  else
    {
      image_manifest *m = NULL;
      if (image_manifest_parse (doc, NULL, &m, &err) == 0)
        image_manifest_free (m);
    }
  char *u = NULL, *pw = NULL;
  husk_error *e2 = NULL;
  if (image_auth_lookup (doc, "docker.io", &u, &pw, &e2) == 1)
    free (u), free (pw);
  husk_error_free (e2);
  return 0;
}
