/* husk controllers: node lifecycle. A node whose Lease (kube-node-lease/<node>) has not been
   seen renewed for the grace period gets its kubelet conditions set to Unknown
   (NodeStatusUnknown) and the taints node.kubernetes.io/unreachable NoSchedule and
   NoExecute; a node reporting Ready=False gets node.kubernetes.io/not-ready. Pods on a node
   with NoExecute taints are deleted once their tolerations run out (taints.c); their
   controllers make new ones elsewhere. The taints go when the node is Ready again.
   Renewals are timed on this master's monotonic clock when observed (as upstream does), so
   the nodes' clocks do not matter, and a freshly started master gives every node a full
   grace period. Nodes without a Lease (registered by hand) are not timed. */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/cluster-logic.h"
#include "src/master/ctrl/cluster.h"

static int grace_seconds = 40;

void
ctrl_nodelifecycle_set_grace (int seconds)
{
  grace_seconds = seconds > 0 ? seconds : 40;
}

/* The last renewTime seen per node and when (monotonic seconds). The controller's thread
   is the only user. */
typedef struct
{
  char *node;
  char *renew;
  double seen;
} lease_seen;
static lease_seen *seen;
static size_t n_seen;

static double
mono_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds since node's lease was last seen renewed; -1 without a lease. */
static double
lease_age (const char *node, const json_t *lease, double now)
{
  if (!lease)
    return -1;
  const char *renew = husk_json_path_str (lease, "spec.renewTime");
  if (!renew)
    renew = "";
  for (size_t i = 0; i < n_seen; i++)
    if (streq (seen[i].node, node))
      {
        if (!streq (seen[i].renew, renew))
          {
            free (seen[i].renew);
            seen[i].renew = xstrdup (renew);
            seen[i].seen = now;
          }
        return now - seen[i].seen;
      }
  seen = xreallocarray (seen, n_seen + 1, sizeof *seen);
  seen[n_seen++] = (lease_seen){ xstrdup (node), xstrdup (renew), now };
  return 0;
}

static json_t *
find_named (json_t *items, const char *name)
{
  size_t i;
  json_t *o;
  json_array_foreach (items, i, o)
  {
    const char *n = husk_json_path_str (o, "metadata.name");
    if (n && streq (n, name))
      return o;
  }
  return NULL;
}

static json_t *
condition (const json_t *node, const char *type)
{
  size_t i;
  json_t *cd;
  json_array_foreach (husk_json_path (node, "status.conditions"), i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    if (t && streq (t, type))
      return cd;
  }
  return NULL;
}

/* Sets the kubelet's conditions to Unknown. Returns true when something changed. */
static bool
mark_unknown (json_t *node, const char *now)
{
  static const char *const types[] = { "Ready", "MemoryPressure", "DiskPressure", "PIDPressure" };
  json_t *st = json_object_get (node, "status");
  if (!json_is_object (st))
    {
      st = json_object ();
      json_object_set_new (node, "status", st);
    }
  json_t *conds = json_object_get (st, "conditions");
  if (!json_is_array (conds))
    {
      conds = json_array ();
      json_object_set_new (st, "conditions", conds);
    }
  bool changed = false;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    {
      json_t *cd = condition (node, types[i]);
      const char *s = json_string_value (json_object_get (cd, "status"));
      if (s && streq (s, "Unknown"))
        continue;
      if (!cd && i > 0)
        continue;
      if (!cd)
        {
          cd = json_pack ("{s:s, s:s}", "type", types[i], "lastHeartbeatTime", now);
          json_array_append_new (conds, cd);
        }
      json_object_set_new (cd, "status", json_string ("Unknown"));
      json_object_set_new (cd, "reason", json_string ("NodeStatusUnknown"));
      json_object_set_new (cd, "message", json_string ("Kubelet stopped posting node status."));
      json_object_set_new (cd, "lastTransitionTime", json_string (now));
      changed = true;
    }
  return changed;
}

static bool
is_lifecycle_taint (const json_t *t)
{
  const char *k = json_string_value (json_object_get (t, "key"));
  return k && (streq (k, TAINT_NOT_READY) || streq (k, TAINT_UNREACHABLE));
}

/* The node's taints with the lifecycle taints for key (NULL: none) in place of the old
   ones; existing ones keep their timeAdded. */
static json_t *
desired_taints (const json_t *node, const char *key, const char *now)
{
  json_t *old = husk_json_path (node, "spec.taints"), *out = json_array (), *t;
  size_t i;
  json_array_foreach (old, i, t)
  {
    const char *k = json_string_value (json_object_get (t, "key"));
    if (!is_lifecycle_taint (t) || (key && streq (k, key)))
      json_array_append (out, t);
  }
  if (!key)
    return out;
  static const char *const effects[] = { "NoSchedule", "NoExecute" };
  for (size_t e = 0; e < 2; e++)
    {
      bool have = false;
      json_array_foreach (out, i, t)
      {
        const char *k = json_string_value (json_object_get (t, "key"));
        const char *ef = json_string_value (json_object_get (t, "effect"));
        if (k && ef && streq (k, key) && streq (ef, effects[e]))
          have = true;
      }
      if (have)
        continue;
      json_t *nt = json_pack ("{s:s, s:s}", "key", key, "effect", effects[e]);
      if (e == 1)
        json_object_set_new (nt, "timeAdded", json_string (now));
      json_array_append_new (out, nt);
    }
  return out;
}

/* PUTs node's status; node takes the stored resourceVersion so that a spec write can
   follow. */
static int
put_status (ctrl_ctx *c, json_t *node, husk_error **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/nodes/%s/status", husk_json_path_str (node, "metadata.name"));
  _cleanup_json_ json_t *out = NULL;
  long code = 0;
  int ret = ctrl_write (c, "PUT", path, NULL, node, &out, &code, err);
  json_t *rv = husk_json_path (out, "metadata.resourceVersion");
  if (ret == 0 && rv)
    json_object_set (json_object_get (node, "metadata"), "resourceVersion", rv);
  return ctrl_tolerate_stale (ret, code, err);
}

/* Replaces the node's taints, with optimistic concurrency: a taint someone else added
   meanwhile is never lost (409: the next pass starts again from a fresh list). */
static int
put_taints (ctrl_ctx *c, json_t *node, json_t *taints, husk_error **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/nodes/%s", husk_json_path_str (node, "metadata.name"));
  json_t *spec = json_object_get (node, "spec");
  if (!json_is_object (spec))
    {
      spec = json_object ();
      json_object_set_new (node, "spec", spec);
    }
  json_object_set (spec, "taints", taints);
  long code = 0;
  int ret = ctrl_write (c, "PUT", path, NULL, node, NULL, &code, err);
  return ctrl_tolerate_stale (ret, code, err);
}

/* Brings one node's conditions and taints up to date; *noexec gets its NoExecute taints
   (a new array, possibly empty). */
static int
sync_node (ctrl_ctx *c, json_t *node, json_t *leases, double mono, const char *now, json_t **noexec,
           husk_error **err)
{
  const char *name = husk_json_path_str (node, "metadata.name");
  json_t *lease = find_named (leases, name);
  double age = lease_age (name, lease, mono);
  int64_t dur = husk_json_path_int (lease, "spec.leaseDurationSeconds", 0);
  double grace = dur > grace_seconds ? (double)dur : (double)grace_seconds;
  int ret = 0;
  if (age > grace && mark_unknown (node, now))
    {
      log_info ("node stopped renewing its lease", "node", name);
      ret = put_status (c, node, err);
      if (ret < 0)
        return ret;
    }
  const char *ready = husk_json_path_str (condition (node, "Ready"), "status");
  const char *key = NULL;
  if (age > grace || (ready && streq (ready, "Unknown")))
    key = TAINT_UNREACHABLE;
  else if (ready && streq (ready, "False"))
    key = TAINT_NOT_READY;
  _cleanup_json_ json_t *want = desired_taints (node, key, now);
  json_t *have = husk_json_path (node, "spec.taints");
  if (!json_equal (want, have) && !(json_array_size (want) == 0 && !have))
    {
      ret = put_taints (c, node, want, err);
      if (ret < 0)
        return ret;
    }
  json_t *ne = json_array (), *t;
  size_t i;
  json_array_foreach (want, i, t)
  {
    const char *ef = json_string_value (json_object_get (t, "effect"));
    if (ef && streq (ef, "NoExecute"))
      json_array_append (ne, t);
  }
  *noexec = ne;
  return 0;
}

/* pod's Ready condition when it is True, or NULL. */
static json_t *
ready_true (const json_t *pod)
{
  size_t i;
  json_t *cd;
  json_array_foreach (husk_json_path (pod, "status.conditions"), i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    const char *st = json_string_value (json_object_get (cd, "status"));
    if (t && streq (t, "Ready") && st && streq (st, "True"))
      return cd;
  }
  return NULL;
}

/* Upstream's MarkPodsNotReady: a pod on an unreachable node is not Ready any more, so that
   Endpoints stop sending it traffic long before its eviction. The listed pod is a shared
   projection: the write starts from a fresh GET. */
static void
mark_not_ready (ctrl_ctx *c, const json_t *listed, const char *now)
{
  if (ready_true (listed) == NULL)
    return;
  const char *name = husk_json_path_str (listed, "metadata.name");
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s",
                                         husk_json_path_str (listed, "metadata.namespace"), name);
  _cleanup_json_ json_t *pod = NULL;
  _cleanup_error_ husk_error *e = NULL;
  long code = 0;
  if (kclient_json (c->k, "GET", path, NULL, NULL, &pod, &code, &e) < 0)
    return; /* gone or unreachable: the next pass sees */
  json_t *cd = ready_true (pod);
  if (cd == NULL)
    return;
  json_object_set_new (cd, "status", json_string ("False"));
  json_object_set_new (cd, "lastTransitionTime", json_string (now));
  if (ctrl_put (c, "/api/v1", "pods", pod, "/status", &e) < 0)
    log_warn ("node lifecycle: cannot mark pod not ready", "pod", name, "error", e->msg);
}

/* The Event upstream's taint eviction controller records. */
static void
record_eviction (ctrl_ctx *c, const json_t *pod, const char *now)
{
  const char *ns = husk_json_path_str (pod, "metadata.namespace");
  const char *name = husk_json_path_str (pod, "metadata.name");
  _cleanup_free_ char *msg = xasprintf ("Marking for deletion Pod %s/%s", ns, name);
  _cleanup_free_ char *ename = xasprintf ("%s.taint-eviction", name);
  _cleanup_json_ json_t *ev = json_pack (
      "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, s:s, s:s, "
      "s:i}",
      "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", ns,
      "involvedObject", "apiVersion", "v1", "kind", "Pod", "namespace", ns, "name", name, "uid",
      husk_json_path_str (pod, "metadata.uid") ?: "", "reason", "TaintManagerEviction", "message",
      msg, "type", "Normal", "source", "component", "taint-eviction-controller", "firstTimestamp",
      now, "lastTimestamp", now, "count", 1);
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/events", ns);
  _cleanup_error_ husk_error *e = NULL;
  ctrl_write (c, "POST", path, NULL, ev, NULL, NULL, &e);
}

static bool
has_key (const json_t *taints, const char *key)
{
  size_t i;
  json_t *t;
  json_array_foreach ((json_t *)taints, i, t)
  {
    const char *k = json_string_value (json_object_get (t, "key"));
    if (k && streq (k, key))
      return true;
  }
  return false;
}

static void
evict (ctrl_ctx *c, json_t *pods, const char *node, json_t *taints, int64_t now,
       const char *now_text)
{
  bool unreachable = has_key (taints, TAINT_UNREACHABLE);
  size_t i;
  json_t *p;
  json_array_foreach (pods, i, p)
  {
    const char *on = husk_json_path_str (p, "spec.nodeName");
    if (!on || !streq (on, node) || ctrl_terminating (p))
      continue;
    int64_t when = taints_eviction_time (p, taints);
    if (when < 0 || when > now)
      {
        if (unreachable)
          mark_not_ready (c, p, now_text);
        continue;
      }
    const char *ns = husk_json_path_str (p, "metadata.namespace");
    const char *name = husk_json_path_str (p, "metadata.name");
    log_info ("evicting pod from tainted node", "pod", name, "namespace", ns, "node", node);
    record_eviction (c, p, now_text);
    _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s", ns, name);
    _cleanup_error_ husk_error *e = NULL;
    long code = 0;
    if (ctrl_write (c, "DELETE", path, NULL, NULL, NULL, &code, &e) < 0 && code != 404)
      log_warn ("node lifecycle: eviction failed", "pod", name, "error", e->msg);
  }
}

int
ctrl_nodelifecycle_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *nodes = NULL, *leases = NULL, *pods = NULL, *tainted = json_object ();
  int ret = ctrl_list (c, "/api/v1/nodes", &nodes, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", &leases,
                     err);
  if (ret < 0)
    return ret;
  double mono = mono_now ();
  _cleanup_free_ char *now = ctrl_time_now ();
  size_t i;
  json_t *node;
  json_array_foreach (nodes, i, node)
  {
    _cleanup_error_ husk_error *e = NULL;
    json_t *ne = NULL;
    _cleanup_json_ json_t *copy = json_deep_copy (node); /* node is shared, read-only */
    if (sync_node (c, copy, leases, mono, now, &ne, &e) < 0)
      {
        log_warn ("node lifecycle", "node", husk_json_path_str (node, "metadata.name"), "error",
                  e->msg);
        continue;
      }
    if (json_array_size (ne))
      json_object_set_new (tainted, husk_json_path_str (node, "metadata.name"), ne);
    else
      json_decref (ne);
  }
  if (json_object_size (tainted) == 0)
    return 0;
  ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret < 0)
    return ret;
  const char *name;
  json_t *taints;
  json_object_foreach (tainted, name, taints) evict (c, pods, name, taints, time (NULL), now);
  return 0;
}
