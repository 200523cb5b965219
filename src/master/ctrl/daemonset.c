/* husk controllers: DaemonSet. One pod per eligible node (dsnode.c), pinned there by node
   affinity so that the scheduler binds it; pods of nodes that went away, of nodes whose
   NoExecute taints the pod does not tolerate, failed pods and duplicates are deleted. A
   changed template rolls out as a RollingUpdate (maxUnavailable, maxSurge; dsroll.c) or, with
   OnDelete, as pods are deleted by hand. Template history lives in ControllerRevisions
   (revision.c) for `kubectl rollout history/undo ds`; the status carries what
   `kubectl rollout status ds` reads. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

#define HASH_LABEL "controller-revision-hash"
#define GEN_LABEL  "pod-template-generation"

typedef struct ds_node
{
  const char *name;
  bool run, cont;
  json_t *pods[4]; /* its active daemon pods, oldest first (more are not kept) */
  size_t n;
} ds_node;

typedef struct ds_pass
{
  ctrl_ctx *c;
  json_t *ds;
  const char *ns, *name;
  ctrl_revision cur;
  int64_t now;
  json_int_t min_ready;
  ds_node *nodes;
  size_t n_nodes;
  size_t actions;
} ds_pass;

static int
older (const json_t *a, const json_t *b)
{
  const char *ta = husk_json_path_str (a, "metadata.creationTimestamp");
  const char *tb = husk_json_path_str (b, "metadata.creationTimestamp");
  int d = strcmp (ta ? ta : "", tb ? tb : "");
  if (d == 0)
    d = strcmp (husk_json_path_str (a, "metadata.name"), husk_json_path_str (b, "metadata.name"));
  return d;
}

static bool
is_new (ds_pass *s, const json_t *pod)
{
  const char *h = ctrl_label (pod, HASH_LABEL);
  return h && streq (h, s->cur.hash);
}

static int
create_pod (ds_pass *s, const char *node, husk_error **err)
{
  _cleanup_json_ json_t *meta = ctrl_pod_meta (s->ds, "apps/v1", "DaemonSet");
  char gen[32];
  snprintf (gen, sizeof gen, "%lld",
            (long long)husk_json_path_int (s->ds, "metadata.generation", 1));
  ctrl_set_label (meta, HASH_LABEL, s->cur.hash);
  ctrl_set_label (meta, GEN_LABEL, gen);
  _cleanup_json_ json_t *spec
      = ctrl_ds_pod_spec (husk_json_path (s->ds, "spec.template.spec"), node);
  s->actions++;
  int ret = ctrl_post_pod (s->c, s->ns, meta, spec, err);
  if (ret < 0)
    return husk_err_wrap (err, "daemonset %s/%s: node %s: create pod", s->ns, s->name, node);
  return 0;
}

static int
delete_pod (ds_pass *s, const json_t *pod, husk_error **err)
{
  s->actions++;
  int ret = ctrl_delete_pod (s->c, pod, err);
  if (ret < 0)
    return husk_err_wrap (err, "daemonset %s/%s: delete pod %s", s->ns, s->name,
                          husk_json_path_str (pod, "metadata.name"));
  return 0;
}

static ds_node *
node_named (ds_pass *s, const char *name)
{
  for (size_t i = 0; name && i < s->n_nodes; i++)
    if (streq (s->nodes[i].name, name))
      return &s->nodes[i];
  return NULL;
}

/* Sorts the DaemonSet's pods onto their nodes; deletes finished pods, pods of unknown
   nodes and pods beyond the four kept per node. */
static int
assign_pods (ds_pass *s, json_t *mine, husk_error **err)
{
  json_t *p;
  size_t i;
  json_array_foreach (mine, i, p)
  {
    if (ctrl_terminating (p))
      continue;
    ds_node *d = node_named (s, ctrl_ds_pod_node (p));
    if (!ctrl_pod_active (p) || d == NULL || d->n == 4)
      {
        int ret = delete_pod (s, p, err);
        if (ret < 0)
          return ret;
        continue;
      }
    size_t j = d->n++;
    while (j > 0 && older (p, d->pods[j - 1]) < 0)
      {
        d->pods[j] = d->pods[j - 1];
        j--;
      }
    d->pods[j] = p;
  }
  return 0;
}

/* A node with one old and one new pod is a surge in progress (RollingUpdate, maxSurge). */
static bool
surging (ds_pass *s, ds_node *d, int32_t max_surge)
{
  return max_surge > 0 && d->n == 2 && is_new (s, d->pods[0]) != is_new (s, d->pods[1]);
}

/* upstream manage(): a pod where one should run, none where none may continue, one only. */
static int
manage (ds_pass *s, int32_t max_surge, husk_error **err)
{
  int ret = 0;
  for (size_t i = 0; i < s->n_nodes && ret == 0; i++)
    {
      ds_node *d = &s->nodes[i];
      if (d->run && d->n == 0)
        ret = create_pod (s, d->name, err);
      else if (!d->cont)
        for (size_t j = 0; j < d->n && ret == 0; j++)
          ret = delete_pod (s, d->pods[j], err);
      else if (d->n > 1 && !surging (s, d, max_surge))
        for (size_t j = 1; j < d->n && ret == 0; j++)
          ret = delete_pod (s, d->pods[j], err);
    }
  return ret;
}

static int32_t
desired (ds_pass *s)
{
  int32_t n = 0;
  for (size_t i = 0; i < s->n_nodes; i++)
    n += s->nodes[i].run;
  return n;
}

static int
rolling_update (ds_pass *s, int32_t max_surge, int32_t max_unavailable, husk_error **err)
{
  _cleanup_free_ ctrl_ds_node *st = xmalloc ((s->n_nodes + 1) * sizeof *st);
  _cleanup_free_ ds_node **of = xmalloc ((s->n_nodes + 1) * sizeof *of);
  size_t k = 0;
  for (size_t i = 0; i < s->n_nodes; i++)
    {
      ds_node *d = &s->nodes[i];
      if (!d->run || d->n == 0)
        continue;
      ctrl_ds_node x = { .ok = true };
      for (size_t j = 0; j < d->n; j++)
        {
          bool nw = is_new (s, d->pods[j]);
          bool av = ctrl_pod_available (d->pods[j], s->min_ready, s->now);
          if ((nw && x.has_new) || (!nw && x.has_old))
            x.ok = false;
          if (nw)
            x.has_new = true, x.new_avail = av;
          else
            x.has_old = true, x.old_avail = av;
        }
      of[k] = d;
      st[k++] = x;
    }
  ctrl_ds_rolling_step (st, k, max_surge, max_unavailable);
  for (size_t i = 0; i < k; i++)
    {
      int ret = 0;
      if (st[i].create_new)
        ret = create_pod (s, of[i]->name, err);
      for (size_t j = 0; j < of[i]->n && st[i].delete_old && ret == 0; j++)
        if (!is_new (s, of[i]->pods[j]))
          ret = delete_pod (s, of[i]->pods[j], err);
      if (ret < 0)
        return ret;
    }
  return 0;
}

/* upstream updateDaemonSetStatus: counted over the oldest pod of each node. */
static int
update_status (ds_pass *s, husk_error **err)
{
  json_int_t want = 0, current = 0, mis = 0, ready = 0, avail = 0, updated = 0;
  for (size_t i = 0; i < s->n_nodes; i++)
    {
      ds_node *d = &s->nodes[i];
      if (!d->run)
        {
          mis += d->n > 0;
          continue;
        }
      want++;
      if (d->n == 0)
        continue;
      current++;
      json_t *p = d->pods[0];
      if (ctrl_pod_ready (p))
        {
          ready++;
          avail += ctrl_pod_available (p, s->min_ready, s->now);
        }
      updated += is_new (s, p);
    }
  json_t *old = json_object_get (s->ds, "status");
  _cleanup_json_ json_t *st = json_pack (
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "desiredNumberScheduled", want,
      "currentNumberScheduled", current, "numberMisscheduled", mis, "numberReady", ready,
      "numberAvailable", avail, "numberUnavailable", want - avail, "updatedNumberScheduled",
      updated, "observedGeneration", husk_json_path_int (s->ds, "metadata.generation", 1));
  if (json_is_object (old) && json_object_get (old, "collisionCount"))
    json_object_set (st, "collisionCount", json_object_get (old, "collisionCount"));
  if (avail == 0)
    json_object_del (st, "numberAvailable");
  if (want - avail == 0)
    json_object_del (st, "numberUnavailable");
  if (json_equal (st, old))
    return 0;
  json_object_set (s->ds, "status", st);
  return ctrl_put (s->c, "/apis/apps/v1", "daemonsets", s->ds, "/status", err);
}

static bool
revision_live (const json_t *rev, void *ud)
{
  ds_pass *s = ud;
  const char *h = ctrl_label (rev, HASH_LABEL);
  if (!h || streq (h, s->cur.hash))
    return true;
  for (size_t i = 0; i < s->n_nodes; i++)
    for (size_t j = 0; j < s->nodes[i].n; j++)
      {
        const char *ph = ctrl_label (s->nodes[i].pods[j], HASH_LABEL);
        if (ph && streq (ph, h))
          return true;
      }
  return false;
}

static int
strategy (ds_pass *s, int32_t *max_surge, int32_t *max_unavailable, bool *rolling,
          husk_error **err)
{
  const char *type = husk_json_path_str (s->ds, "spec.updateStrategy.type");
  *rolling = !type || streq (type, "RollingUpdate");
  *max_surge = 0;
  *max_unavailable = 1;
  if (!*rolling)
    return 0;
  json_t *ru = husk_json_path (s->ds, "spec.updateStrategy.rollingUpdate");
  json_t *ms = json_object_get (ru, "maxSurge"), *mu = json_object_get (ru, "maxUnavailable");
  int32_t n = desired (s);
  int ret = 0;
  if (ms && !json_is_null (ms))
    ret = ctrl_intstr_scaled (ms, n, true, max_surge, err);
  if (ret == 0 && mu && !json_is_null (mu))
    ret = ctrl_intstr_scaled (mu, n, true, max_unavailable, err);
  if (ret < 0)
    return husk_err_wrap (err, "daemonset %s/%s: spec.updateStrategy.rollingUpdate", s->ns,
                          s->name);
  if (*max_surge == 0 && *max_unavailable == 0)
    *max_unavailable = 1;
  return 0;
}

static int
sync_pass (ds_pass *s, json_t *mine, husk_error **err)
{
  int ret = assign_pods (s, mine, err);
  int32_t max_surge, max_unavailable;
  bool rolling;
  if (ret == 0)
    ret = strategy (s, &max_surge, &max_unavailable, &rolling, err);
  if (ret == 0)
    ret = manage (s, max_surge, err);
  /* The rolling step works on what manage left: run it on the next pass's fresh lists. */
  if (ret == 0 && rolling && s->actions == 0)
    ret = rolling_update (s, max_surge, max_unavailable, err);
  if (ret == 0)
    ret = update_status (s, err);
  return ret;
}

static int
sync_one (ctrl_ctx *c, json_t *ds, json_t *nodes, json_t *pods, json_t *revs, int64_t now,
          husk_error **err)
{
  ds_pass s = { .c = c, .ds = ds, .now = now };
  s.ns = husk_json_path_str (ds, "metadata.namespace");
  s.name = husk_json_path_str (ds, "metadata.name");
  s.min_ready = husk_json_path_int (ds, "spec.minReadySeconds", 0);
  if (!s.ns || !s.name || ctrl_terminating (ds))
    return 0;
  /* Listed revisions are shared and read-only; ctrl_revision_current renumbers its own. */
  _cleanup_json_ json_t *listed_revs = ctrl_revisions_of (ds, revs);
  _cleanup_json_ json_t *mine_revs = json_deep_copy (listed_revs);
  int ret = ctrl_revision_current (c, ds, "DaemonSet", mine_revs, &s.cur, err);
  if (ret < 0)
    return ret;
  s.n_nodes = json_array_size (nodes);
  s.nodes = xmalloc ((s.n_nodes + 1) * sizeof *s.nodes);
  json_t *spec = husk_json_path (ds, "spec.template.spec"), *node;
  size_t i;
  json_array_foreach (nodes, i, node)
  {
    ds_node *d = &s.nodes[i];
    memset (d, 0, sizeof *d);
    d->name = husk_json_path_str (node, "metadata.name");
    if (d->name == NULL)
      d->name = "";
    ctrl_ds_node_should_run (spec, node, &d->run, &d->cont);
  }
  _cleanup_json_ json_t *mine = ctrl_owned_pods (ds, pods);
  ret = sync_pass (&s, mine, err);
  if (ret == 0)
    ctrl_revision_prune (c, ds, mine_revs, revision_live, &s);
  free (s.nodes);
  ctrl_revision_clear (&s.cur);
  return ret;
}

int
ctrl_daemonset_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *dss = NULL, *nodes = NULL, *pods = NULL, *revs = NULL;
  int ret = ctrl_list (c, "/apis/apps/v1/daemonsets", &dss, err);
  if (ret < 0 || json_array_size (dss) == 0)
    return ret;
  ret = ctrl_list (c, "/api/v1/nodes", &nodes, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/apps/v1/controllerrevisions", &revs, err);
  if (ret < 0)
    return ret;
  int64_t now = time (NULL);
  json_t *ds;
  size_t i;
  json_array_foreach (dss, i, ds)
  {
    _cleanup_error_ husk_error *e = NULL;
    _cleanup_json_ json_t *copy = json_deep_copy (ds); /* ds is shared, read-only */
    if (sync_one (c, copy, nodes, pods, revs, now, &e) < 0)
      log_warn ("daemonset sync", "error", e->msg);
  }
  return 0;
}
