/* husk node API: SPDY/3.1 framing as kubectl port-forward speaks it (moby/spdystream):
   control frames SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS,
   WINDOW_UPDATE and data frames; name/value blocks compressed with zlib and the SPDY/3
   dictionary, one compression context per direction. */
#ifndef HUSK_NODEAPI_SPDY_H
#define HUSK_NODEAPI_SPDY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "lib/buf.h"
#include "lib/error.h"

#define SPDY_SYN_STREAM 1
#define SPDY_SYN_REPLY 2
#define SPDY_RST_STREAM 3
#define SPDY_SETTINGS 4
#define SPDY_PING 6
#define SPDY_GOAWAY 7
#define SPDY_HEADERS 8
#define SPDY_WINDOW_UPDATE 9

#define SPDY_FLAG_FIN 0x01
#define SPDY_FLAG_UNIDIRECTIONAL 0x02

#define SPDY_RST_PROTOCOL_ERROR 1
#define SPDY_RST_INVALID_STREAM 2
#define SPDY_RST_REFUSED_STREAM 3
#define SPDY_RST_CANCEL 5
#define SPDY_RST_INTERNAL_ERROR 6

/* The largest frame payload accepted (spdystream writes at most 32 KiB of data a frame). */
#define SPDY_MAX_FRAME (1024 * 1024)

typedef struct spdy_frame
{
  bool control;
  uint16_t type;      /* control frames */
  uint8_t flags;
  uint32_t stream_id; /* data frames and the control frames that carry one; 0 otherwise */
  uint32_t value;     /* RST_STREAM status, PING id, WINDOW_UPDATE delta, GOAWAY status */
  const uint8_t *block; /* SYN_STREAM/SYN_REPLY/HEADERS name/value block (compressed) */
  size_t block_len;
  const uint8_t *data; /* data frames */
  size_t len;
} spdy_frame;

/* Parses one frame at the start of buf. Returns the bytes it takes (> 0), 0 when more are
   needed, or < 0 with *err (wrong version, a control frame too short for its type, a
   payload above SPDY_MAX_FRAME). Unknown control types parse (and are to be ignored). */
ssize_t spdy_parse_frame (const uint8_t *buf, size_t len, spdy_frame *out, husk_error **err);

/* Name/value pairs of a decoded block. */
typedef struct spdy_header
{
  char *name, *value;
} spdy_header;

typedef struct spdy_headers
{
  spdy_header *v;
  size_t n;
} spdy_headers;

void spdy_headers_clear (spdy_headers *h);
/* The value of name (names are lowercase on the wire), or NULL. */
const char *spdy_headers_get (const spdy_headers *h, const char *name);

/* One side's zlib state: inflate for what the peer sends, deflate for what we send. */
typedef struct spdy_zlib
{
  z_stream in, out;
  bool in_ready, out_ready;
} spdy_zlib;

void spdy_zlib_init (spdy_zlib *z);
void spdy_zlib_clear (spdy_zlib *z);
/* Inflates and decodes a name/value block (at most 64 KiB once inflated). */
int spdy_headers_decode (spdy_zlib *z, const uint8_t *block, size_t len, spdy_headers *out,
                         husk_error **err);

/* Encoders append one frame each. names_values: name, value, ..., NULL. */
int spdy_encode_syn_stream (spdy_zlib *z, husk_buf *out, uint32_t id, uint8_t flags,
                            const char *const *names_values, husk_error **err);
int spdy_encode_syn_reply (spdy_zlib *z, husk_buf *out, uint32_t id, uint8_t flags,
                           const char *const *names_values, husk_error **err);
void spdy_encode_data (husk_buf *out, uint32_t id, uint8_t flags, const void *data, size_t len);
void spdy_encode_rst (husk_buf *out, uint32_t id, uint32_t status);
void spdy_encode_ping (husk_buf *out, uint32_t id);
void spdy_encode_goaway (husk_buf *out, uint32_t last_id, uint32_t status);

/* The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1). */
const uint8_t *spdy_dictionary (size_t *len);

#endif
