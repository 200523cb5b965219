/* husk api: metadata.managedFields (Update and Apply operations) and server-side apply. */
#include "config.h"

#include <errno.h>

#include "src/master/api/fieldset.h"
#include "src/master/api/managed.h"
#include "src/master/api/patch.h"

#define API_MAX_MANAGER 128

char *
api_field_manager (api_req *r, bool apply)
{
  const char *m = api_query (r, "fieldManager");
  if (m && strlen (m) > API_MAX_MANAGER)
    {
      api_reply_error (r, 422, "Invalid",
                       "fieldManager: Too long: may not be more than %d bytes", API_MAX_MANAGER);
      return NULL;
    }
  if (m && *m)
    return xstrdup (m);
  if (apply)
    {
      json_t *st = api_status_new (422, "Invalid",
                                   "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                   "Required value: is required for apply patch");
      api_status_cause (st, "FieldValueRequired", "fieldManager",
                        "Required value: is required for apply patch");
      api_reply_status (r, st);
      return NULL;
    }
  const char *ua = api_header (r, MHD_HTTP_HEADER_USER_AGENT);
  size_t n = ua ? strcspn (ua, "/") : 0;
  if (n == 0)
    return xstrdup ("unknown");
  return xstrndup (ua, n < API_MAX_MANAGER ? n : API_MAX_MANAGER);
}

static const char *
str (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

/* Same manager identity as upstream's: manager, operation, subresource, and apiVersion for
   Update operations only. */
static bool
same_manager (const json_t *e, const char *manager, const char *op, const char *av,
              const char *sub)
{
  return streq (str (e, "manager"), manager) && streq (str (e, "operation"), op)
         && streq (str (e, "subresource"), sub ? sub : "")
         && (streq (op, "Apply") || streq (str (e, "apiVersion"), av));
}

static bool
entries_valid (const json_t *mf)
{
  size_t i;
  json_t *e;
  if (!json_is_array (mf))
    return false;
  json_array_foreach (mf, i, e)
  {
    const char *op = str (e, "operation");
    json_t *fs = json_object_get (e, "fieldsV1");
    if (!json_is_object (e) || !(streq (op, "Apply") || streq (op, "Update"))
        || (fs && !json_is_object (fs)))
      return false;
  }
  return true;
}

static bool
is_reset (const json_t *mf)
{
  return json_array_size (mf) == 1 && json_object_size (json_array_get (mf, 0)) == 0;
}

static int
entry_cmp (const void *a, const void *b)
{
  const json_t *p = *(json_t *const *) a, *q = *(json_t *const *) b;
  int c = strcmp (str (p, "operation"), str (q, "operation"));
  if (c == 0)
    c = strcmp (str (p, "time"), str (q, "time"));
  if (c == 0)
    c = strcmp (str (p, "manager"), str (q, "manager"));
  if (c == 0)
    c = strcmp (str (p, "apiVersion"), str (q, "apiVersion"));
  return c ? c : strcmp (str (p, "subresource"), str (q, "subresource"));
}

/* The entries with a non-empty field set, in upstream's order (Apply first, then by time). */
static json_t *
entries_finish (json_t *mf)
{
  size_t n = 0, i;
  json_t *e;
  json_t **v = xcalloc (json_array_size (mf) + 1, sizeof *v);
  json_array_foreach (mf, i, e) if (!api_fs_empty (json_object_get (e, "fieldsV1")))
    v[n++] = e;
  qsort (v, n, sizeof *v, entry_cmp);
  json_t *out = json_array ();
  for (i = 0; i < n; i++)
    json_array_append (out, v[i]);
  free (v);
  json_decref (mf);
  return out;
}

/* A new entry, its members in upstream's order (fieldsV1 comes with entry_set). */
static json_t *
entry_new (const char *manager, const char *op, const char *av, const char *sub)
{
  json_t *e = json_object ();
  _cleanup_free_ char *now = api_now_rfc3339 ();
  json_object_set_new_nocheck (e, "manager", json_string (manager));
  json_object_set_new_nocheck (e, "operation", json_string (op));
  json_object_set_new_nocheck (e, "apiVersion", json_string (av));
  json_object_set_new_nocheck (e, "time", json_string_nocheck (now));
  json_object_set_new_nocheck (e, "fieldsType", json_string_nocheck ("FieldsV1"));
  if (sub)
    json_object_set_new_nocheck (e, "subresource", json_string (sub));
  return e;
}

/* The entry of this manager in mf, added when missing; its time and apiVersion refreshed. */
static json_t *
entry_of (json_t *mf, const char *manager, const char *op, const char *av, const char *sub)
{
  size_t i;
  json_t *e, *found = NULL;
  json_array_foreach (mf, i, e) if (same_manager (e, manager, op, av, sub))
  {
    found = e;
    break;
  }
  if (found == NULL)
    {
      found = entry_new (manager, op, av, sub);
      json_array_append_new (mf, found);
      return found;
    }
  _cleanup_free_ char *now = api_now_rfc3339 ();
  json_object_set_new (found, "apiVersion", json_string (av));
  json_object_set_new (found, "time", json_string (now));
  json_object_set_new (found, "fieldsType", json_string ("FieldsV1"));
  json_t *sub_v = json_incref (json_object_get (found, "subresource"));
  json_object_del (found, "subresource"); /* keep upstream's member order */
  if (sub_v)
    json_object_set_new (found, "subresource", sub_v);
  return found;
}

static void
entry_set (json_t *e, json_t *set)
{
  json_object_del (e, "fieldsV1");
  json_t *sub = json_incref (json_object_get (e, "subresource"));
  json_object_del (e, "subresource");
  json_object_set_new (e, "fieldsV1", set ? set : json_object ());
  if (sub)
    json_object_set_new (e, "subresource", sub);
}

/* Removes drop from every entry's set but skip's. */
static void
entries_subtract (json_t *mf, const json_t *drop, const json_t *skip)
{
  size_t i;
  json_t *e;
  if (api_fs_empty (drop))
    return;
  json_array_foreach (mf, i, e) if (e != skip)
    entry_set (e, api_fs_difference (json_object_get (e, "fieldsV1"), drop));
}

static bool
entries_equal_but_time (const json_t *a, const json_t *b)
{
  if (json_array_size (a) != json_array_size (b))
    return false;
  for (size_t i = 0; i < json_array_size (a); i++)
    {
      json_auto_t *x = json_copy (json_array_get (a, i));
      json_auto_t *y = json_copy (json_array_get (b, i));
      json_object_del (x, "time");
      json_object_del (y, "time");
      if (!json_equal (x, y))
        return false;
    }
  return true;
}

static const char *
sub_of (const api_route *rt)
{
  return rt->sub && (streq (rt->sub, "status") || streq (rt->sub, "scale")) ? rt->sub : NULL;
}

/* The paths a write through rt may own, as upstream's reset fields: server-owned metadata
   never; status only through /status when the type has that subresource, and then nothing
   else. Takes s, returns the result. */
static json_t *
strip_for (const api_route *rt, json_t *s)
{
  bool status = rt->sub && streq (rt->sub, "status");
  bool drop_status = !status && (rt->res->subresources & API_SUB_STATUS);
  return api_fs_strip (s, drop_status, status);
}

/* Detaches metadata.managedFields from o (returned; NULL when absent). */
static json_t *
detach (json_t *o)
{
  json_t *meta = json_object_get (o, "metadata");
  json_t *mf = json_incref (json_object_get (meta, "managedFields"));
  json_object_del (meta, "managedFields");
  return mf;
}

static void
attach (json_t *o, json_t *mf)
{
  json_t *meta = json_object_get (o, "metadata");
  if (json_is_object (meta) && json_array_size (mf) > 0)
    json_object_set (meta, "managedFields", mf);
}

bool
api_managed_update (api_req *r, const api_route *rt, json_t *obj, const json_t *old)
{
  if (r->managed_done)
    return true;
  _cleanup_free_ char *manager = api_field_manager (r, false);
  if (manager == NULL)
    return false;
  json_auto_t *given = detach (obj);
  json_auto_t *old_mf = old ? detach ((json_t *) old) : NULL;
  json_auto_t *mf = NULL;
  if (is_reset (given))
    mf = json_array ();
  else if (rt->sub == NULL && json_array_size (given) > 0 && entries_valid (given))
    mf = json_deep_copy (given);
  else
    mf = entries_valid (old_mf) ? json_deep_copy (old_mf) : json_array ();
  json_t *ch = NULL, *rm = NULL;
  api_fs_compare (api_schema_type (rt->res->schema), old, obj, &ch, &rm);
  if (old)
    attach ((json_t *) old, old_mf);
  json_auto_t *changed = strip_for (rt, ch);
  json_auto_t *removed = strip_for (rt, rm);
  if (!api_fs_empty (changed) || !api_fs_empty (removed))
    {
      char av[96];
      api_resource_api_version (rt->res, av, sizeof av);
      json_t *mine = entry_of (mf, manager, "Update", av, sub_of (rt));
      json_t *had = json_object_get (mine, "fieldsV1");
      if (api_fs_empty (had) && api_fs_empty (removed)) /* a create: the set is what changed */
        entry_set (mine, json_incref (changed));
      else
        {
          json_t *set = api_fs_union (had, changed);
          entry_set (mine, api_fs_difference (set, removed));
          json_decref (set);
        }
      entries_subtract (mf, changed, mine);
      entries_subtract (mf, removed, mine);
      mf = entries_finish (TAKE_PTR (mf));
    }
  attach (obj, mf);
  return true;
}

/* " \"name\" with subresource \"s\" using v1" as upstream prints a manager in conflicts. */
static char *
manager_display (const json_t *e)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_printf (&b, "\"%s\"", str (e, "manager"));
  if (*str (e, "subresource"))
    husk_buf_printf (&b, " with subresource \"%s\"", str (e, "subresource"));
  if (streq (str (e, "operation"), "Update"))
    husk_buf_printf (&b, " using %s", str (e, "apiVersion"));
  return husk_buf_steal (&b);
}

/* Conflicts as [{manager, field}] sorted by manager; each conflicting entry's share of
   changed is removed from it when force. */
static json_t *
find_conflicts (json_t *mf, const json_t *mine, const json_t *changed, bool force)
{
  json_t *out = json_array ();
  size_t i;
  json_t *e;
  json_array_foreach (mf, i, e) if (e != mine)
  {
    json_auto_t *c = api_fs_intersect (json_object_get (e, "fieldsV1"), changed);
    if (api_fs_empty (c))
      continue;
    json_auto_t *paths = json_array ();
    api_fs_paths (c, paths);
    _cleanup_free_ char *who = manager_display (e);
    size_t j;
    json_t *p;
    json_array_foreach (paths, j, p)
        json_array_append_new (out, json_pack ("{s:s, s:O}", "manager", who, "field", p));
    if (force)
      entry_set (e, api_fs_difference (json_object_get (e, "fieldsV1"), c));
  }
  return out;
}

static enum MHD_Result
reply_conflicts (api_req *r, const api_route *rt, const json_t *conflicts)
{
  size_t n = json_array_size (conflicts), i;
  json_t *c;
  husk_buf b = HUSK_BUF_INIT;
  if (n == 1)
    husk_buf_printf (&b, "Apply failed with 1 conflict: conflict with %s: %s",
                     str (json_array_get (conflicts, 0), "manager"),
                     str (json_array_get (conflicts, 0), "field"));
  else
    {
      husk_buf_printf (&b, "Apply failed with %zu conflicts: ", n);
      const char *last = NULL;
      json_array_foreach (conflicts, i, c)
      {
        if (last == NULL || !streq (last, str (c, "manager")))
          husk_buf_printf (&b, "%sconflicts with %s:", last ? "\n" : "", str (c, "manager"));
        husk_buf_printf (&b, "\n- %s", str (c, "field"));
        last = str (c, "manager");
      }
    }
  _cleanup_free_ char *msg = husk_buf_steal (&b);
  json_t *st = api_status_new (409, "Conflict", msg);
  api_status_details (st, rt->name, rt->res->group, rt->res->plural);
  json_array_foreach (conflicts, i, c)
  {
    _cleanup_free_ char *m = xasprintf ("conflict with %s", str (c, "manager"));
    api_status_cause (st, "FieldManagerConflict", str (c, "field"), m);
  }
  return api_reply_status (r, st);
}

/* The union of every entry's field set. */
static json_t *
owned_by_all (const json_t *mf)
{
  json_t *all = NULL;
  size_t i;
  json_t *e;
  json_array_foreach (mf, i, e)
  {
    json_t *u = api_fs_union (all, json_object_get (e, "fieldsV1"));
    json_decref (all);
    all = u;
  }
  return all;
}

json_t *
api_managed_apply (api_req *r, const api_route *rt, const char *manager, const json_t *live,
                   const json_t *config)
{
  const api_type *t = api_schema_type (rt->res->schema);
  if (husk_json_path (config, "metadata.managedFields"))
    {
      api_reply_error (r, 400, "BadRequest", "metadata.managedFields must be nil");
      return NULL;
    }
  json_auto_t *cfgset = strip_for (rt, api_fs_from_value (t, config));
  json_auto_t *base = live ? json_deep_copy (live) : json_object ();
  json_auto_t *old_mf = detach (base);
  _cleanup_error_ husk_error *err = NULL;
  json_auto_t *merged = api_strategic_merge_patch (base, config, t, &err);
  if (merged == NULL)
    {
      api_reply_error (r, 400, "BadRequest", "%s", err ? err->msg : "invalid apply configuration");
      return NULL;
    }
  json_t *ch = NULL, *rm = NULL;
  api_fs_compare (t, live ? base : NULL, merged, &ch, &rm);
  json_auto_t *changed = strip_for (rt, ch);
  json_auto_t *removed = strip_for (rt, rm);
  json_auto_t *mf = entries_valid (old_mf) ? json_deep_copy (old_mf) : json_array ();
  char av[96];
  api_resource_api_version (rt->res, av, sizeof av);
  json_t *mine = entry_of (mf, manager, "Apply", av, sub_of (rt));
  json_auto_t *conflicts = find_conflicts (mf, mine, changed, api_query_bool (r, "force"));
  if (json_array_size (conflicts) && !api_query_bool (r, "force"))
    {
      reply_conflicts (r, rt, conflicts);
      return NULL;
    }
  entries_subtract (mf, removed, NULL);
  json_auto_t *last = json_incref (json_object_get (mine, "fieldsV1"));
  entry_set (mine, json_incref (cfgset));
  json_auto_t *owned = owned_by_all (mf);
  json_auto_t *gone = api_fs_difference (last, owned);
  api_fs_prune (t, merged, gone, owned);
  mf = entries_finish (TAKE_PTR (mf));
  if (json_equal (merged, base) && entries_equal_but_time (mf, old_mf))
    attach (merged, old_mf);
  else
    attach (merged, mf);
  r->managed_done = true;
  return json_incref (merged);
}
