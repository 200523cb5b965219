/* husk controllers: ReplicaSet. Keeps spec.replicas active pods owned by each ReplicaSet
   (creating from the template, deleting in upstream's ranking order) and reports the counts
   in status. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

/* At most this many pods created or deleted per ReplicaSet per pass (upstream's burst). */
#define RS_BURST 500

static int
create_pod (ctrl_ctx *c, const json_t *rs, husk_error **err)
{
  _cleanup_json_ json_t *meta = ctrl_pod_meta (rs, "apps/v1", "ReplicaSet");
  return ctrl_create_pod (c, rs, meta, err);
}

static int
delete_pod (ctrl_ctx *c, const json_t *pod, husk_error **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/namespaces/%s/pods/%s", husk_json_path_str (pod, "metadata.namespace"),
                   husk_json_path_str (pod, "metadata.name"));
  long st = 0;
  int ret = ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &st, err);
  if (ret < 0 && st == 404)
    {
      husk_error_free (*err);
      *err = NULL;
      return 0;
    }
  return ret;
}

static int
update_status (ctrl_ctx *c, const json_t *rs, json_int_t replicas, json_int_t labeled, json_int_t ready,
               json_int_t available, husk_error **err)
{
  json_t *old = json_object_get (rs, "status");
  json_int_t gen = husk_json_path_int (rs, "metadata.generation", 0);
  _cleanup_json_ json_t *st = json_pack ("{s:I, s:I, s:I, s:I, s:I}", "replicas", replicas,
                                         "fullyLabeledReplicas", labeled, "readyReplicas", ready,
                                         "availableReplicas", available, "observedGeneration", gen);
  if (old && husk_json_path_int (old, "replicas", 0) == replicas
      && husk_json_path_int (old, "fullyLabeledReplicas", 0) == labeled
      && husk_json_path_int (old, "readyReplicas", 0) == ready
      && husk_json_path_int (old, "availableReplicas", 0) == available
      && husk_json_path_int (old, "observedGeneration", -1) == gen)
    return 0;
  _cleanup_json_ json_t *copy = json_deep_copy (rs); /* rs is shared, read-only */
  json_object_set (copy, "status", st);
  return ctrl_put (c, "/apis/apps/v1", "replicasets", copy, "/status", err);
}

static int
sync_one (ctrl_ctx *c, json_t *rs, json_t *pods, int64_t now, husk_error **err)
{
  const char *uid = husk_json_path_str (rs, "metadata.uid");
  const char *ns = husk_json_path_str (rs, "metadata.namespace");
  if (uid == NULL || ns == NULL)
    return 0;
  json_int_t want = husk_json_path_int (rs, "spec.replicas", 1);
  json_int_t min_ready = husk_json_path_int (rs, "spec.minReadySeconds", 0);
  size_t n = 0, cap = json_array_size (pods);
  _cleanup_free_ json_t **mine = xmalloc ((cap + 1) * sizeof *mine);
  json_int_t labeled = 0, ready = 0, available = 0;
  _cleanup_json_ json_t *tlabels
      = json_deep_copy (husk_json_path (rs, "spec.template.metadata.labels"));
  json_t *p;
  size_t i;
  json_array_foreach (pods, i, p)
  {
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    const char *owner = ctrl_controller_uid (p);
    if (!pns || !streq (pns, ns) || !owner || !streq (owner, uid) || !ctrl_pod_active (p))
      continue;
    mine[n++] = p;
    ready += ctrl_pod_ready (p);
    available += ctrl_pod_available (p, min_ready, now);
    json_t *pl = husk_json_path (p, "metadata.labels");
    bool all = true;
    const char *k;
    json_t *v;
    json_object_foreach (tlabels, k, v) if (!json_equal (json_object_get (pl, k), v)) all = false;
    labeled += all;
  }
  int ret;
  if (!ctrl_terminating (rs) && (json_int_t)n < want)
    {
      json_int_t add = want - (json_int_t)n;
      if (add > RS_BURST)
        add = RS_BURST;
      for (json_int_t j = 0; j < add; j++)
        {
          ret = create_pod (c, rs, err);
          if (ret < 0)
            return husk_err_wrap (err, "replicaset %s/%s: create pod", ns,
                                  husk_json_path_str (rs, "metadata.name"));
          n++;
          labeled++;
        }
    }
  else if ((json_int_t)n > want)
    {
      ctrl_rank_pods_for_deletion (mine, n, now);
      json_int_t del = (json_int_t)n - want;
      if (del > RS_BURST)
        del = RS_BURST;
      for (json_int_t j = 0; j < del; j++)
        {
          ret = delete_pod (c, mine[j], err);
          if (ret < 0)
            return husk_err_wrap (err, "replicaset %s/%s: delete pod", ns,
                                  husk_json_path_str (rs, "metadata.name"));
        }
      /* The status reports what remains, so that the Deployment controller never counts
         deleted pods as available. */
      for (json_int_t j = 0; j < del; j++)
        {
          ready -= ctrl_pod_ready (mine[j]);
          available -= ctrl_pod_available (mine[j], min_ready, now);
          labeled -= labeled > 0;
        }
      n -= (size_t)del;
    }
  return update_status (c, rs, (json_int_t)n, labeled, ready, available, err);
}

int
ctrl_replicaset_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *rss = NULL, *pods = NULL;
  int ret = ctrl_list (c, "/apis/apps/v1/replicasets", &rss, err);
  if (ret < 0)
    return ret;
  ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret < 0)
    return ret;
  int64_t now = time (NULL);
  json_t *rs;
  size_t i;
  json_array_foreach (rss, i, rs)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_one (c, rs, pods, now, &e) < 0)
      log_warn ("replicaset sync", "error", e->msg);
  }
  return 0;
}
