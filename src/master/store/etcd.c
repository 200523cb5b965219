/* husk store: the etcd v3 backend over etcd's JSON gateway (docs/store.md).

   Every request is an HTTP POST of JSON with base64 keys and values, made with libcurl.
   Requests go to the endpoint that last worked and fail over to the next one; a write is
   retried elsewhere only when it cannot have been applied (no connection was made, or etcd
   answered with an error). Watches: one /v3/watch stream per watched resource, run by a
   thread that feeds the resource's hub and reconnects from the last revision it saw. */
#include <curl/curl.h>
#include <inttypes.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "src/master/store/store-internal.h"

#define GRPC_OUT_OF_RANGE 11 /* "required revision has been compacted" */

typedef struct stream stream;

typedef struct etcd
{
  char **eps; /* base URLs, "http://h:p" */
  size_t n_eps;
  atomic_size_t cur;
  char *ca, *cert, *key;
  long timeout_ms;
  struct curl_slist *hdrs; /* read-only, shared by every request */
  pthread_mutex_t pool_mu;
  CURL **pool;
  size_t pool_n, pool_cap;
  pthread_mutex_t streams_mu;
  stream *streams;
  atomic_bool stop;
} etcd;

struct stream
{
  store *s;
  store_hub *hub;
  char *prefix;
  int64_t next_rev; /* the first revision the stream still has to deliver */
  pthread_t th;
  husk_buf in;    /* bytes of an incomplete message */
  bool compacted; /* the server cancelled the watch: history is gone */
  int64_t compact_rev;
  stream *next;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

/* ---- HTTP ---- */

static size_t
collect (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  husk_buf_append (userdata, ptr, size * nmemb);
  return size * nmemb;
}

static void setup_handle (etcd *e, CURL *c, const char *url, const char *body,
                          struct curl_slist *hdrs);

/* A pooled handle, set up for requests (only URL, body and output change between them);
   it keeps its connection open between requests. */
static CURL *
handle_take (etcd *e)
{
  CURL *c = NULL;
  pthread_mutex_lock (&e->pool_mu);
  if (e->pool_n)
    c = e->pool[--e->pool_n];
  pthread_mutex_unlock (&e->pool_mu);
  if (!c)
    {
      c = curl_easy_init ();
      if (!c)
        husk_oom ();
      setup_handle (e, c, NULL, NULL, e->hdrs);
      curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, e->timeout_ms);
      curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, collect);
    }
  return c;
}

static void
handle_give (etcd *e, CURL *c)
{
  pthread_mutex_lock (&e->pool_mu);
  if (e->pool_n == e->pool_cap)
    {
      e->pool_cap = e->pool_cap ? e->pool_cap * 2 : 16;
      e->pool = xreallocarray (e->pool, e->pool_cap, sizeof *e->pool);
    }
  e->pool[e->pool_n++] = c;
  pthread_mutex_unlock (&e->pool_mu);
}

static void
setup_handle (etcd *e, CURL *c, const char *url, const char *body, struct curl_slist *hdrs)
{
  curl_easy_reset (c);
  if (url)
    curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_POST, 1L);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPIDLE, 5L);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPINTVL, 2L);
  if (e->ca)
    curl_easy_setopt (c, CURLOPT_CAINFO, e->ca);
  if (e->cert)
    curl_easy_setopt (c, CURLOPT_SSLCERT, e->cert);
  if (e->key)
    curl_easy_setopt (c, CURLOPT_SSLKEY, e->key);
}

/* Kinds of failure, for the retry decision. */
enum
{
  FAIL_NONE,
  FAIL_NOT_SENT, /* nothing reached etcd: safe to retry anywhere */
  FAIL_UNKNOWN,  /* etcd may or may not have applied it */
  FAIL_ANSWERED, /* etcd answered with an error: not applied */
};

/* One POST to one endpoint. On an etcd error answer *resp is the error object. */
static int
post_one (etcd *e, const char *ep, const char *path, const char *body, json_t **resp, int *fail,
          husk_error **err)
{
  _cleanup_free_ char *url = xasprintf ("%s%s", ep, path);
  _cleanup_buf_ husk_buf out = HUSK_BUF_INIT;
  CURL *c = handle_take (e);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &out);
  CURLcode rc = curl_easy_perform (c);
  long code = 0;
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &code);
  curl_off_t sent = 0;
  curl_easy_getinfo (c, CURLINFO_REQUEST_SIZE, &sent);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, NULL);
  handle_give (e, c);
  if (rc != CURLE_OK)
    {
      *fail = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST
                      || (rc == CURLE_OPERATION_TIMEDOUT && sent == 0)
                  ? FAIL_NOT_SENT
                  : FAIL_UNKNOWN;
      return husk_err (err, STORE_EUNAVAIL, "etcd %s: %s", ep, curl_easy_strerror (rc));
    }
  json_error_t jerr;
  json_t *j = json_loadb (husk_buf_str (&out), out.len, 0, &jerr);
  if (!j || !json_is_object (j))
    {
      json_decref (j);
      *fail = FAIL_UNKNOWN;
      return husk_err (err, EIO, "etcd %s%s: HTTP %ld, unreadable answer", ep, path, code);
    }
  if (code != 200 || json_object_get (j, "error"))
    {
      *fail = FAIL_ANSWERED;
      *resp = j;
      const char *msg = json_string_value (json_object_get (j, "message"));
      json_int_t gcode = json_integer_value (json_object_get (j, "code"));
      return husk_err (err, gcode == GRPC_OUT_OF_RANGE ? STORE_ETOOOLD : EIO, "etcd %s%s: %s", ep,
                       path, msg ? msg : "error");
    }
  *fail = FAIL_NONE;
  *resp = j;
  return 0;
}

/* POSTs with failover. Reads (idempotent) retry on any failure; writes only when safe. */
static int
post_body (etcd *e, const char *path, const char *body, bool idempotent, json_t **resp,
           husk_error **err)
{
  struct timespec t0, now;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  size_t start = atomic_load (&e->cur);
  for (int attempt = 0;; attempt++)
    {
      size_t i = (start + (size_t)attempt) % e->n_eps;
      json_t *j = NULL;
      int fail = FAIL_NONE;
      husk_error *one = NULL;
      int ret = post_one (e, e->eps[i], path, body, &j, &fail, &one);
      if (ret >= 0)
        {
          atomic_store (&e->cur, i);
          *resp = j;
          return 0;
        }
      bool retry;
      if (fail == FAIL_ANSWERED)
        {
          const char *msg = json_string_value (json_object_get (j, "message"));
          bool transient = msg
                           && (strstr (msg, "no leader") || strstr (msg, "not capable")
                               || strstr (msg, "too many requests")
                               || (idempotent
                                   && (strstr (msg, "leader changed") || strstr (msg, "timed out")
                                       || strstr (msg, "unhealthy"))));
          retry = transient;
        }
      else
        retry = fail == FAIL_NOT_SENT || idempotent;
      json_decref (j);
      clock_gettime (CLOCK_MONOTONIC, &now);
      long el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
      if (!retry || el > 2 * e->timeout_ms || atomic_load (&e->stop))
        {
          husk_error_move (err, &one);
          husk_error_free (one);
          return husk_err_code (*err);
        }
      husk_error_free (one);
      if ((size_t)attempt % e->n_eps == e->n_eps - 1)
        usleep (100000); /* a full round failed: an election may be running */
    }
}

static int
post (etcd *e, const char *path, json_t *body_json, bool idempotent, json_t **resp,
      husk_error **err)
{
  _cleanup_free_ char *body = husk_json_dump (body_json);
  return post_body (e, path, body, idempotent, resp, err);
}

/* ---- encoding helpers ---- */

static json_t *
b64_json (const void *data, size_t len)
{
  char *s = husk_base64_encode (data, len);
  json_t *j = json_string (s);
  free (s);
  return j;
}

static json_t *
key_json (const char *key)
{
  return b64_json (key, strlen (key));
}

/* The end of a prefix range: the prefix with its last byte + 1. */
static json_t *
prefix_end_json (const char *prefix)
{
  _cleanup_free_ char *end = xstrdup (prefix);
  end[strlen (end) - 1]++;
  return key_json (end);
}

static int64_t
jint (json_t *obj, const char *key)
{
  json_t *v = json_object_get (obj, key);
  if (json_is_string (v))
    return strtoll (json_string_value (v), NULL, 10);
  if (json_is_integer (v))
    return json_integer_value (v);
  return 0;
}

static char *
kv_key (json_t *kv)
{
  const char *k = json_string_value (json_object_get (kv, "key"));
  char *out = NULL;
  size_t len;
  if (!k || husk_base64_decode (k, strlen (k), &out, &len) < 0)
    return xstrdup ("");
  return out;
}

/* The object of a kv with metadata.resourceVersion = rev (rev 0: the kv's mod_revision). */
static int
kv_object (json_t *kv, int64_t rev, char **out, size_t *len_out, husk_error **err)
{
  const char *v = json_string_value (json_object_get (kv, "value"));
  _cleanup_free_ char *raw = NULL;
  size_t len = 0;
  if (!v || husk_base64_decode (v, strlen (v), &raw, &len) < 0)
    return husk_err (err, EIO, "etcd: value is not base64");
  size_t pl = strlen (STORE_RV_PREFIX);
  if (len > pl && memcmp (raw, STORE_RV_PREFIX "\"", pl + 1) == 0)
    {
      /* Written by husk: the empty resourceVersion is at a known place. */
      *out = store_splice_rev (raw, len, pl, 0, rev ? rev : jint (kv, "mod_revision"), len_out);
      return 0;
    }
  _cleanup_json_ json_t *obj = NULL;
  if (husk_json_parse (raw, len, &obj, err) < 0 || !json_is_object (obj))
    return husk_err (err, EIO, "etcd: stored value is not a JSON object");
  json_t *meta = json_object_get (obj, "metadata");
  if (!json_is_object (meta))
    {
      meta = json_object ();
      json_object_set_new (obj, "metadata", meta);
    }
  char num[24];
  snprintf (num, sizeof num, "%" PRId64, rev ? rev : jint (kv, "mod_revision"));
  json_object_set_new (meta, "resourceVersion", json_string (num));
  *out = husk_json_dump (obj);
  if (len_out)
    *len_out = strlen (*out);
  return 0;
}

/* ---- reads ---- */

static int
e_current_revision (store *s, int64_t *out, husk_error **err)
{
  _cleanup_json_ json_t *req = json_pack ("{s:o,s:b}", "key", b64_json ("\0", 1), "count_only", 1);
  _cleanup_json_ json_t *resp = NULL;
  int ret = post (s->be, "/v3/kv/range", req, true, &resp, err);
  if (ret < 0)
    return ret;
  *out = jint (json_object_get (resp, "header"), "revision");
  return 0;
}

static int
e_get (store *s, const char *key, bool is_volatile, char **json, int64_t *rev, husk_error **err)
{
  _cleanup_json_ json_t *req = json_pack ("{s:o}", "key", key_json (key));
  _cleanup_json_ json_t *resp = NULL;
  int ret = post (s->be, "/v3/kv/range", req, true, &resp, err);
  if (ret < 0)
    return ret;
  json_t *kv = json_array_get (json_object_get (resp, "kvs"), 0);
  if (!kv)
    return husk_err (err, STORE_ENOTFOUND, "%s: not found", key + strlen ("/registry/"));
  ret = kv_object (kv, 0, json, NULL, err);
  if (ret < 0)
    return ret;
  *rev = jint (kv, "mod_revision");
  return 0;
}

static int
e_list (store *s, const char *prefix, const char *after, size_t limit, int64_t snapshot_rev,
        bool is_volatile, store_list_page *out, husk_error **err)
{
  /* Keys strictly after `after`: after + "\0" is the smallest one. */
  size_t alen = strlen (after);
  _cleanup_free_ char *start = xmalloc (alen + 1);
  memcpy (start, after, alen + 1);
  json_t *startj = streq (after, prefix) ? key_json (prefix) : b64_json (start, alen + 1);
  _cleanup_json_ json_t *req
      = json_pack ("{s:o,s:o}", "key", startj, "range_end", prefix_end_json (prefix));
  if (limit)
    json_object_set_new (req, "limit", json_integer ((json_int_t)limit));
  if (snapshot_rev)
    json_object_set_new (req, "revision", json_integer (snapshot_rev));
  _cleanup_json_ json_t *resp = NULL;
  int ret = post (s->be, "/v3/kv/range", req, true, &resp, err);
  if (ret < 0)
    {
      if ((*err)->errnum == STORE_ETOOOLD)
        return husk_err_wrap (err, "continue token expired (revision %" PRId64 " compacted)",
                              snapshot_rev);
      return ret;
    }
  json_t *kvs = json_object_get (resp, "kvs");
  size_t n = json_array_size (kvs);
  char **items = xcalloc (n + 1, sizeof *items);
  for (size_t i = 0; i < n; i++)
    {
      ret = kv_object (json_array_get (kvs, i), 0, &items[i], NULL, err);
      if (ret < 0)
        {
          for (size_t k = 0; k < i; k++)
            free (items[k]);
          free (items);
          return ret;
        }
    }
  out->items = items;
  out->n = n;
  out->more = json_is_true (json_object_get (resp, "more"));
  out->last_key = n ? kv_key (json_array_get (kvs, n - 1)) : NULL;
  out->revision = jint (json_object_get (resp, "header"), "revision");
  return 0;
}

/* ---- writes ---- */

/* Appends the base64 of len bytes as a JSON string (base64 needs no escaping). */
static void
put_b64 (husk_buf *b, const void *data, size_t len)
{
  _cleanup_free_ char *s = husk_base64_encode (data, len);
  husk_buf_putc (b, '"');
  husk_buf_puts (b, s);
  husk_buf_putc (b, '"');
}

static void
put_key (husk_buf *b, const char *name, const char *key)
{
  husk_buf_printf (b, "\"%s\":", name);
  put_b64 (b, key, strlen (key));
}

static void
compare_for (husk_buf *b, const store_prep *p)
{
  const store_op *op = p->op;
  husk_buf_putc (b, '{');
  put_key (b, "key", p->key);
  if (op->type == STORE_OP_CREATE)
    husk_buf_puts (b, ",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}");
  else if (op->expect_rev)
    husk_buf_printf (b,
                     ",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\"%" PRId64 "\"}",
                     op->expect_rev);
  else
    husk_buf_puts (b, ",\"target\":\"CREATE\",\"result\":\"GREATER\",\"create_revision\":\"0\"}");
}

static void
request_for (husk_buf *b, const store_prep *p)
{
  if (p->op->type == STORE_OP_DELETE)
    {
      husk_buf_puts (b, "{\"request_delete_range\":{");
      put_key (b, "key", p->key);
      husk_buf_puts (b, ",\"prev_kv\":true}}");
      return;
    }
  /* Stored with an empty resourceVersion; reads set it from mod_revision. The previous
     value (for prev_rev) is only worth its transfer for an unconditional update. */
  bool prev = p->op->type == STORE_OP_UPDATE && !p->op->expect_rev;
  husk_buf_puts (b, "{\"request_put\":{");
  put_key (b, "key", p->key);
  husk_buf_puts (b, ",\"value\":");
  put_b64 (b, p->enc, p->enc_len);
  husk_buf_puts (b, prev ? ",\"prev_kv\":true}}" : "}}");
}

/* The txn of a write, as JSON text: built directly (the value is most of it, and a base64
   string needs no escaping), not through jansson. */
static char *
txn_body (store_prep *ops, size_t n)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_reserve (&b, 512 + ops[0].enc_len * 4 / 3);
  husk_buf_puts (&b, "{\"compare\":[");
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        husk_buf_putc (&b, ',');
      compare_for (&b, &ops[i]);
    }
  husk_buf_puts (&b, "],\"success\":[");
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        husk_buf_putc (&b, ',');
      request_for (&b, &ops[i]);
    }
  husk_buf_puts (&b, "],\"failure\":[");
  /* The failure branch reads the keys to say what failed; a lone create needs none. */
  for (size_t i = 0; i < n && (n > 1 || ops[i].op->type != STORE_OP_CREATE); i++)
    {
      if (i)
        husk_buf_putc (&b, ',');
      husk_buf_puts (&b, "{\"request_range\":{");
      put_key (&b, "key", ops[i].key);
      husk_buf_puts (&b, "}}");
    }
  husk_buf_puts (&b, "]}");
  return husk_buf_steal (&b);
}

/* After a failed compare: names the first op whose condition does not hold. */
static int
explain_failure (store_prep *ops, size_t n, json_t *resp, husk_error **err)
{
  json_t *responses = json_object_get (resp, "responses");
  for (size_t i = 0; i < n; i++)
    {
      const store_op *op = ops[i].op;
      const char *what = ops[i].key + strlen ("/registry/");
      json_t *rr = json_object_get (json_array_get (responses, i), "response_range");
      json_t *kv = json_array_get (json_object_get (rr, "kvs"), 0);
      if (op->type == STORE_OP_CREATE && (kv || (n == 1 && !rr))) /* lone create: no read */
        return husk_err (err, STORE_EEXIST, "%s: already exists", what);
      if (op->type != STORE_OP_CREATE && !kv)
        return husk_err (err, STORE_ENOTFOUND, "%s: not found", what);
      if (op->type != STORE_OP_CREATE && op->expect_rev
          && jint (kv, "mod_revision") != op->expect_rev)
        return husk_err (err, STORE_ECONFLICT,
                         "%s: the object has been modified (revision %" PRId64 ", expected %" PRId64
                         ")",
                         what, jint (kv, "mod_revision"), op->expect_rev);
    }
  return husk_err (err, STORE_ECONFLICT, "etcd: transaction compare failed");
}

static int
e_txn (store *s, store_prep *ops, size_t n, int64_t *rev_out, husk_error **err)
{
  _cleanup_free_ char *body = txn_body (ops, n);
  _cleanup_json_ json_t *resp = NULL;
  int ret = post_body (s->be, "/v3/kv/txn", body, false, &resp, err);
  if (ret < 0)
    return ret;
  if (!json_is_true (json_object_get (resp, "succeeded")))
    return explain_failure (ops, n, resp, err);
  int64_t rev = jint (json_object_get (resp, "header"), "revision");
  json_t *responses = json_object_get (resp, "responses");
  char **results = xcalloc (n, sizeof *results);
  for (size_t i = 0; i < n && ret >= 0; i++)
    {
      json_t *r = json_array_get (responses, i);
      if (ops[i].op->type == STORE_OP_DELETE)
        {
          json_t *prev = json_array_get (
              json_object_get (json_object_get (r, "response_delete_range"), "prev_kvs"), 0);
          ops[i].op->prev_rev = jint (prev, "mod_revision");
          ret = prev ? kv_object (prev, rev, &results[i], NULL, err)
                     : husk_err (err, EIO, "etcd: delete returned no previous value");
        }
      else
        {
          json_t *prev = json_object_get (json_object_get (r, "response_put"), "prev_kv");
          ops[i].op->prev_rev = prev ? jint (prev, "mod_revision") : ops[i].op->expect_rev;
          results[i] = store_prep_render (&ops[i], rev, NULL);
        }
    }
  for (size_t i = 0; i < n; i++)
    {
      if (ret >= 0)
        ops[i].op->result = results[i];
      else
        free (results[i]);
    }
  free (results);
  if (ret < 0)
    return husk_err_wrap (err, "committed at revision %" PRId64 " but", rev);
  *rev_out = rev;
  return 0;
}

/* ---- watch streams ---- */

static void
stream_event (stream *st, json_t *ev)
{
  json_t *kv = json_object_get (ev, "kv");
  const char *type = json_string_value (json_object_get (ev, "type"));
  bool del = type && streq (type, "DELETE");
  int64_t rev = jint (kv, "mod_revision");
  _cleanup_free_ char *key = kv_key (kv), *res = NULL, *ns = NULL, *name = NULL, *obj = NULL;
  store_key_split (key, &res, &ns, &name);
  size_t len = 0;
  _cleanup_error_ husk_error *err = NULL;
  json_t *src = del ? json_object_get (ev, "prev_kv") : kv;
  if (!src || kv_object (src, rev, &obj, &len, &err) < 0)
    {
      /* No previous value (compacted away) or a foreign value: a minimal object. */
      free (obj);
      obj = xasprintf ("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
                       "\"resourceVersion\":\"%" PRId64 "\"}}",
                       name, ns, rev);
      len = strlen (obj);
    }
  store_event_type t = del                                   ? STORE_DELETED
                       : jint (kv, "create_revision") == rev ? STORE_ADDED
                                                             : STORE_MODIFIED;
  store_hub_append (st->hub, store_event_new (t, rev, res, ns, name, obj, len));
  if (rev >= st->next_rev)
    st->next_rev = rev + 1;
}

static void
stream_message (stream *st, json_t *m)
{
  json_t *res = json_object_get (m, "result");
  if (!res)
    return;
  if (json_is_true (json_object_get (res, "canceled")))
    {
      st->compacted = true;
      st->compact_rev = jint (res, "compact_revision");
      return;
    }
  json_t *evs = json_object_get (res, "events");
  size_t i;
  json_t *ev;
  json_array_foreach (evs, i, ev) stream_event (st, ev);
  if (json_array_size (evs))
    store_hub_advance (st->hub, st->next_rev - 1);
  else if (!json_is_true (json_object_get (res, "created")))
    store_hub_advance (st->hub, jint (json_object_get (res, "header"), "revision"));
}

static size_t
stream_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  stream *st = userdata;
  husk_buf_append (&st->in, ptr, size * nmemb);
  for (;;)
    {
      char *nl = memchr (st->in.data, '\n', st->in.len);
      if (!nl)
        break;
      size_t mlen = (size_t)(nl - st->in.data);
      json_t *m = json_loadb (st->in.data, mlen, 0, NULL);
      if (m)
        stream_message (st, m);
      json_decref (m);
      memmove (st->in.data, nl + 1, st->in.len - mlen - 1);
      st->in.len -= mlen + 1;
      st->in.data[st->in.len] = '\0';
      if (st->compacted)
        return 0; /* abort the transfer */
    }
  return size * nmemb;
}

static int
stream_progress (void *userdata, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  stream *st = userdata;
  return atomic_load (&((etcd *)st->s->be)->stop) ? 1 : 0;
}

static void *
stream_main (void *arg)
{
  stream *st = arg;
  etcd *e = st->s->be;
  CURL *c = curl_easy_init ();
  struct curl_slist *hdrs = curl_slist_append (NULL, "Content-Type: application/json");
  hdrs = curl_slist_append (hdrs, "Expect:");
  size_t ep = atomic_load (&e->cur);
  while (!atomic_load (&e->stop))
    {
      _cleanup_json_ json_t *req
          = json_pack ("{s:{s:o,s:o,s:I,s:b,s:b}}", "create_request", "key", key_json (st->prefix),
                       "range_end", prefix_end_json (st->prefix), "start_revision",
                       (json_int_t)st->next_rev, "prev_kv", 1, "progress_notify", 1);
      _cleanup_free_ char *body = husk_json_dump (req);
      _cleanup_free_ char *url = xasprintf ("%s/v3/watch", e->eps[ep % e->n_eps]);
      setup_handle (e, c, url, body, hdrs);
      curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, stream_write);
      curl_easy_setopt (c, CURLOPT_WRITEDATA, st);
      curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, stream_progress);
      curl_easy_setopt (c, CURLOPT_XFERINFODATA, st);
      husk_buf_reset (&st->in);
      curl_easy_perform (c);
      if (atomic_load (&e->stop))
        break;
      if (st->compacted)
        {
          /* History before compact_rev is gone: restart from now; watchers relist. */
          husk_error *err = NULL;
          int64_t cur = 0;
          if (e_current_revision (st->s, &cur, &err) == 0)
            {
              store_hub_reset (st->hub, cur);
              st->next_rev = cur + 1;
              st->compacted = false;
            }
          husk_error_free (err);
          continue;
        }
      /* The stream ended (member gone, connection lost): resume on the next endpoint. */
      ep++;
      usleep (200000);
    }
  curl_slist_free_all (hdrs);
  curl_easy_cleanup (c);
  return NULL;
}

static int
e_watch_hub (store *s, const char *resource, int64_t from_rev, store_hub **out, husk_error **err)
{
  etcd *e = s->be;
  pthread_mutex_lock (&e->streams_mu);
  bool created = false;
  store_hub *h = store_hub_get (s, resource, from_rev, &created);
  if (created)
    {
      stream *st = xzalloc (sizeof *st);
      st->s = s;
      st->hub = h;
      st->prefix = store_list_prefix (resource, NULL);
      st->next_rev = from_rev + 1;
      int rc = pthread_create (&st->th, NULL, stream_main, st);
      if (rc != 0)
        {
          /* The hub stays without a feed; its watchers would wait forever: fail them. */
          store_hub_fail (h, STORE_EUNAVAIL, "cannot start the etcd watch stream");
          free (st->prefix);
          free (st);
        }
      else
        {
          st->next = e->streams;
          e->streams = st;
        }
    }
  pthread_mutex_unlock (&e->streams_mu);
  *out = h;
  return 0;
}

/* ---- open/close ---- */

static void
e_free (etcd *e)
{
  for (size_t i = 0; i < e->n_eps; i++)
    free (e->eps[i]);
  free (e->eps);
  for (size_t i = 0; i < e->pool_n; i++)
    curl_easy_cleanup (e->pool[i]);
  free (e->pool);
  free (e->ca);
  free (e->cert);
  free (e->key);
  curl_slist_free_all (e->hdrs);
  pthread_mutex_destroy (&e->pool_mu);
  pthread_mutex_destroy (&e->streams_mu);
  free (e);
}

static int
e_open (store *s, const store_options *opts, husk_error **err)
{
  pthread_once (&curl_once, curl_init_once);
  bool tls = strncmp (opts->url, "etcds://", 8) == 0 || opts->tls_ca || opts->tls_cert;
  const char *list = strstr (opts->url, "://") + 3;
  etcd *e = xzalloc (sizeof *e);
  pthread_mutex_init (&e->pool_mu, NULL);
  pthread_mutex_init (&e->streams_mu, NULL);
  e->timeout_ms = opts->etcd_timeout_ms ? opts->etcd_timeout_ms : 5000;
  e->ca = opts->tls_ca ? xstrdup (opts->tls_ca) : NULL;
  e->cert = opts->tls_cert ? xstrdup (opts->tls_cert) : NULL;
  e->key = opts->tls_key ? xstrdup (opts->tls_key) : NULL;
  e->hdrs = curl_slist_append (NULL, "Content-Type: application/json");
  e->hdrs = curl_slist_append (e->hdrs, "Expect:"); /* no 100-continue round trip */
  _cleanup_free_ char *copy = xstrdup (list);
  char *save = NULL;
  for (char *tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      while (*tok == ' ')
        tok++;
      if (!*tok)
        continue;
      size_t tl = strlen (tok);
      if (tok[tl - 1] == '/')
        tok[tl - 1] = '\0';
      e->eps = xreallocarray (e->eps, e->n_eps + 1, sizeof *e->eps);
      e->eps[e->n_eps++] = strstr (tok, "://") ? xstrdup (tok)
                                               : xasprintf ("%s://%s", tls ? "https" : "http", tok);
    }
  if (e->n_eps == 0)
    {
      e_free (e);
      return husk_err (err, STORE_EINVAL, "store: no etcd endpoints in '%s'", opts->url);
    }
  s->be = e;
  /* Fail early when no endpoint answers. */
  int64_t rev = 0;
  int ret = e_current_revision (s, &rev, err);
  if (ret < 0)
    {
      s->be = NULL;
      e_free (e);
      return husk_err_wrap (err, "store: etcd %s", list);
    }
  return 0;
}

static void
e_close (store *s)
{
  etcd *e = s->be;
  atomic_store (&e->stop, true);
  for (stream *st = e->streams, *next; st; st = next)
    {
      next = st->next;
      pthread_join (st->th, NULL);
      husk_buf_free (&st->in);
      free (st->prefix);
      free (st);
    }
  e_free (e);
  s->be = NULL;
}

const store_backend_ops store_etcd_ops = {
  .name = "etcd",
  .open = e_open,
  .close = e_close,
  .current_revision = e_current_revision,
  .get = e_get,
  .list = e_list,
  .txn = e_txn,
  .watch_hub = e_watch_hub,
};
