/* husk api: discovery: aggregated (apidiscovery.k8s.io/v2) and legacy documents. */
#include "config.h"

#include "src/master/api/api-internal.h"
#include "src/master/api/registry.h"

#define AGG_CT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

static json_t *
verbs_of_res (const api_resource *r)
{
  if (r->review)
    return json_pack ("[s]", "create");
  return json_pack ("[s,s,s,s,s,s,s,s]", "create", "delete", "deletecollection", "get", "list",
                    "patch", "update", "watch");
}

static json_t *
short_names (const api_resource *r)
{
  json_t *a = json_array ();
  if (r->short_names)
    {
      _cleanup_free_ char *copy = xstrdup (r->short_names);
      char *save = NULL;
      for (char *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
        json_array_append_new (a, json_string (t));
    }
  return a;
}

typedef struct sub_def
{
  unsigned bit;
  const char *name;
  const char *group, *version, *kind; /* NULL group: the resource's own kind */
  const char *verbs[4];
} sub_def;

static const sub_def subs[] = {
  {API_SUB_STATUS, "status", NULL, NULL, NULL, {"get", "patch", "update", NULL}},
  {API_SUB_SCALE, "scale", "autoscaling", "v1", "Scale", {"get", "patch", "update", NULL}},
  {API_SUB_BINDING, "binding", "", "v1", "Binding", {"create", NULL}},
  {API_SUB_EVICTION, "eviction", "policy", "v1", "Eviction", {"create", NULL}},
  {API_SUB_TOKEN, "token", "authentication.k8s.io", "v1", "TokenRequest", {"create", NULL}},
  {API_SUB_STREAMS, "log", "", "v1", "Pod", {"get", NULL}},
  {API_SUB_STREAMS, "exec", "", "v1", "PodExecOptions", {"create", "get", NULL}},
  {API_SUB_STREAMS, "attach", "", "v1", "PodAttachOptions", {"create", "get", NULL}},
  {API_SUB_STREAMS, "portforward", "", "v1", "PodPortForwardOptions", {"create", "get", NULL}},
};

static json_t *
verbs_of (const sub_def *s)
{
  json_t *a = json_array ();
  for (size_t i = 0; s->verbs[i]; i++)
    json_array_append_new (a, json_string (s->verbs[i]));
  return a;
}

/* Aggregated form of one resource (APIResourceDiscovery). */
static json_t *
agg_resource (const api_resource *r)
{
  json_t *o = json_pack ("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:o, s:o}", "resource", r->plural,
                         "responseKind", "group", r->group, "version", r->version, "kind",
                         r->kind, "scope", r->namespaced ? "Namespaced" : "Cluster",
                         "singularResource", r->singular, "verbs", verbs_of_res (r), "shortNames",
                         short_names (r));
  if (r->in_all)
    json_object_set_new (o, "categories", json_pack ("[s]", "all"));
  json_t *sa = json_array ();
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (r->subresources & subs[i].bit)
      json_array_append_new (
          sa, json_pack ("{s:s, s:{s:s, s:s, s:s}, s:o}", "subresource", subs[i].name,
                         "responseKind", "group", subs[i].group ? subs[i].group : r->group,
                         "version", subs[i].version ? subs[i].version : r->version, "kind",
                         subs[i].kind ? subs[i].kind : r->kind, "verbs", verbs_of (&subs[i])));
  if (json_array_size (sa))
    json_object_set_new (o, "subresources", sa);
  else
    json_decref (sa);
  return o;
}

/* Versions of a group, preferred (highest) first. */
static size_t
group_versions (const char *group, const char **out, size_t max)
{
  size_t n = 0;
  for (const api_resource *r = api_resources; r->plural; r++)
    {
      if (!streq (r->group, group))
        continue;
      bool seen = false;
      for (size_t i = 0; i < n && !seen; i++)
        seen = streq (out[i], r->version);
      if (!seen && n < max)
        out[n++] = r->version;
    }
  /* "v2" sorts before "v1"; beta versions after GA: order by digit descending. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp (out[j], out[j - 1]) > 0 && !strchr (out[j], 'b'); j--)
      {
        const char *t = out[j];
        out[j] = out[j - 1];
        out[j - 1] = t;
      }
  return n;
}

static size_t
groups (const char **out, size_t max)
{
  size_t n = 0;
  for (const api_resource *r = api_resources; r->plural; r++)
    {
      if (!*r->group)
        continue;
      bool seen = false;
      for (size_t i = 0; i < n && !seen; i++)
        seen = streq (out[i], r->group);
      if (!seen && n < max)
        out[n++] = r->group;
    }
  return n;
}

static json_t *
agg_group (const char *group)
{
  const char *vers[8];
  size_t nv = group_versions (group, vers, ARRAY_SIZE (vers));
  json_t *va = json_array ();
  for (size_t v = 0; v < nv; v++)
    {
      json_t *ra = json_array ();
      for (const api_resource *r = api_resources; r->plural; r++)
        if (streq (r->group, group) && streq (r->version, vers[v]))
          json_array_append_new (ra, agg_resource (r));
      json_array_append_new (va, json_pack ("{s:s, s:o, s:s}", "version", vers[v], "resources",
                                            ra, "freshness", "Current"));
    }
  return json_pack ("{s:{s:s}, s:o}", "metadata", "name", group, "versions", va);
}

static enum MHD_Result
serve_aggregated (api_req *r, bool legacy)
{
  json_t *items = json_array ();
  if (legacy)
    json_array_append_new (items, agg_group (""));
  else
    {
      const char *g[32];
      size_t ng = groups (g, ARRAY_SIZE (g));
      for (size_t i = 0; i < ng; i++)
        json_array_append_new (items, agg_group (g[i]));
    }
  return api_reply_json_ct (r, 200, AGG_CT,
                            json_pack ("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList",
                                       "apiVersion", "apidiscovery.k8s.io/v2", "metadata",
                                       "items", items));
}

static json_t *
legacy_group (const char *group)
{
  const char *vers[8];
  size_t nv = group_versions (group, vers, ARRAY_SIZE (vers));
  json_t *va = json_array ();
  for (size_t v = 0; v < nv; v++)
    json_array_append_new (va, json_pack ("{s:s++, s:s}", "groupVersion", group, "/", vers[v],
                                          "version", vers[v]));
  return json_pack ("{s:s, s:o, s:O}", "name", group, "versions", va, "preferredVersion",
                    json_array_get (va, 0));
}

/* APIResourceList of one group-version. */
static enum MHD_Result
serve_resource_list (api_req *r, const char *group, const char *version)
{
  json_t *ra = json_array ();
  for (const api_resource *res = api_resources; res->plural; res++)
    {
      if (!streq (res->group, group) || !streq (res->version, version))
        continue;
      json_t *o = json_pack ("{s:s, s:s, s:b, s:s, s:o, s:o}", "name", res->plural,
                             "singularName", res->singular, "namespaced", res->namespaced,
                             "kind", res->kind, "verbs", verbs_of_res (res), "shortNames",
                             short_names (res));
      if (res->in_all)
        json_object_set_new (o, "categories", json_pack ("[s]", "all"));
      json_array_append_new (ra, o);
      for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
        if (res->subresources & subs[i].bit)
          {
            json_t *so = json_pack ("{s:s++, s:s, s:b, s:s, s:o}", "name", res->plural, "/",
                                    subs[i].name, "singularName", "", "namespaced",
                                    res->namespaced, "kind", subs[i].kind ? subs[i].kind : res->kind,
                                    "verbs", verbs_of (&subs[i]));
            if (subs[i].group)
              {
                json_object_set_new (so, "group", json_string (subs[i].group));
                json_object_set_new (so, "version", json_string (subs[i].version));
              }
            json_array_append_new (ra, so);
          }
    }
  if (json_array_size (ra) == 0)
    {
      json_decref (ra);
      return api_reply_error (r, 404, "NotFound",
                              "the server could not find the requested resource");
    }
  return api_reply_json (r, 200,
                         json_pack ("{s:s, s:s, s:s+++, s:o}", "kind", "APIResourceList",
                                    "apiVersion", "v1", "groupVersion", group,
                                    *group ? "/" : "", "", version, "resources", ra));
}

enum MHD_Result
api_serve_discovery (api_req *r, char **parts, size_t n)
{
  bool legacy = streq (parts[0], "api");
  const char *accept = api_header (r, MHD_HTTP_HEADER_ACCEPT);
  bool agg = accept && strstr (accept, "v=v2;as=APIGroupDiscoveryList") != NULL;
  if (n == 1 && agg)
    return serve_aggregated (r, legacy);
  if (n == 1 && legacy)
    return api_reply_json (r, 200,
                           json_pack ("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions",
                                      "versions", "v1", "serverAddressByClientCIDRs",
                                      "clientCIDR", "0.0.0.0/0", "serverAddress",
                                      "127.0.0.1:6443"));
  if (n == 1)
    {
      json_t *ga = json_array ();
      const char *g[32];
      size_t ng = groups (g, ARRAY_SIZE (g));
      for (size_t i = 0; i < ng; i++)
        json_array_append_new (ga, legacy_group (g[i]));
      return api_reply_json (r, 200, json_pack ("{s:s, s:s, s:o}", "kind", "APIGroupList",
                                                "apiVersion", "v1", "groups", ga));
    }
  if (legacy)
    return serve_resource_list (r, "", parts[1]);
  if (n == 2)
    {
      const char *vers[8];
      if (group_versions (parts[1], vers, ARRAY_SIZE (vers)) == 0)
        return api_reply_error (r, 404, "NotFound",
                                "the server could not find the requested resource");
      json_t *g = legacy_group (parts[1]);
      json_object_set_new (g, "kind", json_string ("APIGroup"));
      json_object_set_new (g, "apiVersion", json_string ("v1"));
      return api_reply_json (r, 200, g);
    }
  return serve_resource_list (r, parts[1], parts[2]);
}
