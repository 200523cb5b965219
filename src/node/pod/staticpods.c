/* husk node: static pods (kubelet's staticPodPath). The files of --pod-manifest-path are
   read every STATIC_CHECK_MS (src/node/agent/static.c makes them pods whose UID hashes the
   file): a new UID enters the pod table as a pod with no API object; a UID whose file is
   gone (removed, or changed: a new UID replaces it) is stopped within its grace period.
   Each static pod gets a mirror pod in the API, the same pod with the annotation
   kubernetes.io/config.mirror = its UID and the Node as owner: the agent reports status
   there, never runs it, and makes it again when someone deletes it. Static pods start
   before the Node is registered (node.c runs its loop meanwhile); their mirrors are made
   once it is. */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/static.h"
#include "src/node/agent/status.h"
#include "src/node/pod/extras.h"

#define STATIC_CHECK_MS 2000
#define MIRROR_RECHECK_MS 10000
#define MIRROR_RETRY_MS 2000

static void
mirror_free (static_mirror *m)
{
  free (m->uid), free (m->ns), free (m->name);
  free (m);
}

static char *
pod_path (const char *ns, const char *name)
{
  return xasprintf ("/api/v1/namespaces/%s/pods/%s", ns, name);
}

/* Deletes the mirror pod ns/name when it mirrors uid (NULL: whichever static pod). */
static int
mirror_delete (node_agent *a, const char *ns, const char *name, json_t *got, husk_error **err)
{
  const char *muid = husk_json_path_str (got, "metadata.uid");
  _cleanup_free_ char *path = pod_path (ns, name);
  _cleanup_json_ json_t *body = json_pack ("{s:s, s:s, s:i, s:{s:s?}}", "kind", "DeleteOptions",
                                           "apiVersion", "v1", "gracePeriodSeconds", 0,
                                           "preconditions", "uid", muid);
  long code = 0;
  int r = kclient_json (a->kc, "DELETE", path, NULL, body, NULL, &code, err);
  return r < 0 && code != 404 && code != 409 ? r : 0;
}

static json_t *
mirror_object (node_agent *a, node_pod *p)
{
  json_t *m = json_deep_copy (p->obj);
  json_object_del (m, "status");
  json_t *meta = json_object_get (m, "metadata");
  static const char *const drop[] = {"uid", "resourceVersion", "creationTimestamp",
                                     "deletionTimestamp", "deletionGracePeriodSeconds",
                                     "managedFields"};
  for (size_t i = 0; i < ARRAY_SIZE (drop); i++)
    json_object_del (meta, drop[i]);
  json_t *ann = json_object_get (meta, "annotations");
  json_object_set_new (ann, "kubernetes.io/config.mirror", json_string (p->uid));
  if (a->node_uid)
    json_object_set_new (meta, "ownerReferences",
                         json_pack ("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1", "kind",
                                    "Node", "name", a->name, "uid", a->node_uid, "controller", 1));
  if (json_object_get (m, "apiVersion") == NULL)
    json_object_set_new (m, "apiVersion", json_string ("v1"));
  return m;
}

/* Makes sure the API holds the mirror pod of static pod p. */
static int
mirror_sync (node_agent *a, node_pod *p, husk_error **err)
{
  _cleanup_free_ char *path = pod_path (p->ns, p->name);
  _cleanup_json_ json_t *got = NULL;
  long code = 0;
  int r = kclient_json (a->kc, "GET", path, NULL, NULL, &got, &code, err);
  if (r < 0 && code != 404)
    return r;
  if (r == 0)
    {
      json_t *ann = husk_json_path (got, "metadata.annotations");
      const char *mirror = json_string_value (json_object_get (ann, "kubernetes.io/config.mirror"));
      bool deleting = husk_json_path (got, "metadata.deletionTimestamp") != NULL;
      if (mirror && streq (mirror, p->uid) && !deleting)
        return 0;
      if (mirror == NULL)
        return husk_err (err, EEXIST,
                         "pod %s/%s exists in the API and is not the mirror of static pod %s",
                         p->ns, p->name, p->uid);
      /* The mirror of an earlier version of the file, or one being deleted (graceful
         deletion waits for the node, which finishes it at once): made again. */
      if ((r = mirror_delete (a, p->ns, p->name, got, err)) < 0)
        return r;
    }
  husk_error_free (*err);
  *err = NULL;
  _cleanup_json_ json_t *m = mirror_object (a, p);
  _cleanup_free_ char *create = xasprintf ("/api/v1/namespaces/%s/pods", p->ns);
  if ((r = kclient_json (a->kc, "POST", create, NULL, m, NULL, &code, err)) < 0)
    return r;
  /* The status goes to the new object. */
  free (p->last_status);
  p->last_status = NULL;
  log_info ("mirror pod created", "pod", p->name, "ns", p->ns);
  return 0;
}

/* The file of p is gone: p stops within its grace period, and its mirror pod goes. */
static void
static_remove (node_agent *a, static_mirror *m, int64_t now_ms)
{
  node_pod *p = pod_find (a, m->uid);
  if (p && !p->api_gone)
    {
      json_t *g = husk_json_path (p->obj, "spec.terminationGracePeriodSeconds");
      _cleanup_free_ char *ts = agent_format_time (now_ms / 1000);
      json_t *meta = json_object_get (p->obj, "metadata");
      json_object_set_new (meta, "deletionTimestamp", json_string (ts));
      json_object_set_new (meta, "deletionGracePeriodSeconds",
                           json_integer (g ? json_integer_value (g) : 30));
      p->api_gone = true;
      log_info ("static pod removed", "pod", m->name, "ns", m->ns, "uid", m->uid);
    }
  _cleanup_free_ char *path = pod_path (m->ns, m->name);
  _cleanup_json_ json_t *got = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (a->kc, "GET", path, NULL, NULL, &got, NULL, NULL) == 0)
    {
      json_t *ann = husk_json_path (got, "metadata.annotations");
      const char *mirror = json_string_value (json_object_get (ann, "kubernetes.io/config.mirror"));
      if (mirror && streq (mirror, m->uid) && mirror_delete (a, m->ns, m->name, got, &err) < 0)
        log_warn ("deleting the mirror pod failed", "pod", m->name, "error", err->msg);
    }
}

static void
log_load_errors (node_extras *x, char **errors)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  for (size_t i = 0; errors && errors[i]; i++)
    husk_buf_printf (&b, "%s%s", i ? "; " : "", errors[i]);
  _cleanup_free_ char *joined = xstrdup (b.len ? b.data : "");
  if (x->last_load_errors && streq (x->last_load_errors, joined))
    return;
  free (x->last_load_errors);
  x->last_load_errors = TAKE_PTR (joined);
  if (*x->last_load_errors)
    log_warn ("static pod files skipped", "errors", x->last_load_errors);
}

static void
static_add (node_agent *a, node_extras *x, json_t *pod)
{
  const char *uid = husk_json_path_str (pod, "metadata.uid");
  node_pod *p = pod_find (a, uid);
  if (p)
    return; /* running, or (the same file put back) still stopping: added once gone */
  pod_apply_event (a, "ADDED", pod);
  if ((p = pod_find (a, uid)) == NULL)
    return;
  p->static_pod = true;
  static_mirror *m = xzalloc (sizeof *m);
  m->uid = xstrdup (uid);
  m->ns = xstrdup (p->ns);
  m->name = xstrdup (p->name);
  m->next = x->mirrors;
  x->mirrors = m;
  log_info ("static pod added", "pod", p->name, "ns", p->ns, "uid", uid);
}

static void
static_load (node_agent *a, node_extras *x, int64_t now_ms)
{
  _cleanup_json_ json_t *pods = NULL;
  _cleanup_strv_ char **errors = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (agent_static_pods_load (x->manifest_dir, a->name, now_ms / 1000, &pods, &errors, &err) < 0)
    {
      log_warn ("reading static pods failed", "dir", x->manifest_dir, "error", err->msg);
      return;
    }
  log_load_errors (x, errors);
  size_t i;
  json_t *pod;
  json_array_foreach (pods, i, pod)
  static_add (a, x, pod);
  for (static_mirror **mm = &x->mirrors; *mm;)
    {
      static_mirror *m = *mm;
      bool present = false;
      json_array_foreach (pods, i, pod)
      present |= streq (husk_json_path_str (pod, "metadata.uid") ?: "", m->uid);
      if (present)
        {
          mm = &m->next;
          continue;
        }
      static_remove (a, m, now_ms);
      *mm = m->next;
      mirror_free (m);
    }
}

int
static_pods_setup (node_agent *a, node_extras *x, husk_error **err)
{
  const char *dir = a->cfg->pod_manifest_path;
  if (dir == NULL || *dir == '\0')
    return 0;
  struct stat st;
  if (stat (dir, &st) < 0)
    return husk_err_errno (err, "--pod-manifest-path %s", dir);
  if (!S_ISDIR (st.st_mode))
    return husk_err (err, ENOTDIR, "--pod-manifest-path %s: not a directory", dir);
  x->manifest_dir = xstrdup (dir);
  /* Before the first pod list: their sandboxes are not taken for orphans. */
  static_load (a, x, node_now_ms ());
  x->next_static_ms = node_now_ms () + STATIC_CHECK_MS;
  return 0;
}

void
static_pods_tick (node_agent *a, node_extras *x, int64_t now_ms)
{
  if (x->manifest_dir == NULL)
    return;
  if (now_ms >= x->next_static_ms)
    {
      static_load (a, x, now_ms);
      x->next_static_ms = now_ms + STATIC_CHECK_MS;
    }
  for (static_mirror *m = x->mirrors; m; m = m->next)
    {
      node_pod *p = pod_find (a, m->uid);
      /* Not before the Node is registered: the mirror is owned by it. */
      if (p == NULL || p->api_gone || now_ms < m->check_ms || a->node_uid == NULL)
        continue;
      _cleanup_error_ husk_error *err = NULL;
      if (mirror_sync (a, p, &err) < 0)
        {
          log_warn ("mirror pod not made", "pod", m->name, "ns", m->ns, "error", err->msg);
          m->check_ms = now_ms + MIRROR_RETRY_MS;
        }
      else
        m->check_ms = now_ms + MIRROR_RECHECK_MS;
    }
}

void
static_pods_free (node_extras *x)
{
  while (x->mirrors)
    {
      static_mirror *m = x->mirrors;
      x->mirrors = m->next;
      mirror_free (m);
    }
  free (x->manifest_dir);
  free (x->last_load_errors);
}
