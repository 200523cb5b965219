/* husk api: create and update. */
#include "config.h"

#include <errno.h>
#include <gnutls/crypto.h>

#include "src/master/api/admission.h"
#include "src/master/api/handlers.h"
#include "src/master/api/managed.h"
#include "src/master/api/pods.h"

static void
set_str (json_t *o, const char *k, const char *v)
{
  json_object_set_new (o, k, json_string (v));
}

/* A version 4 UUID (8-4-4-4-12 hex digits, "4" and "a" in their places), formatted by hand:
   every create makes one. GnuTLS's nonce generator is its fast CSPRNG. */
static char *
new_uid (void)
{
  static const char digits[] = "0123456789abcdef";
  unsigned char raw[16];
  if (gnutls_rnd (GNUTLS_RND_NONCE, raw, sizeof raw) < 0)
    husk_oom ();
  char h[32], *u = xmalloc (37), *p = u;
  for (size_t i = 0; i < sizeof raw; i++)
    {
      h[2 * i] = digits[raw[i] >> 4];
      h[2 * i + 1] = digits[raw[i] & 15];
    }
  h[12] = '4';
  h[16] = 'a';
  for (size_t i = 0; i < 32; i++)
    {
      if (i == 8 || i == 12 || i == 16 || i == 20)
        *p++ = '-';
      *p++ = h[i];
    }
  *p = '\0';
  return u;
}

static char *
generate_name (const char *prefix)
{
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  _cleanup_free_ char *h = api_random_hex (5);
  char suffix[6];
  for (int i = 0; i < 5; i++)
    {
      unsigned v;
      sscanf (h + 2 * i, "%2x", &v);
      suffix[i] = alphabet[v % (sizeof alphabet - 1)];
    }
  suffix[5] = '\0';
  return xasprintf ("%s%s", prefix, suffix);
}

static json_t *
meta_of (json_t *obj)
{
  json_t *m = json_object_get (obj, "metadata");
  if (!json_is_object (m))
    {
      m = json_object ();
      json_object_set_new (obj, "metadata", m);
    }
  return m;
}

/* Namespace must exist and not be terminating. Replies and returns false otherwise. */
static bool
namespace_usable (api_req *r, const char *ns)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int64_t rev = api_fact_rev (r->srv->store, API_FACT_NS_USABLE);
  if (api_fact_holds (API_FACT_NS_USABLE, ns, rev))
    return true;
  if (store_get (r->srv->store, "namespaces", NULL, ns, &json, NULL, &err) < 0)
    {
      if (err->errnum == STORE_ENOTFOUND)
        {
          json_t *st = api_status_new (404, "NotFound", NULL);
          json_object_set_new (st, "message", json_sprintf ("namespaces \"%s\" not found", ns));
          api_status_details (st, ns, NULL, "namespaces");
          api_reply_status (r, st);
        }
      else
        api_reply_error (r, 500, "InternalError", "%s", err->msg);
      return false;
    }
  if (strstr (json, "\"deletionTimestamp\""))
    {
      api_reply_error (r, 403, "Forbidden",
                       "unable to create new content in namespace %s because it is being "
                       "terminated",
                       ns);
      return false;
    }
  api_fact_note (API_FACT_NS_USABLE, ns, rev);
  return true;
}

/* Sets apiVersion/kind, or refuses a body of another kind. */
static bool
check_kind (api_req *r, const api_route *rt, json_t *obj)
{
  char gv[96];
  api_resource_api_version (rt->res, gv, sizeof gv);
  const char *kind = json_string_value (json_object_get (obj, "kind"));
  const char *av = json_string_value (json_object_get (obj, "apiVersion"));
  if (kind && *kind && !streq (kind, rt->res->kind))
    {
      api_reply_error (r, 400, "BadRequest",
                       "the kind in the data (%s) does not match the expected kind (%s)", kind,
                       rt->res->kind);
      return false;
    }
  if (av && *av && !streq (av, gv))
    {
      api_reply_error (r, 400, "BadRequest",
                       "the API version in the data (%s) does not match the expected API "
                       "version (%s)",
                       av, gv);
      return false;
    }
  set_str (obj, "apiVersion", gv);
  set_str (obj, "kind", rt->res->kind);
  return true;
}

static bool
check_namespace (api_req *r, const api_route *rt, json_t *meta)
{
  const char *bns = json_string_value (json_object_get (meta, "namespace"));
  if (!rt->res->namespaced)
    {
      json_object_del (meta, "namespace");
      return true;
    }
  if (bns && *bns && rt->ns && !streq (bns, rt->ns))
    {
      api_reply_error (r, 400, "BadRequest",
                       "the namespace of the provided object does not match the namespace sent "
                       "on the request");
      return false;
    }
  set_str (meta, "namespace", rt->ns);
  return true;
}

enum MHD_Result
api_finish_create (api_req *r, const api_route *rt, json_t *obj)
{
  json_t *meta = meta_of (obj);
  if (!check_kind (r, rt, obj) || !check_namespace (r, rt, meta))
    return MHD_YES;
  const char *name = json_string_value (json_object_get (meta, "name"));
  const char *gen = json_string_value (json_object_get (meta, "generateName"));
  bool generated = (name == NULL || !*name) && gen && *gen;
  if ((name == NULL || !*name) && !generated)
    {
      json_t *st = api_status_new (422, "Invalid", NULL);
      json_object_set_new (st, "message",
                           json_sprintf ("%s \"\" is invalid: metadata.name: Required value: name "
                                         "or generateName is required",
                                         rt->res->kind));
      api_status_details (st, NULL, rt->res->group, rt->res->plural);
      api_status_cause (st, "FieldValueRequired", "metadata.name",
                        "Required value: name or generateName is required");
      return api_reply_status (r, st);
    }
  if (generated)
    {
      _cleanup_free_ char *n = generate_name (gen);
      set_str (meta, "name", n);
    }
  if (rt->res->namespaced && !namespace_usable (r, rt->ns))
    return MHD_YES;
  _cleanup_free_ char *uid = new_uid ();
  _cleanup_free_ char *now = api_now_rfc3339 ();
  set_str (meta, "uid", uid);
  set_str (meta, "creationTimestamp", now);
  json_object_del (meta, "resourceVersion");
  json_object_del (meta, "deletionTimestamp");
  json_object_del (meta, "deletionGracePeriodSeconds");
  json_object_del (meta, "selfLink");
  if (json_object_get (obj, "spec") || rt->res->subresources & API_SUB_SCALE)
    json_object_set_new (meta, "generation", json_integer (1));
  else
    json_object_del (meta, "generation");
  if (rt->res->defaults)
    rt->res->defaults (obj);
  /* Before admission, as upstream: what admission and allocation set is nobody's. */
  if (!api_managed_update (r, rt, obj, NULL))
    return MHD_YES;
  if (!api_admit (r, rt, obj, NULL) || !api_admission (r, rt, obj, NULL))
    return MHD_YES;
  if (streq (rt->res->plural, "pods") && !api_pod_create (r, obj))
    return MHD_YES;
  api_alloc_guard (r, rt->res);
  if (streq (rt->res->plural, "services") && !api_service_allocate (r, obj, NULL))
    return MHD_YES;
  if (api_dry_run (r))
    {
      _cleanup_free_ char *s = husk_json_dump (obj);
      return api_reply_object (r, rt, 201, s);
    }
  api_route named = *rt;
  for (int attempt = 0;; attempt++)
    {
      named.name = json_string_value (json_object_get (meta, "name"));
      _cleanup_free_ char *out = NULL;
      _cleanup_error_ husk_error *err = NULL;
      int ret;
      if (rt->res->to_storage == NULL) /* stored as served: encoded from the tree */
        ret = store_create_obj (r->srv->store, api_resource_storage (rt->res), rt->ns,
                                named.name, obj, &out, NULL, &err);
      else
        {
          _cleanup_free_ char *s = api_storage_text (rt->res, obj);
          ret = store_create (r->srv->store, api_resource_storage (rt->res), rt->ns, named.name,
                              s, &out, NULL, &err);
        }
      if (ret == 0)
        return api_reply_object (r, &named, 201, out);
      if (!(generated && err->errnum == STORE_EEXIST && attempt < 8))
        return api_reply_store_error (r, &named, err);
      _cleanup_free_ char *n = generate_name (gen);
      set_str (meta, "name", n);
    }
}

enum MHD_Result
api_do_create (api_req *r, const api_route *rt)
{
  json_t *obj = NULL;
  if (!api_decode_body (r, rt, &obj))
    return MHD_YES;
  enum MHD_Result m = api_finish_create (r, rt, obj);
  json_decref (obj);
  return m;
}

/* Everything but metadata and status: generation moves when this changes. */
static bool
spec_changed (const json_t *a, const json_t *b)
{
  json_t *x = json_copy ((json_t *) a), *y = json_copy ((json_t *) b);
  json_object_del (x, "metadata");
  json_object_del (x, "status");
  json_object_del (y, "metadata");
  json_object_del (y, "status");
  bool changed = !json_equal (x, y);
  json_decref (x);
  json_decref (y);
  return changed;
}

static void
keep_meta (json_t *meta, json_t *old_meta, const char *key)
{
  json_t *v = json_object_get (old_meta, key);
  if (v)
    json_object_set (meta, key, v);
  else
    json_object_del (meta, key);
}

/* Stores obj, or removes it when it was being deleted and its last finalizer went. */
static enum MHD_Result
store_update_or_finalize (api_req *r, const api_route *rt, json_t *obj, int64_t expect_rev)
{
  json_t *meta = json_object_get (obj, "metadata");
  _cleanup_free_ char *s = api_storage_text (rt->res, obj);
  _cleanup_free_ char *out = NULL;
  _cleanup_error_ husk_error *err = NULL;
  const char *storage = api_resource_storage (rt->res);
  int ret;
  if (json_object_get (meta, "deletionTimestamp")
      && json_array_size (json_object_get (meta, "finalizers")) == 0)
    ret = store_delete (r->srv->store, storage, rt->ns, rt->name, expect_rev, &out, NULL, &err);
  else
    ret = store_update (r->srv->store, storage, rt->ns, rt->name, s, expect_rev, &out, NULL, &err);
  if (ret < 0 && err->errnum == STORE_ECONFLICT && r->retry_on_conflict)
    {
      r->conflicted = true;
      return MHD_YES;
    }
  if (ret < 0)
    return api_reply_store_error (r, rt, err);
  return api_reply_object (r, rt, 200, out);
}

enum MHD_Result
api_finish_update (api_req *r, const api_route *rt, json_t *obj, json_t *old, int64_t expect_rev,
                   bool status_only)
{
  if (!check_kind (r, rt, obj))
    return MHD_YES;
  json_t *meta = meta_of (obj), *old_meta = meta_of (old);
  const char *name = json_string_value (json_object_get (meta, "name"));
  if (name && *name && !streq (name, rt->name))
    return api_reply_error (r, 400, "BadRequest",
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            name, rt->name);
  if (!check_namespace (r, rt, meta))
    return MHD_YES;
  if (status_only)
    {
      json_t *st = json_object_get (obj, "status");
      json_t *n = json_deep_copy (old);
      if (st)
        json_object_set (n, "status", st);
      obj = n;
      meta = meta_of (obj);
    }
  else
    json_incref (obj);
  json_auto_t *owned = obj;
  static const char *const fixed[] = {"name", "namespace", "uid", "creationTimestamp",
                                      "deletionTimestamp", "deletionGracePeriodSeconds",
                                      "generation"};
  for (size_t i = 0; i < ARRAY_SIZE (fixed); i++)
    keep_meta (meta, old_meta, fixed[i]);
  json_object_del (meta, "resourceVersion");
  if (!status_only && (rt->res->subresources & API_SUB_STATUS))
    {
      json_t *st = json_object_get (old, "status");
      if (st)
        json_object_set (obj, "status", st);
      else
        json_object_del (obj, "status");
    }
  if (!status_only && rt->res->defaults)
    rt->res->defaults (obj);
  if (!api_managed_update (r, rt, obj, old))
    return MHD_YES;
  if (!api_admit (r, rt, obj, old) || (!status_only && !api_admission (r, rt, obj, old)))
    return MHD_YES;
  api_alloc_guard (r, rt->res);
  if (!status_only && streq (rt->res->plural, "services") && !api_service_allocate (r, obj, old))
    return MHD_YES;
  if (json_object_get (old_meta, "generation") && spec_changed (obj, old))
    json_object_set_new (meta, "generation",
                         json_integer (json_integer_value (json_object_get (old_meta, "generation"))
                                       + 1));
  json_t *old_rv = json_object_get (old_meta, "resourceVersion");
  if (old_rv)
    json_object_set (meta, "resourceVersion", old_rv);
  if (json_equal (obj, old) || api_dry_run (r))
    {
      _cleanup_free_ char *s = husk_json_dump (json_equal (obj, old) ? old : obj);
      return api_reply_object (r, rt, 200, s);
    }
  json_object_del (meta, "resourceVersion");
  return store_update_or_finalize (r, rt, obj, expect_rev);
}

bool
api_load (api_req *r, const api_route *rt, json_t **out, int64_t *rev)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int ret = store_get (r->srv->store, api_resource_storage (rt->res), rt->ns, rt->name, &json,
                       rev, &err);
  if (ret == 0)
    ret = husk_json_parse (json, strlen (json), out, &err);
  if (ret < 0)
    {
      api_reply_store_error (r, rt, err);
      return false;
    }
  if (rt->res->from_storage)
    rt->res->from_storage (*out);
  return true;
}

enum MHD_Result
api_do_update (api_req *r, const api_route *rt)
{
  json_auto_t *obj = NULL;
  if (!api_decode_body (r, rt, &obj))
    return MHD_YES;
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, rt, &old, &rev))
    return MHD_YES;
  const char *rv = husk_json_path_str (obj, "metadata.resourceVersion");
  int64_t expect = 0;
  if (rv && *rv)
    {
      char *end;
      expect = strtoll (rv, &end, 10);
      if (*end || expect <= 0)
        return api_reply_error (r, 400, "BadRequest", "invalid resourceVersion \"%s\"", rv);
      if (expect != rev)
        {
          _cleanup_error_ husk_error *err = NULL;
          husk_err (&err, STORE_ECONFLICT, "conflict");
          return api_reply_store_error (r, rt, err);
        }
    }
  return api_finish_update (r, rt, obj, old, expect ? expect : rev,
                            rt->sub && streq (rt->sub, "status"));
}
