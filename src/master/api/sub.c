/* husk api: subresources: status, scale, binding, eviction, namespace finalize. */
#include "config.h"

#include "src/master/api/handlers.h"
#include "src/master/api/token.h"
#include "src/master/api/nodeproxy.h"
#include "src/master/api/scale.h"
#include "src/master/api/table.h"

json_t *
api_scale_view (const api_resource *res, const json_t *obj)
{
  json_t *meta = json_object_get (obj, "metadata");
  json_t *m = json_object ();
  static const char *const keep[]
      = {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"};
  for (size_t i = 0; i < ARRAY_SIZE (keep); i++)
    if (json_object_get (meta, keep[i]))
      json_object_set (m, keep[i], json_object_get (meta, keep[i]));
  json_t *sel = api_cell_label_selector (obj);
  if (streq (json_string_value (sel), "<none>"))
    {
      json_decref (sel);
      sel = json_string ("");
    }
  return json_pack ("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:o}}", "kind", "Scale", "apiVersion",
                    "autoscaling/v1", "metadata", m, "spec", "replicas",
                    (json_int_t) json_integer_value (husk_json_path (obj, res->scale_path)),
                    "status", "replicas",
                    (json_int_t) json_integer_value (husk_json_path (obj, "status.replicas")),
                    "selector", sel);
}

bool
api_scale_apply (const api_resource *res, json_t *obj, const json_t *scale)
{
  json_t *n = husk_json_path (scale, "spec.replicas");
  if (!json_is_integer (n) || json_integer_value (n) < 0)
    return false;
  json_t *spec = json_object_get (obj, "spec");
  if (!json_is_object (spec))
    {
      spec = json_object ();
      json_object_set_new (obj, "spec", spec);
    }
  json_object_set_new (spec, "replicas", json_integer (json_integer_value (n)));
  return true;
}

static enum MHD_Result
scale_get_put (api_req *r, const api_route *rt)
{
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, rt, &old, &rev))
    return MHD_YES;
  if (streq (r->method, "GET"))
    return api_reply_json (r, 200, api_scale_view (rt->res, old));
  json_auto_t *body = NULL;
  if (!api_decode_body (r, rt, &body))
    return MHD_YES;
  const char *rv = husk_json_path_str (body, "metadata.resourceVersion");
  const char *have = husk_json_path_str (old, "metadata.resourceVersion");
  if (rv && *rv && have && !streq (rv, have))
    {
      _cleanup_error_ husk_error *err = NULL;
      husk_err (&err, STORE_ECONFLICT, "conflict");
      return api_reply_store_error (r, rt, err);
    }
  json_auto_t *obj = json_deep_copy (old);
  if (!api_scale_apply (rt->res, obj, body))
    return api_reply_error (r, 422, "Invalid",
                            "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: "
                            "must be greater than or equal to 0",
                            rt->name);
  return api_finish_update (r, rt, obj, old, rev, false);
}

/* POST pods/<name>/binding: sets spec.nodeName once. */
static enum MHD_Result
binding (api_req *r, const api_route *rt)
{
  json_auto_t *body = NULL;
  if (!api_decode_body (r, rt, &body))
    return MHD_YES;
  const char *node = husk_json_path_str (body, "target.name");
  if (node == NULL || !*node)
    return api_reply_error (r, 422, "Invalid", "Binding \"%s\" is invalid: target.name: Required value",
                            rt->name);
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, rt, &old, &rev))
    return MHD_YES;
  const char *cur = husk_json_path_str (old, "spec.nodeName");
  if (cur && *cur)
    return api_reply_error (r, 409, "Conflict",
                            "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is "
                            "already assigned to node \"%s\"",
                            rt->name, rt->name, cur);
  json_auto_t *pod = json_deep_copy (old);
  json_object_set_new (json_object_get (pod, "spec"), "nodeName", json_string (node));
  json_t *st = json_object_get (pod, "status");
  if (!json_is_object (st))
    json_object_set_new (pod, "status", st = json_object ());
  json_t *conds = json_object_get (st, "conditions");
  if (!json_is_array (conds))
    json_object_set_new (st, "conditions", conds = json_array ());
  _cleanup_free_ char *now = api_now_rfc3339 ();
  json_array_append_new (conds, json_pack ("{s:s, s:s, s:n, s:s}", "type", "PodScheduled",
                                           "status", "True", "lastProbeTime",
                                           "lastTransitionTime", now));
  _cleanup_free_ char *s = husk_json_dump (pod);
  _cleanup_error_ husk_error *err = NULL;
  if (store_update (r->srv->store, "pods", rt->ns, rt->name, s, rev, NULL, NULL, &err) < 0)
    return api_reply_store_error (r, rt, err);
  return api_reply_json (r, 201, api_status_new (201, NULL, NULL));
}

/* POST pods/<name>/eviction: deletes the pod (no disruption budgets yet). */
static enum MHD_Result
eviction (api_req *r, const api_route *rt)
{
  api_route pod = *rt;
  pod.sub = NULL;
  husk_buf_reset (&r->body);
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, &pod, &old, &rev))
    return MHD_YES;
  _cleanup_error_ husk_error *err = NULL;
  if (store_delete (r->srv->store, "pods", rt->ns, rt->name, 0, NULL, NULL, &err) < 0)
    return api_reply_store_error (r, &pod, err);
  return api_reply_json (r, 201, api_status_new (201, NULL, NULL));
}

enum MHD_Result
api_do_pod_stream (api_req *r, const api_route *rt)
{
  _cleanup_free_ char *json = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_get (r->srv->store, "pods", rt->ns, rt->name, &json, NULL, &err) < 0)
    return api_reply_store_error (r, rt, err);
  if (r->srv->pod_proxy == NULL || !streq (rt->sub, "log"))
    return api_node_proxy (r, rt, json); /* the pod's node API (nodeproxy.c) */
  return (enum MHD_Result) r->srv->pod_proxy (r->srv->pod_proxy_cls, r->conn, r->method, rt->ns,
                                              rt->name, rt->sub, json);
}

enum MHD_Result
api_do_subresource (api_req *r, const api_route *rt)
{
  const char *m = r->method;
  if (streq (rt->sub, "scale") && (streq (m, "GET") || streq (m, "PUT")))
    return scale_get_put (r, rt);
  if ((streq (rt->sub, "status") || streq (rt->sub, "finalize")) && streq (m, "GET"))
    return api_do_get (r, rt);
  if (streq (rt->sub, "status") && streq (m, "PUT"))
    return api_do_update (r, rt);
  if (streq (rt->sub, "finalize") && streq (m, "PUT"))
    {
      api_route whole = *rt;
      whole.sub = NULL;
      return api_do_update (r, &whole);
    }
  if (streq (rt->sub, "binding") && streq (m, "POST"))
    return binding (r, rt);
  if (streq (rt->sub, "eviction") && streq (m, "POST"))
    return eviction (r, rt);
  if (streq (rt->sub, "token") && streq (m, "POST"))
    return api_do_token (r, rt);
  return api_reply_error (r, 405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource");
}
