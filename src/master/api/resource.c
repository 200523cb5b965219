/* husk api: routing of resource URLs to the verbs, decoding and admission of bodies. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/yaml.h"
#include "src/master/api/handlers.h"
#include "src/master/api/defaults.h"
#include "src/master/api/proto.h"
#include "src/master/api/scale.h"
#include "src/master/api/table.h"

bool
api_wants_table (api_req *r)
{
  const char *accept = api_header (r, MHD_HTTP_HEADER_ACCEPT);
  return accept && strstr (accept, "as=Table") != NULL;
}

bool
api_dry_run (api_req *r)
{
  const char *d = api_query (r, "dryRun");
  return d && *d;
}

char *
api_now_rfc3339 (void)
{
  /* Formatted once a second per thread: glibc's gmtime_r takes a process-wide lock, and a
     create asks twice (creationTimestamp, managedFields' time). */
  static __thread time_t last = -1;
  static __thread char b[32];
  time_t now = time (NULL);
  if (now != last)
    {
      struct tm tm;
      gmtime_r (&now, &tm);
      strftime (b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
      last = now;
    }
  return xstrdup (b);
}

enum MHD_Result
api_reply_store_error (api_req *r, const api_route *rt, husk_error *err)
{
  unsigned code;
  const char *reason;
  int errnum = err ? err->errnum : EIO;
  api_errno_status (errnum, &code, &reason);
  const char *plural = rt->res ? rt->res->plural : "";
  const char *group = rt->res ? rt->res->group : "";
  const char *name = rt->name ? rt->name : "";
  _cleanup_free_ char *msg = NULL;
  if (errnum == STORE_ENOTFOUND)
    msg = xasprintf ("%s%s%s \"%s\" not found", plural, *group ? "." : "", group, name);
  else if (errnum == STORE_EEXIST)
    msg = xasprintf ("%s%s%s \"%s\" already exists", plural, *group ? "." : "", group, name);
  else if (errnum == STORE_ECONFLICT)
    msg = xasprintf ("Operation cannot be fulfilled on %s%s%s \"%s\": the object has been "
                     "modified; please apply your changes to the latest version and try again",
                     plural, *group ? "." : "", group, name);
  else
    msg = xstrdup (err && err->msg ? err->msg : "internal error");
  json_t *st = api_status_new (code, reason, msg);
  api_status_details (st, *name ? name : NULL, group, plural);
  return api_reply_status (r, st);
}

enum MHD_Result
api_reply_object (api_req *r, const api_route *rt, unsigned code, const char *json)
{
  _cleanup_free_ char *served = NULL;
  if (rt->res->from_storage)
    json = served = api_served_text (rt->res, json);
  if (rt->sub && streq (rt->sub, "scale"))
    {
      json_t *obj = NULL;
      if (husk_json_parse (json, strlen (json), &obj, NULL) == 0)
        {
          json_t *view = api_scale_view (rt->res, obj);
          json_decref (obj);
          return api_reply_json (r, code, view);
        }
    }
  if (api_wants_table (r))
    {
      json_t *obj = NULL;
      if (husk_json_parse (json, strlen (json), &obj, NULL) == 0)
        {
          json_t *items = json_pack ("[o]", obj);
          const char *rv = husk_json_path_str (obj, "metadata.resourceVersion");
          json_t *t = api_table_build (rt->res, items, rv, NULL,
                                       api_query (r, "includeObject"), true);
          json_decref (items);
          return api_reply_json (r, code, t);
        }
    }
  size_t n = strlen (json);
  char *body = xmalloc (n + 2);
  memcpy (body, json, n);
  body[n] = '\n';
  body[n + 1] = '\0';
  return api_reply_raw (r, code, "application/json", body, n + 1);
}

bool
api_decode_body (api_req *r, const api_route *rt, json_t **out)
{
  const char *ct = api_header (r, MHD_HTTP_HEADER_CONTENT_TYPE);
  const char *data = husk_buf_str (&r->body);
  size_t len = r->body.len;
  _cleanup_error_ husk_error *err = NULL;
  json_t *obj = NULL;
  int ret;
  if (len == 0)
    {
      api_reply_error (r, 400, "BadRequest", "the request body is empty");
      return false;
    }
  if (ct && strncmp (ct, "application/vnd.kubernetes.protobuf", 35) == 0)
    ret = api_proto_decode ((const unsigned char *) data, len, &obj, &err);
  else if (ct && (strstr (ct, "yaml") != NULL))
    ret = husk_yaml_to_json_one (data, len, &obj, &err);
  else
    ret = husk_json_parse (data, len, &obj, &err);
  if (ret < 0)
    {
      api_reply_error (r, 400, "BadRequest", "the body of the request could not be decoded: %s",
                       err ? err->msg : "unknown format");
      return false;
    }
  if (!json_is_object (obj))
    {
      api_reply_error (r, 400, "BadRequest",
                       "the body of the request must be a JSON object, got %s",
                       husk_json_type_name (obj));
      json_decref (obj);
      return false;
    }
  *out = obj;
  return true;
}

static char *
join_paths (json_t *arr, const char *prefix)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
      husk_buf_printf (&b, "%s%s\"%s\"", i ? ", " : "", prefix, json_string_value (v));
  return husk_buf_steal (&b);
}

static bool
reply_invalid (api_req *r, const api_route *rt, const char *name, json_t *invalid)
{
  husk_buf b = HUSK_BUF_INIT;
  size_t n = json_array_size (invalid), i;
  json_t *c;
  husk_buf_printf (&b, "%s \"%s\" is invalid: %s", rt->res->kind, name ? name : "",
                   n > 1 ? "[" : "");
  json_array_foreach (invalid, i, c)
      husk_buf_printf (&b, "%s%s: %s", i ? ", " : "",
                       json_string_value (json_object_get (c, "field")),
                       json_string_value (json_object_get (c, "message")));
  if (n > 1)
    husk_buf_puts (&b, "]");
  json_t *st = api_status_new (422, "Invalid", husk_buf_str (&b));
  husk_buf_free (&b);
  api_status_details (st, name, rt->res->group, rt->res->kind);
  json_array_foreach (invalid, i, c)
      api_status_cause (st, json_string_value (json_object_get (c, "reason")),
                        json_string_value (json_object_get (c, "field")),
                        json_string_value (json_object_get (c, "message")));
  api_reply_status (r, st);
  return false;
}

bool
api_admit (api_req *r, const api_route *rt, json_t *obj, const json_t *old)
{
  const char *fv = api_query (r, "fieldValidation");
  if (fv == NULL)
    fv = "Warn";
  if (!streq (fv, "Strict") && !streq (fv, "Warn") && !streq (fv, "Ignore"))
    {
      api_reply_error (r, 400, "BadRequest",
                       "fieldValidation: invalid value \"%s\": must be Strict, Warn or Ignore", fv);
      return false;
    }
  const api_type *t = api_schema_type (rt->res->schema);
  api_problems p;
  api_problems_init (&p);
  p.prune = !streq (fv, "Strict");
  api_schema_check (t, obj, "", &p);
  bool ok = true;
  char gv[96];
  api_resource_api_version (rt->res, gv, sizeof gv);
  if (json_array_size (p.type))
    {
      json_t *e = json_array_get (p.type, 0);
      api_reply_error (r, 400, "BadRequest",
                       "%s in version \"%s\" cannot be handled as a %s: json: %s \"%s\"",
                       rt->res->kind, rt->res->version, rt->res->kind,
                       json_string_value (json_object_get (e, "message")),
                       json_string_value (json_object_get (e, "field")));
      ok = false;
    }
  else if (json_array_size (p.unknown) && streq (fv, "Strict"))
    {
      _cleanup_free_ char *list = join_paths (p.unknown, "unknown field ");
      api_reply_error (r, 400, "BadRequest",
                       "%s in version \"%s\" cannot be handled as a %s: strict decoding error: %s",
                       rt->res->kind, rt->res->version, rt->res->kind, list);
      ok = false;
    }
  else if (json_array_size (p.unknown) && streq (fv, "Warn"))
    {
      size_t i;
      json_t *v;
      json_array_foreach (p.unknown, i, v) api_warn (r, "unknown field \"%s\"", json_string_value (v));
    }
  if (ok)
    {
      const char *name = husk_json_path_str (obj, "metadata.name");
      if (name && *name)
        {
          bool label = streq (rt->res->plural, "namespaces") || streq (rt->res->plural, "services");
          api_validate_name (name, "metadata.name", label, &p);
        }
      if (rt->res->validate)
        rt->res->validate (obj, old, &p);
      if (json_array_size (p.invalid))
        ok = reply_invalid (r, rt, name, p.invalid);
    }
  api_problems_clear (&p);
  return ok;
}

/* Splits the resource part of a path; returns false (after replying 404) when unknown. */
static bool
parse_route (api_req *r, char **parts, size_t n, api_route *rt)
{
  const char *group = "", *version;
  size_t i;
  if (streq (parts[0], "api"))
    version = parts[1], i = 2;
  else
    group = parts[1], version = parts[2], i = 3;
  char **rest = parts + i;
  size_t nr = n - i;
  memset (rt, 0, sizeof *rt);
  if (streq (rest[0], "namespaces") && nr >= 2)
    {
      if (nr > 2 && !streq (rest[2], "status") && !streq (rest[2], "finalize"))
        {
          rt->ns = rest[1];
          rest += 2;
          nr -= 2;
        }
    }
  if (nr > 3)
    goto notfound;
  rt->res = api_registry_find (group, version, rest[0]);
  if (rt->res == NULL)
    goto notfound;
  rt->name = nr > 1 ? rest[1] : NULL;
  rt->sub = nr > 2 ? rest[2] : NULL;
  if (rt->ns && !rt->res->namespaced)
    goto notfound;
  if (rt->sub)
    {
      static const struct
      {
        unsigned bit;
        const char *name;
      } subs[] = {{API_SUB_STATUS, "status"},
                  {API_SUB_SCALE, "scale"},
                  {API_SUB_BINDING, "binding"},
                  {API_SUB_EVICTION, "eviction"},
                  {API_SUB_TOKEN, "token"}};
      bool ok = streq (rt->res->plural, "namespaces") && streq (rt->sub, "finalize");
      if ((rt->res->subresources & API_SUB_STREAMS)
          && (streq (rt->sub, "log") || streq (rt->sub, "exec") || streq (rt->sub, "attach")
              || streq (rt->sub, "portforward")))
        ok = true;
      for (size_t k = 0; k < ARRAY_SIZE (subs) && !ok; k++)
        ok = (rt->res->subresources & subs[k].bit) && streq (rt->sub, subs[k].name);
      if (!ok)
        goto notfound;
    }
  return true;
notfound:
  api_reply_error (r, 404, "NotFound", "the server could not find the requested resource");
  return false;
}

enum MHD_Result
api_serve_resource (api_req *r, char **parts, size_t n)
{
  api_route rt;
  if (!parse_route (r, parts, n, &rt))
    return MHD_YES;
  const char *m = r->method;
  if (rt.res->review)
    return streq (m, "POST") && rt.name == NULL
               ? api_do_review (r, &rt)
               : api_reply_error (r, 405, "MethodNotAllowed",
                                  "the server does not allow this method on the requested resource");
  if (rt.res->namespaced && rt.ns == NULL && (rt.name || !streq (m, "GET")))
    return api_reply_error (r, 404, "NotFound", "the server could not find the requested resource");
  if (rt.sub && (streq (rt.sub, "log") || streq (rt.sub, "exec") || streq (rt.sub, "attach")
                 || streq (rt.sub, "portforward")))
    return api_do_pod_stream (r, &rt);
  if (rt.sub && (streq (m, "GET") || streq (m, "PUT") || streq (m, "POST")))
    return api_do_subresource (r, &rt);
  if (streq (m, "GET"))
    {
      if (rt.name)
        return api_do_get (r, &rt);
      if (api_query_bool (r, "watch"))
        return api_do_watch (r, &rt);
      return api_do_list (r, &rt);
    }
  if (streq (m, "POST") && rt.name == NULL)
    return api_do_create (r, &rt);
  if (streq (m, "PUT") && rt.name)
    return api_do_update (r, &rt);
  if (streq (m, "PATCH") && rt.name)
    return api_do_patch (r, &rt);
  if (streq (m, "DELETE") && rt.name)
    return api_do_delete (r, &rt);
  if (streq (m, "DELETE"))
    return api_do_delete_collection (r, &rt);
  return api_reply_error (r, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}
