/* husk node API: /portForward/{ns}/{pod} (and .../{pod}/{uid}) over WebSocket with the
   subprotocol SPDY/3.1+portforward.k8s.io: the binary messages carry one SPDY/3.1 byte
   stream. Per forwarded connection the client opens an error stream and a data stream
   (headers streamtype, port, requestid); both get a SYN_REPLY, the data stream is joined
   to a TCP connection to 127.0.0.1:<port> made inside the pod's network namespace (setns
   on a short-lived thread), and a failure is written on the error stream. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include "lib/json.h"
#include "lib/log.h"
#include "runtime/runtime.h"
#include "src/node/nodeapi/nodeapi-internal.h"
#include "src/node/nodeapi/spdy.h"

#define PF_MAX_CONNS 256

typedef struct pf_conn
{
  char *request_id;
  int port;
  uint32_t data_id, error_id;
  int fd;
  bool tcp_eof; /* the pod side finished: FIN sent on both streams */
} pf_conn;

typedef struct pf_req
{
  char *rt_root, *uid, *pod;
  pid_t netns_pid;
} pf_req;

typedef struct pf_session
{
  nodeapi_ws *ws;
  pf_req *req;
  spdy_zlib z;
  husk_buf in;  /* SPDY bytes not parsed yet */
  husk_buf out; /* SPDY frames to send */
  pf_conn conns[PF_MAX_CONNS];
  size_t nconns;
  bool done;
} pf_session;

static void
pf_req_free (void *ud)
{
  pf_req *r = ud;
  free (r->rt_root), free (r->uid), free (r->pod);
  free (r);
}

/* ---- connecting inside the pod ------------------------------------------------------------ */

typedef struct dial
{
  pid_t pid;
  int port;
  int fd;
  int err;
} dial;

/* Pod networks normally bring lo up (CNI's loopback plugin); port-forward cannot work
   without it, so a pod whose lo is down gets it up here. */
static void
loopback_up (void)
{
  _cleanup_close_ int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl (s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags & IFF_UP))
    return;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) == 0)
    log_warn ("port-forward: lo was down in the pod's network namespace; brought it up");
}

static void *
dial_main (void *ud)
{
  dial *d = ud;
  _cleanup_free_ char *path = xasprintf ("/proc/%d/ns/net", (int) d->pid);
  _cleanup_close_ int ns = open (path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns (ns, CLONE_NEWNET) < 0)
    {
      d->err = errno;
      return NULL;
    }
  loopback_up ();
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) d->port)};
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      d->err = errno;
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  d->fd = fd;
  return NULL;
}

/* A TCP connection to 127.0.0.1:port in the network namespace of pid. The thread that
   enters the namespace ends right after, so no other work runs there. */
static int
dial_in_netns (pid_t pid, int port, int *out, husk_error **err)
{
  dial d = {pid, port, -1, 0};
  pthread_t t;
  if (pthread_create (&t, NULL, dial_main, &d) != 0)
    return husk_err (err, EAGAIN, "cannot start a thread");
  pthread_join (t, NULL);
  if (d.fd < 0)
    return husk_err_sys (err, d.err, "failed to connect to localhost:%d inside the pod", port);
  *out = d.fd;
  return 0;
}

/* ---- streams ---------------------------------------------------------------------------- */

static pf_conn *
conn_for (pf_session *s, const char *request_id)
{
  for (size_t i = 0; i < s->nconns; i++)
    if (streq (s->conns[i].request_id, request_id))
      return &s->conns[i];
  if (s->nconns == PF_MAX_CONNS)
    return NULL;
  pf_conn *c = &s->conns[s->nconns++];
  *c = (pf_conn){.request_id = xstrdup (request_id), .fd = -1};
  return c;
}

static void
conn_drop (pf_session *s, pf_conn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  free (c->request_id);
  *c = s->conns[--s->nconns];
}

static pf_conn *
conn_by_stream (pf_session *s, uint32_t id)
{
  for (size_t i = 0; i < s->nconns; i++)
    if (s->conns[i].data_id == id || s->conns[i].error_id == id)
      return &s->conns[i];
  return NULL;
}

static void
conn_fail (pf_session *s, pf_conn *c, const char *msg)
{
  if (c->error_id)
    {
      spdy_encode_data (&s->out, c->error_id, 0, msg, strlen (msg));
      spdy_encode_data (&s->out, c->error_id, SPDY_FLAG_FIN, NULL, 0);
    }
  if (c->data_id)
    spdy_encode_data (&s->out, c->data_id, SPDY_FLAG_FIN, NULL, 0);
  conn_drop (s, c);
}

static void
on_syn_stream (pf_session *s, const spdy_frame *f)
{
  spdy_headers h = {0};
  _cleanup_error_ husk_error *err = NULL;
  if (spdy_headers_decode (&s->z, f->block, f->block_len, &h, &err) < 0)
    {
      log_debug ("port-forward: bad headers", "error", err->msg);
      spdy_encode_goaway (&s->out, f->stream_id, SPDY_RST_PROTOCOL_ERROR);
      s->done = true;
      return;
    }
  const char *type = spdy_headers_get (&h, "streamtype");
  const char *port = spdy_headers_get (&h, "port");
  const char *rid = spdy_headers_get (&h, "requestid");
  static const char *const none[] = {NULL};
  if (spdy_encode_syn_reply (&s->z, &s->out, f->stream_id, 0, none, &err) < 0)
    s->done = true;
  char *end = NULL;
  long p = port ? strtol (port, &end, 10) : 0;
  pf_conn *c = rid && type ? conn_for (s, rid) : NULL;
  if (c == NULL || end == port || *end || p < 1 || p > 65535)
    {
      spdy_encode_rst (&s->out, f->stream_id, SPDY_RST_REFUSED_STREAM);
      spdy_headers_clear (&h);
      return;
    }
  c->port = (int) p;
  if (streq (type, "error"))
    c->error_id = f->stream_id;
  else if (streq (type, "data"))
    {
      c->data_id = f->stream_id;
      if (dial_in_netns (s->req->netns_pid, c->port, &c->fd, &err) < 0)
        {
          _cleanup_free_ char *m = xasprintf ("error forwarding port %d to pod %s, uid %s: %s",
                                              c->port, s->req->pod, s->req->uid, err->msg);
          conn_fail (s, c, m);
        }
    }
  else
    spdy_encode_rst (&s->out, f->stream_id, SPDY_RST_REFUSED_STREAM);
  spdy_headers_clear (&h);
}

static void
on_frame (pf_session *s, const spdy_frame *f)
{
  if (!f->control)
    {
      pf_conn *c = conn_by_stream (s, f->stream_id);
      if (c == NULL || f->stream_id != c->data_id || c->fd < 0)
        return;
      if (f->len && nodeapi_write_all (c->fd, f->data, f->len) < 0)
        conn_fail (s, c, "the pod closed the connection");
      else if (f->flags & SPDY_FLAG_FIN)
        shutdown (c->fd, SHUT_WR);
      return;
    }
  switch (f->type)
    {
    case SPDY_SYN_STREAM: on_syn_stream (s, f); break;
    case SPDY_PING: spdy_encode_ping (&s->out, f->value); break;
    case SPDY_GOAWAY: s->done = true; break;
    case SPDY_RST_STREAM:
      {
        pf_conn *c = conn_by_stream (s, f->stream_id);
        if (c && (c->data_id == f->stream_id || c->fd < 0))
          conn_drop (s, c);
        break;
      }
    default: break; /* SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do */
    }
}

static void
on_spdy_bytes (pf_session *s, const uint8_t *data, size_t len)
{
  husk_buf_append (&s->in, data, len);
  size_t off = 0;
  while (!s->done)
    {
      spdy_frame f;
      _cleanup_error_ husk_error *err = NULL;
      ssize_t n = spdy_parse_frame ((const uint8_t *) s->in.data + off, s->in.len - off, &f, &err);
      if (n < 0)
        {
          log_debug ("port-forward: protocol error", "error", err->msg);
          s->done = true;
        }
      if (n <= 0)
        break;
      on_frame (s, &f);
      off += (size_t) n;
    }
  memmove (s->in.data, s->in.data + off, s->in.len - off);
  s->in.len -= off;
}

static void
from_pod (pf_session *s, pf_conn *c)
{
  char buf[32768];
  ssize_t n = read (c->fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR)
    return;
  if (n > 0)
    {
      spdy_encode_data (&s->out, c->data_id, 0, buf, (size_t) n);
      return;
    }
  spdy_encode_data (&s->out, c->data_id, SPDY_FLAG_FIN, NULL, 0);
  if (c->error_id)
    spdy_encode_data (&s->out, c->error_id, SPDY_FLAG_FIN, NULL, 0);
  conn_drop (s, c);
}

static int
flush (pf_session *s)
{
  if (s->out.len == 0)
    return 0;
  int r = nodeapi_ws_send (s->ws, -1, s->out.data, s->out.len);
  husk_buf_reset (&s->out);
  return r;
}

static void
pf_run (nodeapi_ws *ws, void *ud)
{
  pf_session *s = xzalloc (sizeof *s);
  s->ws = ws;
  s->req = ud;
  spdy_zlib_init (&s->z);
  while (!s->done && flush (s) == 0)
    {
      struct pollfd pf[PF_MAX_CONNS + 1];
      pf[0] = (struct pollfd){ws->fd, POLLIN, 0};
      for (size_t i = 0; i < s->nconns; i++)
        pf[i + 1] = (struct pollfd){s->conns[i].fd, POLLIN, 0};
      size_t n = s->nconns;
      bool pend = nodeapi_ws_pending (ws);
      if (poll (pf, n + 1, pend ? 0 : -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      /* Pod sides first (by request id: conn_drop moves entries). */
      for (size_t i = n; i > 0; i--)
        if (pf[i].revents && i - 1 < s->nconns && s->conns[i - 1].fd == pf[i].fd)
          from_pod (s, &s->conns[i - 1]);
      if (pf[0].revents || pend)
        {
          if (nodeapi_ws_fill (ws) <= 0)
            break;
          const uint8_t *d;
          size_t l;
          int r = 0;
          while (!s->done && (r = nodeapi_ws_next (ws, &d, &l)) > 0)
            on_spdy_bytes (s, d, l);
          if (r < 0)
            break;
        }
    }
  flush (s);
  while (s->nconns)
    conn_drop (s, &s->conns[0]);
  spdy_zlib_clear (&s->z);
  husk_buf_free (&s->in), husk_buf_free (&s->out);
  free (s);
}

enum MHD_Result
nodeapi_portforward (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n)
{
  if (n != 3 && n != 4)
    return nodeapi_reply_status (c, 404, "NotFound", "use /portForward/{namespace}/{pod}");
  static const char *const protos[] = {"SPDY/3.1+portforward.k8s.io", NULL};
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *uid = NULL;
  if (nodeapi_pod_uid (s, parts[1], parts[2], n == 4 ? parts[3] : NULL, &uid, &err) < 0)
    return nodeapi_reply_error (c, err);
  _cleanup_free_ char *sandbox = xasprintf ("pod-%s", uid);
  _cleanup_json_ json_t *st = NULL;
  if (rt_container_state (s->rt_root, sandbox, &st, &err) < 0)
    return nodeapi_reply_status (c, 404, "NotFound", "pod %s/%s has no sandbox on this node",
                                 parts[1], parts[2]);
  json_int_t pid = husk_json_path_int (st, "pid", 0);
  if (pid <= 0)
    return nodeapi_reply_status (c, 404, "NotFound", "pod %s/%s is not running", parts[1],
                                 parts[2]);
  enum MHD_Result ret = MHD_NO;
  const char *proto = nodeapi_ws_negotiate (c, protos, &ret);
  if (proto == NULL)
    return ret;
  pf_req *r = xzalloc (sizeof *r);
  r->rt_root = xstrdup (s->rt_root);
  r->uid = TAKE_PTR (uid);
  r->pod = xasprintf ("%s/%s", parts[1], parts[2]);
  r->netns_pid = (pid_t) pid;
  return nodeapi_ws_upgrade (c, proto, pf_run, pf_req_free, r);
}
