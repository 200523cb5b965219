/* libFuzzer target: YAML -> JSON must never crash, leak or hang on any input. */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "lib/yaml.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_json_ json_t *docs = NULL;
  if (husk_yaml_to_json ((const char *) data, size, &docs, &err) == 0)
    {
      _cleanup_free_ char *s = husk_json_dump (docs);
    }
  else if (err == NULL || err->msg == NULL)
    __builtin_trap (); /* a failure must always carry its message */
  return 0;
}
