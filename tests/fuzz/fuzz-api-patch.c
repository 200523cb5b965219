/* libFuzzer target: JSON patch, merge patch and strategic merge patch (PATCH bodies).
   Input: target JSON, a NUL byte, the patch JSON. */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "src/master/api/patch.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  if (nul == NULL)
    return 0;
  json_t *target = json_loadb ((const char *) data, (size_t) (nul - data), JSON_DECODE_ANY, NULL);
  json_t *patch = json_loadb ((const char *) nul + 1, size - (size_t) (nul - data) - 1,
                             JSON_DECODE_ANY, NULL);
  if (target && patch)
    {
      husk_error *err = NULL;
      json_decref (api_merge_patch (target, patch));
      json_decref (api_json_patch (target, patch, &err));
      husk_error_free (err), err = NULL;
      json_decref (api_strategic_merge_patch (target, patch, api_schema_type ("Pod"), &err));
      husk_error_free (err), err = NULL;
      json_decref (api_strategic_merge_patch (target, patch, NULL, &err));
      husk_error_free (err);
    }
  json_decref (target);
  json_decref (patch);
  return 0;
}
