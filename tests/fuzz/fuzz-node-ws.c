/* libFuzzer target: WebSocket frames from a client of the node API (exec, port-forward). */
#include "config.h"

#include <stdint.h>

#include "src/node/nodeapi/ws.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  ws_reader r;
  ws_reader_init (&r, size > 0 && (data[0] & 1));
  /* fed in two pieces, as reads split them */
  size_t cut = size / 3;
  ws_reader_feed (&r, data, cut);
  for (int pass = 0; pass < 2; pass++)
    {
      uint8_t op;
      const uint8_t *d;
      size_t len;
      husk_error *err = NULL;
      int got;
      while ((got = ws_reader_next (&r, &op, &d, &len, &err)) > 0)
        if (len)
          (void) d[len - 1];
      husk_error_free (err);
      if (got < 0)
        break;
      if (pass == 0)
        ws_reader_feed (&r, data + cut, size - cut);
    }
  ws_reader_clear (&r);
  return 0;
}
