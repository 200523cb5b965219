/* libFuzzer target: SPDY/3.1 frames and compressed name/value blocks from a port-forward
   client. */
#include "config.h"

#include <stdint.h>

#include "src/node/nodeapi/spdy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  spdy_zlib z;
  spdy_zlib_init (&z);
  size_t off = 0;
  while (off < size)
    {
      spdy_frame f;
      husk_error *err = NULL;
      ssize_t n = spdy_parse_frame (data + off, size - off, &f, &err);
      husk_error_free (err);
      if (n <= 0)
        break;
      if (f.control && f.block)
        {
          spdy_headers h = {0};
          err = NULL;
          if (spdy_headers_decode (&z, f.block, f.block_len, &h, &err) == 0)
            {
              spdy_headers_get (&h, "port");
              spdy_headers_clear (&h);
            }
          husk_error_free (err);
        }
      off += (size_t) n;
    }
  spdy_zlib_clear (&z);
  return 0;
}
