/* husk node API: SPDY/3.1 frames and name/value blocks (the port-forward stream). */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "src/node/nodeapi/spdy.h"

/* ---- the dictionary ------------------------------------------------------------------ */

/* The spec's dictionary: these words, each after its length as 4 big-endian bytes, then
   the tail verbatim. */
static const char *const dict_words[] = {
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
  "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
  "cache-control", "connection", "content-base", "content-encoding", "content-language",
  "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
  "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
  "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma",
  "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server", "te",
  "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
  "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
  "public", "set-cookie", "keep-alive", "origin"};
static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

static uint8_t *dict;
static size_t dict_len;
static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16), p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static uint32_t
get32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void
dict_build (void)
{
  size_t n = sizeof dict_tail - 1;
  for (size_t i = 0; i < ARRAY_SIZE (dict_words); i++)
    n += 4 + strlen (dict_words[i]);
  dict = xmalloc (n);
  size_t at = 0;
  for (size_t i = 0; i < ARRAY_SIZE (dict_words); i++)
    {
      size_t l = strlen (dict_words[i]);
      put32 (dict + at, (uint32_t) l);
      memcpy (dict + at + 4, dict_words[i], l);
      at += 4 + l;
    }
  memcpy (dict + at, dict_tail, sizeof dict_tail - 1);
  dict_len = n;
}

const uint8_t *
spdy_dictionary (size_t *len)
{
  pthread_once (&dict_once, dict_build);
  *len = dict_len;
  return dict;
}

/* ---- frames ----------------------------------------------------------------------------- */

static int
control_min (uint16_t type)
{
  switch (type)
    {
    case SPDY_SYN_STREAM: return 10;
    case SPDY_SYN_REPLY: return 4;
    case SPDY_RST_STREAM: return 8;
    case SPDY_SETTINGS: return 4;
    case SPDY_PING: return 4;
    case SPDY_GOAWAY: return 8;
    case SPDY_HEADERS: return 4;
    case SPDY_WINDOW_UPDATE: return 8;
    default: return 0;
    }
}

static void
parse_control (const uint8_t *p, size_t len, spdy_frame *f)
{
  switch (f->type)
    {
    case SPDY_SYN_STREAM:
      f->stream_id = get32 (p) & 0x7fffffff;
      f->block = p + 10, f->block_len = len - 10;
      break;
    case SPDY_SYN_REPLY:
    case SPDY_HEADERS:
      f->stream_id = get32 (p) & 0x7fffffff;
      f->block = p + 4, f->block_len = len - 4;
      break;
    case SPDY_RST_STREAM:
    case SPDY_WINDOW_UPDATE:
      f->stream_id = get32 (p) & 0x7fffffff;
      f->value = get32 (p + 4) & (f->type == SPDY_WINDOW_UPDATE ? 0x7fffffff : 0xffffffff);
      break;
    case SPDY_PING:
      f->value = get32 (p);
      break;
    case SPDY_GOAWAY:
      f->stream_id = get32 (p) & 0x7fffffff;
      f->value = get32 (p + 4);
      break;
    default:
      break;
    }
}

ssize_t
spdy_parse_frame (const uint8_t *buf, size_t len, spdy_frame *out, husk_error **err)
{
  if (len < 8)
    return 0;
  size_t plen = (size_t) buf[5] << 16 | (size_t) buf[6] << 8 | buf[7];
  if (plen > SPDY_MAX_FRAME)
    return husk_err (err, EMSGSIZE, "spdy: frame of %zu bytes exceeds the limit", plen);
  spdy_frame f = {0};
  f.control = buf[0] & 0x80;
  f.flags = buf[4];
  if (f.control)
    {
      uint16_t version = (uint16_t) ((buf[0] & 0x7f) << 8 | buf[1]);
      if (version != 3)
        return husk_err (err, EPROTO, "spdy: version %u is not 3", version);
      f.type = (uint16_t) (buf[2] << 8 | buf[3]);
      if (plen < (size_t) control_min (f.type))
        return husk_err (err, EPROTO, "spdy: control frame %u of %zu bytes is too short", f.type,
                         plen);
    }
  else
    f.stream_id = get32 (buf) & 0x7fffffff;
  if (len - 8 < plen)
    return 0;
  if (f.control)
    parse_control (buf + 8, plen, &f);
  else
    f.data = buf + 8, f.len = plen;
  *out = f;
  return (ssize_t) (8 + plen);
}

static void
control_header (husk_buf *out, uint16_t type, uint8_t flags, size_t len)
{
  uint8_t h[8] = {0x80, 3, (uint8_t) (type >> 8), (uint8_t) type, flags, (uint8_t) (len >> 16),
                  (uint8_t) (len >> 8), (uint8_t) len};
  husk_buf_append (out, h, 8);
}

void
spdy_encode_data (husk_buf *out, uint32_t id, uint8_t flags, const void *data, size_t len)
{
  uint8_t h[8];
  put32 (h, id & 0x7fffffff);
  h[4] = flags, h[5] = (uint8_t) (len >> 16), h[6] = (uint8_t) (len >> 8), h[7] = (uint8_t) len;
  husk_buf_append (out, h, 8);
  if (len)
    husk_buf_append (out, data, len);
}

void
spdy_encode_rst (husk_buf *out, uint32_t id, uint32_t status)
{
  uint8_t p[8];
  control_header (out, SPDY_RST_STREAM, 0, 8);
  put32 (p, id & 0x7fffffff), put32 (p + 4, status);
  husk_buf_append (out, p, 8);
}

void
spdy_encode_ping (husk_buf *out, uint32_t id)
{
  uint8_t p[4];
  control_header (out, SPDY_PING, 0, 4);
  put32 (p, id);
  husk_buf_append (out, p, 4);
}

void
spdy_encode_goaway (husk_buf *out, uint32_t last_id, uint32_t status)
{
  uint8_t p[8];
  control_header (out, SPDY_GOAWAY, 0, 8);
  put32 (p, last_id & 0x7fffffff), put32 (p + 4, status);
  husk_buf_append (out, p, 8);
}

/* ---- name/value blocks ------------------------------------------------------------------- */

void
spdy_zlib_init (spdy_zlib *z)
{
  memset (z, 0, sizeof *z);
}

void
spdy_zlib_clear (spdy_zlib *z)
{
  if (z->in_ready)
    inflateEnd (&z->in);
  if (z->out_ready)
    deflateEnd (&z->out);
  memset (z, 0, sizeof *z);
}

void
spdy_headers_clear (spdy_headers *h)
{
  for (size_t i = 0; i < h->n; i++)
    free (h->v[i].name), free (h->v[i].value);
  free (h->v);
  h->v = NULL, h->n = 0;
}

const char *
spdy_headers_get (const spdy_headers *h, const char *name)
{
  for (size_t i = 0; i < h->n; i++)
    if (strcasecmp (h->v[i].name, name) == 0)
      return h->v[i].value;
  return NULL;
}

#define SPDY_MAX_BLOCK (64 * 1024)

static int
inflate_block (spdy_zlib *z, const uint8_t *block, size_t len, husk_buf *plain, husk_error **err)
{
  if (!z->in_ready)
    {
      if (inflateInit (&z->in) != Z_OK)
        return husk_err (err, ENOMEM, "spdy: inflateInit");
      z->in_ready = true;
    }
  z->in.next_in = (Bytef *) block;
  z->in.avail_in = (uInt) len;
  uint8_t chunk[4096];
  for (;;)
    {
      z->in.next_out = chunk;
      z->in.avail_out = sizeof chunk;
      int r = inflate (&z->in, Z_SYNC_FLUSH);
      if (r == Z_NEED_DICT)
        {
          size_t dl;
          const uint8_t *d = spdy_dictionary (&dl);
          if (inflateSetDictionary (&z->in, d, (uInt) dl) != Z_OK)
            return husk_err (err, EPROTO, "spdy: header block uses another dictionary");
          continue;
        }
      if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
        return husk_err (err, EPROTO, "spdy: bad compressed header block (%s)",
                         z->in.msg ? z->in.msg : "zlib error");
      husk_buf_append (plain, chunk, sizeof chunk - z->in.avail_out);
      if (plain->len > SPDY_MAX_BLOCK)
        return husk_err (err, EMSGSIZE, "spdy: header block above %d bytes", SPDY_MAX_BLOCK);
      if ((z->in.avail_in == 0 && z->in.avail_out != 0) || r == Z_BUF_ERROR || r == Z_STREAM_END)
        break; /* all input taken and no output left behind, or no progress possible */
    }
  return 0;
}

static int
take_string (const uint8_t **p, const uint8_t *end, char **out, husk_error **err)
{
  if (end - *p < 4)
    return husk_err (err, EPROTO, "spdy: header block truncated");
  uint32_t l = get32 (*p);
  *p += 4;
  if ((size_t) (end - *p) < l)
    return husk_err (err, EPROTO, "spdy: header string of %u bytes overruns the block", l);
  *out = xstrndup ((const char *) *p, l);
  *p += l;
  return 0;
}

int
spdy_headers_decode (spdy_zlib *z, const uint8_t *block, size_t len, spdy_headers *out,
                     husk_error **err)
{
  _cleanup_buf_ husk_buf plain = HUSK_BUF_INIT;
  int r = inflate_block (z, block, len, &plain, err);
  if (r < 0)
    return r;
  const uint8_t *p = (const uint8_t *) husk_buf_str (&plain), *end = p + plain.len;
  if (end - p < 4)
    return husk_err (err, EPROTO, "spdy: header block without a count");
  uint32_t n = get32 (p);
  p += 4;
  if (n > (uint32_t) (end - p) / 8)
    return husk_err (err, EPROTO, "spdy: header block claims %u pairs", n);
  spdy_headers h = {xcalloc (n ? n : 1, sizeof (spdy_header)), 0};
  for (uint32_t i = 0; i < n; i++)
    {
      r = take_string (&p, end, &h.v[i].name, err);
      if (r == 0)
        r = take_string (&p, end, &h.v[i].value, err);
      h.n = i + 1;
      if (r < 0)
        {
          spdy_headers_clear (&h);
          return r;
        }
    }
  *out = h;
  return 0;
}

static int
deflate_block (spdy_zlib *z, const char *const *nv, husk_buf *out, husk_error **err)
{
  if (!z->out_ready)
    {
      size_t dl;
      const uint8_t *d = spdy_dictionary (&dl);
      if (deflateInit (&z->out, Z_DEFAULT_COMPRESSION) != Z_OK
          || deflateSetDictionary (&z->out, d, (uInt) dl) != Z_OK)
        return husk_err (err, ENOMEM, "spdy: deflateInit");
      z->out_ready = true;
    }
  _cleanup_buf_ husk_buf plain = HUSK_BUF_INIT;
  size_t n = 0;
  for (size_t i = 0; nv && nv[i] && nv[i + 1]; i += 2)
    n++;
  uint8_t b[4];
  put32 (b, (uint32_t) n);
  husk_buf_append (&plain, b, 4);
  for (size_t i = 0; i < 2 * n; i++)
    {
      put32 (b, (uint32_t) strlen (nv[i]));
      husk_buf_append (&plain, b, 4);
      husk_buf_puts (&plain, nv[i]);
    }
  z->out.next_in = (Bytef *) plain.data;
  z->out.avail_in = (uInt) plain.len;
  uint8_t chunk[4096];
  do
    {
      z->out.next_out = chunk;
      z->out.avail_out = sizeof chunk;
      if (deflate (&z->out, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
        return husk_err (err, EIO, "spdy: deflate");
      husk_buf_append (out, chunk, sizeof chunk - z->out.avail_out);
    }
  while (z->out.avail_out == 0);
  return 0;
}

static int
encode_with_block (spdy_zlib *z, husk_buf *out, uint16_t type, uint8_t flags, const uint8_t *fixed,
                   size_t fixed_len, const char *const *nv, husk_error **err)
{
  _cleanup_buf_ husk_buf block = HUSK_BUF_INIT;
  int r = deflate_block (z, nv, &block, err);
  if (r < 0)
    return r;
  control_header (out, type, flags, fixed_len + block.len);
  husk_buf_append (out, fixed, fixed_len);
  husk_buf_append (out, block.data, block.len);
  return 0;
}

int
spdy_encode_syn_stream (spdy_zlib *z, husk_buf *out, uint32_t id, uint8_t flags,
                        const char *const *names_values, husk_error **err)
{
  uint8_t fixed[10] = {0};
  put32 (fixed, id & 0x7fffffff);
  return encode_with_block (z, out, SPDY_SYN_STREAM, flags, fixed, sizeof fixed, names_values, err);
}

int
spdy_encode_syn_reply (spdy_zlib *z, husk_buf *out, uint32_t id, uint8_t flags,
                       const char *const *names_values, husk_error **err)
{
  uint8_t fixed[4];
  put32 (fixed, id & 0x7fffffff);
  return encode_with_block (z, out, SPDY_SYN_REPLY, flags, fixed, sizeof fixed, names_values, err);
}
