/* husk api: PATCH on objects and their status/scale subresources, and server-side apply. */
#include "config.h"

#include <errno.h>

#include "lib/yaml.h"
#include "src/master/api/handlers.h"
#include "src/master/api/managed.h"
#include "src/master/api/patch.h"
#include "src/master/api/scale.h"

static bool
parse_patch (api_req *r, bool yaml, json_t **out)
{
  _cleanup_error_ husk_error *err = NULL;
  int ret = yaml ? husk_yaml_to_json_one (husk_buf_str (&r->body), r->body.len, out, &err)
                 : husk_json_parse (husk_buf_str (&r->body), r->body.len, out, &err);
  if (ret < 0)
    {
      api_reply_error (r, 400, "BadRequest", "the body of the request could not be decoded: %s",
                       err->msg);
      return false;
    }
  return true;
}

/* Applies the request's patch to view; replies and returns NULL on failure. */
static json_t *
apply_patch (api_req *r, const api_route *rt, const json_t *view, const api_type *t)
{
  const char *ct = api_header (r, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (ct == NULL)
    ct = "";
  bool apply = strncmp (ct, "application/apply-patch", 23) == 0;
  json_auto_t *patch = NULL;
  if (r->body.len == 0)
    {
      api_reply_error (r, 400, "BadRequest", "the patch is empty");
      return NULL;
    }
  bool known = apply || strncmp (ct, "application/json-patch+json", 27) == 0
               || strncmp (ct, "application/merge-patch+json", 28) == 0
               || strncmp (ct, "application/strategic-merge-patch+json", 38) == 0;
  if (!known)
    {
      api_reply_error (r, 415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json-patch+json, application/merge-patch+json, "
                       "application/apply-patch+yaml, application/strategic-merge-patch+json");
      return NULL;
    }
  if (!parse_patch (r, apply, &patch))
    return NULL;
  if (apply && !json_is_object (patch))
    {
      api_reply_error (r, 400, "BadRequest", "the applied configuration must be an object");
      return NULL;
    }
  if (apply)
    {
      _cleanup_free_ char *manager = api_field_manager (r, true);
      return manager ? api_managed_apply (r, rt, manager, view, patch) : NULL;
    }
  _cleanup_error_ husk_error *err = NULL;
  json_t *out = NULL;
  if (strncmp (ct, "application/json-patch+json", 27) == 0)
    out = api_json_patch (view, patch, &err);
  else if (strncmp (ct, "application/merge-patch+json", 28) == 0)
    out = api_merge_patch (view, patch);
  else
    out = api_strategic_merge_patch (view, patch, t, &err);
  if (out == NULL)
    {
      unsigned code = err && err->errnum == ESTALE ? 422 : 400;
      api_reply_error (r, code, code == 422 ? "Invalid" : "BadRequest", "%s",
                       err ? err->msg : "invalid patch");
      return NULL;
    }
  if (!json_is_object (out))
    {
      json_decref (out);
      api_reply_error (r, 400, "BadRequest", "the patched object is not a JSON object");
      return NULL;
    }
  return out;
}

/* Server-side apply of an object that does not exist yet creates it. */
static enum MHD_Result
apply_create (api_req *r, const api_route *rt)
{
  json_auto_t *obj = NULL;
  if (!parse_patch (r, true, &obj))
    return MHD_YES;
  if (!json_is_object (obj))
    return api_reply_error (r, 400, "BadRequest", "the applied configuration must be an object");
  json_t *meta = json_object_get (obj, "metadata");
  const char *name = json_string_value (json_object_get (meta, "name"));
  if (name && !streq (name, rt->name))
    return api_reply_error (r, 400, "BadRequest",
                            "the name of the object (%s) does not match the name on the URL (%s)",
                            name, rt->name);
  _cleanup_free_ char *manager = api_field_manager (r, true);
  if (manager == NULL)
    return MHD_YES;
  json_auto_t *applied = api_managed_apply (r, rt, manager, NULL, obj);
  if (applied == NULL)
    return MHD_YES;
  json_t *ameta = json_object_get (applied, "metadata");
  if (!json_is_object (ameta))
    json_object_set_new (applied, "metadata", ameta = json_object ());
  if (json_object_get (ameta, "name") == NULL)
    json_object_set_new (ameta, "name", json_string (rt->name));
  api_route coll = *rt;
  coll.name = NULL;
  return api_finish_create (r, &coll, applied);
}

static bool
rv_precondition_ok (api_req *r, const api_route *rt, const json_t *patched, const json_t *old)
{
  const char *want = husk_json_path_str (patched, "metadata.resourceVersion");
  const char *have = husk_json_path_str (old, "metadata.resourceVersion");
  if (want == NULL || have == NULL || streq (want, have))
    return true;
  _cleanup_error_ husk_error *err = NULL;
  husk_err (&err, STORE_ECONFLICT, "conflict");
  api_reply_store_error (r, rt, err);
  return false;
}

/* One attempt: load, patch, store. Sets r->conflicted when another writer won the race. */
static enum MHD_Result
patch_once (api_req *r, const api_route *rt)
{
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, rt, &old, &rev))
    return MHD_YES;
  bool scale = rt->sub && streq (rt->sub, "scale");
  const api_type *t = scale ? api_schema_type ("Scale") : api_schema_type (rt->res->schema);
  json_auto_t *view = scale ? api_scale_view (rt->res, old) : json_incref (old);
  json_auto_t *patched = apply_patch (r, rt, view, t);
  if (patched == NULL || !rv_precondition_ok (r, rt, patched, old))
    return MHD_YES;
  if (scale)
    {
      json_auto_t *obj = json_deep_copy (old);
      if (!api_scale_apply (rt->res, obj, patched))
        return api_reply_error (r, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: "
                                "spec.replicas: Invalid value: must be greater than or equal to 0",
                                rt->name);
      return api_finish_update (r, rt, obj, old, rev, false);
    }
  return api_finish_update (r, rt, patched, old, rev, rt->sub && streq (rt->sub, "status"));
}

enum MHD_Result
api_do_patch (api_req *r, const api_route *rt)
{
  const char *ct = api_header (r, MHD_HTTP_HEADER_CONTENT_TYPE);
  bool apply = ct && strncmp (ct, "application/apply-patch", 23) == 0;
  if (apply && rt->sub == NULL)
    {
      _cleanup_free_ char *json = NULL;
      _cleanup_error_ husk_error *err = NULL;
      if (store_get (r->srv->store, api_resource_storage (rt->res), rt->ns, rt->name, &json, NULL,
                     &err)
              < 0
          && err->errnum == STORE_ENOTFOUND)
        return apply_create (r, rt);
    }
  /* A patch applies to the latest state, as upstream's: lost races are retried. */
  for (int attempt = 0; attempt < 16; attempt++)
    {
      r->retry_on_conflict = attempt < 15;
      r->conflicted = false;
      r->managed_done = false;
      r->warnings = (json_decref (r->warnings), NULL);
      enum MHD_Result m = patch_once (r, rt);
      if (!r->conflicted)
        return m;
    }
  return MHD_YES;
}
