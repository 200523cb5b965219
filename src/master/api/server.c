/* husk api: the HTTPS server (libmicrohttpd + GnuTLS), authentication and routing. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "lib/log.h"
#include "lib/path.h"
#include "src/master/api/api-internal.h"
#include "src/master/api/cork.h"
#include "src/master/api/getcache.h"
#include "src/master/api/namespaces.h"
#include "src/master/api/token.h"

size_t
api_split_path (const char *path, char ***out)
{
  /* One block: the pointer array (at most one segment per two bytes of path, plus the NULL)
     followed by a copy of the path cut into its segments. */
  size_t len = strlen (path), max = len / 2 + 2;
  char **v = xmalloc (max * sizeof *v + len + 1);
  char *text = (char *) (v + max);
  memcpy (text, path, len + 1);
  size_t n = 0;
  char *p = text;
  while (*p)
    {
      while (*p == '/')
        p++;
      if (!*p)
        break;
      v[n++] = p;
      p += strcspn (p, "/");
      if (*p)
        *p++ = '\0';
    }
  v[n] = NULL;
  *out = v;
  return n;
}

static enum MHD_Result
serve_version (api_req *r)
{
  return api_reply_json (
      r, 200,
      json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor", "32",
                 "gitVersion", "v1.32.0+husk-" PACKAGE_VERSION, "gitCommit", HUSK_GIT_COMMIT,
                 "gitTreeState", "clean", "buildDate", "2026-01-01T00:00:00Z", "goVersion",
                 "c", "compiler", "gcc", "platform", "linux/amd64"));
}

static enum MHD_Result
serve_health (api_req *r, const char *what)
{
  if (api_query (r, "verbose"))
    {
      char *s = xasprintf ("[+]ping ok\n[+]store ok\n%s check passed\n", what);
      return api_reply_raw (r, 200, "text/plain; charset=utf-8", s, strlen (s));
    }
  return api_reply_raw (r, 200, "text/plain; charset=utf-8", xstrdup ("ok"), 2);
}

static bool
is_public (const char *path)
{
  return streq (path, "/version") || streq (path, "/healthz") || streq (path, "/livez")
         || streq (path, "/readyz") || strncmp (path, "/healthz/", 9) == 0
         || strncmp (path, "/livez/", 7) == 0 || strncmp (path, "/readyz/", 8) == 0;
}

static enum MHD_Result
route (api_req *r)
{
  _cleanup_free_ char **parts = NULL;
  size_t n = api_split_path (r->path, &parts);
  if (n == 0)
    return api_reply_json (
        r, 200, json_pack ("{s:[s,s,s,s,s,s,s]}", "paths", "/api", "/api/v1", "/apis", "/healthz",
                           "/livez", "/openapi/v3", "/version"));
  if (streq (parts[0], "version") && n == 1)
    return serve_version (r);
  if (streq (parts[0], "healthz") || streq (parts[0], "livez") || streq (parts[0], "readyz"))
    return serve_health (r, parts[0]);
  if (streq (parts[0], "openapi"))
    return api_serve_openapi (r, parts, n);
  if (streq (parts[0], "api") || streq (parts[0], "apis"))
    {
      /* /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v> are discovery; deeper is a resource. */
      size_t disc = streq (parts[0], "api") ? 2 : 3;
      if (n <= disc)
        return api_serve_discovery (r, parts, n);
      return api_serve_resource (r, parts, n);
    }
  return api_reply_error (r, 404, "NotFound", "the server could not find the requested resource");
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
            const char *version, const char *upload_data, size_t *upload_data_size,
            void **con_cls)
{
  api_server *srv = cls;
  api_req *r = *con_cls;
  if (r == NULL)
    {
      r = xzalloc (sizeof *r);
      r->srv = srv;
      r->conn = conn;
      r->method = method;
      r->path = xstrdup (url);
      const union MHD_ConnectionInfo *ci
          = MHD_get_connection_info (conn, MHD_CONNECTION_INFO_DAEMON);
      r->plain = ci != NULL && srv->plain_daemon != NULL && ci->daemon == srv->plain_daemon;
      *con_cls = r;
      const char *cl = api_header (r, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (cl && strtoull (cl, NULL, 10) > API_MAX_BODY)
        r->too_large = true;
      if (r->too_large)
        return api_reply_error (r, 413, "RequestEntityTooLarge",
                                "the request body is larger than the 3 MiB limit");
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      if (!r->too_large && r->body.len + *upload_data_size <= API_MAX_BODY)
        husk_buf_append (&r->body, upload_data, *upload_data_size);
      else
        r->too_large = true;
      *upload_data_size = 0;
      return MHD_YES;
    }
  if (r->too_large)
    return api_reply_error (r, 413, "RequestEntityTooLarge",
                            "the request body is larger than the 3 MiB limit");
  if (r->plain)
    r->user = "admin";
  else
    {
      const char *authz = api_header (r, MHD_HTTP_HEADER_AUTHORIZATION);
      r->user = api_auth_check (&srv->auth, authz);
      size_t tlen = 0;
      const char *tok = r->user ? NULL : api_auth_bearer (authz, &tlen);
      if (tok && memchr (tok, '.', tlen))
        r->user = r->user_buf = api_token_user (srv, tok, tlen);
      if (r->user == NULL && (authz != NULL || !is_public (r->path)))
        return api_reply_error (r, 401, "Unauthorized", "Unauthorized");
    }
  return route (r);
}

static void
on_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  api_req *r = *con_cls;
  if (r == NULL)
    return;
  api_cork_flush (r);
  free (r->path);
  free (r->user_buf);
  husk_buf_free (&r->body);
  json_decref (r->warnings);
  free (r);
  *con_cls = NULL;
}

/* local.c serves the master's in-process clients with the same handlers. */
MHD_AccessHandlerCallback const api_server_on_request = on_request;
MHD_RequestCompletedCallback const api_server_on_completed = on_completed;

static void
on_mhd_log (void *cls, const char *fmt, va_list ap)
{
  _cleanup_free_ char *msg = xvasprintf (fmt, ap);
  msg[strcspn (msg, "\n")] = '\0';
  log_debug ("http", "detail", msg);
}

/* Parses "addr:port", "[v6]:port", "addr", ":port" into a sockaddr. */
static int
parse_bind (const char *bind, struct sockaddr_storage *ss, husk_error **err)
{
  _cleanup_free_ char *host = NULL;
  int port = 6443;
  const char *colon = strrchr (bind, ':');
  if (bind[0] == '[')
    {
      const char *end = strchr (bind, ']');
      if (end == NULL)
        return husk_err (err, EINVAL, "--bind %s: missing ]", bind);
      host = xstrndup (bind + 1, (size_t) (end - bind - 1));
      if (end[1] == ':')
        port = atoi (end + 2);
    }
  else if (colon && strchr (bind, ':') == colon)
    {
      host = xstrndup (bind, (size_t) (colon - bind));
      port = atoi (colon + 1);
    }
  else
    host = xstrdup (bind);
  if (*host == '\0')
    {
      free (host);
      host = xstrdup ("0.0.0.0");
    }
  if (port < 0 || port > 65535)
    return husk_err (err, EINVAL, "--bind %s: bad port", bind);
  memset (ss, 0, sizeof *ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
  if (inet_pton (AF_INET, host, &s4->sin_addr) == 1)
    {
      s4->sin_family = AF_INET;
      s4->sin_port = htons ((uint16_t) port);
      return 0;
    }
  if (inet_pton (AF_INET6, host, &s6->sin6_addr) == 1)
    {
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons ((uint16_t) port);
      return 0;
    }
  return husk_err (err, EINVAL, "--bind %s: not an IP address", bind);
}

/* Each connection's memory pool (request headers, read and write buffers). MHD zeroes the pool
   between keep-alive requests, which costs in proportion to its size (at 32 KiB the memset was
   a tenth of a GET's CPU); request headers of kubectl and client-go fit in a few KiB. */
#define API_CONN_POOL ((size_t) (16 * 1024))

static struct MHD_Daemon *
start_daemon (api_server *s, struct sockaddr_storage *ss, bool tls)
{
  /* poll(), not select(): watchers hold many descriptors, and select stops at 1024. */
  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                   | MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO
                   | MHD_ALLOW_UPGRADE; /* pods/exec, attach, portforward (nodeproxy.c) */
  if (ss->ss_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  if (tls)
    return MHD_start_daemon (flags | MHD_USE_TLS, 0, NULL, NULL, on_request, s,
                             MHD_OPTION_SOCK_ADDR, ss, MHD_OPTION_HTTPS_MEM_KEY, s->tls.key_pem,
                             MHD_OPTION_HTTPS_MEM_CERT, s->tls.cert_pem,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                             MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 300,
                             MHD_OPTION_THREAD_STACK_SIZE, (size_t) (512 * 1024),
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned) 1024,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, API_CONN_POOL,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned) 16384, MHD_OPTION_END);
  return MHD_start_daemon (flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, ss,
                           MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                           MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                           MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 300,
                           MHD_OPTION_THREAD_STACK_SIZE, (size_t) (512 * 1024),
                           MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned) 1024,
                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, API_CONN_POOL,
                           MHD_OPTION_CONNECTION_LIMIT, (unsigned) 16384, MHD_OPTION_END);
}

static char *
server_url (const struct sockaddr_storage *ss, int port)
{
  char host[INET6_ADDRSTRLEN] = "127.0.0.1";
  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *s4 = (const struct sockaddr_in *) ss;
      if (s4->sin_addr.s_addr != htonl (INADDR_ANY))
        inet_ntop (AF_INET, &s4->sin_addr, host, sizeof host);
      return xasprintf ("https://%s:%d", host, port);
    }
  const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) ss;
  if (memcmp (&s6->sin6_addr, &in6addr_any, sizeof in6addr_any) == 0)
    return xasprintf ("https://127.0.0.1:%d", port);
  inet_ntop (AF_INET6, &s6->sin6_addr, host, sizeof host);
  return xasprintf ("https://[%s]:%d", host, port);
}

int
api_server_start (const api_config *cfg, api_server **out, husk_error **err)
{
  api_server *s = xzalloc (sizeof *s);
  s->store = cfg->store;
  s->pod_proxy = cfg->pod_proxy;
  s->pod_proxy_cls = cfg->pod_proxy_cls;
  s->data_dir = xstrdup (cfg->data_dir);
  pthread_mutex_init (&s->alloc_lock, NULL);
  s->getcache = api_getcache_new ();
  struct sockaddr_storage ss;
  int ret = parse_bind (cfg->bind ? cfg->bind : "0.0.0.0:6443", &ss, err);
  if (ret == 0)
    ret = husk_mkdir_p (cfg->data_dir, 0700, err);
  if (ret == 0)
    ret = api_tls_ensure (cfg->data_dir, cfg->tls_cert, cfg->tls_key, &s->tls, err);
  if (ret == 0)
    ret = api_auth_ensure (cfg->data_dir, &s->auth, err);
  if (ret < 0)
    {
      api_server_stop (s);
      return ret;
    }
  s->tls_daemon = start_daemon (s, &ss, true);
  if (s->tls_daemon == NULL)
    {
      api_server_stop (s);
      return husk_err (err, EADDRINUSE, "cannot listen on %s", cfg->bind ? cfg->bind : ":6443");
    }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info (s->tls_daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : 0;
  if (cfg->insecure_port > 0)
    {
      struct sockaddr_storage lo;
      _cleanup_free_ char *b = xasprintf ("127.0.0.1:%d", cfg->insecure_port);
      parse_bind (b, &lo, NULL);
      s->plain_daemon = start_daemon (s, &lo, false);
      if (s->plain_daemon == NULL)
        {
          api_server_stop (s);
          return husk_err (err, EADDRINUSE, "cannot listen on %s", b);
        }
    }
  const char *url = s->url = server_url (&ss, s->port);
  ret = api_auth_write_kubeconfig (cfg->data_dir, url, cfg->tls_cert ? NULL : s->tls.ca_pem,
                                   s->auth.admin_token, err);
  if (ret < 0)
    {
      api_server_stop (s);
      return ret;
    }
  api_namespace_sweeper_start (s);
  log_info ("api server listening", "url", url);
  *out = s;
  return 0;
}

const char *
api_server_url (const api_server *s)
{
  return s->url;
}

int
api_server_port (const api_server *s)
{
  return s->port;
}

void
api_server_stop (api_server *s)
{
  if (s == NULL)
    return;
  api_namespace_sweeper_stop (s);
  if (s->tls_daemon)
    MHD_stop_daemon (s->tls_daemon);
  if (s->plain_daemon)
    MHD_stop_daemon (s->plain_daemon);
  api_tls_clear (&s->tls);
  api_auth_clear (&s->auth);
  pthread_mutex_destroy (&s->alloc_lock);
  api_getcache_free (s->getcache);
  free (s->data_dir);
  free (s->url);
  free (s);
}
