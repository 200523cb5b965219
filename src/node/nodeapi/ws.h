/* husk node API: WebSocket (RFC 6455) framing for the server side of exec, attach and
   port-forward streams. Client frames are masked; server frames are not. */
#ifndef HUSK_NODEAPI_WS_H
#define HUSK_NODEAPI_WS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/error.h"

#define WS_OP_CONT 0x0
#define WS_OP_TEXT 0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE 0x8
#define WS_OP_PING 0x9
#define WS_OP_PONG 0xa

/* The largest message a client may send (stdin chunks, resize, SPDY frames). */
#define WS_MAX_MESSAGE (1024 * 1024)

typedef struct ws_frame
{
  bool fin;
  uint8_t opcode;
  uint8_t *payload; /* points into the parsed buffer, unmasked in place */
  size_t len;
} ws_frame;

/* Parses one frame at the start of buf[0..len). Returns the bytes it takes (> 0), 0 when
   the frame is not complete yet, or < 0 with *err set (reserved bits, unknown opcode,
   control frame too long or fragmented, unmasked client frame when require_mask, payload
   above max). The payload is unmasked in place. */
ssize_t ws_parse_frame (uint8_t *buf, size_t len, bool require_mask, size_t max, ws_frame *out,
                        husk_error **err);

/* Appends one unmasked frame with FIN set. */
void ws_encode_frame (husk_buf *out, uint8_t opcode, const void *data, size_t len);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (base64 of SHA-1 of key + GUID). */
char *ws_accept_key (const char *key);

/* Reassembles messages out of frames. Feed bytes with ws_reader_feed, then take messages
   with ws_reader_next until it returns 0. */
typedef struct ws_reader
{
  husk_buf in;  /* bytes not parsed yet */
  size_t off;   /* parsed prefix of in */
  husk_buf msg; /* fragments of the message being assembled */
  uint8_t msg_op;
  bool in_msg;
  bool require_mask;
} ws_reader;

void ws_reader_init (ws_reader *r, bool require_mask);
void ws_reader_feed (ws_reader *r, const void *data, size_t len);
/* 1 with the opcode, data and length (valid until the next call) for a whole message or a control
   frame, 0 when more bytes are needed, < 0 on a protocol error. */
int ws_reader_next (ws_reader *r, uint8_t *opcode, const uint8_t **data, size_t *len,
                    husk_error **err);
void ws_reader_clear (ws_reader *r);

#endif
