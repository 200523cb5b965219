/* libFuzzer target: protobuf request bodies (k8s envelope + runtime.Unknown). */
#include "config.h"

#include <stdint.h>

#include "lib/json.h"
#include "src/master/api/proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Most inputs lack the magic; give every input the envelope so the decoder is exercised. */
  uint8_t *buf = xmalloc (size + 4);
  memcpy (buf, "k8s\0", 4);
  memcpy (buf + 4, data, size);
  json_t *out = NULL;
  husk_error *err = NULL;
  if (api_proto_decode (buf, size + 4, &out, &err) == 0)
    {
      char *s = json_dumps (out, JSON_COMPACT);
      free (s);
    }
  json_decref (out);
  husk_error_free (err);
  free (buf);
  return 0;
}
