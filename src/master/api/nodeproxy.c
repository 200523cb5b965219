/* husk api: the master's side of the node API. A request for a pod's stream becomes a
   request to /containerLogs, /exec, /attach or /portForward of the pod's node, with the
   pod's uid in the path so that a pod recreated under the same name is never confused. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/sockio.h"
#include "src/master/api/api-internal.h"
#include "src/master/api/nodeproxy.h"
#include "src/master/store/store.h"

#define NODE_CONNECT_TIMEOUT_MS 10000
#define NODE_HEADERS_MAX (64 * 1024)

/* ---- a TLS connection to a node ---------------------------------------------------------- */

typedef struct node_conn
{
  int fd;
  gnutls_session_t tls;
  gnutls_certificate_credentials_t cred;
  husk_buf rest; /* bytes read past the response headers */
  unsigned code;
  char *head;    /* the response headers (status line and fields) */
} node_conn;

static void
node_conn_free (node_conn *n)
{
  if (n == NULL)
    return;
  if (n->tls)
    {
      gnutls_bye (n->tls, GNUTLS_SHUT_WR);
      gnutls_deinit (n->tls);
    }
  if (n->cred)
    gnutls_certificate_free_credentials (n->cred);
  if (n->fd >= 0)
    close (n->fd);
  husk_buf_free (&n->rest);
  free (n->head);
  free (n);
}

static int
tcp_connect (const char *host, int port, int *out, husk_error **err)
{
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
  char ps[16];
  snprintf (ps, sizeof ps, "%d", port);
  int g = getaddrinfo (host, ps, &hints, &ai);
  if (g != 0)
    return husk_err (err, EHOSTUNREACH, "node address %s: %s", host, gai_strerror (g));
  int fd = socket (ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int r = fd < 0 ? -errno : 0;
  if (r == 0 && connect (fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
    r = -errno;
  if (r == 0)
    {
      struct pollfd pf = {fd, POLLOUT, 0};
      int e = 0;
      socklen_t el = sizeof e;
      if (poll (&pf, 1, NODE_CONNECT_TIMEOUT_MS) <= 0)
        r = -ETIMEDOUT;
      else if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0)
        r = -(e ? e : errno);
    }
  freeaddrinfo (ai);
  if (r < 0)
    {
      if (fd >= 0)
        close (fd);
      return husk_err_sys (err, -r, "connect to the node at %s:%d", host, port);
    }
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  *out = fd;
  return 0;
}

static int
tls_open (node_conn *n, const char *host, int port, husk_error **err)
{
  int r = tcp_connect (host, port, &n->fd, err);
  if (r < 0)
    return r;
  if (gnutls_certificate_allocate_credentials (&n->cred) < 0
      || gnutls_init (&n->tls, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority (n->tls) < 0
      || gnutls_credentials_set (n->tls, GNUTLS_CRD_CERTIFICATE, n->cred) < 0)
    return husk_err (err, ENOMEM, "TLS setup for the node");
  gnutls_transport_set_int (n->tls, n->fd);
  gnutls_handshake_set_timeout (n->tls, NODE_CONNECT_TIMEOUT_MS);
  int h;
  do
    h = gnutls_handshake (n->tls);
  while (h < 0 && !gnutls_error_is_fatal (h));
  if (h < 0)
    return husk_err (err, EPROTO, "TLS handshake with the node at %s:%d: %s", host, port,
                     gnutls_strerror (h));
  return 0;
}

static int
tls_write_all (gnutls_session_t s, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = gnutls_record_send (s, p, len);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

static ssize_t
tls_read (gnutls_session_t s, void *buf, size_t len)
{
  ssize_t n;
  do
    n = gnutls_record_recv (s, buf, len);
  while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
  if (n == GNUTLS_E_PREMATURE_TERMINATION)
    return 0;
  return n;
}

/* Reads the response's status line and headers; what follows them stays in n->rest. */
static int
read_head (node_conn *n, husk_error **err)
{
  husk_buf b = HUSK_BUF_INIT;
  char *end = NULL;
  while ((end = b.data ? strstr (b.data, "\r\n\r\n") : NULL) == NULL)
    {
      char buf[4096];
      ssize_t r = tls_read (n->tls, buf, sizeof buf);
      if (r <= 0 || b.len > NODE_HEADERS_MAX)
        {
          husk_buf_free (&b);
          return husk_err (err, EPROTO, "the node closed the connection before answering");
        }
      husk_buf_append (&b, buf, (size_t) r);
    }
  size_t hl = (size_t) (end - b.data) + 4;
  husk_buf_append (&n->rest, b.data + hl, b.len - hl);
  n->head = xstrndup (b.data, hl);
  husk_buf_free (&b);
  unsigned code = 0;
  if (sscanf (n->head, "HTTP/1.%*c %u", &code) != 1 || code < 100)
    return husk_err (err, EPROTO, "the node answered something that is not HTTP");
  n->code = code;
  return 0;
}

/* The value of header name in the response head, or NULL (to be freed). */
static char *
head_field (const char *head, const char *name)
{
  size_t nl = strlen (name);
  for (const char *p = strstr (head, "\r\n"); p && p[2]; p = strstr (p + 2, "\r\n"))
    {
      const char *l = p + 2;
      if (strncasecmp (l, name, nl) == 0 && l[nl] == ':')
        {
          const char *v = l + nl + 1;
          while (*v == ' ' || *v == '\t')
            v++;
          return xstrndup (v, strcspn (v, "\r\n"));
        }
    }
  return NULL;
}

/* ---- what to ask the node ---------------------------------------------------------------- */

typedef struct target
{
  char *host;
  int port;
  char *path; /* with the query */
} target;

static enum MHD_Result
add_arg (void *ud, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void) kind;
  husk_buf *b = ud;
  if (streq (key, "container"))
    return MHD_YES;
  husk_buf_putc (b, b->len ? '&' : '?');
  husk_buf_put_urlencoded (b, key);
  husk_buf_putc (b, '=');
  husk_buf_put_urlencoded (b, value ? value : "");
  return MHD_YES;
}

/* The container a request means: ?container=, else the default-container annotation, else
   the only container. */
static const char *
pick_container (api_req *r, json_t *pod, const char *name)
{
  const char *c = api_query (r, "container");
  if (c && *c)
    return c;
  json_t *anns = husk_json_path (pod, "metadata.annotations");
  c = json_string_value (json_object_get (anns, "kubectl.kubernetes.io/default-container"));
  if (c && *c)
    return c;
  json_t *ctrs = husk_json_path (pod, "spec.containers");
  if (json_array_size (ctrs) == 1)
    return husk_json_path_str (json_array_get (ctrs, 0), "name");
  husk_buf names = HUSK_BUF_INIT;
  size_t i;
  json_t *x;
  json_array_foreach (ctrs, i, x)
  husk_buf_printf (&names, "%s%s", i ? " " : "", husk_json_path_str (x, "name"));
  api_reply_error (r, 400, "BadRequest",
                   "a container name must be specified for pod %s, choose one of: [%s]", name,
                   husk_buf_str (&names));
  husk_buf_free (&names);
  return NULL;
}

static bool
has_container (json_t *pod, const char *name)
{
  static const char *const lists[] = {"spec.containers", "spec.initContainers",
                                      "spec.ephemeralContainers"};
  for (size_t l = 0; l < ARRAY_SIZE (lists); l++)
    {
      size_t i;
      json_t *c;
      json_array_foreach (husk_json_path (pod, lists[l]), i, c)
      {
        const char *n = husk_json_path_str (c, "name");
        if (n && streq (n, name))
          return true;
      }
    }
  return false;
}

/* Where the node API of node is: InternalIP (else the first address) and the kubelet port. */
static bool
node_endpoint (api_req *r, const char *node, target *t)
{
  _cleanup_free_ char *json = NULL;
  if (store_get (r->srv->store, "nodes", NULL, node, &json, NULL, NULL) < 0)
    {
      api_reply_error (r, 503, "ServiceUnavailable", "node %s of the pod is not registered", node);
      return false;
    }
  _cleanup_json_ json_t *n = json_loads (json, 0, NULL);
  const char *ip = NULL;
  size_t i;
  json_t *a;
  json_array_foreach (husk_json_path (n, "status.addresses"), i, a)
  {
    const char *type = husk_json_path_str (a, "type");
    if (ip == NULL || (type && streq (type, "InternalIP")))
      ip = husk_json_path_str (a, "address");
    if (type && streq (type, "InternalIP"))
      break;
  }
  json_int_t port = husk_json_path_int (n, "status.daemonEndpoints.kubeletEndpoint.Port", 0);
  if (ip == NULL || port <= 0 || port > 65535)
    {
      api_reply_error (r, 503, "ServiceUnavailable",
                       "node %s does not serve the node API (no address or port in its status)",
                       node);
      return false;
    }
  t->host = xstrdup (ip);
  t->port = (int) port;
  return true;
}

static bool
make_target (api_req *r, const api_route *rt, json_t *pod, target *t)
{
  const char *node = husk_json_path_str (pod, "spec.nodeName");
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  if (node == NULL || *node == '\0' || uid == NULL)
    {
      api_reply_error (r, 400, "BadRequest", "pod %s does not have a host assigned", rt->name);
      return false;
    }
  const char *ctr = NULL;
  if (!streq (rt->sub, "portforward"))
    {
      ctr = pick_container (r, pod, rt->name);
      if (ctr == NULL)
        return false;
      if (!has_container (pod, ctr))
        {
          api_reply_error (r, 400, "BadRequest", "container %s is not valid for pod %s", ctr,
                           rt->name);
          return false;
        }
    }
  if (!node_endpoint (r, node, t))
    return false;
  husk_buf q = HUSK_BUF_INIT;
  MHD_get_connection_values (r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
  const char *verb = streq (rt->sub, "log")      ? "containerLogs"
                     : streq (rt->sub, "exec")   ? "exec"
                     : streq (rt->sub, "attach") ? "attach"
                                                 : "portForward";
  if (ctr)
    t->path = xasprintf ("/%s/%s/%s/%s/%s%s", verb, rt->ns, rt->name, uid, ctr, husk_buf_str (&q));
  else
    t->path = xasprintf ("/%s/%s/%s/%s%s", verb, rt->ns, rt->name, uid, husk_buf_str (&q));
  husk_buf_free (&q);
  return true;
}

/* ---- asking ---------------------------------------------------------------------------- */

/* A client header, or (a probe for a SPDY client, see api_node_proxy) a stand-in. */
static void
add_client_header (api_req *r, husk_buf *req, const char *name, const char *stand_in)
{
  const char *v = api_header (r, name);
  if (v == NULL)
    v = stand_in;
  if (v)
    husk_buf_printf (req, "%s: %s\r\n", name, v);
}

/* Sends the request to the node and reads its answer's head, with the node token and
   then, on a 401, the admin token. */
static int
ask_node (api_req *r, const target *t, bool upgrade, node_conn **out, husk_error **err)
{
  const char *tokens[2] = {r->srv->auth.node_token, r->srv->auth.admin_token};
  for (int k = 0; k < 2; k++)
    {
      node_conn *n = xzalloc (sizeof *n);
      n->fd = -1;
      int ret = tls_open (n, t->host, t->port, err);
      if (ret == 0)
        {
          husk_buf req = HUSK_BUF_INIT;
          husk_buf_printf (&req, "GET %s HTTP/1.%d\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n",
                           t->path, upgrade ? 1 : 0, t->host, t->port, tokens[k]);
          if (upgrade)
            {
              husk_buf_puts (&req, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
              bool probe = api_header (r, "Sec-WebSocket-Key") == NULL;
              add_client_header (r, &req, "Sec-WebSocket-Key",
                                 probe ? "dGhlIHNhbXBsZSBub25jZQ==" : NULL);
              add_client_header (r, &req, "Sec-WebSocket-Version", probe ? "13" : NULL);
              add_client_header (r, &req, "Sec-WebSocket-Protocol",
                                 !probe                      ? NULL
                                 : strstr (t->path, "/portForward/") ? "SPDY/3.1+portforward.k8s.io"
                                                             : "v5.channel.k8s.io");
            }
          husk_buf_puts (&req, "\r\n");
          if (tls_write_all (n->tls, req.data, req.len) < 0)
            ret = husk_err (err, EPIPE, "sending the request to the node failed");
          husk_buf_free (&req);
        }
      if (ret == 0)
        ret = read_head (n, err);
      if (ret < 0)
        {
          node_conn_free (n);
          return ret;
        }
      if (n->code != 401 || k == 1)
        {
          *out = n;
          return 0;
        }
      node_conn_free (n);
    }
  return husk_err (err, EACCES, "unreachable");
}

/* A non-upgraded answer, relayed as it streams (logs, and errors of upgrades). */
static ssize_t
relay_body (void *cls, uint64_t pos, char *buf, size_t max)
{
  (void) pos;
  node_conn *n = cls;
  if (n->rest.len > 0)
    {
      size_t k = n->rest.len < max ? n->rest.len : max;
      memcpy (buf, n->rest.data, k);
      memmove (n->rest.data, n->rest.data + k, n->rest.len - k);
      n->rest.len -= k;
      return (ssize_t) k;
    }
  ssize_t got = tls_read (n->tls, buf, max);
  if (got == 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  return got < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : got;
}

static void
relay_free (void *cls)
{
  node_conn_free (cls);
}

static enum MHD_Result
reply_streamed (api_req *r, node_conn *n)
{
  _cleanup_free_ char *ctype = head_field (n->head, "Content-Type");
  _cleanup_free_ char *clen = head_field (n->head, "Content-Length");
  uint64_t size = clen ? strtoull (clen, NULL, 10) : MHD_SIZE_UNKNOWN;
  unsigned code = n->code;
  struct MHD_Response *resp = MHD_create_response_from_callback (size, 32 * 1024, relay_body, n,
                                                                 relay_free);
  if (resp == NULL)
    {
      node_conn_free (n);
      return MHD_NO;
    }
  MHD_add_response_header (resp, "Content-Type", ctype ? ctype : "text/plain");
  enum MHD_Result ret = MHD_queue_response (r->conn, code, resp);
  MHD_destroy_response (resp);
  return ret;
}

/* ---- the upgrade pass-through ------------------------------------------------------------ */

/* The client's side of an upgraded connection: its TCP socket and TLS session (none on
   the plain port, where fd is the socket libmicrohttpd hands over). */
typedef struct client_io
{
  int fd;
  gnutls_session_t tls;
} client_io;

typedef struct relay
{
  node_conn *node;
} relay;

/* Relays both ways until either side ends. */
static void
relay_run (client_io *c, node_conn *n, const char *extra, size_t extra_len)
{
  bool ok = husk_sockio_write_all (c->fd, c->tls, n->rest.data, n->rest.len) == 0
            && tls_write_all (n->tls, extra, extra_len) == 0;
  char buf[16384];
  while (ok)
    {
      bool cp = husk_sockio_pending (c->tls);
      bool np = gnutls_record_check_pending (n->tls) > 0;
      struct pollfd pf[2] = {{c->fd, POLLIN, 0}, {n->fd, POLLIN, 0}};
      if (poll (pf, 2, cp || np ? 0 : -1) < 0)
        {
          ok = errno == EINTR;
          continue;
        }
      if (cp || pf[0].revents)
        {
          ssize_t k = husk_sockio_read (c->fd, c->tls, buf, sizeof buf);
          ok = k > 0 && tls_write_all (n->tls, buf, (size_t) k) == 0;
        }
      if (ok && (np || pf[1].revents))
        {
          ssize_t k = tls_read (n->tls, buf, sizeof buf);
          ok = k > 0 && husk_sockio_write_all (c->fd, c->tls, buf, (size_t) k) == 0;
        }
    }
}

/* Runs on the connection's own thread and does the client's TLS itself: libmicrohttpd
   0.9.75 relays an upgraded TLS connection through an 8-byte buffer (its pool is spent by
   then), which made a 3 MB `kubectl cp` take minutes. */
static void
on_upgrade (void *cls, struct MHD_Connection *c, void *req_cls, const char *extra,
            size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  (void) req_cls;
  relay *x = cls;
  client_io io = {sock, NULL};
  const union MHD_ConnectionInfo *ti = MHD_get_connection_info (c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  const union MHD_ConnectionInfo *fi = MHD_get_connection_info (c, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ti && ti->tls_session && fi)
    io = (client_io){fi->connect_fd, ti->tls_session};
  if (fi)
    {
      /* libmicrohttpd leaves TCP_CORK on: each relayed write would wait up to 200 ms. */
      int off = 0, on = 1;
      setsockopt (fi->connect_fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
      setsockopt (fi->connect_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
  relay_run (&io, x->node, extra, extra_len);
  MHD_upgrade_action (urh, MHD_UPGRADE_ACTION_CLOSE);
  node_conn_free (x->node);
  free (x);
}

static enum MHD_Result
reply_upgraded (api_req *r, node_conn *n)
{
  relay *x = xzalloc (sizeof *x);
  x->node = n;
  struct MHD_Response *resp = MHD_create_response_for_upgrade (on_upgrade, x);
  if (resp == NULL)
    {
      node_conn_free (n);
      free (x);
      return MHD_NO;
    }
  static const char *const fields[] = {"Upgrade", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol"};
  for (size_t i = 0; i < ARRAY_SIZE (fields); i++)
    {
      _cleanup_free_ char *v = head_field (n->head, fields[i]);
      if (v)
        MHD_add_response_header (resp, fields[i], v);
    }
  enum MHD_Result ret = MHD_queue_response (r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
  MHD_destroy_response (resp);
  return ret;
}

static bool
wants_websocket (api_req *r)
{
  const char *up = api_header (r, "Upgrade");
  return up && strcasestr (up, "websocket") && api_header (r, "Sec-WebSocket-Key");
}

enum MHD_Result
api_node_proxy (api_req *r, const api_route *rt, const char *pod_json)
{
  bool log = streq (rt->sub, "log");
  if (log ? !streq (r->method, "GET") : !streq (r->method, "GET") && !streq (r->method, "POST"))
    return api_reply_error (r, 405, "MethodNotAllowed", "pods/%s does not take %s", rt->sub,
                            r->method);
  /* kubectl falls back to SPDY on any answer to its WebSocket request but a 101, and then
     shows only what the fallback got. A SPDY request is therefore tried on the node as a
     WebSocket one first: the node's error (container not found, stdin refused...) is what
     the client sees; only if the node would accept does the answer say SPDY is not spoken. */
  bool spdy_probe = !log && !wants_websocket (r);
  bool upgrade = !log;
  _cleanup_json_ json_t *pod = json_loads (pod_json, 0, NULL);
  target t = {0};
  if (!make_target (r, rt, pod, &t))
    {
      free (t.host), free (t.path);
      return MHD_YES;
    }
  node_conn *n = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int ret = ask_node (r, &t, upgrade, &n, &err);
  free (t.host), free (t.path);
  if (ret < 0)
    return api_reply_error (r, 502, "BadGateway", "pods/%s %s: %s", rt->sub, rt->name, err->msg);
  if (spdy_probe && n->code == 101)
    {
      node_conn_free (n);
      return api_reply_error (r, 400, "BadRequest",
                              "pods/%s: this server streams over WebSocket only "
                              "(v5.channel.k8s.io; SPDY/3.1 upgrades are not served)",
                              rt->sub);
    }
  if (upgrade && n->code == 101)
    return reply_upgraded (r, n);
  return reply_streamed (r, n);
}
