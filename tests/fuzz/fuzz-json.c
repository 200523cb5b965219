/* libFuzzer target: JSON parsing and the typed getters used by every decoder. */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *j = NULL;
  if (husk_json_parse ((const char *) data, size, &j, &err) < 0)
    return 0;
  const char *s = NULL;
  char **v = NULL;
  husk_json_get_str (j, "a", "x", &s, &err);
  husk_json_get_strv (j, "b", "x", &v, &err);
  strv_free (v);
  (void) husk_json_path (j, "a.b.0.c");
  return 0;
}
