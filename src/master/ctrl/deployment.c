/* husk controllers: Deployment. Finds or creates the ReplicaSet of the current pod template
   (named <deployment>-<pod-template-hash>), moves replicas from the old ReplicaSets to it
   (RollingUpdate within maxSurge/maxUnavailable, or Recreate), keeps revisionHistoryLimit
   old ReplicaSets for `kubectl rollout undo`, and writes the status `kubectl rollout status`
   reads. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

#define HASH_LABEL  "pod-template-hash"
#define REV_ANN     "deployment.kubernetes.io/revision"
#define DESIRED_ANN "deployment.kubernetes.io/desired-replicas"
#define MAX_ANN     "deployment.kubernetes.io/max-replicas"

static long
revision_of (const json_t *obj)
{
  json_t *ann = husk_json_path (obj, "metadata.annotations");
  const char *r = json_string_value (json_object_get (ann, REV_ANN));
  return r ? strtol (r, NULL, 10) : 0;
}

static void
set_annotation (json_t *obj, const char *key, const char *val)
{
  json_t *meta = json_object_get (obj, "metadata");
  json_t *ann = json_object_get (meta, "annotations");
  if (!json_is_object (ann))
    {
      ann = json_object ();
      json_object_set_new (meta, "annotations", ann);
    }
  json_object_set_new (ann, key, json_string (val));
}

/* A copy of a pod template without what does not make two templates differ: the
   pod-template-hash label, metadata.creationTimestamp (null in what `kubectl rollout undo`
   writes), empty label and annotation maps. */
static json_t *
template_normalized (const json_t *tmpl)
{
  json_t *t = json_is_object (tmpl) ? json_deep_copy (tmpl) : json_object ();
  json_t *meta = json_object_get (t, "metadata");
  json_object_del (json_object_get (meta, "labels"), HASH_LABEL);
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

static bool
template_matches (const json_t *rs, const json_t *dtmpl)
{
  _cleanup_json_ json_t *a = template_normalized (husk_json_path (rs, "spec.template"));
  _cleanup_json_ json_t *b = template_normalized (dtmpl);
  return json_equal (a, b);
}

static int
scale_rs (ctrl_ctx *c, json_t *rs, json_int_t replicas, json_int_t desired, json_int_t max,
          husk_error **err)
{
  char buf[32];
  json_t *spec = json_object_get (rs, "spec");
  bool same = husk_json_path_int (rs, "spec.replicas", 1) == replicas;
  json_t *ann = husk_json_path (rs, "metadata.annotations");
  snprintf (buf, sizeof buf, "%lld", (long long)desired);
  const char *cur = json_string_value (json_object_get (ann, DESIRED_ANN));
  if (same && cur && streq (cur, buf))
    return 0;
  json_object_set_new (spec, "replicas", json_integer (replicas));
  set_annotation (rs, DESIRED_ANN, buf);
  snprintf (buf, sizeof buf, "%lld", (long long)max);
  set_annotation (rs, MAX_ANN, buf);
  return ctrl_put (c, "/apis/apps/v1", "replicasets", rs, "", err);
}

static int
create_rs (ctrl_ctx *c, json_t *d, const char *hash, long revision, json_int_t replicas,
           json_int_t desired, json_int_t max, husk_error **err)
{
  const char *ns = husk_json_path_str (d, "metadata.namespace");
  const char *dname = husk_json_path_str (d, "metadata.name");
  _cleanup_json_ json_t *tmpl = template_normalized (husk_json_path (d, "spec.template"));
  json_t *tmeta = json_object_get (tmpl, "metadata");
  if (!json_is_object (tmeta))
    json_object_set_new (tmpl, "metadata", tmeta = json_object ());
  json_t *tl = json_object_get (tmeta, "labels");
  if (!json_is_object (tl))
    json_object_set_new (tmeta, "labels", tl = json_object ());
  json_object_set_new (tl, HASH_LABEL, json_string (hash));
  _cleanup_json_ json_t *sel = json_deep_copy (husk_json_path (d, "spec.selector"));
  if (!json_is_object (sel))
    sel = json_object ();
  json_t *ml = json_object_get (sel, "matchLabels");
  if (!json_is_object (ml))
    json_object_set_new (sel, "matchLabels", ml = json_object ());
  json_object_set_new (ml, HASH_LABEL, json_string (hash));
  _cleanup_free_ char *name = xasprintf ("%s-%s", dname, hash);
  char rev[32], des[32], mx[32];
  snprintf (rev, sizeof rev, "%ld", revision);
  snprintf (des, sizeof des, "%lld", (long long)desired);
  snprintf (mx, sizeof mx, "%lld", (long long)max);
  json_t *ann = json_pack ("{s:s, s:s, s:s}", REV_ANN, rev, DESIRED_ANN, des, MAX_ANN, mx);
  json_int_t min_ready = husk_json_path_int (d, "spec.minReadySeconds", 0);
  _cleanup_json_ json_t *rs = json_pack (
      "{s:s, s:s, s:{s:s, s:s, s:O, s:o, s:[o]}, s:{s:I, s:I, s:O, s:O}}", "apiVersion", "apps/v1",
      "kind", "ReplicaSet", "metadata", "name", name, "namespace", ns, "labels", tl, "annotations",
      ann, "ownerReferences", ctrl_owner_ref ("apps/v1", "Deployment", d), "spec", "replicas",
      replicas, "minReadySeconds", min_ready, "selector", sel, "template", tmpl);
  _cleanup_free_ char *path = xasprintf ("/apis/apps/v1/namespaces/%s/replicasets", ns);
  long code = 0;
  int ret = ctrl_write (c, "POST", path, NULL, rs, NULL, &code, err);
  if (ret < 0 && code == 409)
    {
      /* A ReplicaSet of that name with another template: a hash collision. Upstream bumps
         status.collisionCount so that the next hash differs. */
      husk_error_free (*err);
      *err = NULL;
      json_t *st = json_object_get (d, "status");
      if (!json_is_object (st))
        json_object_set_new (d, "status", st = json_object ());
      json_object_set_new (st, "collisionCount",
                           json_integer (husk_json_path_int (d, "status.collisionCount", 0) + 1));
      return ctrl_put (c, "/apis/apps/v1", "deployments", d, "/status", err);
    }
  return ret;
}

static int
cmp_revision (const void *a, const void *b)
{
  long ra = revision_of (*(json_t *const *)a), rb = revision_of (*(json_t *const *)b);
  return ra < rb ? -1 : ra > rb;
}

/* Deletes the oldest fully scaled-down old ReplicaSets beyond revisionHistoryLimit. */
static int
cleanup_history (ctrl_ctx *c, json_t *d, json_t **old, size_t n_old, husk_error **err)
{
  json_int_t limit = husk_json_path_int (d, "spec.revisionHistoryLimit", 10);
  _cleanup_free_ json_t **idle = xmalloc ((n_old + 1) * sizeof *idle);
  size_t n = 0;
  for (size_t i = 0; i < n_old; i++)
    if (husk_json_path_int (old[i], "spec.replicas", 1) == 0 && husk_json_path_int (old[i], "status.replicas", 0) == 0)
      idle[n++] = old[i];
  if ((json_int_t)n <= limit)
    return 0;
  qsort (idle, n, sizeof *idle, cmp_revision);
  for (size_t i = 0; i < n - (size_t)limit; i++)
    {
      _cleanup_free_ char *path = xasprintf ("/apis/apps/v1/namespaces/%s/replicasets/%s",
                                             husk_json_path_str (idle[i], "metadata.namespace"),
                                             husk_json_path_str (idle[i], "metadata.name"));
      long code = 0;
      if (ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &code, err) < 0)
        {
          if (code != 404 && code != 409)
            return -1;
          husk_error_free (*err);
          *err = NULL;
        }
    }
  return 0;
}

static int
sync_status (ctrl_ctx *c, json_t *d, json_t *new_rs, json_t **old, size_t n_old, husk_error **err)
{
  size_t n = n_old + (new_rs != NULL);
  _cleanup_free_ ctrl_rs_status *st = xcalloc (n + 1, sizeof *st);
  for (size_t i = 0; i < n; i++)
    {
      json_t *rs = i < n_old ? old[i] : new_rs;
      st[i] = (ctrl_rs_status){
        .name = husk_json_path_str (rs, "metadata.name"),
        .spec_replicas = (int32_t)husk_json_path_int (rs, "spec.replicas", 1),
        .replicas = (int32_t)husk_json_path_int (rs, "status.replicas", 0),
        .ready = (int32_t)husk_json_path_int (rs, "status.readyReplicas", 0),
        .available = (int32_t)husk_json_path_int (rs, "status.availableReplicas", 0),
        .is_new = i >= n_old,
      };
    }
  _cleanup_json_ json_t *status = NULL;
  int ret = ctrl_deployment_status (d, st, n, time (NULL), &status, err);
  if (ret < 0)
    return ret;
  if (json_equal (status, json_object_get (d, "status")))
    return 0;
  json_object_set (d, "status", status);
  return ctrl_put (c, "/apis/apps/v1", "deployments", d, "/status", err);
}

/* Every owned ReplicaSet's status describes its current spec: the rollout arithmetic may
   trust their available counts. */
static bool
observed (json_t *new_rs, json_t **old, size_t n_old)
{
  for (size_t i = 0; i <= n_old; i++)
    {
      json_t *rs = i < n_old ? old[i] : new_rs;
      if (rs
          && husk_json_path_int (rs, "status.observedGeneration", -1) < husk_json_path_int (rs, "metadata.generation", 0))
        return false;
    }
  return true;
}

static int
rolling (ctrl_ctx *c, json_t *d, json_t *new_rs, json_t **old, size_t n_old, json_int_t desired,
         int32_t surge, int32_t unavail, husk_error **err)
{
  json_int_t total = husk_json_path_int (new_rs, "spec.replicas", 1), old_total = 0;
  for (size_t i = 0; i < n_old; i++)
    old_total += husk_json_path_int (old[i], "spec.replicas", 1);
  total += old_total;
  json_int_t max = desired + surge;
  if (old_total == 0)
    return scale_rs (c, new_rs, desired, desired, max, err);
  int32_t nr = ctrl_rollout_new_replicas ((int32_t)desired, surge, (int32_t)total,
                                          (int32_t)husk_json_path_int (new_rs, "spec.replicas", 1));
  int ret = scale_rs (c, new_rs, nr, desired, max, err);
  if (ret < 0)
    return ret;
  _cleanup_free_ ctrl_rs *ors = xcalloc (n_old + 1, sizeof *ors);
  for (size_t i = 0; i < n_old; i++)
    {
      int32_t r = (int32_t)husk_json_path_int (old[i], "spec.replicas", 1);
      int32_t a = (int32_t)husk_json_path_int (old[i], "status.availableReplicas", 0);
      ors[i] = (ctrl_rs){ .replicas = r,
                          .available = a < r ? a : r,
                          .created = ctrl_time_parse (
                              husk_json_path_str (old[i], "metadata.creationTimestamp")) };
    }
  ctrl_rs nrs
      = { .replicas = nr, .available = (int32_t)husk_json_path_int (new_rs, "status.availableReplicas", 0) };
  if (nrs.available > nr)
    nrs.available = nr;
  ctrl_rollout_scale_down_old ((int32_t)desired, unavail, ors, n_old, &nrs);
  for (size_t i = 0; i < n_old; i++)
    if (ors[i].replicas != husk_json_path_int (old[i], "spec.replicas", 1))
      {
        ret = scale_rs (c, old[i], ors[i].replicas, desired, max, err);
        if (ret < 0)
          return ret;
      }
  return 0;
}

static int
recreate (ctrl_ctx *c, json_t *new_rs, json_t **old, size_t n_old, json_int_t desired,
          husk_error **err)
{
  bool old_running = false;
  for (size_t i = 0; i < n_old; i++)
    {
      if (husk_json_path_int (old[i], "spec.replicas", 1) > 0)
        {
          int ret = scale_rs (c, old[i], 0, desired, desired, err);
          if (ret < 0)
            return ret;
          old_running = true;
        }
      if (husk_json_path_int (old[i], "status.replicas", 0) > 0)
        old_running = true;
    }
  if (old_running)
    return 0;
  return scale_rs (c, new_rs, desired, desired, desired, err);
}

static int
sync_one (ctrl_ctx *c, json_t *d, json_t *rss, husk_error **err)
{
  const char *uid = husk_json_path_str (d, "metadata.uid");
  const char *ns = husk_json_path_str (d, "metadata.namespace");
  json_t *dtmpl = husk_json_path (d, "spec.template");
  if (!uid || !ns || !dtmpl || ctrl_terminating (d))
    return 0;
  size_t cap = json_array_size (rss);
  _cleanup_free_ json_t **old = xmalloc ((cap + 1) * sizeof *old);
  size_t n_old = 0;
  json_t *new_rs = NULL, *rs, *listed;
  long max_rev = 0;
  size_t i;
  /* The listed ReplicaSets are shared and read-only; this pass scales (changes) its own. */
  _cleanup_json_ json_t *mine = json_array ();
  json_array_foreach (rss, i, listed)
  {
    const char *rns = husk_json_path_str (listed, "metadata.namespace");
    const char *owner = ctrl_controller_uid (listed);
    if (!rns || !streq (rns, ns) || !owner || !streq (owner, uid) || ctrl_terminating (listed))
      continue;
    json_array_append_new (mine, rs = json_deep_copy (listed));
    if (new_rs == NULL && template_matches (rs, dtmpl))
      new_rs = rs;
    else
      {
        old[n_old++] = rs;
        long r = revision_of (rs);
        if (r > max_rev)
          max_rev = r;
      }
  }
  json_int_t desired = husk_json_path_int (d, "spec.replicas", 1);
  const char *strategy = husk_json_path_str (d, "spec.strategy.type");
  bool is_recreate = strategy && streq (strategy, "Recreate");
  int32_t surge = 0, unavail = 0;
  if (!is_recreate
      && ctrl_rollout_fenceposts (husk_json_path (d, "spec.strategy.rollingUpdate.maxSurge"),
                                  husk_json_path (d, "spec.strategy.rollingUpdate.maxUnavailable"),
                                  (int32_t)desired, &surge, &unavail, err)
             < 0)
    return husk_err_wrap (err, "deployment %s/%s", ns, husk_json_path_str (d, "metadata.name"));
  int ret;
  char rev[32];
  snprintf (rev, sizeof rev, "%ld", max_rev + 1);
  if (new_rs == NULL)
    {
      if (json_is_true (husk_json_path (d, "spec.paused")))
        return sync_status (c, d, NULL, old, n_old, err);
      json_t *cc = husk_json_path (d, "status.collisionCount");
      _cleanup_json_ json_t *norm = template_normalized (dtmpl);
      _cleanup_free_ char *hash
          = ctrl_pod_template_hash (norm, json_is_integer (cc) ? json_integer_value (cc) : -1);
      json_int_t old_total = 0;
      bool old_active = false;
      for (size_t j = 0; j < n_old; j++)
        {
          old_total += husk_json_path_int (old[j], "spec.replicas", 1);
          old_active |= husk_json_path_int (old[j], "status.replicas", 0) > 0;
        }
      json_int_t start = is_recreate ? (old_total || old_active ? 0 : desired)
                                     : ctrl_rollout_new_replicas ((int32_t)desired, surge,
                                                                  (int32_t)old_total, 0);
      ret = create_rs (c, d, hash, max_rev + 1, start, desired, desired + surge, err);
      return ret < 0 ? husk_err_wrap (err, "deployment %s/%s: create replicaset", ns,
                                      husk_json_path_str (d, "metadata.name"))
                     : 0;
    }
  /* A rollback or a return to an older template makes its ReplicaSet the newest revision. */
  if (revision_of (new_rs) <= max_rev)
    {
      set_annotation (new_rs, REV_ANN, rev);
      return ctrl_put (c, "/apis/apps/v1", "replicasets", new_rs, "", err);
    }
  snprintf (rev, sizeof rev, "%ld", revision_of (new_rs));
  json_t *dann = husk_json_path (d, "metadata.annotations");
  const char *drev = json_string_value (json_object_get (dann, REV_ANN));
  if (!drev || !streq (drev, rev))
    {
      set_annotation (d, REV_ANN, rev);
      return ctrl_put (c, "/apis/apps/v1", "deployments", d, "", err);
    }
  if (!json_is_true (husk_json_path (d, "spec.paused")) && observed (new_rs, old, n_old))
    {
      ret = is_recreate ? recreate (c, new_rs, old, n_old, desired, err)
                        : rolling (c, d, new_rs, old, n_old, desired, surge, unavail, err);
      if (ret < 0)
        return husk_err_wrap (err, "deployment %s/%s", ns, husk_json_path_str (d, "metadata.name"));
    }
  ret = cleanup_history (c, d, old, n_old, err);
  if (ret < 0)
    return ret;
  return sync_status (c, d, new_rs, old, n_old, err);
}

int
ctrl_deployment_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *ds = NULL, *rss = NULL;
  int ret = ctrl_list (c, "/apis/apps/v1/deployments", &ds, err);
  if (ret < 0)
    return ret;
  ret = ctrl_list (c, "/apis/apps/v1/replicasets", &rss, err);
  if (ret < 0)
    return ret;
  json_t *d;
  size_t i;
  json_array_foreach (ds, i, d)
  {
    _cleanup_error_ husk_error *e = NULL;
    _cleanup_json_ json_t *copy = json_deep_copy (d); /* d is shared, read-only */
    if (sync_one (c, copy, rss, &e) < 0)
      log_warn ("deployment sync", "error", e->msg);
  }
  return 0;
}
