/* husk controllers: StatefulSet. Pods named <set>-<ordinal> with a stable hostname and the
   set's serviceName as subdomain, each with its PersistentVolumeClaims
   <template>-<set>-<ordinal> made from volumeClaimTemplates; their ownerReferences follow
   spec.persistentVolumeClaimRetentionPolicy as upstream's (StatefulSetAutoDeletePVC): a
   controller reference to the set (whenDeleted Delete) or, for a pod being scaled away, to
   the pod (whenScaled Delete), so that the garbage collector deletes them with their owner;
   Retain (the default) leaves them unowned. OrderedReady creates in ordinal order, each pod
   waiting for the previous one to be Running and Ready, and removes in reverse order;
   Parallel does both at once. Templates are ControllerRevisions (revision.c); a
   RollingUpdate replaces pods from the highest ordinal down to spec...partition, one at a
   time, each once the previous is Ready; OnDelete leaves it to the user. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"

#define REV_LABEL   "controller-revision-hash"
#define NAME_LABEL  "statefulset.kubernetes.io/pod-name"
#define INDEX_LABEL "apps.kubernetes.io/pod-index"

typedef struct sts_pass
{
  ctrl_ctx *c;
  json_t *set;
  const char *ns, *name;
  json_t *revs;               /* the set's ControllerRevisions */
  ctrl_revision update;       /* the current template's revision */
  const char *current;        /* status.currentRevision (or update.name) */
  json_int_t replicas, start; /* spec.replicas, spec.ordinals.start */
  bool parallel;
  int64_t now;
  json_int_t min_ready;
} sts_pass;

static bool
running_ready (const json_t *pod)
{
  const char *phase = husk_json_path_str (pod, "status.phase");
  return phase && streq (phase, "Running") && ctrl_pod_ready (pod) && !ctrl_terminating (pod);
}

/* The ordinal of a pod named <set>-<n>, or -1. */
static json_int_t
ordinal_of (sts_pass *s, const json_t *pod)
{
  const char *n = husk_json_path_str (pod, "metadata.name");
  size_t l = strlen (s->name);
  if (!n || strncmp (n, s->name, l) != 0 || n[l] != '-' || n[l + 1] == '\0')
    return -1;
  char *end;
  long long v = strtoll (n + l + 1, &end, 10);
  return *end || v < 0 ? -1 : v;
}

static const char *
revision_of (const json_t *pod)
{
  return ctrl_label (pod, REV_LABEL);
}

/* ---- persistentVolumeClaimRetentionPolicy ---- */

static bool
policy_is_delete (const json_t *set, const char *when)
{
  json_t *p = husk_json_path (set, "spec.persistentVolumeClaimRetentionPolicy");
  const char *v = json_string_value (json_object_get (p, when));
  return v && streq (v, "Delete");
}

static bool
ref_is (const json_t *ref, const char *api_version, const char *kind, const char *name)
{
  const char *a = json_string_value (json_object_get (ref, "apiVersion"));
  const char *k = json_string_value (json_object_get (ref, "kind"));
  const char *n = json_string_value (json_object_get (ref, "name"));
  return a && k && n && streq (a, api_version) && streq (k, kind) && streq (n, name);
}

static const char *
ref_uid (const json_t *ref)
{
  return json_string_value (json_object_get (ref, "uid")) ?: "";
}

/* The ownerReferences a claim of pod pod_name (uid pod_uid, NULL before it exists) should
   have, as upstream's updateClaimOwnerRefForSetAndPod: the refs to the set and the pod are
   scrubbed, then a controller ref to the set is added when whenDeleted is Delete (unless
   whenScaled is Delete and the pod is scaled down), and one to the pod when whenScaled is
   Delete and it is scaled down; none when another object controls the claim. Returns NULL
   when the refs are already right, or when a ref names the set or the pod with another uid
   (a stale ref, upstream's hasStaleOwnerRef: such a claim is not touched). */
static json_t *
claim_refs_wanted (sts_pass *s, const json_t *claim, const char *pod_name, const char *pod_uid,
                   bool scaled_down)
{
  const char *set_uid = husk_json_path_str (s->set, "metadata.uid") ?: "";
  json_t *refs = husk_json_path (claim, "metadata.ownerReferences"), *r;
  _cleanup_json_ json_t *out = json_array ();
  bool foreign_controller = false;
  size_t i;
  json_array_foreach (refs, i, r)
  {
    bool set_ref = ref_is (r, "apps/v1", "StatefulSet", s->name);
    bool pod_ref = ref_is (r, "v1", "Pod", pod_name);
    if ((set_ref && !streq (ref_uid (r), set_uid))
        || (pod_ref && (!pod_uid || !streq (ref_uid (r), pod_uid))))
      return NULL;
    if (set_ref || pod_ref)
      continue;
    if (json_is_true (json_object_get (r, "controller")))
      foreign_controller = true;
    json_array_append (out, r);
  }
  bool scaled_delete = policy_is_delete (s->set, "whenScaled");
  bool want_pod = scaled_delete && scaled_down && pod_uid;
  bool want_set = policy_is_delete (s->set, "whenDeleted") && !(scaled_delete && scaled_down);
  if (!foreign_controller && want_set)
    json_array_append_new (out, ctrl_owner_ref ("apps/v1", "StatefulSet", s->set));
  if (!foreign_controller && want_pod)
    json_array_append_new (out, json_pack ("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", "v1",
                                           "kind", "Pod", "name", pod_name, "uid", pod_uid,
                                           "controller", 1, "blockOwnerDeletion", 1));
  size_t have = json_array_size (refs);
  if (json_array_size (out) == have && (have == 0 || json_equal (out, refs)))
    return NULL;
  return TAKE_PTR (out);
}

/* The claim named name in the set's namespace, or NULL. */
static json_t *
claim_named (sts_pass *s, json_t *pvcs, const char *name)
{
  json_t *p;
  size_t j;
  json_array_foreach (pvcs, j, p)
  {
    const char *pn = husk_json_path_str (p, "metadata.name");
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    if (pn && pns && streq (pn, name) && streq (pns, s->ns))
      return p;
  }
  return NULL;
}

/* Brings the ownerReferences of pod's existing claims in line with the retention policy
   (upstream's UpdatePodClaimForRetentionPolicy); scaled_down: the pod's ordinal is out of
   range. Claims are written from copies (the listed ones are shared). */
static int
fix_claim_owners (sts_pass *s, const json_t *pod, json_t *pvcs, bool scaled_down, husk_error **err)
{
  const char *pod_name = husk_json_path_str (pod, "metadata.name");
  const char *pod_uid = husk_json_path_str (pod, "metadata.uid");
  json_t *t;
  size_t i;
  json_array_foreach (husk_json_path (s->set, "spec.volumeClaimTemplates"), i, t)
  {
    const char *tn = husk_json_path_str (t, "metadata.name");
    if (!tn || !pod_name)
      continue;
    _cleanup_free_ char *name = xasprintf ("%s-%s", tn, pod_name);
    json_t *claim = claim_named (s, pvcs, name);
    if (!claim || ctrl_terminating (claim))
      continue;
    _cleanup_json_ json_t *refs = claim_refs_wanted (s, claim, pod_name, pod_uid, scaled_down);
    if (!refs)
      continue;
    _cleanup_json_ json_t *copy = json_deep_copy (claim);
    json_object_set (json_object_get (copy, "metadata"), "ownerReferences", refs);
    int ret = ctrl_put (s->c, "/api/v1", "persistentvolumeclaims", copy, "", err);
    if (ret < 0)
      return husk_err_wrap (err, "statefulset %s/%s: claim %s: set its owners", s->ns, s->name,
                            name);
  }
  return 0;
}

/* Upstream's PodClaimIsStale: with whenScaled Delete, a claim of a pod not yet created
   that still names a former pod of that name as owner is on its way out (the garbage
   collector deletes it); the pod waits rather than reuse it. */
static bool
claims_stale (sts_pass *s, const char *pod_name, json_t *pvcs)
{
  if (!policy_is_delete (s->set, "whenScaled"))
    return false;
  json_t *t;
  size_t i;
  json_array_foreach (husk_json_path (s->set, "spec.volumeClaimTemplates"), i, t)
  {
    const char *tn = husk_json_path_str (t, "metadata.name");
    if (!tn)
      continue;
    _cleanup_free_ char *name = xasprintf ("%s-%s", tn, pod_name);
    json_t *claim = claim_named (s, pvcs, name), *r;
    size_t j;
    json_array_foreach (husk_json_path (claim, "metadata.ownerReferences"), j, r)
        if (ref_is (r, "v1", "Pod", pod_name)) return true;
  }
  return false;
}

static int
ensure_claims (sts_pass *s, const char *pod_name, json_t *pvcs, husk_error **err)
{
  json_t *t;
  size_t i;
  json_array_foreach (husk_json_path (s->set, "spec.volumeClaimTemplates"), i, t)
  {
    const char *tn = husk_json_path_str (t, "metadata.name");
    if (!tn)
      continue;
    _cleanup_free_ char *claim = xasprintf ("%s-%s", tn, pod_name);
    if (claim_named (s, pvcs, claim))
      continue;
    json_t *ml = husk_json_path (s->set, "spec.selector.matchLabels");
    _cleanup_json_ json_t *pvc = json_pack (
        "{s:s, s:s, s:{s:s, s:s, s:o}, s:O}", "apiVersion", "v1", "kind",
        "PersistentVolumeClaim", "metadata", "name", claim, "namespace", s->ns, "labels",
        json_is_object (ml) ? json_deep_copy (ml) : json_object (), "spec",
        json_object_get (t, "spec"));
    json_t *tl = husk_json_path (t, "metadata.labels");
    if (json_is_object (tl))
      json_object_update (husk_json_path (pvc, "metadata.labels"), tl);
    json_t *refs = claim_refs_wanted (s, pvc, pod_name, NULL, false);
    if (refs)
      json_object_set_new (json_object_get (pvc, "metadata"), "ownerReferences", refs);
    _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/persistentvolumeclaims", s->ns);
    long code = 0;
    int ret = ctrl_write (s->c, "POST", path, NULL, pvc, NULL, &code, err);
    if (ret < 0 && code != 409)
      return husk_err_wrap (err, "statefulset %s/%s: create claim %s", s->ns, s->name, claim);
    if (ret < 0)
      {
        husk_error_free (*err);
        *err = NULL;
      }
  }
  return 0;
}

/* The pod spec of a revision's template with the claims' volumes, hostname, subdomain. */
static json_t *
pod_spec (sts_pass *s, const json_t *tmpl, const char *pod_name)
{
  json_t *spec = json_deep_copy (json_object_get (tmpl, "spec"));
  if (!json_is_object (spec))
    spec = json_object ();
  json_object_set_new (spec, "hostname", json_string (pod_name));
  const char *svc = husk_json_path_str (s->set, "spec.serviceName");
  if (svc && *svc)
    json_object_set_new (spec, "subdomain", json_string (svc));
  json_t *vols = json_object_get (spec, "volumes");
  if (!json_is_array (vols))
    json_object_set_new (spec, "volumes", vols = json_array ());
  json_t *t;
  size_t i;
  json_array_foreach (husk_json_path (s->set, "spec.volumeClaimTemplates"), i, t)
  {
    const char *tn = husk_json_path_str (t, "metadata.name");
    if (!tn)
      continue;
    for (size_t j = json_array_size (vols); j-- > 0;)
      {
        const char *vn = json_string_value (json_object_get (json_array_get (vols, j), "name"));
        if (vn && streq (vn, tn))
          json_array_remove (vols, j);
      }
    _cleanup_free_ char *claim = xasprintf ("%s-%s", tn, pod_name);
    json_array_append_new (vols, json_pack ("{s:s, s:{s:s}}", "name", tn,
                                            "persistentVolumeClaim", "claimName", claim));
  }
  return spec;
}

/* The revision a new pod of ordinal gets: below the partition, the current one. */
static const char *
revision_for (sts_pass *s, json_int_t ordinal)
{
  const char *type = husk_json_path_str (s->set, "spec.updateStrategy.type");
  json_int_t partition
      = husk_json_path_int (s->set, "spec.updateStrategy.rollingUpdate.partition", 0);
  if ((!type || streq (type, "RollingUpdate")) && ordinal < partition
      && ctrl_revision_named (s->revs, s->current))
    return s->current;
  return s->update.name;
}

static int
create_pod (sts_pass *s, json_int_t ordinal, json_t *pvcs, husk_error **err)
{
  _cleanup_free_ char *pname = xasprintf ("%s-%lld", s->name, (long long)ordinal);
  int ret = ensure_claims (s, pname, pvcs, err);
  if (ret < 0)
    return ret;
  const char *rev = revision_for (s, ordinal);
  json_t *r = ctrl_revision_named (s->revs, rev);
  json_t *tmpl = r ? husk_json_path (r, "data.spec.template")
                   : husk_json_path (s->set, "spec.template");
  _cleanup_json_ json_t *owner = json_deep_copy (s->set);
  json_object_set (json_object_get (owner, "spec"), "template", tmpl);
  json_object_del (json_object_get (json_object_get (owner, "spec"), "template"), "$patch");
  _cleanup_json_ json_t *meta = ctrl_pod_meta (owner, "apps/v1", "StatefulSet");
  json_object_del (meta, "generateName");
  json_object_set_new (meta, "name", json_string (pname));
  char idx[32];
  snprintf (idx, sizeof idx, "%lld", (long long)ordinal);
  ctrl_set_label (meta, REV_LABEL, rev);
  ctrl_set_label (meta, NAME_LABEL, pname);
  ctrl_set_label (meta, INDEX_LABEL, idx);
  _cleanup_json_ json_t *spec = pod_spec (s, tmpl, pname);
  ret = ctrl_post_pod (s->c, s->ns, meta, spec, err);
  if (ret < 0)
    return husk_err_wrap (err, "statefulset %s/%s: create pod %s", s->ns, s->name, pname);
  return 0;
}

static int
delete_pod (sts_pass *s, const json_t *pod, husk_error **err)
{
  int ret = ctrl_delete_pod (s->c, pod, err);
  if (ret < 0)
    return husk_err_wrap (err, "statefulset %s/%s: delete pod %s", s->ns, s->name,
                          husk_json_path_str (pod, "metadata.name"));
  return 0;
}

/* upstream updateStatefulSet's replica loop: create missing pods, replace failed ones, and
   (OrderedReady) stop at the first pod that is not Running and Ready. *blocked tells the
   caller to go no further this pass. */
static int
scale_up (sts_pass *s, json_t **by_ord, json_t *pvcs, bool *blocked, husk_error **err)
{
  *blocked = false;
  for (json_int_t i = 0; i < s->replicas; i++)
    {
      json_t *p = by_ord[i];
      int ret = 0;
      _cleanup_free_ char *pname = xasprintf ("%s-%lld", s->name, (long long)(s->start + i));
      if (p == NULL && claims_stale (s, pname, pvcs))
        ret = 0; /* wait for the collector */
      else if (p == NULL)
        ret = create_pod (s, s->start + i, pvcs, err);
      else if (!ctrl_terminating (p) && !ctrl_pod_active (p))
        ret = delete_pod (s, p, err); /* Failed or Succeeded: recreated next pass */
      else if (!ctrl_terminating (p) && (ret = fix_claim_owners (s, p, pvcs, false, err)) < 0)
        return ret;
      else if (running_ready (p))
        continue;
      if (ret < 0)
        return ret;
      if (!s->parallel)
        {
          *blocked = true;
          return 0;
        }
    }
  return 0;
}

/* Pods at ordinals >= replicas go, highest first (OrderedReady: one at a time, each once the
   one above is gone). */
static int
scale_down (sts_pass *s, json_t **condemned, size_t n, json_t *pvcs, bool *blocked,
            husk_error **err)
{
  /* Upstream fixes the claims of every condemned pod first (whenScaled Delete: a ref to the
     pod, so that they go with it). */
  for (size_t i = 0; i < n; i++)
    if (!ctrl_terminating (condemned[i]))
      {
        int ret = fix_claim_owners (s, condemned[i], pvcs, true, err);
        if (ret < 0)
          return ret;
      }
  for (size_t i = 0; i < n; i++)
    {
      if (ctrl_terminating (condemned[i]))
        {
          if (!s->parallel)
            {
              *blocked = true;
              return 0;
            }
          continue;
        }
      int ret = delete_pod (s, condemned[i], err);
      if (ret < 0)
        return ret;
      if (!s->parallel)
        {
          *blocked = true;
          return 0;
        }
    }
  return 0;
}

/* RollingUpdate: the highest ordinal >= partition not at the update revision is deleted (and
   recreated at it by the next pass), once every pod above it is Running and Ready. */
static int
rolling_update (sts_pass *s, json_t **by_ord, husk_error **err)
{
  const char *type = husk_json_path_str (s->set, "spec.updateStrategy.type");
  if (type && !streq (type, "RollingUpdate"))
    return 0;
  json_int_t partition
      = husk_json_path_int (s->set, "spec.updateStrategy.rollingUpdate.partition", 0);
  for (json_int_t i = s->replicas - 1; i >= 0 && s->start + i >= partition; i--)
    {
      json_t *p = by_ord[i];
      if (p == NULL || !running_ready (p))
        return 0; /* wait for it */
      const char *rev = revision_of (p);
      if (rev && streq (rev, s->update.name))
        continue;
      return delete_pod (s, p, err);
    }
  return 0;
}

static int
update_status (sts_pass *s, json_t *mine, husk_error **err)
{
  json_int_t replicas = 0, ready = 0, avail = 0, current = 0, updated = 0;
  json_t *p;
  size_t i;
  json_array_foreach (mine, i, p)
  {
    replicas++;
    if (running_ready (p))
      {
        ready++;
        avail += ctrl_pod_available (p, s->min_ready, s->now);
      }
    const char *rev = revision_of (p);
    if (ctrl_terminating (p) || !rev)
      continue;
    current += streq (rev, s->current);
    updated += streq (rev, s->update.name);
  }
  const char *cur = s->current;
  const char *type = husk_json_path_str (s->set, "spec.updateStrategy.type");
  if ((!type || streq (type, "RollingUpdate")) && updated == replicas && ready == replicas)
    {
      cur = s->update.name; /* upstream completeRollingUpdate */
      current = updated;
    }
  json_t *old = json_object_get (s->set, "status");
  _cleanup_json_ json_t *st = json_pack (
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}", "observedGeneration",
      husk_json_path_int (s->set, "metadata.generation", 1), "replicas", replicas,
      "readyReplicas", ready, "availableReplicas", avail, "currentReplicas", current,
      "updatedReplicas", updated, "currentRevision", cur, "updateRevision", s->update.name,
      "collisionCount", husk_json_path_int (s->set, "status.collisionCount", 0));
  if (json_equal (st, old))
    return 0;
  _cleanup_json_ json_t *set = json_deep_copy (s->set); /* the listed set is shared */
  json_object_set (set, "status", st);
  return ctrl_put (s->c, "/apis/apps/v1", "statefulsets", set, "/status", err);
}

typedef struct ord_pod
{
  json_int_t ord;
  json_t *pod;
} ord_pod;

static int
by_ordinal_desc (const void *a, const void *b)
{
  json_int_t x = ((const ord_pod *)a)->ord, y = ((const ord_pod *)b)->ord;
  return x < y ? 1 : x > y ? -1 : 0;
}

static int
sync_pass (sts_pass *s, json_t *mine, json_t *pvcs, husk_error **err)
{
  size_t n = json_array_size (mine);
  _cleanup_free_ json_t **by_ord = calloc ((size_t)s->replicas + 1, sizeof *by_ord);
  _cleanup_free_ json_t **condemned = xmalloc ((n + 1) * sizeof *condemned);
  _cleanup_free_ ord_pod *sorted = xmalloc ((n + 1) * sizeof *sorted);
  size_t n_cond = 0;
  json_t *p;
  size_t i;
  json_array_foreach (mine, i, p)
  {
    json_int_t o = ordinal_of (s, p);
    if (o >= s->start && o < s->start + s->replicas && by_ord[o - s->start] == NULL)
      by_ord[o - s->start] = p;
    else
      sorted[n_cond++] = (ord_pod){ o, p };
  }
  qsort (sorted, n_cond, sizeof *sorted, by_ordinal_desc);
  for (size_t j = 0; j < n_cond; j++)
    condemned[j] = sorted[j].pod;
  bool blocked = false;
  int ret = scale_up (s, by_ord, pvcs, &blocked, err);
  if (ret == 0 && !blocked)
    ret = scale_down (s, condemned, n_cond, pvcs, &blocked, err);
  if (ret == 0 && !blocked && n_cond == 0)
    ret = rolling_update (s, by_ord, err);
  if (ret == 0)
    ret = update_status (s, mine, err);
  return ret;
}

static int
sync_one (ctrl_ctx *c, json_t *set, json_t *pods, json_t *revs, json_t *pvcs, int64_t now,
          husk_error **err)
{
  sts_pass s = { .c = c, .set = set, .now = now };
  s.ns = husk_json_path_str (set, "metadata.namespace");
  s.name = husk_json_path_str (set, "metadata.name");
  if (!s.ns || !s.name || ctrl_terminating (set))
    return 0;
  s.replicas = husk_json_path_int (set, "spec.replicas", 1);
  s.start = husk_json_path_int (set, "spec.ordinals.start", 0);
  if (s.replicas < 0 || s.start < 0)
    return husk_err (err, EINVAL, "statefulset %s/%s: negative replicas or ordinals.start",
                     s.ns, s.name);
  const char *pmp = husk_json_path_str (set, "spec.podManagementPolicy");
  s.parallel = pmp && streq (pmp, "Parallel");
  s.min_ready = husk_json_path_int (set, "spec.minReadySeconds", 0);
  _cleanup_json_ json_t *mine_revs = ctrl_revisions_of (set, revs);
  s.revs = mine_revs;
  int ret = ctrl_revision_current (c, set, "StatefulSet", mine_revs, &s.update, err);
  if (ret < 0)
    return ret;
  s.current = husk_json_path_str (set, "status.currentRevision");
  if (!s.current || !ctrl_revision_named (mine_revs, s.current))
    s.current = s.update.name;
  _cleanup_json_ json_t *mine = ctrl_owned_pods (set, pods);
  ret = sync_pass (&s, mine, pvcs, err);
  ctrl_revision_clear (&s.update);
  return ret;
}

int
ctrl_statefulset_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *sets = NULL, *pods = NULL, *revs = NULL, *pvcs = NULL;
  int ret = ctrl_list (c, "/apis/apps/v1/statefulsets", &sets, err);
  if (ret < 0 || json_array_size (sets) == 0)
    return ret;
  ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/apps/v1/controllerrevisions", &revs, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/persistentvolumeclaims", &pvcs, err);
  if (ret < 0)
    return ret;
  int64_t now = time (NULL);
  json_t *set;
  size_t i;
  json_array_foreach (sets, i, set)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_one (c, set, pods, revs, pvcs, now, &e) < 0)
      log_warn ("statefulset sync", "error", e->msg);
  }
  return 0;
}
