/* libFuzzer target: image references (user and manifest input). */
#include "config.h"

#include <stdint.h>

#include "src/node/image/image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_free_ char *s = xstrndup ((const char *)data, size);
  _cleanup_error_ husk_error *err = NULL;
  image_ref *r = NULL;
  if (image_ref_parse (s, &r, &err) == 0)
    {
      /* the canonical form parses to itself */
      image_ref *again = NULL;
      if (image_ref_parse (r->full, &again, NULL) < 0 || !streq (again->full, r->full))
        __builtin_trap ();
      image_ref_free (again);
      free (image_ref_repo (r));
    }
  image_ref_free (r);
  return 0;
}
