/* Unit tests: the node API's SPDY/3.1 framing and header blocks (src/node/nodeapi/spdy.c). */
#include "config.h"

#include <errno.h>

#include "src/node/nodeapi/spdy.h"
#include "tests/unit/tap.h"

static void
test_dictionary (void)
{
  size_t len;
  const uint8_t *d = spdy_dictionary (&len);
  is_int (len, 1423, "the SPDY/3 dictionary has its 1423 bytes");
  ok (memcmp (d, "\0\0\0\7options\0\0\0\4head", 15) == 0, "it starts with length-prefixed words");
  ok (memcmp (d + len - 7, ",enq=0.", 7) == 0, "and ends with the spec's text tail");
}

static void
test_roundtrip (void)
{
  /* the client's side compresses with one context, the server decodes with another */
  spdy_zlib client, server;
  spdy_zlib_init (&client), spdy_zlib_init (&server);
  husk_buf b = HUSK_BUF_INIT;
  husk_error *err = NULL;
  static const char *const h1[] = {"streamtype", "error", "port", "8080", "requestid", "0", NULL};
  static const char *const h2[] = {"streamtype", "data", "port", "8080", "requestid", "0", NULL};
  ok (spdy_encode_syn_stream (&client, &b, 1, SPDY_FLAG_FIN, h1, &err) == 0, "SYN_STREAM 1 encoded");
  ok (spdy_encode_syn_stream (&client, &b, 3, 0, h2, &err) == 0, "SYN_STREAM 3 encoded");
  spdy_encode_data (&b, 3, 0, "GET /", 5);
  spdy_encode_data (&b, 3, SPDY_FLAG_FIN, NULL, 0);
  spdy_encode_rst (&b, 1, SPDY_RST_CANCEL);
  spdy_encode_ping (&b, 7);
  size_t off = 0;
  int frames = 0;
  bool syn_ok = true, data_ok = false, fin_ok = false, rst_ok = false, ping_ok = false;
  while (off < b.len)
    {
      spdy_frame f;
      ssize_t n = spdy_parse_frame ((const uint8_t *) b.data + off, b.len - off, &f, &err);
      if (n <= 0)
        break;
      frames++;
      if (f.control && f.type == SPDY_SYN_STREAM)
        {
          spdy_headers h = {0};
          if (spdy_headers_decode (&server, f.block, f.block_len, &h, &err) < 0)
            syn_ok = false;
          const char *t = spdy_headers_get (&h, "streamtype");
          syn_ok = syn_ok && t && streq (t, f.stream_id == 1 ? "error" : "data")
                   && streq (spdy_headers_get (&h, "port"), "8080") && h.n == 3
                   && (f.stream_id != 1 || (f.flags & SPDY_FLAG_FIN));
          spdy_headers_clear (&h);
        }
      else if (!f.control && f.len == 5)
        data_ok = f.stream_id == 3 && memcmp (f.data, "GET /", 5) == 0;
      else if (!f.control)
        fin_ok = f.stream_id == 3 && (f.flags & SPDY_FLAG_FIN) && f.len == 0;
      else if (f.type == SPDY_RST_STREAM)
        rst_ok = f.stream_id == 1 && f.value == SPDY_RST_CANCEL;
      else if (f.type == SPDY_PING)
        ping_ok = f.value == 7;
      off += (size_t) n;
    }
  is_int (frames, 6, "six frames parse back");
  ok (syn_ok, "both header blocks decode through one shared inflate context");
  ok (data_ok && fin_ok, "data and an empty FIN frame");
  ok (rst_ok && ping_ok, "RST_STREAM status and PING id");
  /* partial input */
  spdy_frame f;
  is_int (spdy_parse_frame ((const uint8_t *) b.data, 7, &f, &err), 0, "7 bytes ask for more");
  husk_buf_free (&b);
  spdy_zlib_clear (&client), spdy_zlib_clear (&server);
}

static void
test_bad (void)
{
  husk_error *err = NULL;
  spdy_frame f;
  const uint8_t v2[8] = {0x80, 2, 0, 1, 0, 0, 0, 10};
  ok (spdy_parse_frame (v2, 8, &f, &err) < 0, "version 2 is refused");
  husk_error_free (err), err = NULL;
  const uint8_t shortrst[12] = {0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1};
  ok (spdy_parse_frame (shortrst, 12, &f, &err) < 0, "a 4-byte RST_STREAM is refused");
  husk_error_free (err), err = NULL;
  const uint8_t huge[8] = {0, 0, 0, 1, 0, 0xff, 0xff, 0xff};
  ok (spdy_parse_frame (huge, 8, &f, &err) < 0 && err->errnum == EMSGSIZE,
      "a 16 MiB data frame is refused");
  husk_error_free (err), err = NULL;
  spdy_zlib z;
  spdy_zlib_init (&z);
  spdy_headers h = {0};
  ok (spdy_headers_decode (&z, (const uint8_t *) "garbage!", 8, &h, &err) < 0,
      "a block that is not zlib is refused: %s", err ? err->msg : "");
  husk_error_free (err);
  spdy_zlib_clear (&z);
}

int
main (void)
{
  test_dictionary ();
  test_roundtrip ();
  test_bad ();
  return tap_done ();
}
