/* husk node agent: probe checks and the prober state machine (see probe.h). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/probe-internal.h"
#include "src/node/agent/probe.h"

#define MAX_BODY   10240
#define USER_AGENT AGENT_PROBE_USER_AGENT

/* ---- spec --------------------------------------------------------------------------- */

void
agent_probe_spec_free (agent_probe_spec *s)
{
  if (!s)
    return;
  strv_free (s->command);
  strv_free (s->header_names);
  strv_free (s->header_values);
  free (s->host);
  free (s->path);
  free (s->port_name);
  free (s->grpc_service);
  free (s);
}

const char *
agent_probe_kind_name (agent_probe_kind k)
{
  return k == AGENT_PROBE_LIVENESS    ? "Liveness"
         : k == AGENT_PROBE_READINESS ? "Readiness"
                                      : "Startup";
}

/* port: a number, or a name looked up in container.ports (IntOrString). */
static int
parse_port (agent_probe_spec *s, json_t *port, json_t *container, const char *where,
            husk_error **err)
{
  if (json_is_integer (port))
    {
      json_int_t p = json_integer_value (port);
      if (p < 1 || p > 65535)
        return husk_err (err, EINVAL, "%s.port: must be between 1 and 65535, inclusive", where);
      s->port = p;
      return 0;
    }
  if (!json_is_string (port))
    return husk_err (err, EINVAL, "%s.port: Required value", where);
  const char *name = json_string_value (port);
  char *end;
  long n = strtol (name, &end, 10);
  if (*name && !*end)
    {
      if (n < 1 || n > 65535)
        return husk_err (err, EINVAL, "%s.port: must be between 1 and 65535, inclusive", where);
      s->port = n;
      return 0;
    }
  s->port_name = xstrdup (name);
  s->port = -1;
  size_t i;
  json_t *cp;
  json_array_foreach (json_object_get (container, "ports"), i, cp)
  {
    const char *pn = json_string_value (json_object_get (cp, "name"));
    if (pn && streq (pn, name))
      s->port = json_integer_value (json_object_get (cp, "containerPort"));
  }
  return 0;
}

static int
get_int (json_t *probe, const char *key, int dflt, int min, int *out, const char *where,
         husk_error **err)
{
  json_t *v = json_object_get (probe, key);
  if (!v || json_is_null (v))
    {
      *out = dflt;
      return 0;
    }
  if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > INT32_MAX)
    return husk_err (err, EINVAL, "%s.%s: must be greater than or equal to %d", where, key, min);
  *out = json_integer_value (v);
  return 0;
}

int
agent_probe_spec_parse (json_t *probe, json_t *container, agent_probe_kind kind,
                        agent_probe_spec **out, husk_error **err)
{
  static const char *const kinds[] = { "livenessProbe", "readinessProbe", "startupProbe" };
  const char *where = kinds[kind];
  agent_probe_spec *s = xzalloc (sizeof *s);
  json_t *a;
  int actions = 0, ret = 0;
  s->termination_grace = -1;
  if ((a = json_object_get (probe, "exec")))
    {
      actions++;
      s->action = AGENT_PROBE_EXEC;
      ret = husk_json_get_strv (a, "command", "exec", &s->command, err);
      if (ret >= 0 && (!s->command || !s->command[0]))
        ret = husk_err (err, EINVAL, "%s.exec.command: Required value", where);
    }
  if ((a = json_object_get (probe, "httpGet")))
    {
      actions++;
      s->action = AGENT_PROBE_HTTP;
      const char *scheme = json_string_value (json_object_get (a, "scheme"));
      const char *host = json_string_value (json_object_get (a, "host"));
      const char *path = json_string_value (json_object_get (a, "path"));
      if (scheme && !streq (scheme, "HTTP") && !streq (scheme, "HTTPS"))
        ret = husk_err (err, EINVAL, "%s.httpGet.scheme: Unsupported value: \"%s\"", where, scheme);
      s->https = scheme && streq (scheme, "HTTPS");
      s->host = host && *host ? xstrdup (host) : NULL;
      s->path = path && *path ? (path[0] == '/' ? xstrdup (path) : xasprintf ("/%s", path))
                              : xstrdup ("/");
      if (ret >= 0)
        ret = parse_port (s, json_object_get (a, "port"), container, "httpGet", err);
      size_t i, n = json_array_size (json_object_get (a, "httpHeaders"));
      json_t *h;
      s->header_names = xcalloc (n + 1, sizeof (char *));
      s->header_values = xcalloc (n + 1, sizeof (char *));
      json_array_foreach (json_object_get (a, "httpHeaders"), i, h)
      {
        const char *hn = json_string_value (json_object_get (h, "name"));
        const char *hv = json_string_value (json_object_get (h, "value"));
        if (!hn || !*hn || strpbrk (hn, ":\r\n") || (hv && strpbrk (hv, "\r\n")))
          {
            ret = husk_err (err, EINVAL, "%s.httpGet.httpHeaders[%zu]: invalid header", where, i);
            break;
          }
        s->header_names[i] = xstrdup (hn);
        s->header_values[i] = xstrdup (hv ? hv : "");
      }
    }
  if ((a = json_object_get (probe, "tcpSocket")))
    {
      actions++;
      s->action = AGENT_PROBE_TCP;
      const char *host = json_string_value (json_object_get (a, "host"));
      s->host = host && *host ? xstrdup (host) : NULL;
      if (ret >= 0)
        ret = parse_port (s, json_object_get (a, "port"), container, "tcpSocket", err);
    }
  if ((a = json_object_get (probe, "grpc")))
    {
      actions++;
      s->action = AGENT_PROBE_GRPC;
      const char *svc = json_string_value (json_object_get (a, "service"));
      s->grpc_service = svc ? xstrdup (svc) : NULL;
      if (!json_is_integer (json_object_get (a, "port")) && ret >= 0)
        ret = husk_err (err, EINVAL, "%s.grpc.port: Required value", where);
      if (ret >= 0)
        ret = parse_port (s, json_object_get (a, "port"), container, "grpc", err);
    }
  if (ret >= 0 && actions == 0)
    ret = husk_err (err, EINVAL, "%s: Required value: must specify a handler type", where);
  if (ret >= 0 && actions > 1)
    ret = husk_err (err, EINVAL, "%s: Forbidden: may not specify more than 1 handler type", where);
  if (ret >= 0)
    ret = get_int (probe, "initialDelaySeconds", 0, 0, &s->initial_delay, where, err);
  if (ret >= 0)
    ret = get_int (probe, "periodSeconds", 10, 1, &s->period, where, err);
  if (ret >= 0)
    ret = get_int (probe, "timeoutSeconds", 1, 1, &s->timeout, where, err);
  if (ret >= 0)
    ret = get_int (probe, "successThreshold", 1, 1, &s->success_threshold, where, err);
  if (ret >= 0)
    ret = get_int (probe, "failureThreshold", 3, 1, &s->failure_threshold, where, err);
  if (ret >= 0 && kind != AGENT_PROBE_READINESS && s->success_threshold != 1)
    ret = husk_err (err, EINVAL, "%s.successThreshold: Invalid value: %d: must be 1", where,
                    s->success_threshold);
  json_t *tg = json_object_get (probe, "terminationGracePeriodSeconds");
  if (ret >= 0 && json_is_integer (tg))
    {
      if (kind == AGENT_PROBE_READINESS)
        ret = husk_err (
            err, EINVAL,
            "%s.terminationGracePeriodSeconds: Invalid value: must not be set for readinessProbes",
            where);
      s->termination_grace = json_integer_value (tg);
    }
  if (ret < 0)
    {
      agent_probe_spec_free (s);
      return ret;
    }
  *out = s;
  return 0;
}

/* ---- checks ------------------------------------------------------------------------- */

static const char *
probe_host (const agent_probe_spec *s, const agent_probe_target *t)
{
  if (s->host)
    return s->host;
  return t && t->pod_ip && *t->pod_ip ? t->pod_ip : "127.0.0.1";
}

static char *
host_port (const char *host, int port)
{
  return strchr (host, ':') ? xasprintf ("[%s]:%d", host, port) : xasprintf ("%s:%d", host, port);
}

static agent_probe_result
run_tcp (const agent_probe_spec *s, const agent_probe_target *t, char **msg)
{
  const char *host = probe_host (s, t);
  _cleanup_free_ char *hp = host_port (host, s->port);
  char portstr[16];
  snprintf (portstr, sizeof portstr, "%d", s->port);
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
  int gai = getaddrinfo (host, portstr, &hints, &ai);
  if (gai != 0)
    {
      *msg = xasprintf ("dial tcp %s: lookup %s: %s", hp, host, gai_strerror (gai));
      return AGENT_PROBE_FAILURE;
    }
  _cleanup_close_ int fd = socket (ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int rc = fd < 0 ? -1 : connect (fd, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo (ai);
  int e = errno;
  if (rc < 0 && e == EINPROGRESS)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      int n;
      do
        n = poll (&p, 1, s->timeout * 1000);
      while (n < 0 && errno == EINTR);
      if (n == 0)
        {
          *msg = xasprintf ("dial tcp %s: i/o timeout", hp);
          return AGENT_PROBE_FAILURE;
        }
      socklen_t len = sizeof e;
      if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
      rc = e ? -1 : 0;
    }
  if (rc < 0)
    {
      char buf[128];
      *msg = xasprintf ("dial tcp %s: connect: %s", hp, strerror_r (e, buf, sizeof buf));
      char *text = strstr (*msg, ": connect: ") + 11;
      if (*text >= 'A' && *text <= 'Z')
        *text += 'a' - 'A'; /* Go's lowercase errno text: "connection refused" */
      return AGENT_PROBE_FAILURE;
    }
  return AGENT_PROBE_SUCCESS;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void
curl_init (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

void
agent_probe_curl_init (void)
{
  pthread_once (&curl_once, curl_init);
}

static size_t
body_cb (char *data, size_t size, size_t nmemb, void *ud)
{
  husk_buf *b = ud;
  size_t n = size * nmemb;
  if (b->len < MAX_BODY)
    husk_buf_append (b, data, n > MAX_BODY - b->len ? MAX_BODY - b->len : n);
  return n;
}

static char *
url_host (const char *url)
{
  CURLU *u = curl_url ();
  char *host = NULL, *out = NULL;
  if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    out = xstrdup (host);
  curl_free (host);
  curl_url_cleanup (u);
  return out;
}

static agent_probe_result
run_http (const agent_probe_spec *s, const agent_probe_target *t, char **msg)
{
  pthread_once (&curl_once, curl_init);
  const char *host = probe_host (s, t);
  _cleanup_free_ char *hp = host_port (host, s->port);
  char *url = xasprintf ("%s://%s%s", s->https ? "https" : "http", hp, s->path);
  _cleanup_free_ char *first_host = url_host (url);
  struct curl_slist *headers = NULL;
  bool ua = false, accept = false;
  for (size_t i = 0; s->header_names && s->header_names[i]; i++)
    {
      _cleanup_free_ char *h = *s->header_values[i]
                                   ? xasprintf ("%s: %s", s->header_names[i], s->header_values[i])
                                   : xasprintf ("%s;", s->header_names[i]);
      headers = curl_slist_append (headers, h);
      ua |= strcasecmp (s->header_names[i], "User-Agent") == 0;
      accept |= strcasecmp (s->header_names[i], "Accept") == 0;
    }
  if (!ua)
    headers = curl_slist_append (headers, "User-Agent: " USER_AGENT);
  if (!accept)
    headers = curl_slist_append (headers, "Accept: */*");
  agent_probe_result res = AGENT_PROBE_FAILURE;
  struct timespec t0;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (int redirects = 0;; redirects++)
    {
      CURL *c = curl_easy_init ();
      husk_buf body = HUSK_BUF_INIT;
      char errbuf[CURL_ERROR_SIZE] = "";
      struct timespec now;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long left = s->timeout * 1000L
                  - ((now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000);
      curl_easy_setopt (c, CURLOPT_URL, url);
      curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, left > 1 ? left : 1L);
      curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, body_cb);
      curl_easy_setopt (c, CURLOPT_WRITEDATA, &body);
      curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
      curl_easy_setopt (c, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
      curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
      curl_easy_setopt (c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
      CURLcode rc = curl_easy_perform (c);
      long code = 0;
      char *loc = NULL;
      curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
      curl_easy_getinfo (c, CURLINFO_REDIRECT_URL, &loc);
      _cleanup_free_ char *next = loc ? xstrdup (loc) : NULL;
      curl_easy_cleanup (c);
      if (rc != CURLE_OK)
        {
          *msg = xasprintf ("Get \"%s\": %s", url, *errbuf ? errbuf : curl_easy_strerror (rc));
          husk_buf_free (&body);
          break;
        }
      if (code >= 300 && code < 400 && next && redirects < 10)
        {
          _cleanup_free_ char *nh = url_host (next);
          if (nh && first_host && streq (nh, first_host))
            {
              free (url);
              url = TAKE_PTR (next);
              husk_buf_free (&body);
              continue;
            }
          *msg = xasprintf ("Probe terminated redirects, Response body: %s", husk_buf_str (&body));
          res = AGENT_PROBE_SUCCESS; /* kubelet: a warning, counted as success */
          husk_buf_free (&body);
          break;
        }
      if (code >= 200 && code < 400)
        {
          res = AGENT_PROBE_SUCCESS;
          *msg = xstrdup ("");
        }
      else
        *msg = xasprintf ("HTTP probe failed with statuscode: %ld", code);
      husk_buf_free (&body);
      break;
    }
  curl_slist_free_all (headers);
  free (url);
  return res;
}

static agent_probe_result
run_exec (const agent_probe_spec *s, const agent_probe_target *t, char **msg)
{
  if (!t || !t->exec)
    {
      *msg = xstrdup ("exec probes need the container runtime");
      return AGENT_PROBE_FAILURE;
    }
  husk_error *err = NULL;
  int code = -1;
  char *out = NULL;
  int ret = t->exec (t->exec_ud, s->command, s->timeout * 1000, &code, &out, &err);
  if (ret < 0)
    {
      if (err && err->errnum == ETIMEDOUT)
        {
          husk_buf b = HUSK_BUF_INIT;
          for (char **a = s->command; *a; a++)
            husk_buf_printf (&b, "%s%s", a == s->command ? "" : " ", *a);
          *msg = xasprintf ("command \"%s\" timed out", husk_buf_str (&b));
          husk_buf_free (&b);
        }
      else
        *msg = xstrdup (err ? err->msg : "exec failed");
      husk_error_free (err);
      free (out);
      return AGENT_PROBE_FAILURE;
    }
  *msg = out ? out : xstrdup ("");
  return code == 0 ? AGENT_PROBE_SUCCESS : AGENT_PROBE_FAILURE;
}

agent_probe_result
agent_probe_run (const agent_probe_spec *s, const agent_probe_target *t, char **message)
{
  char *msg = NULL;
  agent_probe_result r;
  if ((s->action == AGENT_PROBE_HTTP || s->action == AGENT_PROBE_TCP
       || s->action == AGENT_PROBE_GRPC)
      && s->port < 0)
    {
      msg = xasprintf ("unable to find port \"%s\" in the container",
                       s->port_name ? s->port_name : "");
      r = AGENT_PROBE_FAILURE;
    }
  else
    switch (s->action)
      {
      case AGENT_PROBE_TCP:
        r = run_tcp (s, t, &msg);
        break;
      case AGENT_PROBE_HTTP:
        r = run_http (s, t, &msg);
        break;
      case AGENT_PROBE_EXEC:
        r = run_exec (s, t, &msg);
        break;
      case AGENT_PROBE_GRPC:
        r = agent_probe_run_grpc (s, t, &msg);
        break;
      default:
        msg = xstrdup ("unknown probe action");
        r = AGENT_PROBE_UNKNOWN;
      }
  if (message)
    *message = msg;
  else
    free (msg);
  return r;
}

/* ---- state machine ----------------------------------------------------------------------- */

static agent_probe_result
initial_result (agent_probe_kind k)
{
  return k == AGENT_PROBE_LIVENESS    ? AGENT_PROBE_SUCCESS
         : k == AGENT_PROBE_READINESS ? AGENT_PROBE_FAILURE
                                      : AGENT_PROBE_UNKNOWN;
}

void
agent_prober_init (agent_prober *p, const agent_probe_spec *spec, agent_probe_kind kind,
                   int64_t started_ms)
{
  *p = (agent_prober){ .spec = spec, .kind = kind };
  agent_prober_reset (p, started_ms);
}

void
agent_prober_reset (agent_prober *p, int64_t started_ms)
{
  p->started_ms = started_ms;
  p->last_run_ms = -1;
  p->last = AGENT_PROBE_UNKNOWN;
  p->run = 0;
  p->published = initial_result (p->kind);
  p->on_hold = false;
}

int64_t
agent_prober_next (const agent_prober *p, bool started)
{
  if (p->on_hold)
    return -1;
  if (p->kind == AGENT_PROBE_STARTUP && p->published == AGENT_PROBE_SUCCESS)
    return -1;
  if (p->kind != AGENT_PROBE_STARTUP && !started)
    return -1;
  int64_t first = p->started_ms + (int64_t)p->spec->initial_delay * 1000;
  if (p->last_run_ms < 0)
    return first;
  int64_t next = p->last_run_ms + (int64_t)p->spec->period * 1000;
  return next > first ? next : first;
}

bool
agent_prober_record (agent_prober *p, agent_probe_result raw, int64_t now_ms)
{
  p->last_run_ms = now_ms;
  if (p->on_hold)
    return false;
  if (raw == AGENT_PROBE_UNKNOWN)
    raw = AGENT_PROBE_FAILURE;
  if (raw == p->last)
    p->run++;
  else
    {
      p->last = raw;
      p->run = 1;
    }
  if ((raw == AGENT_PROBE_FAILURE && p->run < p->spec->failure_threshold)
      || (raw == AGENT_PROBE_SUCCESS && p->run < p->spec->success_threshold))
    return false;
  bool changed = p->published != raw;
  p->published = raw;
  if (raw == AGENT_PROBE_FAILURE && p->kind != AGENT_PROBE_READINESS)
    {
      p->on_hold = true;
      p->run = 0;
    }
  return changed;
}
