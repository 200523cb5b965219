/* husk store front end: argument checks, keys, object encoding, backend dispatch. */
#include <inttypes.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "src/master/store/store-internal.h"

static bool
segment_ok (const char *s)
{
  return s && *s && !strchr (s, '/') && !streq (s, ".") && !streq (s, "..");
}

static int
check_segments (const char *resource, const char *ns, const char *name, husk_error **err)
{
  if (!segment_ok (resource))
    return husk_err (err, STORE_EINVAL, "store: bad resource name '%s'", resource ? resource : "");
  if (ns && *ns && !segment_ok (ns))
    return husk_err (err, STORE_EINVAL, "store: bad namespace '%s'", ns);
  if (name && !segment_ok (name))
    return husk_err (err, STORE_EINVAL, "store: bad object name '%s'", name);
  return 0;
}

/* "/registry/<resource>/[<ns>/]<name>" by copying (every get and write makes one). */
char *
store_key (const char *resource, const char *ns, const char *name)
{
  static const char pre[] = "/registry/";
  size_t lp = sizeof pre - 1, lr = strlen (resource), ln = strlen (ns ? ns : ""),
         lm = strlen (name);
  char *k = xmalloc (lp + lr + 1 + (ln ? ln + 1 : 0) + lm + 1), *p = k;
  memcpy (p, pre, lp);
  p += lp;
  memcpy (p, resource, lr);
  p += lr;
  *p++ = '/';
  if (ln)
    {
      memcpy (p, ns, ln);
      p += ln;
      *p++ = '/';
    }
  memcpy (p, name, lm + 1);
  return k;
}

char *
store_list_prefix (const char *resource, const char *ns)
{
  if (ns && *ns)
    return xasprintf ("/registry/%s/%s/", resource, ns);
  return xasprintf ("/registry/%s/", resource);
}

void
store_key_split (const char *key, char **resource, char **ns, char **name)
{
  const char *p = key + strlen ("/registry/");
  const char *s1 = strchr (p, '/');
  const char *s2 = s1 ? strchr (s1 + 1, '/') : NULL;
  *resource = xstrndup (p, s1 ? (size_t)(s1 - p) : strlen (p));
  if (s2)
    {
      *ns = xstrndup (s1 + 1, s2 - s1 - 1);
      *name = xstrdup (s2 + 1);
    }
  else
    {
      *ns = xstrdup ("");
      *name = xstrdup (s1 ? s1 + 1 : "");
    }
}

bool
store_is_volatile_resource (const char *resource)
{
  return streq (resource, "leases") || streq (resource, "events");
}

/* ---- continue tokens ---- */

char *
store_continue_encode (int64_t rev, const char *last_key)
{
  _cleanup_free_ char *raw = xasprintf ("%" PRId64 "\n%s", rev, last_key);
  return husk_base64_encode (raw, strlen (raw));
}

int
store_continue_decode (const char *token, const char *prefix, int64_t *rev, char **last_key,
                       husk_error **err)
{
  _cleanup_free_ char *raw = NULL;
  size_t len;
  if (husk_base64_decode (token, strlen (token), &raw, &len) < 0 || strlen (raw) != len)
    return husk_err (err, STORE_EINVAL, "store: invalid continue token");
  char *nl = strchr (raw, '\n');
  char *end = NULL;
  if (!nl)
    return husk_err (err, STORE_EINVAL, "store: invalid continue token");
  *nl = '\0';
  long long r = strtoll (raw, &end, 10);
  if (*end || r <= 0)
    return husk_err (err, STORE_EINVAL, "store: invalid continue token");
  if (strncmp (nl + 1, prefix, strlen (prefix)) != 0)
    return husk_err (err, STORE_EINVAL, "store: continue token is for another list");
  *rev = r;
  *last_key = xstrdup (nl + 1);
  return 0;
}

/* ---- object encoding ---- */

/* The encoded object starts with STORE_RV_PREFIX: metadata first, resourceVersion first in
   it. The revision's place is then known without searching (and without parsing on reads). */
int
store_encode_object (const char *json, char **enc, size_t *enc_len, size_t *rv_off,
                     husk_error **err)
{
  _cleanup_json_ json_t *obj = NULL;
  if (!json)
    return husk_err (err, STORE_EINVAL, "store: no object");
  if (store_encode_fast (json, enc, enc_len, rv_off))
    return 0;
  int ret = husk_json_parse (json, strlen (json), &obj, err);
  if (ret < 0)
    return husk_err_wrap (err, "store: object");
  if (!json_is_object (obj))
    return husk_err (err, STORE_EINVAL, "store: object is a JSON %s, not an object",
                     husk_json_type_name (obj));
  json_t *meta = json_object_get (obj, "metadata");
  if (meta && !json_is_object (meta))
    return husk_err (err, STORE_EINVAL, "store: metadata: expected object, got %s",
                     husk_json_type_name (meta));
  _cleanup_json_ json_t *out = json_object ();
  json_t *m2 = json_object ();
  json_object_set_new (m2, "resourceVersion", json_string (""));
  const char *k;
  json_t *v;
  json_object_foreach (meta, k, v) if (!streq (k, "resourceVersion")) json_object_set (m2, k, v);
  json_object_set_new (out, "metadata", m2);
  json_object_foreach (obj, k, v) if (!streq (k, "metadata")) json_object_set (out, k, v);

  char *dump = husk_json_dump (out);
  if (strncmp (dump, STORE_RV_PREFIX "\"", strlen (STORE_RV_PREFIX) + 1) != 0)
    {
      free (dump);
      return husk_err (err, EIO, "store: encoded object does not start with its metadata");
    }
  *enc = dump;
  *enc_len = strlen (dump);
  *rv_off = strlen (STORE_RV_PREFIX);
  return 0;
}

char *
store_splice_rev (const char *text, size_t len, size_t rv_off, size_t rv_len, int64_t rev,
                  size_t *len_out)
{
  char num[24];
  int nl = snprintf (num, sizeof num, "%" PRId64, rev);
  size_t total = len - rv_len + (size_t)nl;
  char *out = xmalloc (total + 1);
  memcpy (out, text, rv_off);
  memcpy (out + rv_off, num, (size_t)nl);
  memcpy (out + rv_off + nl, text + rv_off + rv_len, len - rv_off - rv_len);
  out[total] = '\0';
  if (len_out)
    *len_out = total;
  return out;
}

char *
store_prep_render (const store_prep *p, int64_t rev, size_t *len_out)
{
  return store_splice_rev (p->enc, p->enc_len, p->rv_off, 0, rev, len_out);
}

/* ---- open/close ---- */

int
store_open (const store_options *opts, store **out, husk_error **err)
{
  const char *url = opts->url;
  const store_backend_ops *ops = &store_sqlite_ops;
  if (url && (strncmp (url, "etcd://", 7) == 0 || strncmp (url, "etcds://", 8) == 0))
    ops = &store_etcd_ops;
  else if (url && !streq (url, "sqlite") && strncmp (url, "sqlite://", 9) != 0)
    return husk_err (err, STORE_EINVAL,
                     "store: unknown store URL '%s' (sqlite://[/path] or etcd://host:port,...)",
                     url);

  store *s = xzalloc (sizeof *s);
  s->ops = ops;
  s->watch_ring = opts->watch_ring ? opts->watch_ring : 10000;
  s->watch_ring_bytes = opts->watch_ring_bytes ? opts->watch_ring_bytes : 8u << 20;
  s->event_ttl_sec = opts->event_ttl_sec ? opts->event_ttl_sec : 3600;
  s->durable_volatile = opts->durable_volatile;
  pthread_mutex_init (&s->hubs_mu, NULL);
  int ret = ops->open (s, opts, err);
  if (ret < 0)
    {
      pthread_mutex_destroy (&s->hubs_mu);
      free (s);
      return ret;
    }
  *out = s;
  return 0;
}

void
store_close (store *s)
{
  if (!s)
    return;
  s->ops->close (s);
  store_hubs_free (s);
  pthread_mutex_destroy (&s->hubs_mu);
  free (s);
}

const char *
store_backend_name (store *s)
{
  return s->ops->name;
}

int
store_current_revision (store *s, int64_t *out, husk_error **err)
{
  return s->ops->current_revision (s, out, err);
}

/* ---- reads ---- */

int
store_get (store *s, const char *resource, const char *ns, const char *name, char **json_out,
           int64_t *rev_out, husk_error **err)
{
  int ret = check_segments (resource, ns, name, err);
  if (ret < 0)
    return ret;
  _cleanup_free_ char *key = store_key (resource, ns, name);
  bool vol = !s->durable_volatile && store_is_volatile_resource (resource);
  char *json = NULL;
  int64_t rev = 0;
  ret = s->ops->get (s, key, vol, &json, &rev, err);
  if (ret < 0)
    return ret;
  *json_out = json;
  if (rev_out)
    *rev_out = rev;
  return 0;
}

int64_t
store_resource_write_rev (store *s, const char *resource)
{
  /* SQLite is written only through this process, which appends every committed write to
     the resource's hub before acknowledging it; etcd may be written by other masters. */
  if (s->ops != &store_sqlite_ops)
    return -1;
  return store_hub_write_rev (s, resource);
}

void
store_list_result_free (store_list_result *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    free (r->items[i]);
  free (r->items);
  free (r->continue_token);
  memset (r, 0, sizeof *r);
}

int
store_list (store *s, const char *resource, const char *ns, size_t limit,
            const char *continue_token, store_list_result *out, husk_error **err)
{
  int ret = check_segments (resource, ns, NULL, err);
  if (ret < 0)
    return ret;
  _cleanup_free_ char *prefix = store_list_prefix (resource, ns);
  _cleanup_free_ char *after = NULL;
  int64_t snap = 0;
  if (continue_token && *continue_token)
    {
      ret = store_continue_decode (continue_token, prefix, &snap, &after, err);
      if (ret < 0)
        return ret;
    }
  bool vol = !s->durable_volatile && store_is_volatile_resource (resource);
  store_list_page page = { 0 };
  ret = s->ops->list (s, prefix, after ? after : prefix, limit, snap, vol, &page, err);
  if (ret < 0)
    return ret;
  out->items = page.items;
  out->n = page.n;
  out->revision = snap ? snap : page.revision;
  out->continue_token
      = page.more && page.last_key ? store_continue_encode (out->revision, page.last_key) : NULL;
  free (page.last_key);
  return 0;
}

/* ---- writes ---- */

static void
preps_free (store_prep *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (p[i].key);
      free (p[i].enc);
    }
  free (p);
}

static int
prepare_op (store *s, store_op *op, store_prep *p, husk_error **err)
{
  int ret = check_segments (op->resource, op->ns, op->name, err);
  if (ret < 0)
    return ret;
  if (op->type != STORE_OP_CREATE && op->type != STORE_OP_UPDATE && op->type != STORE_OP_DELETE)
    return husk_err (err, STORE_EINVAL, "store: bad op type %d", (int)op->type);
  p->op = op;
  p->key = store_key (op->resource, op->ns, op->name);
  p->ns = op->ns ? op->ns : "";
  p->is_volatile = !s->durable_volatile && store_is_volatile_resource (op->resource);
  if (streq (op->resource, "events"))
    p->expires = (int64_t)time (NULL) + s->event_ttl_sec;
  if (op->type == STORE_OP_DELETE)
    return 0;
  if (op->obj && store_encode_tree (op->obj, &p->enc, &p->enc_len, &p->rv_off))
    return 0;
  _cleanup_free_ char *dump = op->obj ? husk_json_dump (op->obj) : NULL;
  ret = store_encode_object (dump ? dump : op->json, &p->enc, &p->enc_len, &p->rv_off, err);
  if (ret < 0)
    return husk_err_wrap (err, "%s", p->key + strlen ("/registry/"));
  return 0;
}

int
store_txn (store *s, store_op *ops, size_t n, int64_t *rev_out, husk_error **err)
{
  if (n == 0)
    return husk_err (err, STORE_EINVAL, "store: empty transaction");
  store_prep *preps = xcalloc (n, sizeof *preps);
  int ret = 0;
  for (size_t i = 0; i < n && ret >= 0; i++)
    {
      ops[i].result = NULL;
      ops[i].prev_rev = 0;
      ret = prepare_op (s, &ops[i], &preps[i], err);
      for (size_t j = 0; j < i && ret >= 0; j++)
        if (streq (preps[j].key, preps[i].key))
          ret = husk_err (err, STORE_EINVAL, "store: %s appears twice in one transaction",
                          preps[i].key);
    }
  int64_t rev = 0;
  if (ret >= 0)
    ret = s->ops->txn (s, preps, n, &rev, err);
  preps_free (preps, n);
  if (ret < 0)
    return ret;
  if (rev_out)
    *rev_out = rev;
  return 0;
}

static int
one_op (store *s, store_op *op, char **json_out, int64_t *rev_out, husk_error **err)
{
  int ret = store_txn (s, op, 1, rev_out, err);
  if (ret < 0)
    return ret;
  if (json_out)
    *json_out = TAKE_PTR (op->result);
  free (op->result);
  return 0;
}

int
store_create (store *s, const char *resource, const char *ns, const char *name, const char *json,
              char **json_out, int64_t *rev_out, husk_error **err)
{
  store_op op
      = { .type = STORE_OP_CREATE, .resource = resource, .ns = ns, .name = name, .json = json };
  return one_op (s, &op, json_out, rev_out, err);
}

int
store_create_obj (store *s, const char *resource, const char *ns, const char *name,
                  const json_t *obj, char **json_out, int64_t *rev_out, husk_error **err)
{
  store_op op
      = { .type = STORE_OP_CREATE, .resource = resource, .ns = ns, .name = name, .obj = obj };
  return one_op (s, &op, json_out, rev_out, err);
}

int
store_update (store *s, const char *resource, const char *ns, const char *name, const char *json,
              int64_t expect_rev, char **json_out, int64_t *rev_out, husk_error **err)
{
  store_op op = { .type = STORE_OP_UPDATE,
                  .resource = resource,
                  .ns = ns,
                  .name = name,
                  .json = json,
                  .expect_rev = expect_rev };
  return one_op (s, &op, json_out, rev_out, err);
}

int
store_delete (store *s, const char *resource, const char *ns, const char *name, int64_t expect_rev,
              char **json_out, int64_t *rev_out, husk_error **err)
{
  store_op op = {
    .type = STORE_OP_DELETE, .resource = resource, .ns = ns, .name = name, .expect_rev = expect_rev
  };
  return one_op (s, &op, json_out, rev_out, err);
}
