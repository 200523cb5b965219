/* husk node API: declarations shared by the server's files. */
#ifndef HUSK_NODEAPI_INTERNAL_H
#define HUSK_NODEAPI_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "src/node/nodeapi/nodeapi.h"
#include "src/node/nodeapi/reply.h" /* replies (server.c) */
#include "src/node/nodeapi/ws.h"

struct nodeapi
{
  struct MHD_Daemon *daemon;
  char *rt_root, *log_dir;
  char *token, *token2;
  char *cert_pem, *key_pem;
  int port;
};

/* ---- finding a pod's things (lookup.c) ---- */
/* The uid of pod ns/name running here (uid, when given, must match). ENOENT otherwise. */
int nodeapi_pod_uid (nodeapi *s, const char *ns, const char *name, const char *uid, char **out,
                     husk_error **err);
/* The runtime id of a container ("<uid>-<name>"), checked to exist and run. */
int nodeapi_ctr_id (nodeapi *s, const char *uid, const char *ctr, char **out, husk_error **err);
/* Counts running pod sandboxes and containers. */
void nodeapi_count (nodeapi *s, int *pods, int *ctrs);

/* ---- logs.c ---- */
/* The restart numbers of the <n>.log files in a container's log dir: the highest and the
   one below it (-1 when absent). */
int nodeapi_log_restarts (const char *dir, long *cur, long *prev);

/* ---- endpoints ---- */
enum MHD_Result nodeapi_logs (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n);
enum MHD_Result nodeapi_exec (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n);
enum MHD_Result nodeapi_attach (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n);
enum MHD_Result nodeapi_portforward (nodeapi *s, struct MHD_Connection *c, char **parts,
                                     size_t n);

/* ---- upgraded WebSocket streams (stream.c) ---- */
typedef struct nodeapi_ws
{
  int fd;        /* the client's socket (its TCP socket with TLS) */
  void *tls;     /* gnutls_session_t of the connection, or NULL */
  struct MHD_UpgradeResponseHandle *urh;
  ws_reader rd;
  bool closing; /* a close frame was sent */
} nodeapi_ws;

/* Checks the WebSocket handshake headers and picks the first subprotocol of want (NULL-
   terminated, preference order) that the client offers. Returns the chosen protocol, or
   NULL after queueing a 400 (*ret set). */
const char *nodeapi_ws_negotiate (struct MHD_Connection *c, const char *const *want,
                                  enum MHD_Result *ret);
/* Queues the 101 answer; run(ws, ud) is then called with the stream, which is closed after
   it returns; done(ud) frees ud in any case. run() runs on the connection's own thread
   and does the TLS itself on the connection's session: libmicrohttpd 0.9.75 would relay
   an upgraded TLS connection through an 8-byte buffer (its pool is spent by then). */
enum MHD_Result nodeapi_ws_upgrade (struct MHD_Connection *c, const char *protocol,
                                    void (*run) (nodeapi_ws *ws, void *ud),
                                    void (*done) (void *ud), void *ud);
/* libmicrohttpd leaves TCP_CORK on an upgraded connection: every write would then wait
   up to 200 ms. Turns it off (and Nagle too) on the client's socket. */
void nodeapi_uncork (struct MHD_Connection *c);
/* Sends one binary message; with channel >= 0 its first byte is the channel. */
int nodeapi_ws_send (nodeapi_ws *ws, int channel, const void *data, size_t len);
int nodeapi_ws_send_frame (nodeapi_ws *ws, uint8_t opcode, const void *data, size_t len);
/* Shuts the sockets of all running streams down: their loops see the client leave. */
void nodeapi_streams_shutdown (void);
/* Bytes already decrypted and waiting (poll would not see them). */
bool nodeapi_ws_pending (nodeapi_ws *ws);
/* Reads what is available (blocking once) and feeds the reader; 0 at EOF, < 0 on error. */
ssize_t nodeapi_ws_fill (nodeapi_ws *ws);
/* The next message after nodeapi_ws_fill: pings are answered and close frames echoed
   here. 1 with a data message, 0 for none yet, -1 when the peer closed or broke the
   protocol. */
int nodeapi_ws_next (nodeapi_ws *ws, const uint8_t **data, size_t *len);
void nodeapi_ws_close (nodeapi_ws *ws, uint16_t code);

/* Writes all of data to fd. */
int nodeapi_write_all (int fd, const void *data, size_t len);

#endif
