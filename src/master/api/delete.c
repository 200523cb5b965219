/* husk api: delete (preconditions, finalizers, graceful pod deletion, cascading through
   ownerReferences; namespaces in namespaces.c) and deletecollection. Background cascading
   happens here at once; Foreground and Orphan on an owner kind add the foregroundDeletion
   or orphan finalizer and leave the work to the garbage collector (src/master/ctrl/gc.c). */
#include "config.h"

#include <errno.h>

#include "lib/yaml.h"
#include "src/master/api/handlers.h"
#include "src/master/api/namespaces.h"
#include "src/master/api/proto.h"

typedef struct delete_opts
{
  const char *propagation; /* Background, Foreground, Orphan */
  json_int_t grace;        /* -1: unset */
  const char *pre_uid;
  const char *pre_rv;
  json_t *body;
} delete_opts;

static void
read_opts (api_req *r, delete_opts *o)
{
  o->grace = -1;
  o->propagation = api_query (r, "propagationPolicy");
  const char *g = api_query (r, "gracePeriodSeconds");
  if (g)
    o->grace = atoll (g);
  const char *ct = api_header (r, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (r->body.len && ct && strstr (ct, "protobuf"))
    api_proto_decode ((const unsigned char *) husk_buf_str (&r->body), r->body.len, &o->body,
                      NULL);
  else if (r->body.len)
    husk_yaml_to_json_one (husk_buf_str (&r->body), r->body.len, &o->body, NULL);
  if (!json_is_object (o->body))
    return;
  const char *p = json_string_value (json_object_get (o->body, "propagationPolicy"));
  if (p)
    o->propagation = p;
  if (json_is_true (json_object_get (o->body, "orphanDependents")))
    o->propagation = "Orphan";
  json_t *gv = json_object_get (o->body, "gracePeriodSeconds");
  if (json_is_integer (gv))
    o->grace = json_integer_value (gv);
  o->pre_uid = husk_json_path_str (o->body, "preconditions.uid");
  o->pre_rv = husk_json_path_str (o->body, "preconditions.resourceVersion");
}

static bool
check_preconditions (api_req *r, const api_route *rt, const delete_opts *o, json_t *old)
{
  const char *uid = husk_json_path_str (old, "metadata.uid");
  const char *rv = husk_json_path_str (old, "metadata.resourceVersion");
  const char *msg = NULL;
  _cleanup_free_ char *m = NULL;
  if (o->pre_uid && uid && !streq (o->pre_uid, uid))
    msg = m = xasprintf ("Precondition failed: UID in precondition: %s, UID in object meta: %s",
                         o->pre_uid, uid);
  else if (o->pre_rv && rv && !streq (o->pre_rv, rv))
    msg = m = xasprintf ("Precondition failed: ResourceVersion in precondition: %s, "
                         "ResourceVersion in object meta: %s",
                         o->pre_rv, rv);
  if (msg == NULL)
    return true;
  json_t *st = api_status_new (409, "Conflict", NULL);
  json_object_set_new (st, "message",
                       json_sprintf ("Operation cannot be fulfilled on %s \"%s\": %s",
                                     rt->res->plural, rt->name, msg));
  api_status_details (st, rt->name, rt->res->group, rt->res->plural);
  api_reply_status (r, st);
  return false;
}

/* Resources whose objects commonly have owners; scanned for dependents. */
static const char *const dependent_kinds[][3] = {
  {"apps", "v1", "replicasets"},  {"", "v1", "pods"},
  {"batch", "v1", "jobs"},        {"apps", "v1", "controllerrevisions"},
  {"discovery.k8s.io", "v1", "endpointslices"},
};

static void delete_cascade (api_server *srv, const char *ns, const char *uid, bool orphan);

static void
delete_one (api_server *srv, const api_resource *res, const char *ns, const char *name,
            const char *uid, bool orphan_children)
{
  _cleanup_free_ char *out = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_delete (srv->store, api_resource_storage (res), ns, name, 0, &out, NULL, &err) == 0
      && uid)
    delete_cascade (srv, ns, uid, orphan_children);
}

/* Deletes (or, orphaning, releases) every object owned by uid in ns. */
static void
delete_cascade (api_server *srv, const char *ns, const char *uid, bool orphan)
{
  for (size_t k = 0; k < ARRAY_SIZE (dependent_kinds); k++)
    {
      const api_resource *res = api_registry_find (dependent_kinds[k][0], dependent_kinds[k][1],
                                                   dependent_kinds[k][2]);
      store_list_result l = {0};
      if (store_list (srv->store, api_resource_storage (res), ns, 0, NULL, &l, NULL) < 0)
        continue;
      for (size_t i = 0; i < l.n; i++)
        {
          if (strstr (l.items[i], uid) == NULL)
            continue;
          json_auto_t *o = NULL;
          if (husk_json_parse (l.items[i], strlen (l.items[i]), &o, NULL) < 0)
            continue;
          json_t *refs = husk_json_path (o, "metadata.ownerReferences");
          size_t j;
          json_t *ref;
          bool owned = false;
          json_array_foreach (refs, j, ref)
          {
            const char *ru = json_string_value (json_object_get (ref, "uid"));
            if (ru && streq (ru, uid))
              {
                owned = true;
                if (orphan)
                  {
                    json_array_remove (refs, j);
                    break;
                  }
              }
          }
          if (!owned)
            continue;
          const char *name = husk_json_path_str (o, "metadata.name");
          const char *oid = husk_json_path_str (o, "metadata.uid");
          if (orphan)
            {
              _cleanup_free_ char *s = husk_json_dump (o);
              store_update (srv->store, api_resource_storage (res), ns, name, s, 0, NULL, NULL,
                            NULL);
            }
          else
            delete_one (srv, res, ns, name, oid, false);
        }
      store_list_result_free (&l);
    }
}

/* Marks obj as being deleted (finalizers pending, or a pod its node must stop); changed:
   the caller altered old (a finalizer added), so it is stored even when already deleting. */
static enum MHD_Result
mark_deleting (api_req *r, const api_route *rt, json_t *old, int64_t rev, json_int_t grace,
               bool changed)
{
  json_t *meta = json_object_get (old, "metadata");
  if (json_object_get (meta, "deletionTimestamp") == NULL)
    {
      _cleanup_free_ char *now = api_now_rfc3339 ();
      json_object_set_new (meta, "deletionTimestamp", json_string (now));
      json_object_set_new (meta, "deletionGracePeriodSeconds", json_integer (grace));
    }
  else if (!changed)
    {
      _cleanup_free_ char *s = husk_json_dump (old);
      return api_reply_object (r, rt, 200, s);
    }
  if (api_dry_run (r))
    {
      _cleanup_free_ char *s = husk_json_dump (old);
      return api_reply_object (r, rt, 200, s);
    }
  _cleanup_free_ char *s = api_storage_text (rt->res, old);
  _cleanup_free_ char *out = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_update (r->srv->store, api_resource_storage (rt->res), rt->ns, rt->name, s, rev, &out,
                    NULL, &err)
      < 0)
    return api_reply_store_error (r, rt, err);
  return api_reply_object (r, rt, 200, out);
}

/* Kinds the garbage collector finalizes (src/master/ctrl/gc.c "owners"): only these get the
   foregroundDeletion or orphan finalizer, which the collector alone removes. */
static const char *const owner_kinds[] = {
  "deployments", "replicasets", "daemonsets", "statefulsets", "jobs", "cronjobs", "services",
};

static bool
is_owner_kind (const api_resource *res)
{
  for (size_t i = 0; i < ARRAY_SIZE (owner_kinds); i++)
    if (streq (res->plural, owner_kinds[i]))
      return true;
  return false;
}

/* The finalizer a propagation policy asks for, as upstream's API sets it: Foreground ->
   foregroundDeletion, Orphan -> orphan; NULL for Background or an unset policy. */
static const char *
policy_finalizer (const delete_opts *o)
{
  if (o->propagation == NULL)
    return NULL;
  if (streq (o->propagation, "Foreground"))
    return "foregroundDeletion";
  if (streq (o->propagation, "Orphan"))
    return "orphan";
  return NULL;
}

/* Adds finalizer f to obj's metadata.finalizers unless present; true when added. */
static bool
add_finalizer (json_t *obj, const char *f)
{
  json_t *meta = json_object_get (obj, "metadata");
  json_t *fins = json_object_get (meta, "finalizers");
  if (!json_is_array (fins))
    json_object_set_new (meta, "finalizers", fins = json_array ());
  size_t i;
  json_t *x;
  json_array_foreach (fins, i, x) if (streq (json_string_value (x) ?: "", f)) return false;
  json_array_append_new (fins, json_string (f));
  return true;
}

/* A pod bound to a node that exists is stopped by that node's agent first. */
static bool
pod_needs_grace (api_req *r, json_t *pod, json_int_t grace)
{
  const char *node = husk_json_path_str (pod, "spec.nodeName");
  if (node == NULL || grace == 0)
    return false;
  _cleanup_free_ char *json = NULL;
  return store_get (r->srv->store, "nodes", NULL, node, &json, NULL, NULL) == 0;
}

enum MHD_Result
api_do_delete (api_req *r, const api_route *rt)
{
  delete_opts o = {0};
  read_opts (r, &o);
  json_auto_t *body = o.body;
  json_auto_t *old = NULL;
  int64_t rev = 0;
  if (!api_load (r, rt, &old, &rev))
    return MHD_YES;
  if (!check_preconditions (r, rt, &o, old))
    return MHD_YES;
  bool is_ns = streq (rt->res->plural, "namespaces");
  if (is_ns
      && (streq (rt->name, "default") || streq (rt->name, "kube-system")
          || streq (rt->name, "kube-public")))
    return api_reply_error (r, 403, "Forbidden",
                            "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                            rt->name);
  if (is_ns)
    return api_namespace_delete (r, rt, old, rev);
  json_t *meta = json_object_get (old, "metadata");
  const char *fin = is_owner_kind (rt->res) ? policy_finalizer (&o) : NULL;
  if (fin && add_finalizer (old, fin))
    return mark_deleting (r, rt, old, rev, o.grace < 0 ? 0 : o.grace, true);
  if (json_array_size (json_object_get (meta, "finalizers")) > 0)
    return mark_deleting (r, rt, old, rev, o.grace < 0 ? 0 : o.grace, false);
  json_int_t grace = o.grace;
  if (grace < 0)
    {
      json_t *g = husk_json_path (old, "spec.terminationGracePeriodSeconds");
      grace = g ? json_integer_value (g) : 30;
    }
  if (streq (rt->res->plural, "pods") && pod_needs_grace (r, old, grace))
    return mark_deleting (r, rt, old, rev, grace, false);
  if (api_dry_run (r))
    {
      _cleanup_free_ char *s = husk_json_dump (old);
      return api_reply_object (r, rt, 200, s);
    }
  _cleanup_free_ char *out = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int64_t expect = o.pre_rv ? rev : 0;
  if (store_delete (r->srv->store, api_resource_storage (rt->res), rt->ns, rt->name, expect, &out,
                    NULL, &err)
      < 0)
    return api_reply_store_error (r, rt, err);
  const char *uid = husk_json_path_str (old, "metadata.uid");
  bool leaf = streq (rt->res->plural, "pods") || streq (rt->res->plural, "events")
              || streq (rt->res->plural, "leases") || is_ns;
  if (uid && !leaf)
    delete_cascade (r->srv, rt->ns, uid, o.propagation && streq (o.propagation, "Orphan"));
  return api_reply_object (r, rt, 200, out);
}

enum MHD_Result
api_do_delete_collection (api_req *r, const api_route *rt)
{
  _cleanup_ (api_selector_freep) api_selector *ls = NULL;
  _cleanup_ (api_selector_freep) api_selector *fs = NULL;
  if (!api_parse_selectors (r, rt, &ls, &fs))
    return MHD_YES;
  store_list_result l = {0};
  _cleanup_error_ husk_error *err = NULL;
  if (api_list_matching (r, rt, ls, fs, 0, NULL, &l, &err) < 0)
    return api_reply_store_error (r, rt, err);
  json_t *items = json_array ();
  for (size_t i = 0; i < l.n; i++)
    {
      json_auto_t *o = NULL;
      if (husk_json_parse (l.items[i], strlen (l.items[i]), &o, NULL) < 0)
        continue;
      const char *ns = husk_json_path_str (o, "metadata.namespace");
      _cleanup_free_ char *out = NULL;
      if (api_dry_run (r)
          || store_delete (r->srv->store, api_resource_storage (rt->res), ns,
                           husk_json_path_str (o, "metadata.name"), 0, &out, NULL, NULL)
                 == 0)
        json_array_append (items, o);
    }
  store_list_result_free (&l);
  char gv[96];
  return api_reply_json (r, 200,
                         json_pack ("{s:s+, s:s, s:{}, s:o}", "kind", rt->res->kind, "List",
                                    "apiVersion", api_resource_api_version (rt->res, gv, sizeof gv),
                                    "metadata", "items", items));
}
