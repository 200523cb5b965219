/* husk node: one container of a pod: image ensured (imagePullPolicy), a writable overlay
   snapshot as its rootfs, an OCI config joining the sandbox's namespaces, stdout/stderr
   pipes handed to the CRI log pump, then created and started through the runtime library. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/base64.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/path.h"
#include "runtime/runtime.h"
#include "src/node/agent/events.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/volume.h"
#include "src/node/pod/seccontext.h"
#include "src/node/node-internal.h"

char *
pod_ctr_runtime_id (const node_pod *p, const node_ctr *c)
{
  return xasprintf ("%s-%s", p->uid, c->name);
}

static char *
ctr_dir (const node_pod *p, const node_ctr *c)
{
  return xasprintf ("%s/containers/%s", p->dir, c->name);
}

/* ---- images --------------------------------------------------------------------------- */

static const char *
pull_policy (json_t *ctr, const char *image)
{
  const char *pol = json_string_value (json_object_get (ctr, "imagePullPolicy"));
  if (pol && *pol)
    return pol;
  const char *slash = strrchr (image, '/');
  const char *tag = strchr (slash ? slash : image, ':');
  if (strchr (image, '@'))
    return "IfNotPresent";
  return tag == NULL || streq (tag, ":latest") ? "Always" : "IfNotPresent";
}

static int get_ns_object (node_agent *a, const char *ns, const char *plural, const char *name,
                          json_t **out, husk_error **err);

/* The "auths" map of one pull secret: kubernetes.io/dockerconfigjson (.dockerconfigjson
   holds {"auths":{...}}) or the older kubernetes.io/dockercfg (.dockercfg is the map). */
static json_t *
secret_auths (json_t *secret, json_t **cfg)
{
  json_t *data = json_object_get (secret, "data");
  const char *b64 = json_string_value (json_object_get (data, ".dockerconfigjson"));
  bool legacy = b64 == NULL;
  if (legacy)
    b64 = json_string_value (json_object_get (data, ".dockercfg"));
  _cleanup_free_ char *raw = NULL;
  size_t len = 0;
  _cleanup_error_ husk_error *e = NULL;
  if (b64 == NULL || husk_base64_decode (b64, strlen (b64), &raw, &len) < 0
      || husk_json_parse (raw, len, cfg, &e) < 0)
    return NULL;
  json_t *auths = legacy ? *cfg : json_object_get (*cfg, "auths");
  return json_is_object (auths) ? auths : NULL;
}

/* The pod's imagePullSecrets merged into one {"auths":{...}} (the first secret naming a
   registry wins); NULL when none gives credentials. A secret missing or of another type is
   skipped with a warning, as the kubelet does. */
static json_t *
pull_auths (node_agent *a, node_pod *p)
{
  json_t *refs = json_object_get (json_object_get (p->obj, "spec"), "imagePullSecrets"), *ref;
  json_t *out = NULL;
  size_t i;
  json_array_foreach (refs, i, ref)
    {
      const char *name = json_string_value (json_object_get (ref, "name"));
      _cleanup_json_ json_t *secret = NULL, *cfg = NULL;
      _cleanup_error_ husk_error *e = NULL;
      if (name == NULL || get_ns_object (a, p->ns, "secrets", name, &secret, &e) < 0 || !secret)
        {
          log_warn ("image pull secret not used", "pod", p->name, "secret", name ?: "",
                    "error", e ? e->msg : "not found");
          continue;
        }
      json_t *auths = secret_auths (secret, &cfg);
      if (auths == NULL)
        {
          log_warn ("image pull secret not used", "pod", p->name, "secret", name, "error",
                    "not a kubernetes.io/dockerconfigjson or dockercfg secret");
          continue;
        }
      if (out == NULL)
        out = json_pack ("{s:o}", "auths", json_object ());
      json_object_update_missing (json_object_get (out, "auths"), auths);
    }
  return out;
}

static int
ensure_image (node_agent *a, node_pod *p, node_ctr *c, image_record *rec, const char **reason,
              husk_error **err)
{
  const char *image = json_string_value (json_object_get (c->spec, "image"));
  if (image == NULL || *image == '\0')
    {
      *reason = AGENT_REASON_INVALID_IMAGE_NAME;
      return husk_err (err, EINVAL, "container %s has no image", c->name);
    }
  _cleanup_ (image_ref_freep) image_ref *ref = NULL;
  if (image_ref_parse (image, &ref, err) < 0)
    {
      *reason = AGENT_REASON_INVALID_IMAGE_NAME;
      return -EINVAL - 1;
    }
  const char *policy = pull_policy (c->spec, image);
  _cleanup_error_ husk_error *e = NULL;
  int r = image_store_get (a->images, ref->full, rec, &e);
  if (r == 0 && !streq (policy, "Always"))
    {
      pod_event (a, p, c, "Normal", "Pulled", "Container image \"%s\" already present on machine",
                 image);
      return 0;
    }
  if (r < 0 && streq (policy, "Never"))
    {
      *reason = "ErrImageNeverPull";
      return husk_err (err, ENOENT,
                       "Container image \"%s\" is not present with pull policy of Never", image);
    }
  image_record_clear (rec);
  _cleanup_json_ json_t *auths = pull_auths (a, p);
  image_pull_opts o = {.auths = auths, .progress = 0, .quiet = true};
  image_platform_host (&o.platform);
  log_info ("pulling image", "image", ref->full);
  pod_event (a, p, c, "Normal", "Pulling", "Pulling image \"%s\"", image);
  int64_t t0 = node_now_ms ();
  if ((r = image_pull (a->images, ref->full, &o, rec, err)) < 0)
    {
      *reason = AGENT_REASON_ERR_IMAGE_PULL;
      pod_event (a, p, c, "Warning", "Failed", "Failed to pull image \"%s\": %s", image,
                 (*err)->msg);
      return r;
    }
  pod_event (a, p, c, "Normal", "Pulled", "Successfully pulled image \"%s\" in %lldms", image,
             (long long) (node_now_ms () - t0));
  return 0;
}

/* The image's config.config object (Entrypoint, Cmd, Env, WorkingDir, User). */
static int
image_config_read (node_agent *a, const image_record *rec, json_t **out, husk_error **err)
{
  _cleanup_ (image_manifest_freep) image_manifest *m = NULL;
  int r = image_store_load_manifest (a->images, rec->manifest, &m, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *data = NULL;
  size_t len = 0;
  if ((r = image_store_read_blob (a->images, m->config.digest, IMAGE_MANIFEST_MAX, &data, &len, err))
      < 0)
    return r;
  _cleanup_json_ json_t *cfg = NULL;
  if ((r = husk_json_parse (data, len, &cfg, err)) < 0)
    return husk_err_wrap (err, "image config %s", m->config.digest);
  json_t *inner = json_object_get (cfg, "config");
  *out = inner ? json_incref (inner) : json_object ();
  return 0;
}

/* The image config, read once per manifest (a manifest's digest names its content). */
static int
image_config (node_agent *a, const image_record *rec, json_t **out, husk_error **err)
{
  if (a->image_configs == NULL)
    a->image_configs = json_object ();
  json_t *cached = json_object_get (a->image_configs, rec->manifest);
  if (cached)
    {
      *out = json_incref (cached);
      return 0;
    }
  int r = image_config_read (a, rec, out, err);
  if (r < 0)
    return r;
  if (json_object_size (a->image_configs) >= 64)
    json_object_clear (a->image_configs);
  json_object_set (a->image_configs, rec->manifest, *out);
  return 0;
}

static char **
strv_of (json_t *arr)
{
  if (!json_is_array (arr) || json_array_size (arr) == 0)
    return NULL;
  char **v = xcalloc (json_array_size (arr) + 1, sizeof *v);
  size_t i, n = 0;
  json_t *e;
  json_array_foreach (arr, i, e)
  if (json_is_string (e))
    v[n++] = xstrdup (json_string_value (e));
  return v;
}

/* ---- API lookups for env and volumes ----------------------------------------------------- */

static int
get_ns_object (node_agent *a, const char *ns, const char *plural, const char *name, json_t **out,
               husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/%s/%s", ns, plural, name);
  long status = 0;
  _cleanup_error_ husk_error *e = NULL;
  int r = kclient_json (a->kc, "GET", path, NULL, NULL, out, &status, &e);
  if (r < 0 && status == 404)
    {
      *out = NULL;
      return 0;
    }
  husk_error_move (err, &e);
  return r;
}

typedef struct lookup_ud
{
  node_agent *a;
  node_pod *p;
} lookup_ud;

static int
get_configmap (void *ud, const char *name, json_t **out, husk_error **err)
{
  lookup_ud *l = ud;
  return get_ns_object (l->a, l->p->ns, "configmaps", name, out, err);
}

static int
get_secret (void *ud, const char *name, json_t **out, husk_error **err)
{
  lookup_ud *l = ud;
  return get_ns_object (l->a, l->p->ns, "secrets", name, out, err);
}

/* ---- the OCI configuration ------------------------------------------------------------- */

static json_t *
bind_mount (const char *dest, const char *src, bool ro)
{
  return json_pack ("{s:s, s:s, s:s, s:[s, s, s]}", "destination", dest, "type", "bind", "source",
                    src, "options", "rbind", "rprivate", ro ? "ro" : "rw");
}

static json_t *
find_volume (json_t *pod, const char *name)
{
  size_t i;
  json_t *v;
  json_array_foreach (husk_json_path (pod, "spec.volumes"), i, v)
  {
    const char *n = json_string_value (json_object_get (v, "name"));
    if (n && streq (n, name))
      return v;
  }
  return NULL;
}

/* The bind mounts of c's volumeMounts, appended to mounts. A volume that cannot be set up
   (a ConfigMap or Secret missing, ...) sets *reason to FailedMount and err to kubelet's
   `MountVolume.SetUp failed for volume "V" : <why>`; a mount of no volume of the pod is a
   CreateContainerConfigError. */
static int
volume_mounts (node_agent *a, node_pod *p, node_ctr *c, json_t *mounts, const char **reason,
               husk_error **err)
{
  lookup_ud l = {a, p};
  agent_vol_ctx vctx = {.get_configmap = get_configmap, .get_secret = get_secret, .ud = &l,
                        .pod = p->obj, .node_allocatable = a->allocatable};
  json_t *fsg = husk_json_path (p->obj, "spec.securityContext.fsGroup");
  gid_t fs_group = fsg ? (gid_t) json_integer_value (fsg) : (gid_t) -1;
  size_t i;
  json_t *vm;
  json_array_foreach (json_object_get (c->spec, "volumeMounts"), i, vm)
  {
    const char *name = json_string_value (json_object_get (vm, "name"));
    const char *dest = json_string_value (json_object_get (vm, "mountPath"));
    const char *sub = json_string_value (json_object_get (vm, "subPath"));
    bool ro = json_is_true (json_object_get (vm, "readOnly"));
    json_t *vol = name ? find_volume (p->obj, name) : NULL;
    if (vol == NULL || dest == NULL)
      {
        *reason = AGENT_REASON_CREATE_CONFIG_ERROR;
        return husk_err (err, EINVAL, "volumeMounts[%zu]: volume \"%s\" not found", i,
                         name ? name : "");
      }
    _cleanup_free_ char *host = NULL;
    int r = agent_vol_setup (&vctx, a->pods_dir, vol, fs_group, &host, err);
    if (r < 0)
      {
        *reason = AGENT_EV_FAILED_MOUNT;
        if (strncmp ((*err)->msg, "MountVolume.", 12) == 0)
          return r;
        /* kubelet's " : " between the operation and its cause */
        return husk_err_wrap (err, "MountVolume.SetUp failed for volume \"%s\" ", name);
      }
    if (sub && *sub)
      {
        _cleanup_free_ char *full = NULL;
        if ((r = agent_vol_subpath (host, sub, &full, err)) < 0)
          {
            *reason = AGENT_REASON_CREATE_CONFIG_ERROR;
            return r;
          }
        free (host);
        host = TAKE_PTR (full);
      }
    json_array_append_new (mounts, bind_mount (dest, host, ro));
  }
  return 0;
}

/* runAsNonRoot (container, then pod): kubelet's verifyRunAsNonRoot, its messages exactly.
   image_numeric: the image's User was numeric (or empty, i.e. root). */
static int
check_non_root (node_pod *p, node_ctr *c, json_t *csc, json_t *psc, bool has_run_as,
                json_int_t uid, bool image_numeric, const char *iu, husk_error **err)
{
  json_t *nr = json_object_get (csc, "runAsNonRoot");
  if (nr == NULL)
    nr = json_object_get (psc, "runAsNonRoot");
  if (!json_is_true (nr))
    return 0;
  if (!has_run_as && !image_numeric)
    return husk_err (err, EPERM,
                     "container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root",
                     iu);
  if (uid == 0)
    return husk_err (err, EPERM,
                     "container has runAsNonRoot and image will run as root (pod: \"%s/%s\", container: %s)",
                     p->ns, p->name, c->name);
  return 0;
}

/* User from securityContext (container, then pod), else the image's numeric User. */
static int
process_user (node_pod *p, node_ctr *c, json_t *img, json_t *user, husk_error **err)
{
  json_t *csc = json_object_get (c->spec, "securityContext");
  json_t *psc = husk_json_path (p->obj, "spec.securityContext");
  json_int_t uid = 0, gid = 0;
  bool image_numeric = true;
  const char *iu = json_string_value (json_object_get (img, "User"));
  if (iu && *iu)
    {
      char *end = NULL;
      long v = strtol (iu, &end, 10);
      image_numeric = end != iu && (*end == '\0' || *end == ':');
      if (end != iu)
        {
          uid = v;
          if (*end == ':')
            gid = strtol (end + 1, NULL, 10);
        }
    }
  json_t *v;
  bool has_run_as = false;
  if ((v = json_object_get (csc, "runAsUser")) || (v = json_object_get (psc, "runAsUser")))
    {
      uid = json_integer_value (v);
      has_run_as = true;
    }
  if (check_non_root (p, c, csc, psc, has_run_as, uid, image_numeric, iu, err) < 0)
    return -EPERM;
  if ((v = json_object_get (csc, "runAsGroup")) || (v = json_object_get (psc, "runAsGroup")))
    gid = json_integer_value (v);
  json_object_set_new (user, "uid", json_integer (uid));
  json_object_set_new (user, "gid", json_integer (gid));
  json_t *groups = json_array ();
  json_t *fsg = json_object_get (psc, "fsGroup");
  if (fsg)
    json_array_append (groups, fsg);
  size_t i;
  json_array_foreach (json_object_get (psc, "supplementalGroups"), i, v)
  json_array_append (groups, v);
  if (json_array_size (groups))
    json_object_set_new (user, "additionalGids", groups);
  else
    json_decref (groups);
  return 0;
}

static bool
in_strv (json_t *arr, const char *cap)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
  {
    const char *s = json_string_value (v);
    if (s && (streq (s, "ALL") || streq (s, cap) || (strncmp (cap, "CAP_", 4) == 0 && streq (s, cap + 4))))
      return true;
  }
  return false;
}

/* The default set, minus drop, plus add. (privileged and add ALL get the same set: the
   full list is not exposed by the runtime library yet.) */
static json_t *
capabilities (node_ctr *c)
{
  json_t *caps = json_array ();
  json_t *sc = json_object_get (c->spec, "securityContext");
  json_t *add = husk_json_path (sc, "capabilities.add");
  json_t *drop = husk_json_path (sc, "capabilities.drop");
  const char *const *def = rt_default_capabilities ();
  for (size_t i = 0; def[i]; i++)
    if (!in_strv (drop, def[i]))
      json_array_append_new (caps, json_string (def[i]));
  size_t i;
  json_t *v;
  json_array_foreach (add, i, v)
  {
    const char *s = json_string_value (v);
    if (s == NULL || streq (s, "ALL"))
      continue;
    _cleanup_free_ char *name = strncmp (s, "CAP_", 4) == 0 ? xstrdup (s) : xasprintf ("CAP_%s", s);
    if (!in_strv (caps, name))
      json_array_append_new (caps, json_string (name));
  }
  return json_pack ("{s:O, s:O, s:O}", "bounding", caps, "effective", caps, "permitted", caps);
}

static json_t *
resources_json (node_ctr *c, husk_error **err)
{
  agent_cgroup_res r;
  if (agent_container_cgroup (c->spec, &r, err) < 0)
    return NULL;
  json_t *res = json_object ();
  json_t *cpu = json_object ();
  if (r.cpu_quota > 0)
    {
      json_object_set_new (cpu, "quota", json_integer (r.cpu_quota));
      json_object_set_new (cpu, "period", json_integer (AGENT_CPU_PERIOD));
    }
  json_object_set_new (res, "cpu", cpu);
  json_t *mem = json_object ();
  if (r.memory_max > 0)
    json_object_set_new (mem, "limit", json_integer (r.memory_max));
  if (r.memory_low > 0)
    json_object_set_new (mem, "reservation", json_integer (r.memory_low));
  json_object_set_new (res, "memory", mem);
  json_object_set_new (res, "devices", json_pack ("[{s:b, s:s}]", "allow", 0, "access", "rwm"));
  return res;
}

static int
build_spec (node_agent *a, node_pod *p, node_ctr *c, json_t *img, const agent_env *env,
            char **argv, const char *rootfs, json_t *vol_mounts, json_t **out, husk_error **err)
{
  json_t *sc = json_object_get (c->spec, "securityContext");
  bool privileged = json_is_true (json_object_get (sc, "privileged"));
  _cleanup_json_ json_t *spec = rt_spec_default (false);
  json_object_del (spec, "hostname");
  json_object_set_new (spec, "root",
                       json_pack ("{s:s, s:b}", "path", rootfs, "readonly",
                                  json_is_true (json_object_get (sc, "readOnlyRootFilesystem"))));
  json_t *proc = json_object_get (spec, "process");
  json_object_set_new (proc, "terminal", json_false ());
  json_t *args = json_array ();
  for (char **s = argv; *s; s++)
    json_array_append_new (args, json_string (*s));
  json_object_set_new (proc, "args", args);
  _cleanup_strv_ char **envv = agent_env_strv (env);
  json_t *ej = json_array ();
  bool has_path = false;
  for (char **s = envv; s && *s; s++)
    {
      has_path |= strncmp (*s, "PATH=", 5) == 0;
      json_array_append_new (ej, json_string (*s));
    }
  if (!has_path)
    json_array_append_new (ej, json_string ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
  _cleanup_free_ char *hn = NULL;
  {
    _cleanup_free_ char *domain = NULL;
    agent_pod_hostname (p->obj, NULL, &hn, &domain, NULL);
    _cleanup_free_ char *h = xasprintf ("HOSTNAME=%s", p->host_network ? a->hostname : (hn ? hn : p->name));
    json_array_append_new (ej, json_string (h));
  }
  json_object_set_new (proc, "env", ej);
  const char *wd = json_string_value (json_object_get (c->spec, "workingDir"));
  if (wd == NULL || *wd == '\0')
    wd = json_string_value (json_object_get (img, "WorkingDir"));
  json_object_set_new (proc, "cwd", json_string (wd && *wd ? wd : "/"));
  if (process_user (p, c, img, json_object_get (proc, "user"), err) < 0)
    return -EPERM;
  json_object_set_new (proc, "capabilities", capabilities (c));
  json_t *ape = json_object_get (sc, "allowPrivilegeEscalation");
  json_object_set_new (proc, "noNewPrivileges", json_boolean (ape && json_is_false (ape)));
  json_t *lin = json_object_get (spec, "linux");
  if (!privileged && pod_seccomp_apply (a, p, c, proc, lin, err) < 0)
    return -EINVAL;
  /* Namespaces: the sandbox's net, ipc and uts (pid too with shareProcessNamespace). */
  json_t *ns = json_array ();
  bool share_pid = json_is_true (husk_json_path (p->obj, "spec.shareProcessNamespace"));
  bool host_pid = json_is_true (husk_json_path (p->obj, "spec.hostPID"));
  bool host_ipc = json_is_true (husk_json_path (p->obj, "spec.hostIPC"));
  json_array_append_new (ns, json_pack ("{s:s}", "type", "mount"));
  _cleanup_free_ char *nsdir = xasprintf ("/proc/%d/ns", (int) p->pause_pid);
  _cleanup_free_ char *pidns = xasprintf ("%s/pid", nsdir);
  _cleanup_free_ char *ipcns = xasprintf ("%s/ipc", nsdir);
  _cleanup_free_ char *netns = xasprintf ("%s/net", nsdir);
  _cleanup_free_ char *utsns = xasprintf ("%s/uts", nsdir);
  if (share_pid && !host_pid)
    json_array_append_new (ns, json_pack ("{s:s, s:s}", "type", "pid", "path", pidns));
  else if (!host_pid)
    json_array_append_new (ns, json_pack ("{s:s}", "type", "pid"));
  if (!host_ipc)
    json_array_append_new (ns, json_pack ("{s:s, s:s}", "type", "ipc", "path", ipcns));
  if (!p->host_network)
    {
      json_array_append_new (ns, json_pack ("{s:s, s:s}", "type", "network", "path", netns));
      json_array_append_new (ns, json_pack ("{s:s, s:s}", "type", "uts", "path", utsns));
    }
  json_object_set_new (lin, "namespaces", ns);
  _cleanup_free_ char *cg = pod_cgroup_rel (a, p);
  _cleanup_free_ char *cgp = xasprintf ("%s/%s", cg, c->name);
  json_object_set_new (lin, "cgroupsPath", json_string (cgp));
  json_t *res = resources_json (c, err);
  if (res == NULL)
    return -EINVAL - 1;
  json_object_set_new (lin, "resources", res);
  if (privileged)
    {
      json_object_set_new (lin, "maskedPaths", json_array ());
      json_object_set_new (lin, "readonlyPaths", json_array ());
    }
  /* Mounts: the defaults without the cgroup v1 mount, the pod's files, the volumes. */
  json_t *mounts = json_array ();
  size_t i;
  json_t *m;
  json_array_foreach (json_object_get (spec, "mounts"), i, m)
  {
    const char *d = json_string_value (json_object_get (m, "destination"));
    if (d && streq (d, "/sys/fs/cgroup"))
      continue;
    json_array_append (mounts, m);
  }
  static const char *const files[] = {"hosts", "hostname", "resolv.conf"};
  for (i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_free_ char *src = xasprintf ("%s/%s", p->dir, files[i]);
      _cleanup_free_ char *dst = xasprintf ("/etc/%s", files[i]);
      json_array_append_new (mounts, bind_mount (dst, src, false));
    }
  const char *tmp = json_string_value (json_object_get (c->spec, "terminationMessagePath"));
  json_array_append_new (mounts, bind_mount (tmp && *tmp ? tmp : "/dev/termination-log",
                                             c->term_file, false));
  json_array_extend (mounts, vol_mounts);
  json_object_set_new (spec, "mounts", mounts);
  *out = TAKE_PTR (spec);
  return 0;
}

/* ---- create and start -------------------------------------------------------------------- */

/* Forks a child subreaper that creates and starts the container (stdout/stderr on the
   pipes' write ends), so that the container's init is its child, then becomes husk-shim
   holding the read ends on fds 3 and 4. The fork reports "<pid>" or "!<errno> <message>"
   on a pipe. Only the runtime library runs in the fork (malloc is fork-safe in glibc). */
static _Noreturn void
shim_child (node_agent *a, const char *id, const char *bundle, int out[2], int errp[2], int rep)
{
  signal (SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  setsid ();
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  rt_create_opts o = RT_CREATE_OPTS_INIT;
  o.skip_limits = !a->limits_enforced;
  int in[2] = {-1, -1}; /* spec.stdin: the container's stdin pipe, held by the shim (pod/stdin.c) */
  o.stdin_fd = pod_ctr_stdin_pipe (a, id, bundle, in) == 0 ? in[0] : null;
  o.stdout_fd = out[1];
  o.stderr_fd = errp[1];
  pid_t pid = 0;
  husk_error *e = NULL;
  char msg[1024];
  if (rt_container_run (a->rt_root, id, bundle, &o, &pid, &e) < 0)
    {
      int n = snprintf (msg, sizeof msg, "!%d %s", e->errnum, e->msg);
      if (write (rep, msg, n > 0 && (size_t) n < sizeof msg ? (size_t) n : sizeof msg - 1) < 0)
        _exit (1);
      _exit (1);
    }
  int n = snprintf (msg, sizeof msg, "%d", (int) pid);
  if (write (rep, msg, (size_t) n) != n)
    _exit (1);
  int r3 = fcntl (out[0], F_DUPFD, 10), r4 = fcntl (errp[0], F_DUPFD, 10);
  int r5 = in[1] >= 0 ? fcntl (in[1], F_DUPFD, 10) : -1;
  for (int i = 0; i < 3; i++)
    dup2 (null, i);
  dup2 (r3, 3);
  dup2 (r4, 4);
  if (r5 >= 0)
    dup2 (r5, 5);
  close_range (r5 >= 0 ? 6 : 5, ~0U, 0);
  char pidstr[16];
  snprintf (pidstr, sizeof pidstr, "%d", (int) pid);
  _cleanup_free_ char *exit_file = xasprintf ("%s/exit", bundle);
  execv (a->shim_bin, (char *[]){(char *) "husk-shim", pidstr, exit_file, NULL});
  _exit (127);
}

typedef struct shim_args
{
  node_agent *a;
  const char *id, *bundle;
  int *out, *errp;
  const struct ctr_files *files;
} shim_args;

static int ctr_files_make (node_agent *a, const struct ctr_files *f, husk_error **err);

/* The start job: the container's files, then the shim's fork goes on as the shim. A failure
   to make the files is reported as "?<errno> <message>" (CreateContainerError). */
static void
shim_job (void *ud, int rep)
{
  shim_args *s = ud;
  husk_error *e = NULL;
  int64_t t0 = node_mono_us ();
  if (ctr_files_make (s->a, s->files, &e) < 0)
    {
      char msg[1024];
      int n = snprintf (msg, sizeof msg, "?%d %s", e->errnum, e->msg);
      if (write (rep, msg, n > 0 && (size_t) n < sizeof msg ? (size_t) n : sizeof msg - 1) < 0)
        _exit (1);
      _exit (1);
    }
  /* How long the files took, ahead of the pid: "<us>:" */
  char us[32];
  int n = snprintf (us, sizeof us, "%lld:", (long long) (node_mono_us () - t0));
  if (write (rep, us, (size_t) n) != n)
    _exit (1);
  shim_child (s->a, s->id, s->bundle, s->out, s->errp, rep);
}

static char *
image_id_of (const image_record *rec)
{
  _cleanup_ (image_ref_freep) image_ref *ref = NULL;
  if (image_ref_parse (rec->ref, &ref, NULL) < 0)
    return xstrdup (rec->digest);
  _cleanup_free_ char *repo = image_ref_repo (ref);
  return xasprintf ("%s@%s", repo, rec->digest);
}

/* What the start job does before the runtime: the writable layer, the termination log
   file and config.json. Prepared on the main thread; made in the job, off it. */
typedef struct ctr_files
{
  char *rootfs, *snap, *ref, *config_path, *config_text, *term_file;
} ctr_files;

static void
ctr_files_clear (ctr_files *f)
{
  free (f->rootfs), free (f->snap), free (f->ref), free (f->config_path);
  free (f->config_text), free (f->term_file);
  memset (f, 0, sizeof *f);
}

/* In the job: a fresh writable layer per start (kubelet creates a new container per
   restart), an empty termination log file and the config. */
static int
ctr_files_make (node_agent *a, const ctr_files *f, husk_error **err)
{
  image_snapshot_unmount (a->images, f->rootfs, true, NULL);
  _cleanup_free_ char *bundle = xstrdup (f->rootfs);
  *strrchr (bundle, '/') = '\0';
  int r;
  if ((r = husk_mkdir_p (bundle, 0700, err)) < 0 || (r = husk_mkdir_p (f->rootfs, 0755, err)) < 0
      || (r = image_snapshot_mount (a->images, f->ref, f->snap, f->rootfs, err)) < 0
      || (r = pod_write_file (f->term_file, "", 0666, err)) < 0
      || (r = pod_write_file (f->config_path, f->config_text, 0600, err)) < 0)
    return r;
  chmod (f->term_file, 0666);
  return 0;
}

static int
prepare (node_agent *a, node_pod *p, node_ctr *c, const char *bundle, ctr_files *f,
         const char **reason, husk_error **err)
{
  /* Volumes first, as kubelet mounts them before it pulls: FailedMount holds the start. */
  _cleanup_json_ json_t *vol_mounts = json_array ();
  int r = volume_mounts (a, p, c, vol_mounts, reason, err);
  if (r < 0)
    return r;
  image_record rec = {0};
  int64_t t0 = node_mono_us ();
  r = ensure_image (a, p, c, &rec, reason, err);
  if (r < 0)
    return r;
  node_step_done ("image", p->name, &t0);
  free (c->image_ref);
  c->image_ref = xstrdup (rec.ref);
  free (c->image_id);
  c->image_id = image_id_of (&rec);
  _cleanup_json_ json_t *img = NULL;
  r = image_config (a, &rec, &img, err);
  image_record_clear (&rec);
  if (r < 0)
    {
      *reason = AGENT_REASON_CREATE_ERROR;
      return r;
    }
  /* The environment: the image's, then env/envFrom. */
  _cleanup_strv_ char **base = strv_of (json_object_get (img, "Env"));
  lookup_ud l = {a, p};
  agent_env_ctx ectx = {.get_configmap = get_configmap, .get_secret = get_secret, .ud = &l,
                        .pod = p->obj, .node_allocatable = a->allocatable, .base = base};
  agent_env *env = NULL;
  if ((r = agent_env_resolve (&ectx, c->spec, &env, err)) < 0)
    {
      *reason = AGENT_REASON_CREATE_CONFIG_ERROR;
      return r;
    }
  _cleanup_strv_ char **ep = strv_of (json_object_get (img, "Entrypoint"));
  _cleanup_strv_ char **cmd = strv_of (json_object_get (img, "Cmd"));
  _cleanup_strv_ char **argv = agent_container_argv (c->spec, env, ep, cmd);
  if (argv == NULL || argv[0] == NULL)
    {
      agent_env_free (env);
      *reason = AGENT_REASON_CREATE_ERROR;
      return husk_err (err, EINVAL, "no command specified");
    }
  f->rootfs = xasprintf ("%s/rootfs", bundle);
  f->snap = xasprintf ("%s_%s_%d", p->uid, c->name, c->restart_count);
  f->ref = xstrdup (c->image_ref);
  /* terminationMessagePath: an empty host file per run, bound into the container. */
  free (c->term_file);
  c->term_file = xasprintf ("%s/termination-log", bundle);
  f->term_file = xstrdup (c->term_file);
  _cleanup_json_ json_t *spec = NULL;
  r = build_spec (a, p, c, img, env, argv, f->rootfs, vol_mounts, &spec, err);
  agent_env_free (env);
  if (r < 0)
    {
      *reason = AGENT_REASON_CREATE_CONFIG_ERROR;
      return r;
    }
  f->config_text = husk_json_dump (spec);
  f->config_path = xasprintf ("%s/config.json", bundle);
  node_step_done ("env+config", p->name, &t0);
  return 0;
}

int
pod_ctr_start (node_agent *a, node_pod *p, node_ctr *c, const char **reason, husk_error **err)
{
  _cleanup_free_ char *bundle = ctr_dir (p, c);
  _cleanup_free_ char *id = pod_ctr_runtime_id (p, c);
  int r;
  if (c->created)
    pod_ctr_remove (a, p, c);
  _cleanup_ (ctr_files_clear) ctr_files files = {0};
  if ((r = prepare (a, p, c, bundle, &files, reason, err)) < 0)
    return r;
  _cleanup_free_ char *ldir = NULL;
  agent_log_writer *w = NULL;
  if ((r = agent_log_dir (a->log_dir, p->ns, p->name, p->uid, c->name, &ldir, err)) < 0
      || (r = agent_log_writer_open (ldir, (unsigned) c->restart_count, 0, 0, &w, err)) < 0)
    {
      *reason = AGENT_REASON_CREATE_ERROR;
      return r;
    }
  free (c->log_path);
  c->log_path = agent_log_path (ldir, (unsigned) c->restart_count);
  int out[2] = {-1, -1}, errp[2] = {-1, -1};
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    {
      agent_log_writer_close (w);
      *reason = AGENT_REASON_CREATE_ERROR;
      return husk_err_errno (err, "pipe");
    }
  rt_container_delete (a->rt_root, id, true, NULL); /* left by an earlier agent run */
  _cleanup_free_ char *exit_file = xasprintf ("%s/exit", bundle);
  unlink (exit_file);
  shim_args sa = {a, id, bundle, out, errp, &files};
  r = node_job_start (a, &c->start_job, shim_job, &sa, err);
  close (out[1]);
  close (errp[1]);
  if (r < 0)
    {
      close (out[0]), close (errp[0]);
      agent_log_writer_close (w);
      *reason = AGENT_REASON_RUN_ERROR;
      return r;
    }
  c->shim_pid = c->start_job->pid;
  c->pid = 0;
  c->adopted = false;
  c->early_exit = false;
  c->start_fds[0] = out[0];
  c->start_fds[1] = errp[0];
  c->start_log = w;
  return 0;
}

/* Drops what a start job left for its outcome. */
static void
start_leftovers_free (node_agent *a, node_ctr *c)
{
  node_job_free (a, TAKE_PTR (c->start_job));
  for (int i = 0; i < 2; i++)
    if (c->start_fds[i] >= 0)
      close (TAKE_FD (c->start_fds[i]));
  if (c->start_log)
    agent_log_writer_close (TAKE_PTR (c->start_log));
}

void
pod_ctr_start_abandon (node_agent *a, node_ctr *c)
{
  start_leftovers_free (a, c);
}

int
pod_ctr_start_finish (node_agent *a, node_pod *p, node_ctr *c, const char **reason,
                      husk_error **err)
{
  node_job *j = c->start_job;
  const char *msg = j->out.data ? j->out.data : "";
  /* "<files us>:<pid>", or "<files us>:!<errno> <message>" (the runtime failed), or
     "?<errno> <message>" (the files could not be made). */
  const char *colon = msg[0] != '?' ? strchr (msg, ':') : NULL;
  if (colon)
    {
      node_step_done ("snapshot", p->name, &(int64_t) {node_mono_us () - atoll (msg)});
      msg = colon + 1;
    }
  if (*msg == '\0' || msg[0] == '!' || msg[0] == '?')
    {
      const char *sp = *msg ? strchr (msg, ' ') : NULL;
      int r = husk_err (err, *msg ? atoi (msg + 1) : EIO, "%s",
                        sp ? sp + 1 : "container create: the helper process died");
      *reason = msg[0] == '?' ? AGENT_REASON_CREATE_ERROR : AGENT_REASON_RUN_ERROR;
      start_leftovers_free (a, c);
      c->shim_pid = 0; /* exited (or exiting): the main loop reaps it */
      return r;
    }
  c->pid = (pid_t) atoi (msg);
  c->created = true;
  node_step_done ("start", p->name, &j->t0_us);
  agent_log_writer *w = TAKE_PTR (c->start_log);
  int r = agent_log_pump_add (a->pump, TAKE_FD (c->start_fds[0]), TAKE_FD (c->start_fds[1]), w,
                              NULL, NULL, err);
  start_leftovers_free (a, c);
  if (r < 0)
    {
      *reason = AGENT_REASON_CREATE_ERROR;
      return r;
    }
  return 0;
}

void
pod_ctr_signal (node_agent *a, node_pod *p, node_ctr *c, int sig)
{
  if (!c->created)
    return;
  _cleanup_free_ char *id = pod_ctr_runtime_id (p, c);
  rt_container_kill (a->rt_root, id, sig, sig == SIGKILL, NULL);
}

void
pod_ctr_remove (node_agent *a, node_pod *p, node_ctr *c)
{
  _cleanup_free_ char *id = pod_ctr_runtime_id (p, c);
  _cleanup_error_ husk_error *e = NULL;
  if (rt_container_delete (a->rt_root, id, true, &e) < 0 && e->errnum != ENOENT)
    log_warn ("delete container", "id", id, "error", e->msg);
  c->created = false;
  c->pid = 0;
  c->shim_pid = 0;
  c->adopted = false;
  if (p->dir)
    {
      _cleanup_free_ char *bundle = ctr_dir (p, c);
      _cleanup_free_ char *rootfs = xasprintf ("%s/rootfs", bundle);
      image_snapshot_unmount (a->images, rootfs, true, NULL);
    }
}
