/* husk node API: the HTTPS daemon (libmicrohttpd, a thread per connection, upgrades for the
   streams), bearer-token authentication and the routes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "src/master/api/tls.h"
#include "src/node/nodeapi/nodeapi-internal.h"

enum MHD_Result
nodeapi_reply (struct MHD_Connection *c, unsigned code, const char *ctype, char *body, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer (len, body, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header (r, "Content-Type", ctype);
  enum MHD_Result ret = MHD_queue_response (c, code, r);
  MHD_destroy_response (r);
  return ret;
}

enum MHD_Result
nodeapi_reply_status (struct MHD_Connection *c, unsigned code, const char *reason, const char *fmt,
                      ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  va_end (ap);
  json_t *j = json_pack ("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                         "v1", "metadata", "status", "Failure", "message", msg, "reason", reason,
                         "code", (int) code);
  char *s = husk_json_dump (j);
  json_decref (j);
  return nodeapi_reply (c, code, "application/json", s, strlen (s));
}

enum MHD_Result
nodeapi_reply_error (struct MHD_Connection *c, const husk_error *err)
{
  if (err->errnum == ENOENT)
    return nodeapi_reply_status (c, 404, "NotFound", "%s", err->msg);
  if (err->errnum == EINVAL)
    return nodeapi_reply_status (c, 400, "BadRequest", "%s", err->msg);
  return nodeapi_reply_status (c, 500, "InternalError", "%s", err->msg);
}

const char *
nodeapi_arg (struct MHD_Connection *c, const char *k)
{
  return MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, k);
}

bool
nodeapi_arg_true (struct MHD_Connection *c, const char *k)
{
  const char *v = nodeapi_arg (c, k);
  return v && (streq (v, "true") || streq (v, "1") || streq (v, "True") || streq (v, "TRUE"));
}

/* Compares in time independent of where the strings differ. */
static bool
token_eq (const char *a, const char *b)
{
  if (a == NULL || b == NULL || *b == '\0')
    return false;
  size_t la = strlen (a), lb = strlen (b);
  unsigned char d = la != lb;
  for (size_t i = 0; i < la; i++)
    d |= (unsigned char) (a[i] ^ b[i % lb]);
  return d == 0;
}

static bool
authorized (nodeapi *s, struct MHD_Connection *c)
{
  const char *h = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Authorization");
  if (h == NULL || strncasecmp (h, "Bearer ", 7) != 0)
    return false;
  h += 7;
  while (*h == ' ')
    h++;
  return token_eq (h, s->token) || token_eq (h, s->token2);
}

static enum MHD_Result
metrics (nodeapi *s, struct MHD_Connection *c)
{
  int pods = 0, ctrs = 0;
  nodeapi_count (s, &pods, &ctrs);
  char *body = xasprintf (
      "# HELP kubelet_running_pods Number of pods that have a running pod sandbox\n"
      "# TYPE kubelet_running_pods gauge\nkubelet_running_pods %d\n"
      "# HELP kubelet_running_containers Number of containers currently running\n"
      "# TYPE kubelet_running_containers gauge\n"
      "kubelet_running_containers{container_state=\"running\"} %d\n",
      pods, ctrs);
  return nodeapi_reply (c, 200, "text/plain; version=0.0.4", body, strlen (body));
}

/* Path segments (url-decoded by libmicrohttpd already), NULL-terminated. */
static size_t
split_path (const char *url, char ***out)
{
  _cleanup_free_ char *copy = xstrdup (url);
  char **v = xcalloc (strlen (url) + 2, sizeof (char *));
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r (copy, "/", &save); t; t = strtok_r (NULL, "/", &save))
    v[n++] = xstrdup (t);
  *out = v;
  return n;
}

static enum MHD_Result
route (nodeapi *s, struct MHD_Connection *c, const char *method, const char *url)
{
  _cleanup_strv_ char **parts = NULL;
  size_t n = split_path (url, &parts);
  if (n == 1 && streq (parts[0], "healthz"))
    return nodeapi_reply (c, 200, "text/plain", xstrdup ("ok"), 2);
  if (!authorized (s, c))
    return nodeapi_reply_status (c, 401, "Unauthorized", "Unauthorized");
  bool get = streq (method, "GET"), post = streq (method, "POST");
  if (n == 1 && streq (parts[0], "metrics") && get)
    return metrics (s, c);
  if (n >= 1 && streq (parts[0], "containerLogs") && get)
    return nodeapi_logs (s, c, parts, n);
  if (n >= 1 && streq (parts[0], "exec") && (get || post))
    return nodeapi_exec (s, c, parts, n);
  if (n >= 1 && streq (parts[0], "attach") && (get || post))
    return nodeapi_attach (s, c, parts, n);
  if (n >= 1 && streq (parts[0], "portForward") && (get || post))
    return nodeapi_portforward (s, c, parts, n);
  return nodeapi_reply_status (c, 404, "NotFound", "the node API has no %s %s", method, url);
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
  (void) version, (void) upload;
  static int started;
  if (*req_cls == NULL)
    {
      *req_cls = &started;
      return MHD_YES;
    }
  if (*upload_size > 0)
    {
      *upload_size = 0; /* request bodies are not used */
      return MHD_YES;
    }
  return route (cls, c, method, url);
}

static void
on_mhd_log (void *cls, const char *fmt, va_list ap)
{
  (void) cls;
  _cleanup_free_ char *m = xvasprintf (fmt, ap);
  m[strcspn (m, "\n")] = '\0';
  log_debug ("node api", "mhd", m);
}

static int
parse_addr (const char *bind, int port, struct sockaddr_storage *ss, husk_error **err)
{
  memset (ss, 0, sizeof *ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
  if (bind == NULL || *bind == '\0')
    bind = "0.0.0.0";
  if (inet_pton (AF_INET, bind, &s4->sin_addr) == 1)
    {
      s4->sin_family = AF_INET;
      s4->sin_port = htons ((uint16_t) port);
      return 0;
    }
  if (inet_pton (AF_INET6, bind, &s6->sin6_addr) == 1)
    {
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((uint16_t) port);
      return 0;
    }
  return husk_err (err, EINVAL, "node API address %s: not an IP address", bind);
}

static int
load_cert (nodeapi *s, const char *data_dir, husk_error **err)
{
  _cleanup_free_ char *dir = xasprintf ("%s/nodeapi", data_dir);
  int r = husk_mkdir_p (dir, 0700, err);
  if (r < 0)
    return r;
  api_tls t = {0};
  r = api_tls_ensure (dir, NULL, NULL, &t, err);
  if (r < 0)
    return husk_err_wrap (err, "node API certificate");
  s->cert_pem = TAKE_PTR (t.cert_pem);
  s->key_pem = TAKE_PTR (t.key_pem);
  api_tls_clear (&t);
  return 0;
}

int
nodeapi_start (const nodeapi_config *cfg, nodeapi **out, husk_error **err)
{
  if (cfg->token == NULL || *cfg->token == '\0')
    return husk_err (err, EINVAL, "node API: no token to check callers against");
  struct sockaddr_storage ss;
  int r = parse_addr (cfg->bind, cfg->port, &ss, err);
  if (r < 0)
    return r;
  nodeapi *s = xzalloc (sizeof *s);
  s->rt_root = xstrdup (cfg->rt_root);
  s->log_dir = xstrdup (cfg->log_dir);
  s->token = xstrdup (cfg->token);
  s->token2 = cfg->token2 ? xstrdup (cfg->token2) : NULL;
  r = load_cert (s, cfg->data_dir, err);
  if (r < 0)
    {
      nodeapi_stop (s);
      return r;
    }
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL
                   | MHD_USE_TLS | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
  if (ss.ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon (
      flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_HTTPS_MEM_KEY,
      s->key_pem, MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
      s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 0, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t) (1024 * 1024), MHD_OPTION_THREAD_STACK_SIZE,
      (size_t) (256 * 1024), MHD_OPTION_END);
  if (s->daemon == NULL)
    {
      nodeapi_stop (s);
      return husk_err (err, EADDRINUSE, "node API: cannot listen on %s:%d",
                       cfg->bind ? cfg->bind : "0.0.0.0", cfg->port);
    }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info (s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : cfg->port;
  *out = s;
  return 0;
}

int
nodeapi_port (const nodeapi *s)
{
  return s->port;
}

void
nodeapi_stop (nodeapi *s)
{
  if (s == NULL)
    return;
  if (s->daemon)
    {
      /* Streams run on their connections' threads, which MHD_stop_daemon joins. */
      MHD_quiesce_daemon (s->daemon);
      nodeapi_streams_shutdown ();
      MHD_stop_daemon (s->daemon);
    }
  free (s->rt_root), free (s->log_dir), free (s->token), free (s->token2);
  free (s->cert_pem);
  if (s->key_pem)
    explicit_bzero (s->key_pem, strlen (s->key_pem));
  free (s->key_pem);
  free (s);
}
