/* libFuzzer target: image archives given to `husk image import` (OCI layout tarballs and
   `docker save` tarballs: tar structure, index.json, manifest.json, blob names). */
#include "config.h"

#include <stdint.h>

#include "lib/path.h"
#include "src/node/image/image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char base[] = "/tmp/husk-fuzz-archive-XXXXXX";
  static bool init;
  if (!init)
    {
      if (!mkdtemp (base))
        abort ();
      init = true;
    }
  _cleanup_free_ char *data_dir = xasprintf ("%s/data", base);
  _cleanup_free_ char *file = xasprintf ("%s/input.tar", base);
  husk_rm_rf (data_dir, NULL);
  if (husk_write_file_atomic (file, data, size, 0600, NULL) < 0)
    abort ();
  image_store *s = NULL;
  if (image_store_open (data_dir, &s, NULL) < 0)
    abort ();
  image_platform p = {"linux", "amd64", NULL};
  char **refs = NULL;
  _cleanup_error_ husk_error *err = NULL;
  image_import (s, file, NULL, &p, &refs, &err);
  strv_free (refs);
  image_store_free (s);
  return 0;
}
