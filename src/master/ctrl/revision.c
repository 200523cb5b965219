/* husk controllers: ControllerRevisions, the template history of DaemonSets and
   StatefulSets (upstream controller_history.go). A revision's data is
   {"spec":{"template":{..., "$patch":"replace"}}} as upstream writes it, so that
   `kubectl rollout undo` patches it back onto the owner; it is named <owner>-<hash> and
   labelled controller-revision-hash=<hash>, with the hash taken over the data. */
#include "config.h"

#include <errno.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

#define HASH_LABEL "controller-revision-hash"

void
ctrl_revision_clear (ctrl_revision *r)
{
  free (r->name);
  free (r->hash);
  r->name = r->hash = NULL;
}

/* A template without what does not make two templates differ. */
static json_t *
normalized (const json_t *tmpl)
{
  json_t *t = json_is_object (tmpl) ? json_deep_copy (tmpl) : json_object ();
  json_object_del (t, "$patch");
  json_t *meta = json_object_get (t, "metadata");
  json_object_del (meta, "creationTimestamp");
  static const char *const maps[] = { "labels", "annotations" };
  for (size_t i = 0; i < 2; i++)
    {
      json_t *m = json_object_get (meta, maps[i]);
      if (m && (json_is_null (m) || (json_is_object (m) && json_object_size (m) == 0)))
        json_object_del (meta, maps[i]);
    }
  if (json_is_object (meta) && json_object_size (meta) == 0)
    json_object_del (t, "metadata");
  return t;
}

bool
ctrl_revision_matches (const json_t *rev, const json_t *owner)
{
  _cleanup_json_ json_t *a = normalized (husk_json_path (rev, "data.spec.template"));
  _cleanup_json_ json_t *b = normalized (husk_json_path (owner, "spec.template"));
  return json_equal (a, b);
}

json_t *
ctrl_revisions_of (const json_t *owner, json_t *revs)
{
  const char *uid = husk_json_path_str (owner, "metadata.uid");
  const char *ns = husk_json_path_str (owner, "metadata.namespace");
  json_t *mine = json_array (), *r;
  size_t i;
  json_array_foreach (revs, i, r)
  {
    const char *o = ctrl_controller_uid (r);
    const char *rns = husk_json_path_str (r, "metadata.namespace");
    if (o && uid && streq (o, uid) && rns && ns && streq (rns, ns) && !ctrl_terminating (r))
      json_array_append (mine, r);
  }
  return mine;
}

json_t *
ctrl_revision_named (json_t *mine, const char *name)
{
  json_t *r;
  size_t i;
  json_array_foreach (mine, i, r)
  {
    const char *n = husk_json_path_str (r, "metadata.name");
    if (name && n && streq (n, name))
      return r;
  }
  return NULL;
}

static json_int_t
max_revision (json_t *mine)
{
  json_int_t mx = 0;
  json_t *r;
  size_t i;
  json_array_foreach (mine, i, r)
  {
    json_int_t n = husk_json_path_int (r, "revision", 0);
    if (n > mx)
      mx = n;
  }
  return mx;
}

static void
set_out (ctrl_revision *out, const json_t *rev)
{
  out->name = xstrdup (husk_json_path_str (rev, "metadata.name"));
  const char *h = json_string_value (
      json_object_get (husk_json_path (rev, "metadata.labels"), HASH_LABEL));
  out->hash = xstrdup (h ? h : "");
  out->number = husk_json_path_int (rev, "revision", 0);
}

static int
create_revision (ctrl_ctx *c, json_t *owner, const char *kind, json_int_t number,
                 ctrl_revision *out, husk_error **err)
{
  const char *ns = husk_json_path_str (owner, "metadata.namespace");
  const char *name = husk_json_path_str (owner, "metadata.name");
  json_t *tmpl = json_deep_copy (husk_json_path (owner, "spec.template"));
  json_object_set_new (tmpl, "$patch", json_string ("replace"));
  _cleanup_json_ json_t *data = json_pack ("{s:{s:o}}", "spec", "template", tmpl);
  json_int_t collisions = husk_json_path_int (owner, "status.collisionCount", -1);
  _cleanup_free_ char *hash = ctrl_pod_template_hash (data, collisions);
  _cleanup_free_ char *rname = xasprintf ("%s-%s", name, hash);
  json_t *tlabels = husk_json_path (owner, "spec.template.metadata.labels");
  json_t *labels = json_is_object (tlabels) ? json_deep_copy (tlabels) : json_object ();
  json_object_set_new (labels, HASH_LABEL, json_string (hash));
  _cleanup_json_ json_t *rev = json_pack (
      "{s:s, s:s, s:{s:s, s:s, s:o, s:[o]}, s:O, s:I}", "apiVersion", "apps/v1", "kind",
      "ControllerRevision", "metadata", "name", rname, "namespace", ns, "labels", labels,
      "ownerReferences", ctrl_owner_ref ("apps/v1", kind, owner), "data", data, "revision",
      number);
  _cleanup_free_ char *path = xasprintf ("/apis/apps/v1/namespaces/%s/controllerrevisions", ns);
  long code = 0;
  int ret = kclient_json (c->k, "POST", path, NULL, rev, NULL, &code, err);
  if (ret < 0 && code != 409)
    return husk_err_wrap (err, "%s %s/%s: create ControllerRevision %s", kind, ns, name, rname);
  if (ret < 0)
    {
      /* Made by an earlier pass whose list we did not see yet. */
      husk_error_free (*err);
      *err = NULL;
    }
  set_out (out, rev);
  return 0;
}

int
ctrl_revision_current (ctrl_ctx *c, json_t *owner, const char *kind, json_t *mine,
                       ctrl_revision *out, husk_error **err)
{
  json_int_t mx = max_revision (mine);
  json_t *r;
  size_t i;
  json_array_foreach (mine, i, r)
  {
    if (!ctrl_revision_matches (r, owner))
      continue;
    if (husk_json_path_int (r, "revision", 0) < mx)
      {
        /* A rollback to an older template: it becomes the newest revision (written from a
           copy: listed revisions are shared and read-only). */
        _cleanup_json_ json_t *copy = json_deep_copy (r);
        json_object_set_new (copy, "revision", json_integer (mx + 1));
        int ret = ctrl_put (c, "/apis/apps/v1", "controllerrevisions", copy, "", err);
        if (ret < 0)
          return ret;
        set_out (out, copy);
        return 0;
      }
    set_out (out, r);
    return 0;
  }
  return create_revision (c, owner, kind, mx + 1, out, err);
}

static int
by_revision (const void *a, const void *b)
{
  json_int_t x = husk_json_path_int (*(json_t *const *)a, "revision", 0);
  json_int_t y = husk_json_path_int (*(json_t *const *)b, "revision", 0);
  return x < y ? -1 : x > y;
}

void
ctrl_revision_prune (ctrl_ctx *c, const json_t *owner, json_t *mine,
                     bool (*live) (const json_t *rev, void *ud), void *ud)
{
  json_int_t limit = husk_json_path_int (owner, "spec.revisionHistoryLimit", 10);
  size_t n = json_array_size (mine), k = 0;
  _cleanup_free_ json_t **old = xmalloc ((n + 1) * sizeof *old);
  json_t *r;
  size_t i;
  json_array_foreach (mine, i, r) if (!live (r, ud)) old[k++] = r;
  if ((json_int_t)k <= limit)
    return;
  qsort (old, k, sizeof *old, by_revision);
  for (size_t j = 0; j < k - (size_t)limit; j++)
    {
      _cleanup_free_ char *path = xasprintf (
          "/apis/apps/v1/namespaces/%s/controllerrevisions/%s",
          husk_json_path_str (old[j], "metadata.namespace"),
          husk_json_path_str (old[j], "metadata.name"));
      _cleanup_error_ husk_error *e = NULL;
      if (kclient_json (c->k, "DELETE", path, NULL, NULL, NULL, NULL, &e) < 0)
        log_warn ("controllerrevision prune", "error", e->msg);
    }
}
