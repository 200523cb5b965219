/* husk api: /openapi/v3 documents built from the registry and the schema tables. kubectl's
   client-side validation needs the fieldValidation parameter and the GVK extension on each
   object's operations; `kubectl explain` reads the component schemas. */
#include "config.h"

#include "src/master/api/api-internal.h"
#include "src/master/api/registry.h"

static json_t *schema_of_type (const api_type *t);

static json_t *
ref_to (const char *name)
{
  return json_pack ("{s:s+}", "$ref", "#/components/schemas/husk.", name);
}

static json_t *
schema_of_type (const api_type *t)
{
  switch (t->kind)
    {
    case API_T_STRING:
      return json_pack ("{s:s}", "type", "string");
    case API_T_TIME:
      return json_pack ("{s:s, s:s}", "type", "string", "format", "date-time");
    case API_T_INT:
      return json_pack ("{s:s, s:s}", "type", "integer", "format", "int64");
    case API_T_NUMBER:
      return json_pack ("{s:s, s:s}", "type", "number", "format", "double");
    case API_T_BOOL:
      return json_pack ("{s:s}", "type", "boolean");
    case API_T_INTSTR:
      return json_pack ("{s:s, s:b}", "format", "int-or-string", "x-kubernetes-int-or-string", 1);
    case API_T_QUANTITY:
      return json_pack ("{s:[{s:s},{s:s}], s:b}", "oneOf", "type", "string", "type", "number",
                        "x-kubernetes-int-or-string", 1);
    case API_T_ANY:
      return json_pack ("{s:b}", "x-kubernetes-preserve-unknown-fields", 1);
    case API_T_OPEN:
      if (t->name)
        return ref_to (t->name);
      return json_pack ("{s:s, s:b}", "type", "object", "x-kubernetes-preserve-unknown-fields",
                        1);
    case API_T_STRUCT:
      return ref_to (t->name);
    case API_T_MAP:
      return json_pack ("{s:s, s:o}", "type", "object", "additionalProperties",
                        schema_of_type (t->elem));
    case API_T_ARRAY:
      return json_pack ("{s:s, s:o}", "type", "array", "items", schema_of_type (t->elem));
    }
  return json_object ();
}

static json_t *
field_schema (const api_field *f)
{
  json_t *s = schema_of_type (f->type);
  if (json_object_get (s, "$ref"))
    {
      json_t *w = json_pack ("{s:[o], s:o}", "allOf", s, "default", json_object ());
      s = w;
    }
  if (f->merge)
    json_object_set_new (s, "x-kubernetes-patch-strategy", json_string ("merge"));
  if (f->merge_key)
    json_object_set_new (s, "x-kubernetes-patch-merge-key", json_string (f->merge_key));
  if (f->enums)
    {
      json_t *e = json_array ();
      for (char **p = f->enums; *p; p++)
        json_array_append_new (e, json_string (*p));
      json_object_set_new (s, "enum", e);
    }
  return s;
}

static json_t *
component (const api_type *t)
{
  json_t *s = json_pack ("{s:s, s:s}", "description", t->description ? t->description : "",
                         "type", "object");
  if (t->kind == API_T_OPEN)
    {
      json_object_set_new (s, "x-kubernetes-preserve-unknown-fields", json_true ());
      return s;
    }
  json_t *props = json_object (), *req = json_array ();
  for (size_t i = 0; i < t->nfields; i++)
    {
      json_object_set_new (props, t->fields[i].name, field_schema (&t->fields[i]));
      if (t->fields[i].required)
        json_array_append_new (req, json_string (t->fields[i].name));
    }
  json_object_set_new (s, "properties", props);
  if (json_array_size (req))
    json_object_set_new (s, "required", req);
  else
    json_decref (req);
  return s;
}

static json_t *
gvk (const api_resource *r)
{
  return json_pack ("{s:s, s:s, s:s}", "group", r->group, "version", r->version, "kind", r->kind);
}

static json_t *
operation (const api_resource *r, const char *id, bool body, bool list)
{
  json_t *params = json_pack ("[{s:s, s:s, s:s, s:{s:s}}, {s:s, s:s, s:s, s:{s:s}}]", "name",
                              "fieldValidation", "in", "query", "description",
                              "Strict, Warn or Ignore: how to treat unknown or duplicate fields",
                              "schema", "type", "string", "name", "dryRun", "in", "query",
                              "description", "When present, do not persist the change",
                              "schema", "type", "string");
  json_t *op = json_pack ("{s:s, s:o, s:o, s:s, s:o}", "operationId", id, "parameters", params,
                          "responses",
                          json_pack ("{s:{s:s, s:{s:{s:o}}}}", "200", "description", "OK",
                                     "content", "application/json", "schema",
                                     list ? json_pack ("{s:s}", "type", "object")
                                          : ref_to (r->schema)),
                          "x-kubernetes-action", id, "x-kubernetes-group-version-kind", gvk (r));
  if (body)
    json_object_set_new (op, "requestBody",
                         json_pack ("{s:{s:{s:o}}, s:b}", "content", "*/*", "schema",
                                    ref_to (r->schema), "required", 1));
  return op;
}

static void
add_paths (json_t *paths, const api_resource *r)
{
  _cleanup_free_ char *base = *r->group ? xasprintf ("/apis/%s/%s", r->group, r->version)
                                        : xasprintf ("/api/%s", r->version);
  _cleanup_free_ char *coll = r->namespaced
                                  ? xasprintf ("%s/namespaces/{namespace}/%s", base, r->plural)
                                  : xasprintf ("%s/%s", base, r->plural);
  _cleanup_free_ char *item = xasprintf ("%s/{name}", coll);
  json_object_set_new (paths, coll,
                       json_pack ("{s:o, s:o, s:o}", "get", operation (r, "list", false, true),
                                  "post", operation (r, "post", true, false), "delete",
                                  operation (r, "deletecollection", false, false)));
  json_object_set_new (paths, item,
                       json_pack ("{s:o, s:o, s:o, s:o}", "get", operation (r, "get", false, false),
                                  "put", operation (r, "put", true, false), "patch",
                                  operation (r, "patch", true, false), "delete",
                                  operation (r, "delete", false, false)));
  if (r->subresources & API_SUB_STATUS)
    {
      _cleanup_free_ char *st = xasprintf ("%s/status", item);
      json_object_set_new (paths, st,
                           json_pack ("{s:o, s:o, s:o}", "get", operation (r, "get", false, false),
                                      "put", operation (r, "put", true, false), "patch",
                                      operation (r, "patch", true, false)));
    }
}

/* Adds t and every struct type it reaches to comps. */
static void
add_component (json_t *comps, const api_type *t)
{
  while (t && (t->kind == API_T_ARRAY || t->kind == API_T_MAP))
    t = t->elem;
  if (t == NULL || t->name == NULL)
    return;
  _cleanup_free_ char *key = xasprintf ("husk.%s", t->name);
  if (json_object_get (comps, key))
    return;
  json_object_set_new (comps, key, component (t));
  for (size_t i = 0; i < t->nfields; i++)
    add_component (comps, t->fields[i].type);
}

static json_t *
gv_document (const char *gv)
{
  json_t *paths = json_object (), *comps = json_object ();
  for (const api_resource *r = api_resources; r->plural; r++)
    {
      char b[96];
      if (!streq (api_resource_api_version (r, b, sizeof b), gv))
        continue;
      add_paths (paths, r);
      const api_type *t = api_schema_type (r->schema);
      add_component (comps, t);
      _cleanup_free_ char *key = xasprintf ("husk.%s", t->name);
      json_t *c = json_object_get (comps, key);
      json_t *list = json_object_get (c, "x-kubernetes-group-version-kind");
      if (list == NULL)
        {
          list = json_array ();
          json_object_set_new (c, "x-kubernetes-group-version-kind", list);
        }
      json_array_append_new (list, gvk (r));
    }
  add_component (comps, api_schema_type ("Scale"));
  add_component (comps, api_schema_type ("DeleteOptions"));
  add_component (comps, api_schema_type ("Status"));
  return json_pack ("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                    "Kubernetes", "version", "v1.32.0", "paths", paths, "components", "schemas",
                    comps);
}

typedef struct doc_cache
{
  char *gv;
  char *body;
  size_t len;
  char hash[17];
} doc_cache;

static doc_cache docs[64];
static size_t ndocs;
static pthread_once_t docs_once = PTHREAD_ONCE_INIT;

static void
build_docs (void)
{
  const char *const *gvs = api_registry_group_versions ();
  for (size_t i = 0; gvs[i] && ndocs < ARRAY_SIZE (docs); i++)
    {
      json_t *d = gv_document (gvs[i]);
      doc_cache *c = &docs[ndocs++];
      c->gv = xstrdup (gvs[i]);
      c->body = json_dumps (d, JSON_COMPACT);
      c->len = strlen (c->body);
      json_decref (d);
      uint64_t h = 1469598103934665603ULL;
      for (size_t k = 0; k < c->len; k++)
        h = (h ^ (unsigned char) c->body[k]) * 1099511628211ULL;
      snprintf (c->hash, sizeof c->hash, "%016llX", (unsigned long long) h);
    }
}

static enum MHD_Result
serve_root (api_req *r)
{
  json_t *paths = json_object ();
  for (size_t i = 0; i < ndocs; i++)
    {
      bool core = strchr (docs[i].gv, '/') == NULL;
      _cleanup_free_ char *key = xasprintf ("%s/%s", core ? "api" : "apis", docs[i].gv);
      _cleanup_free_ char *url = xasprintf ("/openapi/v3/%s?hash=%s", key, docs[i].hash);
      json_object_set_new (paths, key, json_pack ("{s:s}", "serverRelativeURL", url));
    }
  return api_reply_json (r, 200, json_pack ("{s:o}", "paths", paths));
}

enum MHD_Result
api_serve_openapi (api_req *r, char **parts, size_t n)
{
  pthread_once (&docs_once, build_docs);
  if (n < 2 || !streq (parts[1], "v3"))
    return api_reply_error (r, 404, "NotFound", "the server could not find the requested resource");
  if (n == 2)
    return serve_root (r);
  _cleanup_free_ char *gv = NULL;
  if (n == 4 && streq (parts[2], "api"))
    gv = xstrdup (parts[3]);
  else if (n == 5 && streq (parts[2], "apis"))
    gv = xasprintf ("%s/%s", parts[3], parts[4]);
  for (size_t i = 0; gv && i < ndocs; i++)
    if (streq (docs[i].gv, gv))
      {
        struct MHD_Response *resp = MHD_create_response_from_buffer (
            docs[i].len, docs[i].body, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        if (api_query (r, "hash"))
          MHD_add_response_header (resp, "Cache-Control", "public, immutable");
        enum MHD_Result ret = MHD_queue_response (r->conn, 200, resp);
        MHD_destroy_response (resp);
        return ret;
      }
  return api_reply_error (r, 404, "NotFound", "the server could not find the requested resource");
}
