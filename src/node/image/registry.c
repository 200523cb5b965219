/* The OCI distribution API client over libcurl: ping, token/basic auth, manifests, and
   parallel, resumable, verified blob downloads. */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "src/node/image/image-internal.h"

struct image_registry
{
  const image_pull_opts *o;
  char *host; /* host[:port] we connect to */
  char *base; /* "https://host" or "http://host" */
  char *repo;
  char *user, *pass;
  char *bearer; /* "Authorization: Bearer <token>" */
  bool basic;   /* send user/pass on every request */
};

typedef struct http_resp
{
  long code;
  husk_buf body;
  size_t max;
  bool too_big;
  char *content_type, *digest, *www_auth;
  char errbuf[CURL_ERROR_SIZE];
} http_resp;

static void
http_resp_clear (http_resp *r)
{
  husk_buf_free (&r->body);
  free (r->content_type);
  free (r->digest);
  free (r->www_auth);
  memset (r, 0, sizeof *r);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void
curl_init_once (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

void
image_registry_free (image_registry *reg)
{
  if (!reg)
    return;
  free (reg->host);
  free (reg->base);
  free (reg->repo);
  free (reg->user);
  free (reg->pass);
  free (reg->bearer);
  free (reg);
}

/* ---- one request ---- */

static char *
header_value (const char *line, size_t n, const char *name)
{
  size_t k = strlen (name);
  if (n <= k + 1 || strncasecmp (line, name, k) != 0 || line[k] != ':')
    return NULL;
  const char *v = line + k + 1;
  const char *end = line + n;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  return xstrndup (v, end - v);
}

static void
set_header (char **slot, char *v)
{
  if (!v)
    return;
  free (*slot);
  *slot = v;
}

static size_t
resp_header_cb (char *line, size_t size, size_t nmemb, void *ud)
{
  http_resp *r = ud;
  size_t n = size * nmemb;
  if (n > 5 && strncmp (line, "HTTP/", 5) == 0)
    {
      /* a new response (after a redirect): forget the previous one's headers */
      free (r->content_type);
      free (r->digest);
      free (r->www_auth);
      r->content_type = r->digest = r->www_auth = NULL;
      return n;
    }
  set_header (&r->content_type, header_value (line, n, "Content-Type"));
  set_header (&r->digest, header_value (line, n, "Docker-Content-Digest"));
  set_header (&r->www_auth, header_value (line, n, "WWW-Authenticate"));
  return n;
}

static size_t
resp_body_cb (char *data, size_t size, size_t nmemb, void *ud)
{
  http_resp *r = ud;
  size_t n = size * nmemb;
  if (r->body.len + n > r->max)
    {
      r->too_big = true;
      return 0;
    }
  husk_buf_append (&r->body, data, n);
  return n;
}

static void
setup_easy (image_registry *reg, CURL *e, const char *url, struct curl_slist *hdrs, char *errbuf)
{
  curl_easy_setopt (e, CURLOPT_URL, url);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (e, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt (e, CURLOPT_USERAGENT, "husk/" PACKAGE_VERSION);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, hdrs);
  if (reg->o->ca_file)
    curl_easy_setopt (e, CURLOPT_CAINFO, reg->o->ca_file);
  if (reg->basic && reg->user)
    {
      curl_easy_setopt (e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      curl_easy_setopt (e, CURLOPT_USERNAME, reg->user);
      curl_easy_setopt (e, CURLOPT_PASSWORD, reg->pass);
    }
}

/* Performs a GET; a transport failure is an error, any HTTP status is returned in r. */
static int
http_get (image_registry *reg, const char *url, const char *accept, bool with_auth, http_resp *r,
          husk_error **err)
{
  pthread_once (&curl_once, curl_init_once);
  CURL *e = curl_easy_init ();
  if (!e)
    husk_oom ();
  struct curl_slist *hdrs = NULL;
  if (accept)
    {
      _cleanup_free_ char *h = xasprintf ("Accept: %s", accept);
      hdrs = curl_slist_append (hdrs, h);
    }
  if (with_auth && reg->bearer)
    hdrs = curl_slist_append (hdrs, reg->bearer);
  if (!r->max)
    r->max = IMAGE_MANIFEST_MAX;
  setup_easy (reg, e, url, hdrs, r->errbuf);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, resp_header_cb);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, resp_body_cb);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, r);
  CURLcode rc = curl_easy_perform (e);
  curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &r->code);
  curl_easy_cleanup (e);
  curl_slist_free_all (hdrs);
  if (r->too_big)
    return husk_err (err, EFBIG, "GET %s: response larger than %zu bytes", url, r->max);
  if (rc != CURLE_OK)
    return husk_err (err, EIO, "GET %s: %s", url,
                     r->errbuf[0] ? r->errbuf : curl_easy_strerror (rc));
  return 0;
}

/* The message of a registry error body ({"errors":[{"code","message"}]}) or the status. */
static char *
error_text (const http_resp *r)
{
  _cleanup_json_ json_t *j = json_loadb (husk_buf_str (&r->body), r->body.len, 0, NULL);
  json_t *e0 = json_array_get (json_object_get (j, "errors"), 0);
  const char *msg = json_string_value (json_object_get (e0, "message"));
  const char *code = json_string_value (json_object_get (e0, "code"));
  if (msg)
    return xasprintf ("%s (HTTP %ld%s%s)", msg, r->code, code ? " " : "", code ? code : "");
  return xasprintf ("HTTP %ld", r->code);
}

/* ---- authentication ---- */

static int
fetch_token (image_registry *reg, const image_challenge *c, husk_error **err)
{
  if (!c->realm)
    return husk_err (err, EPROTO, "registry %s: Bearer challenge without a realm", reg->host);
  pthread_once (&curl_once, curl_init_once);
  CURL *esc = curl_easy_init ();
  _cleanup_free_ char *scope = xasprintf ("repository:%s:pull", reg->repo);
  char *s_scope = curl_easy_escape (esc, scope, 0);
  char *s_service = c->service ? curl_easy_escape (esc, c->service, 0) : NULL;
  _cleanup_free_ char *url
      = xasprintf ("%s%sscope=%s%s%s", c->realm, strchr (c->realm, '?') ? "&" : "?", s_scope,
                   s_service ? "&service=" : "", s_service ? s_service : "");
  curl_free (s_scope);
  curl_free (s_service);
  curl_easy_cleanup (esc);

  bool saved = reg->basic;
  reg->basic = reg->user != NULL; /* credentials go to the token service */
  http_resp r = { 0 };
  int ret = http_get (reg, url, "application/json", false, &r, err);
  reg->basic = saved;
  if (ret < 0)
    {
      http_resp_clear (&r);
      return husk_err_wrap (err, "registry %s: token", reg->host);
    }
  if (r.code == 401 || r.code == 403)
    {
      http_resp_clear (&r);
      if (!reg->user)
        return husk_err (err, EACCES,
                         "registry %s: authentication required to pull %s and no credentials "
                         "configured (docker config.json auths, --username)",
                         reg->host, reg->repo);
      return husk_err (err, EACCES, "registry %s: token service %s refused the credentials of '%s'",
                       reg->host, c->realm, reg->user);
    }
  if (r.code != 200)
    {
      _cleanup_free_ char *t = error_text (&r);
      http_resp_clear (&r);
      return husk_err (err, EPROTO, "registry %s: token service %s: %s", reg->host, c->realm, t);
    }
  _cleanup_json_ json_t *j = NULL;
  ret = husk_json_parse (husk_buf_str (&r.body), r.body.len, &j, err);
  http_resp_clear (&r);
  if (ret < 0)
    return husk_err_wrap (err, "registry %s: token response", reg->host);
  const char *tok = json_string_value (json_object_get (j, "token"));
  if (!tok)
    tok = json_string_value (json_object_get (j, "access_token"));
  if (!tok || !*tok)
    return husk_err (err, EPROTO, "registry %s: token response without a token", reg->host);
  free (reg->bearer);
  reg->bearer = xasprintf ("Authorization: Bearer %s", tok);
  return 0;
}

static int
authenticate (image_registry *reg, const char *www_auth, husk_error **err)
{
  if (!www_auth)
    return husk_err (err, EACCES,
                     "registry %s: 401 Unauthorized without a WWW-Authenticate challenge",
                     reg->host);
  image_challenge c;
  int ret = image_challenge_parse (www_auth, &c, err);
  if (ret < 0)
    return husk_err_wrap (err, "registry %s", reg->host);
  if (strcasecmp (c.scheme, "Bearer") == 0)
    ret = fetch_token (reg, &c, err);
  else if (strcasecmp (c.scheme, "Basic") == 0)
    {
      if (!reg->user)
        ret = husk_err (err, EACCES,
                        "registry %s: authentication required (401, Basic) and no credentials "
                        "configured (docker config.json auths, --username)",
                        reg->host);
      else if (reg->basic)
        ret = husk_err (err, EACCES, "registry %s: credentials of '%s' refused (401)", reg->host,
                        reg->user);
      else
        reg->basic = true;
    }
  else
    ret = husk_err (err, ENOTSUP, "registry %s: unsupported auth scheme '%s'", reg->host, c.scheme);
  image_challenge_clear (&c);
  return ret;
}

/* GET base+path; on a 401 authenticates once from the challenge and retries. */
static int
get_authed (image_registry *reg, const char *path, const char *accept, http_resp *r,
            husk_error **err)
{
  _cleanup_free_ char *url = xasprintf ("%s%s", reg->base, path);
  for (int attempt = 0;; attempt++)
    {
      http_resp_clear (r);
      int ret = http_get (reg, url, accept, true, r, err);
      if (ret < 0)
        return ret;
      if (r->code != 401)
        return 0;
      if (attempt > 0)
        return husk_err (err, EACCES, "registry %s: access to %s refused (401)%s%s", reg->host,
                         reg->repo, reg->user ? " for " : " without credentials",
                         reg->user ? reg->user : "");
      if ((ret = authenticate (reg, r->www_auth, err)) < 0)
        return ret;
    }
}

/* ---- opening ---- */

static bool
host_is_loopback (const char *host)
{
  _cleanup_free_ char *h = NULL;
  if (host[0] == '[')
    h = xstrndup (host + 1, strcspn (host + 1, "]"));
  else
    h = xstrndup (host, strcspn (host, ":"));
  if (streq (h, "localhost") || streq (h, "::1"))
    return true;
  struct in_addr a;
  return inet_pton (AF_INET, h, &a) == 1 && (ntohl (a.s_addr) >> 24) == 127;
}

static bool
host_is_insecure (const image_pull_opts *o, const char *host)
{
  if (host_is_loopback (host))
    return true;
  for (char **p = o->insecure; p && *p; p++)
    if (streq (*p, host))
      return true;
  return false;
}

static int
ping (image_registry *reg, husk_error **err)
{
  http_resp r = { 0 };
  _cleanup_free_ char *url = xasprintf ("%s/v2/", reg->base);
  int ret = http_get (reg, url, NULL, false, &r, err);
  if (ret < 0)
    {
      http_resp_clear (&r);
      return ret;
    }
  if (r.code == 401)
    ret = authenticate (reg, r.www_auth, err);
  else if (r.code != 200)
    {
      _cleanup_free_ char *t = error_text (&r);
      ret = husk_err (err, EPROTO, "GET %s: %s (not an OCI registry?)", url, t);
    }
  http_resp_clear (&r);
  return ret;
}

int
image_registry_open (const image_ref *ref, const image_pull_opts *o, image_registry **out,
                     husk_error **err)
{
  _cleanup_ (image_registry_freep) image_registry *reg = xzalloc (sizeof *reg);
  reg->o = o;
  reg->host = xstrdup (image_ref_registry_host (ref));
  reg->repo = xstrdup (ref->path);
  int ret = image_auth_find (o, ref->domain, &reg->user, &reg->pass, err);
  if (ret < 0)
    return ret;
  reg->base = xasprintf ("https://%s", reg->host);
  _cleanup_error_ husk_error *tls_err = NULL;
  ret = ping (reg, &tls_err);
  if (ret < 0 && tls_err->errnum == EIO && host_is_insecure (o, reg->host))
    {
      free (reg->base);
      reg->base = xasprintf ("http://%s", reg->host);
      _cleanup_error_ husk_error *plain_err = NULL;
      ret = ping (reg, &plain_err);
      if (ret < 0 && plain_err->errnum == EACCES) /* a registry, over plain HTTP */
        {
          husk_error_move (err, &plain_err);
          return ret;
        }
      if (ret < 0)
        return husk_err (err, EIO, "registry %s: over HTTPS: %s; over plain HTTP: %s", reg->host,
                         tls_err->msg, plain_err->msg);
    }
  else if (ret < 0)
    {
      husk_error_move (err, &tls_err);
      return ret;
    }
  *out = TAKE_PTR (reg);
  return 0;
}

/* ---- manifests ---- */

#define MANIFEST_ACCEPT                                                                            \
  IMAGE_MT_OCI_INDEX ", " IMAGE_MT_OCI_MANIFEST ", " IMAGE_MT_DOCKER_LIST                          \
                     ", " IMAGE_MT_DOCKER_MANIFEST

int
image_registry_get_manifest (image_registry *reg, const char *reference, char **body, size_t *len,
                             char **media_type, char **digest_hdr, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("/v2/%s/manifests/%s", reg->repo, reference);
  http_resp r = { 0 };
  int ret = get_authed (reg, path, MANIFEST_ACCEPT, &r, err);
  if (ret < 0)
    {
      http_resp_clear (&r);
      return husk_err_wrap (err, "manifest %s", reference);
    }
  if (r.code != 200)
    {
      _cleanup_free_ char *t = error_text (&r);
      long code = r.code;
      http_resp_clear (&r);
      return husk_err (err,
                       code == 404                  ? ENOENT
                       : code == 401 || code == 403 ? EACCES
                                                    : EPROTO,
                       "manifest %s: %s (registry %s, repository %s)", reference, t, reg->host,
                       reg->repo);
    }
  *len = r.body.len;
  *body = husk_buf_steal (&r.body);
  *media_type = r.content_type ? xstrndup (r.content_type, strcspn (r.content_type, ";")) : NULL;
  *digest_hdr = TAKE_PTR (r.digest);
  http_resp_clear (&r);
  return 0;
}

/* ---- blobs ---- */

typedef struct progress
{
  bool tty, quiet;
  uint64_t total, done;
  size_t n_blobs, n_done;
  struct timespec start, last;
} progress;

static double
since (const struct timespec *a)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - a->tv_sec) + (now.tv_nsec - a->tv_nsec) / 1e9;
}

static void
progress_draw (progress *p, bool final)
{
  if (!p->tty || p->quiet)
    return;
  if (!final && since (&p->last) < 0.1)
    return;
  clock_gettime (CLOCK_MONOTONIC, &p->last);
  double secs = since (&p->start);
  double rate = secs > 0 ? p->done / secs : 0;
  int width = 30;
  int fill = p->total ? (int)(width * (double)p->done / p->total) : width;
  if (fill > width)
    fill = width;
  char bar[64];
  memset (bar, '=', fill);
  memset (bar + fill, ' ', width - fill);
  if (fill < width)
    bar[fill] = '>';
  bar[width] = '\0';
  fprintf (stderr, "\r[%s] %7.1f/%.1f MB %6.1f MB/s  %zu/%zu blobs%s", bar, p->done / 1e6,
           p->total / 1e6, rate / 1e6, p->n_done, p->n_blobs, final ? "\n" : "");
  fflush (stderr);
}

typedef struct blob_job
{
  image_registry *reg;
  image_store *s;
  image_desc *d;
  progress *pg;
  CURL *e;
  struct curl_slist *hdrs;
  int fd, lockfd;
  char *partial;
  image_hasher h;
  uint64_t have, flushed; /* bytes in the file; bytes whose writeback was started */
  bool resumed, got_code, bad_status, oversize;
  long code;
  husk_buf errbody;
  char errbuf[CURL_ERROR_SIZE];
  struct timespec start;
  int attempts;
} blob_job;

#define BLOB_ATTEMPTS        4
#define BLOB_WRITEBACK_CHUNK (4u << 20)

/* Drops the transfer and the file but keeps the lock, for another attempt. */
static void
job_reset (blob_job *j)
{
  if (j->e)
    curl_easy_cleanup (j->e);
  curl_slist_free_all (j->hdrs);
  if (j->fd >= 0)
    close (j->fd);
  free (j->partial);
  husk_buf_free (&j->errbody);
  j->pg->done -= j->have;
  j->e = NULL;
  j->hdrs = NULL;
  j->fd = -1;
  j->partial = NULL;
  j->have = 0;
  j->resumed = j->got_code = j->bad_status = j->oversize = false;
  j->code = 0;
  j->errbuf[0] = '\0';
}

/* A dropped connection or a server-side failure: worth resuming from the partial file. */
static bool
job_retryable (const blob_job *j, CURLcode rc)
{
  if (j->attempts + 1 >= BLOB_ATTEMPTS || j->oversize)
    return false;
  if (j->bad_status)
    return j->code >= 500 || j->code == 429;
  return rc != CURLE_OK;
}

static void
job_free (blob_job *j)
{
  if (j->e)
    curl_easy_cleanup (j->e);
  curl_slist_free_all (j->hdrs);
  if (j->fd >= 0)
    close (j->fd);
  if (j->lockfd >= 0)
    close (j->lockfd);
  free (j->partial);
  husk_buf_free (&j->errbody);
  j->e = NULL;
  j->hdrs = NULL;
  j->fd = j->lockfd = -1;
  j->partial = NULL;
}

static size_t
blob_write_cb (char *data, size_t size, size_t nmemb, void *ud)
{
  blob_job *j = ud;
  size_t n = size * nmemb;
  if (!j->got_code)
    {
      j->got_code = true;
      curl_easy_getinfo (j->e, CURLINFO_RESPONSE_CODE, &j->code);
      if (j->code >= 300)
        j->bad_status = true;
      else if (j->resumed && j->code == 200) /* the server ignored Range: start over */
        {
          j->pg->done -= j->have;
          j->resumed = false;
          j->have = j->flushed = 0;
          image_hasher_init (&j->h);
          if (ftruncate (j->fd, 0) < 0 || lseek (j->fd, 0, SEEK_SET) < 0)
            return 0;
        }
    }
  if (j->bad_status)
    {
      if (j->errbody.len < 4096)
        husk_buf_append (&j->errbody, data, n);
      return n;
    }
  if (j->have + n > (uint64_t)j->d->size)
    {
      j->oversize = true;
      return 0;
    }
  for (size_t off = 0; off < n;)
    {
      ssize_t w = write (j->fd, data + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return 0;
      off += w;
    }
  image_hasher_update (&j->h, data, n);
  j->have += n;
  j->pg->done += n;
  /* start writeback as the blob arrives, so that the fdatasync before it enters the
     store has little left to wait for */
  if (j->have - j->flushed >= BLOB_WRITEBACK_CHUNK)
    {
      sync_file_range (j->fd, j->flushed, j->have - j->flushed, SYNC_FILE_RANGE_WRITE);
      j->flushed = j->have;
    }
  return n;
}

/* Hashes what an earlier, interrupted download left; resumes from there. */
static int
job_resume_prefix (blob_job *j, husk_error **err)
{
  struct stat st;
  if (fstat (j->fd, &st) < 0)
    return husk_err_errno (err, "stat %s", j->partial);
  if (st.st_size > j->d->size)
    {
      if (ftruncate (j->fd, 0) < 0)
        return husk_err_errno (err, "truncate %s", j->partial);
      return 0;
    }
  _cleanup_free_ char *buf = xmalloc (1 << 20);
  for (;;)
    {
      ssize_t n = read (j->fd, buf, 1 << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_errno (err, "read %s", j->partial);
      if (n == 0)
        break;
      image_hasher_update (&j->h, buf, n);
      j->have += n;
    }
  j->resumed = j->have > 0;
  return 0;
}

static int
job_start (blob_job *j, husk_error **err)
{
  j->partial = image_store_partial_path (j->s, j->d->digest);
  j->fd = open (j->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (j->fd < 0)
    return husk_err_errno (err, "blob %s: open %s", j->d->digest, j->partial);
  image_hasher_init (&j->h);
  int ret = job_resume_prefix (j, err);
  if (ret < 0)
    return ret;
  j->pg->done += j->have;
  clock_gettime (CLOCK_MONOTONIC, &j->start);
  if (!j->pg->tty && !j->pg->quiet)
    {
      char size[32], from[32];
      snprintf (size, sizeof size, "%lld", (long long)j->d->size);
      snprintf (from, sizeof from, "%llu", (unsigned long long)j->have);
      log_info ("downloading blob", "digest", j->d->digest, "size", size, "resume_from", from);
    }
  if (j->have == (uint64_t)j->d->size)
    return 0; /* complete already: verified when it finishes */
  _cleanup_free_ char *url
      = xasprintf ("%s/v2/%s/blobs/%s", j->reg->base, j->reg->repo, j->d->digest);
  j->e = curl_easy_init ();
  if (!j->e)
    husk_oom ();
  if (j->reg->bearer)
    j->hdrs = curl_slist_append (j->hdrs, j->reg->bearer);
  setup_easy (j->reg, j->e, url, j->hdrs, j->errbuf);
  curl_easy_setopt (j->e, CURLOPT_WRITEFUNCTION, blob_write_cb);
  curl_easy_setopt (j->e, CURLOPT_WRITEDATA, j);
  curl_easy_setopt (j->e, CURLOPT_PRIVATE, j);
  curl_easy_setopt (j->e, CURLOPT_BUFFERSIZE, 256L * 1024);
  if (j->resumed)
    curl_easy_setopt (j->e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)j->have);
  if (lseek (j->fd, j->have, SEEK_SET) < 0)
    return husk_err_errno (err, "seek %s", j->partial);
  return 0;
}

/* Verifies a finished download and moves it into the store. */
static int
job_finish (blob_job *j, CURLcode rc, husk_error **err)
{
  const char *dg = j->d->digest;
  if (j->oversize)
    {
      unlink (j->partial);
      return husk_err (err, EBADMSG,
                       "blob %s: registry sent more than the %lld bytes the manifest "
                       "declares",
                       dg, (long long)j->d->size);
    }
  if (j->bad_status)
    {
      http_resp r = { .code = j->code, .body = j->errbody };
      _cleanup_free_ char *t = error_text (&r);
      if (j->code == 416)
        unlink (j->partial);
      return husk_err (err, j->code == 404 ? ENOENT : EPROTO, "blob %s: %s (registry %s)", dg, t,
                       j->reg->host);
    }
  if (rc != CURLE_OK)
    return husk_err (err, EIO, "blob %s: %s (partial download kept for resuming)", dg,
                     j->errbuf[0] ? j->errbuf : curl_easy_strerror (rc));
  char got[IMAGE_DIGEST_LEN + 1];
  image_hasher_digest (&j->h, got);
  if (j->have != (uint64_t)j->d->size)
    {
      unlink (j->partial);
      return husk_err (err, EBADMSG, "blob %s: size mismatch: got %llu bytes, want %lld", dg,
                       (unsigned long long)j->have, (long long)j->d->size);
    }
  if (!streq (got, dg))
    {
      unlink (j->partial);
      return husk_err (err, EBADMSG, "blob %s: digest mismatch: content hashes to %s", dg, got);
    }
  if (fdatasync (j->fd) < 0)
    return husk_err_errno (err, "blob %s: sync", dg);
  int ret = image_store_commit_verified (j->s, j->partial, dg, err);
  if (ret < 0)
    return ret;
  j->pg->n_done++;
  if (!j->pg->tty && !j->pg->quiet)
    {
      char size[32], secs[32];
      snprintf (size, sizeof size, "%lld", (long long)j->d->size);
      snprintf (secs, sizeof secs, "%.2f", since (&j->start));
      log_info ("blob downloaded", "digest", dg, "size", size, "seconds", secs);
    }
  return 0;
}

/* Runs the jobs (all locked by us) through one curl multi, parallel at most max at once. */
static int
run_jobs (blob_job *jobs, size_t n, int max, image_blob_done_fn done, void *ctx, husk_error **err)
{
  CURLM *m = curl_multi_init ();
  int first_err = 0;
  size_t next = 0, active = 0;
  for (;;)
    {
      while (next < n && (int)active < max)
        {
          blob_job *j = &jobs[next++];
          husk_error *e = NULL;
          int ret = job_start (j, &e);
          if (ret == 0 && !j->e) /* already complete on disk */
            ret = job_finish (j, CURLE_OK, &e);
          if (ret < 0)
            {
              if (!first_err)
                first_err = ret, husk_error_move (err, &e);
              husk_error_free (e);
              job_free (j);
              continue;
            }
          if (!j->e)
            {
              job_free (j);
              done (ctx, j->d);
              continue;
            }
          curl_multi_add_handle (m, j->e);
          active++;
        }
      if (active == 0 && next >= n)
        break;
      int running = 0;
      curl_multi_perform (m, &running);
      CURLMsg *msg;
      int left;
      while ((msg = curl_multi_info_read (m, &left)))
        {
          if (msg->msg != CURLMSG_DONE)
            continue;
          blob_job *j = NULL;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
          CURLcode rc = msg->data.result;
          curl_multi_remove_handle (m, j->e);
          active--;
          husk_error *e = NULL;
          int ret;
          if (job_retryable (j, rc))
            {
              if (!j->pg->quiet)
                {
                  char why[64];
                  snprintf (why, sizeof why, "%s",
                            j->bad_status ? "HTTP error" : curl_easy_strerror (rc));
                  log_warn ("blob download interrupted, resuming", "digest", j->d->digest, "reason",
                            why);
                }
              j->attempts++;
              job_reset (j);
              ret = job_start (j, &e);
              if (ret == 0 && j->e)
                {
                  curl_multi_add_handle (m, j->e);
                  active++;
                  continue;
                }
              if (ret == 0)
                ret = job_finish (j, CURLE_OK, &e);
            }
          else
            ret = job_finish (j, rc, &e);
          job_free (j);
          if (ret < 0)
            {
              if (!first_err)
                first_err = ret, husk_error_move (err, &e);
              husk_error_free (e);
              continue;
            }
          done (ctx, j->d);
        }
      progress_draw (jobs[0].pg, false);
      if (active > 0)
        curl_multi_poll (m, NULL, 0, 100, NULL);
    }
  curl_multi_cleanup (m);
  return first_err;
}

int
image_registry_fetch_blobs (image_registry *reg, image_store *s, image_desc *descs, size_t n,
                            image_blob_done_fn done, void *ctx, husk_error **err)
{
  progress pg = { .quiet = reg->o->quiet };
  pg.tty = reg->o->progress > 0 || (reg->o->progress < 0 && isatty (STDERR_FILENO));
  clock_gettime (CLOCK_MONOTONIC, &pg.start);
  _cleanup_free_ image_desc **pending = xcalloc (n + 1, sizeof *pending);
  size_t n_pending = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (image_store_has_blob (s, descs[i].digest))
        done (ctx, &descs[i]);
      else
        {
          pending[n_pending++] = &descs[i];
          pg.total += descs[i].size;
          pg.n_blobs++;
        }
    }
  int max = reg->o->parallel > 0 ? reg->o->parallel : 4;
  int ret = 0;
  while (n_pending > 0 && ret == 0)
    {
      _cleanup_free_ blob_job *jobs = xcalloc (n_pending, sizeof *jobs);
      size_t n_jobs = 0, n_wait = 0;
      for (size_t i = 0; i < n_pending; i++)
        {
          image_desc *d = pending[i];
          int lfd = -1;
          if (image_store_has_blob (s, d->digest))
            {
              done (ctx, d);
              continue;
            }
          ret = image_store_lock_digest (s, "blob", d->digest, false, &lfd, err);
          if (ret < 0)
            return ret;
          if (ret == 1) /* another pull is downloading it: look again after ours */
            {
              pending[n_wait++] = d;
              ret = 0;
              continue;
            }
          if (image_store_has_blob (s, d->digest))
            {
              close (lfd);
              done (ctx, d);
              continue;
            }
          jobs[n_jobs++]
              = (blob_job){ .reg = reg, .s = s, .d = d, .pg = &pg, .fd = -1, .lockfd = lfd };
        }
      if (n_jobs > 0)
        ret = run_jobs (jobs, n_jobs, max, done, ctx, err);
      else if (n_wait > 0)
        {
          int lfd = -1;
          ret = image_store_lock_digest (s, "blob", pending[0]->digest, true, &lfd, err);
          if (lfd >= 0)
            close (lfd);
        }
      n_pending = n_wait;
    }
  if (pg.n_blobs)
    progress_draw (&pg, true);
  return ret;
}
