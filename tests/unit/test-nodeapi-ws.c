/* Unit tests: the node API's WebSocket framing (src/node/nodeapi/ws.c). */
#include "config.h"

#include <errno.h>

#include "src/node/nodeapi/ws.h"
#include "tests/unit/tap.h"

/* A client frame: masked with key. */
static void
client_frame (husk_buf *b, uint8_t first, const void *data, size_t len)
{
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  uint8_t h[14];
  size_t n = 2;
  h[0] = first;
  if (len < 126)
    h[1] = 0x80 | (uint8_t) len;
  else
    {
      h[1] = 0x80 | 126, h[2] = (uint8_t) (len >> 8), h[3] = (uint8_t) len;
      n = 4;
    }
  memcpy (h + n, key, 4);
  husk_buf_append (b, h, n + 4);
  for (size_t i = 0; i < len; i++)
    {
      uint8_t c = ((const uint8_t *) data)[i] ^ key[i & 3];
      husk_buf_append (b, &c, 1);
    }
}

static void
test_accept (void)
{
  char *a = ws_accept_key ("dGhlIHNhbXBsZSBub25jZQ==");
  is_str (a, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "Sec-WebSocket-Accept of RFC 6455's example key");
  free (a);
}

static void
test_parse (void)
{
  husk_buf b = HUSK_BUF_INIT;
  client_frame (&b, 0x82, "\x00hello", 6);
  ws_frame f;
  husk_error *err = NULL;
  is_int (ws_parse_frame ((uint8_t *) b.data, 3, true, 1024, &f, &err), 0,
          "a partial frame asks for more bytes");
  ssize_t n = ws_parse_frame ((uint8_t *) b.data, b.len, true, 1024, &f, &err);
  is_int (n, (ssize_t) b.len, "a masked binary frame is parsed whole");
  ok (f.fin && f.opcode == WS_OP_BINARY && f.len == 6 && memcmp (f.payload, "\x00hello", 6) == 0,
      "its payload is unmasked");
  husk_buf_reset (&b);
  client_frame (&b, 0x82, "x", 1);
  b.data[1] &= 0x7f; /* drop the mask bit */
  ok (ws_parse_frame ((uint8_t *) b.data, b.len, true, 1024, &f, &err) < 0 && err,
      "an unmasked client frame is refused: %s", err ? err->msg : "");
  husk_error_free (err), err = NULL;
  husk_buf_reset (&b);
  char big[200];
  memset (big, 'a', sizeof big);
  client_frame (&b, 0x89, big, sizeof big);
  ok (ws_parse_frame ((uint8_t *) b.data, b.len, true, 1024, &f, &err) < 0,
      "a ping above 125 bytes is refused");
  husk_error_free (err), err = NULL;
  husk_buf_reset (&b);
  client_frame (&b, 0x82, big, sizeof big);
  ok (ws_parse_frame ((uint8_t *) b.data, b.len, true, 100, &f, &err) < 0 && err->errnum == EMSGSIZE,
      "a frame above the limit is refused");
  husk_error_free (err), err = NULL;
  husk_buf_reset (&b);
  client_frame (&b, 0xc2, "x", 1);
  ok (ws_parse_frame ((uint8_t *) b.data, b.len, true, 100, &f, &err) < 0, "RSV1 is refused");
  husk_error_free (err);
  husk_buf_free (&b);
}

static void
test_reader (void)
{
  husk_buf b = HUSK_BUF_INIT;
  client_frame (&b, 0x02, "\x01" "abc", 4); /* binary, not final */
  client_frame (&b, 0x89, "p", 1);          /* ping in between */
  client_frame (&b, 0x80, "def", 3);        /* continuation, final */
  char big[300];
  memset (big, 'z', sizeof big);
  client_frame (&b, 0x82, big, sizeof big); /* 16-bit length */
  ws_reader r;
  ws_reader_init (&r, true);
  uint8_t op;
  const uint8_t *d;
  size_t len;
  husk_error *err = NULL;
  /* fed a byte at a time */
  int got = 0, msgs = 0;
  bool frag_ok = false, ping_ok = false, big_ok = false;
  for (size_t i = 0; i < b.len; i++)
    {
      ws_reader_feed (&r, b.data + i, 1);
      while ((got = ws_reader_next (&r, &op, &d, &len, &err)) > 0)
        {
          msgs++;
          if (op == WS_OP_PING)
            ping_ok = len == 1 && d[0] == 'p';
          else if (len == 7)
            frag_ok = op == WS_OP_BINARY && memcmp (d, "\x01" "abcdef", 7) == 0;
          else
            big_ok = len == 300 && d[299] == 'z';
        }
      if (got < 0)
        break;
    }
  is_int (msgs, 3, "three messages out of four frames fed byte by byte");
  ok (ping_ok, "a control frame between fragments comes out on its own");
  ok (frag_ok, "fragments are joined into one message");
  ok (big_ok, "a 300-byte frame (16-bit length) is read");
  husk_buf_reset (&b);
  client_frame (&b, 0x80, "x", 1);
  ws_reader_feed (&r, b.data, b.len);
  ok (ws_reader_next (&r, &op, &d, &len, &err) < 0, "a continuation without a start is refused");
  husk_error_free (err);
  ws_reader_clear (&r);
  husk_buf_free (&b);
}

static void
test_encode (void)
{
  husk_buf b = HUSK_BUF_INIT;
  ws_encode_frame (&b, WS_OP_BINARY, "\x03{}", 3);
  ok (b.len == 5 && (uint8_t) b.data[0] == 0x82 && b.data[1] == 3, "a small frame: 2-byte header");
  husk_buf_reset (&b);
  char big[70000] = {0};
  ws_encode_frame (&b, WS_OP_BINARY, big, sizeof big);
  ok (b.len == sizeof big + 10 && (uint8_t) b.data[1] == 127, "a 70000-byte frame: 64-bit length");
  ws_frame f;
  husk_error *err = NULL;
  is_int (ws_parse_frame ((uint8_t *) b.data, b.len, false, 1 << 20, &f, &err), (ssize_t) b.len,
          "what we encode parses back");
  husk_buf_free (&b);
}

int
main (void)
{
  test_accept ();
  test_parse ();
  test_reader ();
  test_encode ();
  return tap_done ();
}
