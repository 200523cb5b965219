/* husk node API: the WebSocket side of exec, attach and port-forward: the handshake on a
   libmicrohttpd upgrade, a thread per stream, and message I/O on the upgraded socket. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/sockio.h"
#include "src/node/nodeapi/nodeapi-internal.h"

int
nodeapi_write_all (int fd, const void *data, size_t len)
{
  return husk_sockio_write_all (fd, NULL, data, len);
}

/* Is tok one of the comma-separated items of list (case-insensitively)? */
static bool
list_has (const char *list, const char *tok)
{
  size_t tl = strlen (tok);
  for (const char *p = list; p && *p;)
    {
      while (*p == ' ' || *p == ',' || *p == '\t')
        p++;
      size_t l = strcspn (p, ", \t");
      if (l == tl && strncasecmp (p, tok, l) == 0)
        return true;
      p += l;
    }
  return false;
}

static enum MHD_Result
collect_protocols (void *ud, enum MHD_ValueKind kind, const char *name, const char *value)
{
  (void) kind;
  if (name && value && strcasecmp (name, "Sec-WebSocket-Protocol") == 0)
    husk_buf_printf (ud, "%s,", value);
  return MHD_YES;
}

const char *
nodeapi_ws_negotiate (struct MHD_Connection *c, const char *const *want, enum MHD_Result *ret)
{
  const char *up = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Upgrade");
  const char *key = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
  if (up == NULL || !list_has (up, "websocket") || key == NULL)
    {
      *ret = nodeapi_reply_status (c, 400, "BadRequest",
                                   "this node streams over WebSocket only (Upgrade: websocket)");
      return NULL;
    }
  /* Several Sec-WebSocket-Protocol headers may come: all of them are looked at. */
  _cleanup_buf_ husk_buf offered = HUSK_BUF_INIT;
  MHD_get_connection_values (c, MHD_HEADER_KIND, collect_protocols, &offered);
  for (size_t w = 0; want[w]; w++)
    if (list_has (husk_buf_str (&offered), want[w]))
      return want[w];
  _cleanup_buf_ husk_buf names = HUSK_BUF_INIT;
  for (size_t w = 0; want[w]; w++)
    husk_buf_printf (&names, "%s%s", w ? ", " : "", want[w]);
  *ret = nodeapi_reply_status (c, 400, "BadRequest",
                               "no supported Sec-WebSocket-Protocol offered (this node speaks %s)",
                               husk_buf_str (&names));
  return NULL;
}

typedef struct upgrade_ctx
{
  void (*run) (nodeapi_ws *ws, void *ud);
  void (*done) (void *ud);
  void *ud;
  nodeapi_ws ws;
  bool handed; /* the upgrade handler ran (it owns the context from then) */
} upgrade_ctx;

void
nodeapi_uncork (struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci == NULL)
    return;
  int off = 0, on = 1;
  setsockopt (ci->connect_fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
  setsockopt (ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static void
ctx_free (upgrade_ctx *u)
{
  if (u->done)
    u->done (u->ud);
  ws_reader_clear (&u->ws.rd);
  free (u);
}

/* The sockets of the streams being served, so that stopping the server can end them. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static int live_fds[1024];
static size_t live_n;

static void
live_add (int fd)
{
  pthread_mutex_lock (&live_lock);
  if (live_n < ARRAY_SIZE (live_fds))
    live_fds[live_n++] = fd;
  pthread_mutex_unlock (&live_lock);
}

static void
live_del (int fd)
{
  pthread_mutex_lock (&live_lock);
  for (size_t i = 0; i < live_n; i++)
    if (live_fds[i] == fd)
      {
        live_fds[i] = live_fds[--live_n];
        break;
      }
  pthread_mutex_unlock (&live_lock);
}

void
nodeapi_streams_shutdown (void)
{
  pthread_mutex_lock (&live_lock);
  for (size_t i = 0; i < live_n; i++)
    shutdown (live_fds[i], SHUT_RDWR);
  pthread_mutex_unlock (&live_lock);
}

static void
on_upgrade (void *cls, struct MHD_Connection *c, void *req_cls, const char *extra,
            size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  (void) req_cls;
  upgrade_ctx *u = cls;
  nodeapi_uncork (c);
  u->ws.fd = sock;
  u->ws.urh = urh;
  const union MHD_ConnectionInfo *ti = MHD_get_connection_info (c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  const union MHD_ConnectionInfo *fi = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ti && ti->tls_session && fi)
    {
      u->ws.tls = ti->tls_session;
      u->ws.fd = fi->connect_fd;
    }
  if (extra_len > 0)
    ws_reader_feed (&u->ws.rd, extra, extra_len);
  live_add (u->ws.fd);
  u->run (&u->ws, u->ud);
  live_del (u->ws.fd);
  MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
  ctx_free (u);
}

enum MHD_Result
nodeapi_ws_upgrade (struct MHD_Connection *c, const char *protocol,
                    void (*run) (nodeapi_ws *ws, void *ud), void (*done) (void *ud), void *ud)
{
  const char *key = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
  upgrade_ctx *u = xzalloc (sizeof *u);
  u->run = run, u->done = done, u->ud = ud;
  u->ws.fd = -1;
  ws_reader_init (&u->ws.rd, true);
  struct MHD_Response *r = MHD_create_response_for_upgrade (on_upgrade, u);
  if (r == NULL)
    {
      ctx_free (u);
      return MHD_NO;
    }
  _cleanup_free_ char *accept = ws_accept_key (key);
  MHD_add_response_header (r, "Upgrade", "websocket");
  MHD_add_response_header (r, "Sec-WebSocket-Accept", accept);
  MHD_add_response_header (r, "Sec-WebSocket-Protocol", protocol);
  enum MHD_Result ret = MHD_queue_response (c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  MHD_destroy_response (r);
  if (ret != MHD_YES)
    ctx_free (u);
  return ret;
}

bool
nodeapi_ws_pending (nodeapi_ws *ws)
{
  return husk_sockio_pending (ws->tls);
}

int
nodeapi_ws_send_frame (nodeapi_ws *ws, uint8_t opcode, const void *data, size_t len)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  ws_encode_frame (&b, opcode, data, len);
  return husk_sockio_write_all (ws->fd, ws->tls, b.data, b.len);
}

int
nodeapi_ws_send (nodeapi_ws *ws, int channel, const void *data, size_t len)
{
  if (channel < 0)
    return nodeapi_ws_send_frame (ws, WS_OP_BINARY, data, len);
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  uint8_t ch = (uint8_t) channel;
  husk_buf_reserve (&b, len + 1);
  husk_buf_append (&b, &ch, 1);
  husk_buf_append (&b, data, len);
  return nodeapi_ws_send_frame (ws, WS_OP_BINARY, b.data, b.len);
}

ssize_t
nodeapi_ws_fill (nodeapi_ws *ws)
{
  char buf[16384];
  ssize_t n = husk_sockio_read (ws->fd, ws->tls, buf, sizeof buf);
  if (n > 0)
    ws_reader_feed (&ws->rd, buf, (size_t) n);
  return n;
}

int
nodeapi_ws_next (nodeapi_ws *ws, const uint8_t **data, size_t *len)
{
  for (;;)
    {
      uint8_t op;
      _cleanup_error_ husk_error *err = NULL;
      int r = ws_reader_next (&ws->rd, &op, data, len, &err);
      if (r < 0)
        {
          log_debug ("node api: websocket protocol error", "error", err->msg);
          nodeapi_ws_close (ws, 1002);
          return -1;
        }
      if (r == 0)
        return 0;
      if (op == WS_OP_PING)
        {
          nodeapi_ws_send_frame (ws, WS_OP_PONG, *data, *len);
          continue;
        }
      if (op == WS_OP_PONG)
        continue;
      if (op == WS_OP_CLOSE)
        {
          nodeapi_ws_close (ws, 1000);
          return -1;
        }
      return 1;
    }
}

void
nodeapi_ws_close (nodeapi_ws *ws, uint16_t code)
{
  if (ws->closing)
    return;
  ws->closing = true;
  uint8_t b[2] = {(uint8_t) (code >> 8), (uint8_t) code};
  nodeapi_ws_send_frame (ws, WS_OP_CLOSE, b, 2);
}
