/* husk node API: WebSocket framing (RFC 6455 section 5) and the opening handshake's key. */
#include "config.h"

#include <errno.h>
#include <nettle/sha1.h>

#include "lib/base64.h"
#include "src/node/nodeapi/ws.h"

static bool
known_opcode (uint8_t op)
{
  return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY || op == WS_OP_CLOSE
         || op == WS_OP_PING || op == WS_OP_PONG;
}

ssize_t
ws_parse_frame (uint8_t *buf, size_t len, bool require_mask, size_t max, ws_frame *out,
                husk_error **err)
{
  if (len < 2)
    return 0;
  uint8_t b0 = buf[0], b1 = buf[1];
  if (b0 & 0x70)
    return husk_err (err, EPROTO, "websocket: reserved bits set in frame header");
  uint8_t op = b0 & 0x0f;
  if (!known_opcode (op))
    return husk_err (err, EPROTO, "websocket: unknown opcode %u", op);
  bool masked = b1 & 0x80;
  if (require_mask && !masked)
    return husk_err (err, EPROTO, "websocket: client frame is not masked");
  uint64_t plen = b1 & 0x7f;
  size_t hdr = 2;
  if (plen == 126)
    {
      if (len < 4)
        return 0;
      plen = ((uint64_t) buf[2] << 8) | buf[3];
      hdr = 4;
    }
  else if (plen == 127)
    {
      if (len < 10)
        return 0;
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = (plen << 8) | buf[2 + i];
      hdr = 10;
    }
  bool fin = b0 & 0x80;
  if (op >= 0x8 && (plen > 125 || !fin))
    return husk_err (err, EPROTO, "websocket: control frame longer than 125 bytes or fragmented");
  if (plen > max)
    return husk_err (err, EMSGSIZE, "websocket: frame of %llu bytes exceeds the limit of %zu",
                     (unsigned long long) plen, max);
  size_t mask_at = hdr;
  if (masked)
    hdr += 4;
  if (len < hdr || len - hdr < plen)
    return 0;
  uint8_t *p = buf + hdr;
  if (masked)
    for (size_t i = 0; i < plen; i++)
      p[i] ^= buf[mask_at + (i & 3)];
  out->fin = fin;
  out->opcode = op;
  out->payload = p;
  out->len = (size_t) plen;
  return (ssize_t) (hdr + plen);
}

void
ws_encode_frame (husk_buf *out, uint8_t opcode, const void *data, size_t len)
{
  uint8_t h[10];
  size_t n = 2;
  h[0] = 0x80 | (opcode & 0x0f);
  if (len < 126)
    h[1] = (uint8_t) len;
  else if (len <= 0xffff)
    {
      h[1] = 126;
      h[2] = (uint8_t) (len >> 8);
      h[3] = (uint8_t) len;
      n = 4;
    }
  else
    {
      h[1] = 127;
      for (int i = 0; i < 8; i++)
        h[2 + i] = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
      n = 10;
    }
  husk_buf_append (out, h, n);
  if (len)
    husk_buf_append (out, data, len);
}

char *
ws_accept_key (const char *key)
{
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  struct sha1_ctx c;
  uint8_t d[SHA1_DIGEST_SIZE];
  sha1_init (&c);
  sha1_update (&c, strlen (key), (const uint8_t *) key);
  sha1_update (&c, sizeof guid - 1, (const uint8_t *) guid);
  sha1_digest (&c, sizeof d, d);
  return husk_base64_encode (d, sizeof d);
}

void
ws_reader_init (ws_reader *r, bool require_mask)
{
  memset (r, 0, sizeof *r);
  r->require_mask = require_mask;
}

void
ws_reader_feed (ws_reader *r, const void *data, size_t len)
{
  if (r->off > 0 && r->off == r->in.len)
    {
      husk_buf_reset (&r->in);
      r->off = 0;
    }
  else if (r->off > 65536)
    {
      memmove (r->in.data, r->in.data + r->off, r->in.len - r->off);
      r->in.len -= r->off;
      r->in.data[r->in.len] = '\0';
      r->off = 0;
    }
  husk_buf_append (&r->in, data, len);
}

int
ws_reader_next (ws_reader *r, uint8_t *opcode, const uint8_t **data, size_t *len,
                husk_error **err)
{
  for (;;)
    {
      ws_frame f;
      if (r->in.len == r->off)
        return 0;
      ssize_t n = ws_parse_frame ((uint8_t *) r->in.data + r->off, r->in.len - r->off,
                                  r->require_mask, WS_MAX_MESSAGE, &f, err);
      if (n <= 0)
        return (int) n;
      r->off += (size_t) n;
      if (f.opcode >= 0x8)
        {
          *opcode = f.opcode, *data = f.payload, *len = f.len;
          return 1;
        }
      if (f.opcode == WS_OP_CONT ? !r->in_msg : r->in_msg)
        return husk_err (err, EPROTO, "websocket: unexpected %s frame",
                         f.opcode == WS_OP_CONT ? "continuation" : "new data");
      if (f.opcode != WS_OP_CONT)
        {
          husk_buf_reset (&r->msg);
          r->msg_op = f.opcode;
          r->in_msg = true;
        }
      if (r->msg.len + f.len > WS_MAX_MESSAGE)
        return husk_err (err, EMSGSIZE, "websocket: message exceeds %d bytes", WS_MAX_MESSAGE);
      husk_buf_append (&r->msg, f.payload, f.len);
      if (!f.fin)
        continue;
      r->in_msg = false;
      *opcode = r->msg_op;
      *data = (const uint8_t *) husk_buf_str (&r->msg);
      *len = r->msg.len;
      return 1;
    }
}

void
ws_reader_clear (ws_reader *r)
{
  husk_buf_free (&r->in);
  husk_buf_free (&r->msg);
}
