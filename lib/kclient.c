/* husk: Kubernetes API client over libcurl (lib/kclient.h). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/base64.h"
#include "lib/kclient.h"
#include "lib/log.h"
#include "lib/path.h"
#include "lib/yaml.h"

struct kclient
{
  kclient_config cfg;
  char *ca_tmp; /* ca_pem written out for libcurl (GnuTLS takes files only) */
  char *auth_header;
  pthread_mutex_t lock;
  CURL *curl;
};

/* libcurl's global init calls libssh2_init (0), which loads and configures every OpenSSL
   algorithm (about 1.6 MB resident, heap included) for SCP/SFTP that husk never uses.
   libssh2 counts its inits and sets up crypto only on the first one unless it is told
   LIBSSH2_INIT_NO_CRYPTO (1): said first, before main, so that every later init (libcurl's,
   from whichever module) skips it. libssh2 is libcurl's dependency, not ours: looked up,
   absent in a libcurl built without it. */
__attribute__ ((constructor)) static void
ssh2_init_no_crypto (void)
{
  int (*ssh2_init) (int) = (int (*) (int)) dlsym (RTLD_DEFAULT, "libssh2_init");
  if (ssh2_init)
    ssh2_init (1 /* LIBSSH2_INIT_NO_CRYPTO */);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void
curl_init_once (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

/* ---- kubeconfig ------------------------------------------------------------------------ */

/* The entry named name in a kubeconfig list ("clusters", "users", "contexts"), its inner
   object (key inner). */
static json_t *
named (json_t *doc, const char *list, const char *name, const char *inner)
{
  size_t i;
  json_t *e;
  json_array_foreach (json_object_get (doc, list), i, e)
  {
    const char *n = json_string_value (json_object_get (e, "name"));
    if (n && name && streq (n, name))
      return json_object_get (e, inner);
  }
  return NULL;
}

static char *
relative_to (const char *kubeconfig, const char *file)
{
  if (file[0] == '/')
    return xstrdup (file);
  _cleanup_free_ char *dir = xstrdup (kubeconfig);
  char *slash = strrchr (dir, '/');
  if (slash == NULL)
    return xstrdup (file);
  *slash = '\0';
  return xasprintf ("%s/%s", dir, file);
}

int
kclient_config_from_kubeconfig (const char *path, kclient_config *out, husk_error **err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int ret = husk_read_file (path, &text, &len, err);
  if (ret < 0)
    return ret;
  _cleanup_json_ json_t *doc = NULL;
  ret = husk_yaml_to_json_one (text, len, &doc, err);
  if (ret < 0)
    return husk_err_wrap (err, "kubeconfig %s", path);
  const char *cur = json_string_value (json_object_get (doc, "current-context"));
  json_t *ctx = named (doc, "contexts", cur, "context");
  if (ctx == NULL && json_array_size (json_object_get (doc, "contexts")) == 1)
    ctx = json_object_get (json_array_get (json_object_get (doc, "contexts"), 0), "context");
  if (ctx == NULL)
    return husk_err (err, EINVAL, "kubeconfig %s: no current context", path);
  json_t *cluster = named (doc, "clusters", json_string_value (json_object_get (ctx, "cluster")),
                           "cluster");
  json_t *user = named (doc, "users", json_string_value (json_object_get (ctx, "user")), "user");
  if (cluster == NULL)
    return husk_err (err, EINVAL, "kubeconfig %s: context's cluster not found", path);
  const char *server = json_string_value (json_object_get (cluster, "server"));
  if (server == NULL)
    return husk_err (err, EINVAL, "kubeconfig %s: cluster has no server", path);
  if (out->server == NULL)
    out->server = xstrdup (server);
  const char *ca_data = json_string_value (json_object_get (cluster, "certificate-authority-data"));
  const char *ca_file = json_string_value (json_object_get (cluster, "certificate-authority"));
  if (out->ca_file == NULL && out->ca_pem == NULL)
    {
      if (ca_data)
        {
          if (husk_base64_decode (ca_data, strlen (ca_data), &out->ca_pem, NULL) < 0)
            return husk_err (err, EINVAL, "kubeconfig %s: certificate-authority-data is not base64", path);
        }
      else if (ca_file)
        out->ca_file = relative_to (path, ca_file);
    }
  if (json_is_true (json_object_get (cluster, "insecure-skip-tls-verify")))
    out->insecure = true;
  if (out->token == NULL && user)
    {
      const char *tok = json_string_value (json_object_get (user, "token"));
      const char *tf = json_string_value (json_object_get (user, "tokenFile"));
      if (tok)
        out->token = xstrdup (tok);
      else if (tf)
        {
          _cleanup_free_ char *p = relative_to (path, tf);
          char *t = NULL;
          if ((ret = husk_read_file (p, &t, NULL, err)) < 0)
            return husk_err_wrap (err, "kubeconfig %s: tokenFile", path);
          t[strcspn (t, "\r\n")] = '\0';
          out->token = t;
        }
    }
  return 0;
}

void
kclient_config_clear (kclient_config *c)
{
  free (c->server);
  free (c->token);
  free (c->ca_file);
  free (c->ca_pem);
  free (c->unix_socket);
  memset (c, 0, sizeof *c);
}

/* ---- the client ------------------------------------------------------------------------ */

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

int
kclient_new (const kclient_config *cfg, kclient **out, husk_error **err)
{
  if (cfg->server == NULL || *cfg->server == '\0')
    return husk_err (err, EINVAL, "no API server URL");
  pthread_once (&curl_once, curl_init_once);
  kclient *k = xzalloc (sizeof *k);
  k->cfg.server = xstrdup (cfg->server);
  size_t n = strlen (k->cfg.server);
  while (n > 0 && k->cfg.server[n - 1] == '/')
    k->cfg.server[--n] = '\0';
  k->cfg.token = dup_or_null (cfg->token);
  k->cfg.ca_file = dup_or_null (cfg->ca_file);
  k->cfg.insecure = cfg->insecure;
  k->cfg.unix_socket = dup_or_null (cfg->unix_socket);
  k->cfg.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
  if (cfg->ca_pem && k->cfg.ca_file == NULL)
    {
      const char *tmp = getenv ("TMPDIR");
      char *path = xasprintf ("%s/husk-ca-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      int fd = mkstemp (path);
      size_t len = strlen (cfg->ca_pem);
      if (fd < 0 || write (fd, cfg->ca_pem, len) != (ssize_t) len)
        {
          int e = errno;
          if (fd >= 0)
            {
              close (fd);
              unlink (path);
            }
          free (path);
          kclient_free (k);
          return husk_err_sys (err, e, "write the API server's CA to a temporary file");
        }
      close (fd);
      k->ca_tmp = path;
      k->cfg.ca_file = xstrdup (path);
    }
  if (k->cfg.token)
    k->auth_header = xasprintf ("Authorization: Bearer %s", k->cfg.token);
  pthread_mutex_init (&k->lock, NULL);
  k->curl = curl_easy_init ();
  if (k->curl == NULL)
    {
      kclient_free (k);
      return husk_err (err, ENOMEM, "curl_easy_init failed");
    }
  *out = k;
  return 0;
}

void
kclient_free (kclient *k)
{
  if (k == NULL)
    return;
  if (k->curl)
    curl_easy_cleanup (k->curl);
  if (k->ca_tmp)
    {
      unlink (k->ca_tmp);
      free (k->ca_tmp);
    }
  free (k->auth_header);
  kclient_config_clear (&k->cfg);
  pthread_mutex_destroy (&k->lock);
  free (k);
}

const char *
kclient_server (const kclient *k)
{
  return k->cfg.server;
}

char *
kclient_escape (const char *s)
{
  husk_buf b = HUSK_BUF_INIT;
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
          || c == '_' || c == '.' || c == '~')
        husk_buf_putc (&b, (char) c);
      else
        husk_buf_printf (&b, "%%%02X", c);
    }
  return husk_buf_steal (&b);
}

static size_t
collect (char *data, size_t size, size_t n, void *ud)
{
  husk_buf_append (ud, data, size * n);
  return size * n;
}

/* Common options of both handles. headers is appended to and must be freed by the caller. */
static void
setup_handle (const kclient *k, CURL *c, const char *url, struct curl_slist **headers)
{
  curl_easy_reset (c);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (k->cfg.unix_socket)
    curl_easy_setopt (c, CURLOPT_UNIX_SOCKET_PATH, k->cfg.unix_socket);
  else
    curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  if (k->cfg.insecure)
    {
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else if (k->cfg.ca_file)
    {
      /* Only this CA: not the system store as well (parsed on every handshake). */
      curl_easy_setopt (c, CURLOPT_CAINFO, k->cfg.ca_file);
      curl_easy_setopt (c, CURLOPT_CAPATH, NULL);
    }
  if (k->auth_header)
    *headers = curl_slist_append (*headers, k->auth_header);
  *headers = curl_slist_append (*headers, "Accept: application/json");
  *headers = curl_slist_append (*headers, "User-Agent: husk-node");
}

int
kclient_request (kclient *k, const char *method, const char *path, const char *content_type,
                 const char *body, long *status, char **resp, husk_error **err)
{
  _cleanup_free_ char *url = xasprintf ("%s%s", k->cfg.server, path);
  _cleanup_buf_ husk_buf out = HUSK_BUF_INIT;
  struct curl_slist *headers = NULL;
  pthread_mutex_lock (&k->lock);
  CURL *c = k->curl;
  setup_handle (k, c, url, &headers);
  if (content_type)
    {
      _cleanup_free_ char *h = xasprintf ("Content-Type: %s", content_type);
      headers = curl_slist_append (headers, h);
    }
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  if (streq (method, "HEAD"))
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  if (body)
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
    }
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, k->cfg.timeout_ms);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &out);
  CURLcode cr = curl_easy_perform (c);
  long code = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
  pthread_mutex_unlock (&k->lock);
  curl_slist_free_all (headers);
  if (cr != CURLE_OK)
    return husk_err (err, cr == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : ECONNREFUSED,
                     "%s %s: %s", method, url, curl_easy_strerror (cr));
  *status = code;
  if (resp)
    *resp = husk_buf_steal (&out);
  return 0;
}

char *
kclient_status_message (const char *body)
{
  if (body == NULL)
    return NULL;
  _cleanup_json_ json_t *j = json_loads (body, 0, NULL);
  const char *m = json_string_value (json_object_get (j, "message"));
  return m ? xstrdup (m) : NULL;
}

int
kclient_status_errno (long status)
{
  switch (status)
    {
    case 400:
    case 422:
      return EINVAL;
    case 401:
    case 403:
      return EACCES;
    case 404:
      return ENOENT;
    case 409:
      return EEXIST;
    case 410:
      return ESTALE;
    case 429:
      return EAGAIN;
    default:
      return status >= 500 ? EAGAIN : EIO;
    }
}

int
kclient_json (kclient *k, const char *method, const char *path, const char *content_type,
              json_t *body, json_t **out, long *status, husk_error **err)
{
  _cleanup_free_ char *text = body ? husk_json_dump (body) : NULL;
  _cleanup_free_ char *resp = NULL;
  long code = 0;
  int ret = kclient_request (k, method, path, body ? (content_type ? content_type : "application/json") : NULL,
                             text, &code, &resp, err);
  if (ret < 0)
    return ret;
  if (status)
    *status = code;
  if (code >= 400)
    {
      _cleanup_free_ char *msg = kclient_status_message (resp);
      return husk_err (err, kclient_status_errno (code), "%s %s: %s (HTTP %ld)", method, path,
                       msg ? msg : "request failed", code);
    }
  if (out)
    {
      if (resp == NULL || *resp == '\0')
        *out = json_object ();
      else if ((ret = husk_json_parse (resp, strlen (resp), out, err)) < 0)
        return husk_err_wrap (err, "%s %s", method, path);
    }
  return 0;
}

/* ---- watch ----------------------------------------------------------------------------- */

typedef struct watch_run
{
  const kclient_watch_ops *ops;
  atomic_int *stop;
  husk_buf line;
  char *rv;        /* last resourceVersion seen */
  bool gone;       /* a 410 arrived: relist */
  int cb_ret;      /* a callback's failure */
  bool got_event;  /* something arrived on this connection */
} watch_run;

static void
set_rv (watch_run *w, const char *rv)
{
  if (rv && *rv)
    {
      free (w->rv);
      w->rv = xstrdup (rv);
    }
}

static int
handle_line (watch_run *w, const char *s, size_t len)
{
  _cleanup_json_ json_t *ev = json_loadb (s, len, 0, NULL);
  const char *type = json_string_value (json_object_get (ev, "type"));
  json_t *obj = json_object_get (ev, "object");
  if (type == NULL || !json_is_object (obj))
    return 0;
  w->got_event = true;
  if (streq (type, "ERROR"))
    {
      if (json_integer_value (json_object_get (obj, "code")) == 410)
        w->gone = true;
      return -1; /* ends this connection */
    }
  set_rv (w, husk_json_path_str (obj, "metadata.resourceVersion"));
  if (streq (type, "BOOKMARK"))
    return 0;
  int r = w->ops->on_event (w->ops->ud, type, obj);
  if (r < 0)
    {
      w->cb_ret = r;
      return -1;
    }
  return 0;
}

static size_t
watch_write (char *data, size_t size, size_t n, void *ud)
{
  watch_run *w = ud;
  size_t total = size * n;
  husk_buf_append (&w->line, data, total);
  for (;;)
    {
      char *nl = memchr (w->line.data, '\n', w->line.len);
      if (nl == NULL)
        break;
      size_t l = (size_t) (nl - w->line.data);
      int r = l > 0 ? handle_line (w, w->line.data, l) : 0;
      memmove (w->line.data, nl + 1, w->line.len - l - 1);
      w->line.len -= l + 1;
      w->line.data[w->line.len] = '\0';
      if (r < 0)
        return 0; /* aborts the transfer */
    }
  return total;
}

static int
watch_progress (void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  (void) a, (void) b, (void) c, (void) d;
  watch_run *w = ud;
  return atomic_load (w->stop) ? 1 : 0;
}

/* ---- the watch machine: one or many list+watches driven by one curl multi handle ---- */

typedef enum
{
  W_LIST,  /* a page of the list is in flight */
  W_WATCH, /* a watch request is in flight */
  W_WAIT,  /* backing off until due_ms */
  W_QUEUED, /* a list waits for one of the LISTS_AT_ONCE slots */
  W_DONE,  /* a callback failed: this watch is over */
} wphase;

typedef struct wstate
{
  kclient *k;
  const char *path;
  kclient_watch_opts o;
  watch_run w;
  CURL *c;
  struct curl_slist *headers;
  wphase phase;
  bool listed, connected, in_multi;
  long b0, bmax, backoff;
  int64_t due_ms, started_ms;
  husk_buf body;  /* the answer of a list page */
  json_t *items;  /* the list gathered so far */
  char *list_rv;  /* its version (the first page's) */
  char *cont;     /* the next page's continue token */
  husk_error *fail; /* why a callback ended this watch */
  int *listing;     /* lists in flight in this kclient_watch_many */
} wstate;

/* Lists of one kclient_watch_many in flight at once. All at once (a master's 24 at start)
   made the server build them in as many threads together, which left 1-2 MB more of the
   malloc arenas resident in an idle master in some runs; a list takes milliseconds. */
#define LISTS_AT_ONCE 2

static int64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
ws_add (wstate *s, CURLM *m)
{
  curl_easy_setopt (s->c, CURLOPT_PRIVATE, s);
  curl_easy_setopt (s->c, CURLOPT_HTTPHEADER, s->headers);
  curl_easy_setopt (s->c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (s->c, CURLOPT_XFERINFOFUNCTION, watch_progress);
  curl_easy_setopt (s->c, CURLOPT_XFERINFODATA, &s->w);
  curl_multi_add_handle (m, s->c);
  s->in_multi = true;
}

/* GETs the next page (all of the list when o.list_page is 0) after s->cont. */
static void
ws_start_list (wstate *s, CURLM *m)
{
  const kclient_watch_opts *o = &s->o;
  bool q = o->query && *o->query;
  _cleanup_free_ char *esc = s->cont ? kclient_escape (s->cont) : NULL;
  _cleanup_free_ char *page = o->list_page > 0 ? xasprintf ("limit=%d%s%s", o->list_page,
                                                            esc ? "&continue=" : "", esc ? esc : "")
                                               : NULL;
  _cleanup_free_ char *url
      = xasprintf ("%s%s%s%s%s%s", s->k->cfg.server, s->path, q || page ? "?" : "",
                   q ? o->query : "", q && page ? "&" : "", page ? page : "");
  setup_handle (s->k, s->c, url, &s->headers);
  curl_easy_setopt (s->c, CURLOPT_TIMEOUT_MS, s->k->cfg.timeout_ms);
  curl_easy_setopt (s->c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (s->c, CURLOPT_WRITEDATA, &s->body);
  husk_buf_reset (&s->body);
  s->phase = W_LIST;
  ws_add (s, m);
}

/* One watch connection from w.rv. */
static void
ws_start_watch (wstate *s, CURLM *m)
{
  const kclient_watch_opts *o = &s->o;
  _cleanup_free_ char *rv = kclient_escape (s->w.rv);
  _cleanup_free_ char *url = xasprintf (
      "%s%s?%s%swatch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
      s->k->cfg.server, s->path, o->query ? o->query : "", o->query && *o->query ? "&" : "", rv,
      o->timeout_seconds);
  setup_handle (s->k, s->c, url, &s->headers);
  curl_easy_setopt (s->c, CURLOPT_WRITEFUNCTION, watch_write);
  curl_easy_setopt (s->c, CURLOPT_WRITEDATA, &s->w);
  /* A watch idles most of its life: a 4 KiB receive buffer instead of curl's 16 KiB (a master
     holds ~24 watches of its own; events longer than it just take more than one callback). */
  curl_easy_setopt (s->c, CURLOPT_BUFFERSIZE, 4096L);
  /* libcurl allocates its upload buffer (64 KiB by default) for a GET over TLS too; a watch
     only sends its request line and headers: the minimum, 16 KiB, is plenty. */
  curl_easy_setopt (s->c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  /* A silent connection (no bookmark, no event) for this long is considered dead. */
  curl_easy_setopt (s->c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (s->c, CURLOPT_LOW_SPEED_TIME, (long) o->timeout_seconds + 30);
  husk_buf_reset (&s->w.line);
  s->w.got_event = false;
  s->started_ms = mono_ms ();
  s->phase = W_WATCH;
  ws_add (s, m);
}

/* Lists when there is no list yet or a 410 asked for a new one; watches otherwise. */
static void
ws_next (wstate *s, CURLM *m)
{
  if (s->listed && !s->w.gone)
    {
      ws_start_watch (s, m);
      return;
    }
  if (*s->listing >= LISTS_AT_ONCE)
    {
      s->phase = W_QUEUED;
      return;
    }
  (*s->listing)++;
  s->w.gone = false;
  s->listed = false;
  json_decref (s->items);
  s->items = json_array ();
  free (TAKE_PTR (s->list_rv));
  free (TAKE_PTR (s->cont));
  ws_start_list (s, m);
}

static void
ws_wait (wstate *s)
{
  s->phase = W_WAIT;
  s->due_ms = mono_ms () + s->backoff;
  s->backoff = s->backoff * 2 > s->bmax ? s->bmax : s->backoff * 2;
}

static void
ws_ok (wstate *s, CURLM *m)
{
  if (!s->connected && s->w.ops->on_state)
    s->w.ops->on_state (s->w.ops->ud, true, NULL);
  s->connected = true;
  s->backoff = s->b0;
  ws_next (s, m);
}

static void
ws_failed (wstate *s, husk_error *e)
{
  if ((s->connected || s->backoff == s->b0) && s->w.ops->on_state)
    s->w.ops->on_state (s->w.ops->ud, false, e->msg);
  s->connected = false;
  ws_wait (s);
}

static void
ws_callback_failed (wstate *s, husk_error **e)
{
  s->phase = W_DONE;
  husk_error_move (&s->fail, e);
  if (s->fail == NULL)
    husk_err (&s->fail, ECANCELED, "watch %s: handler failed", s->path);
}

/* A list page arrived (or failed): the next page, the list handed over, or an error. */
static int
ws_list_done (wstate *s, CURLM *m, CURLcode cr, long code, husk_error **err)
{
  const char *path = s->path;
  if (cr != CURLE_OK)
    return husk_err (err, cr == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : ECONNREFUSED,
                     "GET %s%s: %s", s->k->cfg.server, path, curl_easy_strerror (cr));
  if (code >= 400)
    {
      _cleanup_free_ char *msg = kclient_status_message (husk_buf_str (&s->body));
      return husk_err (err, kclient_status_errno (code), "GET %s: %s (HTTP %ld)", path,
                       msg ? msg : "request failed", code);
    }
  _cleanup_json_ json_t *list = NULL;
  if (husk_json_parse (husk_buf_str (&s->body), s->body.len, &list, err) < 0)
    return husk_err_wrap (err, "GET %s", path);
  husk_buf_free (&s->body);
  json_t *got = json_object_get (list, "items"), *it;
  if (!json_is_array (got))
    return husk_err (err, EPROTO, "GET %s: the answer has no items", path);
  size_t i;
  json_array_foreach (got, i, it)
  {
    json_t *keep = s->w.ops->on_list_item ? s->w.ops->on_list_item (s->w.ops->ud, it) : json_incref (it);
    if (keep)
      json_array_append_new (s->items, keep);
  }
  const char *v = husk_json_path_str (list, "metadata.resourceVersion");
  const char *c = s->o.list_page > 0 ? husk_json_path_str (list, "metadata.continue") : NULL;
  if (s->list_rv == NULL)
    s->list_rv = xstrdup (v ? v : "0");
  free (s->cont);
  s->cont = c && *c ? xstrdup (c) : NULL;
  if (s->cont)
    {
      ws_start_list (s, m); /* the pages of one list are a snapshot at the first's version */
      return 1;
    }
  free (s->w.rv);
  s->w.rv = xstrdup (s->list_rv);
  _cleanup_json_ json_t *items = TAKE_PTR (s->items);
  int r = s->w.ops->on_list (s->w.ops->ud, items, s->w.rv);
  if (r < 0)
    {
      s->w.cb_ret = r;
      return husk_err (err, ECANCELED, "list handler failed");
    }
  s->listed = true;
  return 0;
}

/* A watch connection ended: 0 (resume or relist), < 0 failed. */
static int
ws_watch_done (wstate *s, CURLcode cr, long code, husk_error **err)
{
  if (code == 410)
    {
      s->w.gone = true;
      return 0;
    }
  if (code >= 400)
    {
      _cleanup_free_ char *msg = kclient_status_message (husk_buf_str (&s->w.line));
      return husk_err (err, kclient_status_errno (code), "watch %s: %s (HTTP %ld)", s->path,
                       msg ? msg : "failed", code);
    }
  if (cr == CURLE_OK || cr == CURLE_ABORTED_BY_CALLBACK || (cr == CURLE_WRITE_ERROR && s->w.gone)
      || (cr == CURLE_WRITE_ERROR && s->w.cb_ret == 0))
    return 0;
  return husk_err (err, ECONNREFUSED, "watch %s: %s", s->path, curl_easy_strerror (cr));
}

/* The transfer of s finished with cr: decides what s does next. */
static void
ws_finish (wstate *s, CURLM *m, CURLcode cr)
{
  long code = 0;
  curl_easy_getinfo (s->c, CURLINFO_RESPONSE_CODE, &code);
  curl_multi_remove_handle (m, s->c);
  s->in_multi = false;
  curl_slist_free_all (TAKE_PTR (s->headers));
  if (atomic_load (s->w.stop))
    return;
  _cleanup_error_ husk_error *e = NULL;
  int r;
  if (s->phase == W_LIST)
    {
      r = ws_list_done (s, m, cr, code, &e);
      if (r > 0)
        return; /* the next page is in flight */
      (*s->listing)--;
    }
  else
    {
      r = ws_watch_done (s, cr, code, &e);
      /* A server closing watches at once, without events, is not hammered. */
      if (r == 0 && s->w.cb_ret == 0 && !s->w.got_event && !s->w.gone
          && mono_ms () - s->started_ms < 1000)
        {
          ws_wait (s);
          return;
        }
    }
  if (s->w.cb_ret < 0)
    ws_callback_failed (s, &e);
  else if (r < 0)
    ws_failed (s, e);
  else
    ws_ok (s, m);
}

static void
ws_init (wstate *s, kclient *k, const kclient_watch_spec *spec, atomic_int *stop, int *listing)
{
  s->listing = listing;
  s->k = k;
  s->path = spec->path;
  s->o = spec->opts ? *spec->opts : (kclient_watch_opts) { 0 };
  if (s->o.timeout_seconds <= 0)
    s->o.timeout_seconds = 300;
  s->b0 = s->o.backoff_initial_ms > 0 ? s->o.backoff_initial_ms : 200;
  s->bmax = s->o.backoff_max_ms > 0 ? s->o.backoff_max_ms : 30000;
  s->backoff = s->b0;
  s->w = (watch_run) { .ops = spec->ops, .stop = stop };
}

static void
ws_clear (wstate *s, CURLM *m)
{
  if (s->in_multi)
    curl_multi_remove_handle (m, s->c);
  if (s->c)
    curl_easy_cleanup (s->c);
  curl_slist_free_all (s->headers);
  husk_buf_free (&s->w.line);
  husk_buf_free (&s->body);
  free (s->w.rv);
  json_decref (s->items);
  free (s->list_rv);
  free (s->cont);
  husk_error_free (s->fail);
}

/* Starts the watches that are due; returns how long the loop may sleep (ms, at most 1 s so
   that *stop is seen) and how many watches are not over. */
static long
ws_due (wstate *ws, size_t n, CURLM *m, size_t *alive)
{
  int64_t now = mono_ms ();
  long sleep = 1000;
  *alive = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (ws[i].phase == W_DONE)
        continue;
      (*alive)++;
      if (ws[i].phase == W_QUEUED)
        ws_next (&ws[i], m);
      if (ws[i].phase != W_WAIT)
        continue;
      if (ws[i].due_ms <= now)
        ws_next (&ws[i], m);
      else if (ws[i].due_ms - now < sleep)
        sleep = (long) (ws[i].due_ms - now);
    }
  return sleep;
}

static void
ws_drain (CURLM *m)
{
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read (m, &left)) != NULL)
    if (msg->msg == CURLMSG_DONE)
      {
        wstate *s = NULL;
        CURLcode cr = msg->data.result;
        curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &s);
        ws_finish (s, m, cr);
      }
}

/* The first watch that a callback ended: its code and error. */
static int
ws_result (wstate *ws, size_t n, husk_error **err)
{
  for (size_t i = 0; i < n; i++)
    if (ws[i].phase == W_DONE)
      {
        husk_error_move (err, &ws[i].fail);
        return ws[i].w.cb_ret;
      }
  return 0;
}

int
kclient_watch_many (kclient *k, const kclient_watch_spec *specs, size_t n, atomic_int *stop,
                    husk_error **err)
{
  CURLM *m = curl_multi_init ();
  if (m == NULL)
    return husk_err (err, ENOMEM, "curl_multi_init failed");
  wstate *ws = xcalloc (n, sizeof *ws);
  int ret = 0, listing = 0;
  for (size_t i = 0; i < n && ret == 0; i++)
    {
      ws_init (&ws[i], k, &specs[i], stop, &listing);
      if ((ws[i].c = curl_easy_init ()) == NULL)
        ret = husk_err (err, ENOMEM, "curl_easy_init failed");
    }
  for (size_t i = 0; i < n && ret == 0; i++)
    ws_next (&ws[i], m);
  size_t alive = n;
  while (ret == 0 && !atomic_load (stop) && alive > 0)
    {
      int running = 0;
      curl_multi_perform (m, &running);
      ws_drain (m);
      long sleep = ws_due (ws, n, m, &alive);
      if (alive > 0 && !atomic_load (stop))
        curl_multi_poll (m, NULL, 0, (int) sleep, NULL);
    }
  if (ret == 0)
    ret = ws_result (ws, n, err);
  for (size_t i = 0; i < n; i++)
    ws_clear (&ws[i], m);
  free (ws);
  curl_multi_cleanup (m);
  return ret;
}

int
kclient_watch (kclient *k, const char *path, const kclient_watch_opts *opts,
               const kclient_watch_ops *ops, atomic_int *stop, husk_error **err)
{
  kclient_watch_spec spec = { path, opts, ops };
  return kclient_watch_many (k, &spec, 1, stop, err);
}
