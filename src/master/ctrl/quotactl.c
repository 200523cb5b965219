/* husk controllers: ResourceQuota status. Recomputes status.used of every quota from the
   objects that exist (admission charges creates as they happen; this catches deletions,
   finished pods and quotas created after their objects) and mirrors spec.hard into
   status.hard. */
#include "config.h"

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster-logic.h"
#include "src/master/ctrl/cluster.h"

static const char *
group_version (const char *group)
{
  static const char *const gv[][2] = {
    { "autoscaling", "v2" },
  };
  for (size_t i = 0; i < sizeof gv / sizeof gv[0]; i++)
    if (streq (group, gv[i][0]))
      return gv[i][1];
  return "v1";
}

/* The usage in ns of (plural, group) that counts for q, listed once per pass (cache:
   "<ns>/<plural>.<group>[/<scoped quota>]" -> usage). */
static json_t *
usage_of_kind (ctrl_ctx *c, json_t *cache, const json_t *q, const char *ns, const char *plural,
               const char *group, husk_error **err)
{
  bool scoped = husk_json_path (q, "spec.scopes") || husk_json_path (q, "spec.scopeSelector");
  _cleanup_free_ char *key = xasprintf ("%s/%s.%s%s%s", ns, plural, group, scoped ? "/" : "",
                                        scoped ? husk_json_path_str (q, "metadata.name") : "");
  json_t *u = json_object_get (cache, key);
  if (u)
    return u;
  _cleanup_free_ char *path = *group ? xasprintf ("/apis/%s/%s/namespaces/%s/%s", group,
                                                  group_version (group), ns, plural)
                                     : xasprintf ("/api/v1/namespaces/%s/%s", ns, plural);
  _cleanup_json_ json_t *items = NULL;
  if (ctrl_list (c, path, &items, err) < 0)
    return NULL;
  u = json_object ();
  size_t i;
  json_t *o;
  json_array_foreach (items, i, o)
  {
    if (!quota_in_scope (q, plural, group, o))
      continue;
    _cleanup_json_ json_t *d = quota_usage_of (plural, group, o);
    quota_usage_add (u, d);
  }
  json_object_set_new (cache, key, u);
  return u;
}

static int
sync_one (ctrl_ctx *c, const json_t *q, json_t *cache, husk_error **err)
{
  const char *ns = husk_json_path_str (q, "metadata.namespace");
  json_t *hard = husk_json_path (q, "spec.hard");
  if (!ns || !json_is_object (hard))
    return 0;
  _cleanup_json_ json_t *total = json_object ();
  const char *k;
  json_t *v;
  json_object_foreach (hard, k, v)
  {
    _cleanup_free_ char *plural = NULL;
    const char *group;
    if (!quota_resource_of (k, &plural, &group))
      continue;
    json_t *u = usage_of_kind (c, cache, q, ns, plural, group, err);
    if (!u)
      return husk_err_wrap (err, "resourcequota %s/%s", ns,
                            husk_json_path_str (q, "metadata.name"));
    json_object_set_new (total, k, json_integer (json_integer_value (json_object_get (u, k))));
  }
  _cleanup_json_ json_t *text = quota_usage_text (total);
  json_t *old = json_object_get (q, "status");
  if (json_equal (husk_json_path (old, "hard"), hard)
      && json_equal (husk_json_path (old, "used"), text))
    return 0;
  /* q is a listed (shared, read-only) object: the write goes out from a copy. */
  _cleanup_json_ json_t *nq = json_deep_copy (q);
  json_object_set_new (nq, "status", json_pack ("{s:O, s:O}", "hard", hard, "used", text));
  return ctrl_put (c, "/api/v1", "resourcequotas", nq, "/status", err);
}

int
ctrl_quota_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *qs = NULL, *cache = json_object ();
  int ret = ctrl_list (c, "/api/v1/resourcequotas", &qs, err);
  if (ret < 0)
    return ret;
  size_t i;
  json_t *q;
  json_array_foreach (qs, i, q)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_one (c, q, cache, &e) < 0)
      log_warn ("resourcequota sync", "error", e->msg);
  }
  return 0;
}
