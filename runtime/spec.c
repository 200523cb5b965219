/* husk runtime: config.json -> rt_spec. Everything a create needs is resolved here, before
   any side effect, so that a bad config fails without leaving anything behind. */
#include "config.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>

#include "lib/path.h"
#include "runtime/internal.h"

static int
decode_root (rt_spec *s, json_t *cfg, husk_error **err)
{
  json_t *root = json_object_get (cfg, "root");
  const char *path = root ? json_string_value (json_object_get (root, "path")) : NULL;
  if (path == NULL || *path == '\0')
    return husk_err (err, EINVAL, "root.path: required field missing");
  s->root_readonly = json_is_true (json_object_get (root, "readonly"));
  _cleanup_free_ char *abs = path[0] == '/' ? xstrdup (path) : xasprintf ("%s/%s", s->bundle, path);
  char *norm = husk_path_normalize (abs);
  struct stat st;
  if (stat (norm, &st) < 0)
    {
      int r = husk_err_errno (err, "root.path: %s", path);
      free (norm);
      return r;
    }
  if (!S_ISDIR (st.st_mode))
    {
      free (norm);
      return husk_err (err, ENOTDIR, "root.path: %s: not a directory", path);
    }
  s->rootfs = norm;
  return 0;
}

static int
decode_namespaces (rt_spec *s, json_t *lin, husk_error **err)
{
  json_t *arr = json_object_get (lin, "namespaces"), *n;
  size_t i;
  json_array_foreach (arr, i, n)
  {
    const char *type = json_string_value (json_object_get (n, "type"));
    const char *path = json_string_value (json_object_get (n, "path"));
    int t = type ? rt_ns_type_from_name (type) : -1;
    if (type == NULL)
      return husk_err (err, EINVAL, "linux.namespaces[%zu].type: required field missing", i);
    if (t < 0)
      return husk_err (err, EINVAL, "linux.namespaces[%zu].type: unknown namespace type \"%s\"",
                       i, type);
    if (s->ns[t].present)
      return husk_err (err, EINVAL, "linux.namespaces[%zu]: duplicate namespace \"%s\"", i, type);
    s->ns[t].present = true;
    if (path && *path)
      {
        struct stat st;
        if (path[0] != '/')
          return husk_err (err, EINVAL, "linux.namespaces[%zu].path: %s: not an absolute path",
                           i, path);
        if (stat (path, &st) < 0)
          return husk_err_errno (err, "linux.namespaces[%zu].path: %s", i, path);
        s->ns[t].path = xstrdup (path);
      }
  }
  if (!s->ns[RT_NS_MOUNT].present)
    return husk_err (err, EINVAL, "linux.namespaces: a mount namespace is required");
  return 0;
}

static int
decode_idmaps (json_t *arr, const char *where, rt_idmap **out, size_t *n, husk_error **err)
{
  size_t i, cnt = json_array_size (arr);
  json_t *m;
  if (cnt == 0)
    return 0;
  rt_idmap *v = xcalloc (cnt, sizeof *v);
  json_array_foreach (arr, i, m)
  {
    json_t *c = json_object_get (m, "containerID"), *h = json_object_get (m, "hostID"),
           *z = json_object_get (m, "size");
    if (!c || !h || !z)
      {
        free (v);
        return husk_err (err, EINVAL, "%s[%zu]: containerID, hostID and size are required",
                         where, i);
      }
    v[i].container = (uint32_t) json_integer_value (c);
    v[i].host = (uint32_t) json_integer_value (h);
    v[i].size = (uint32_t) json_integer_value (z);
  }
  *out = v;
  *n = cnt;
  return 0;
}

static int
decode_mounts (rt_spec *s, json_t *cfg, husk_error **err)
{
  json_t *arr = json_object_get (cfg, "mounts"), *m;
  size_t i;
  s->nmounts = json_array_size (arr);
  s->mounts = xcalloc (s->nmounts + 1, sizeof *s->mounts);
  json_array_foreach (arr, i, m)
  {
    rt_mount *mt = &s->mounts[i];
    _cleanup_free_ char *where = xasprintf ("mounts[%zu]", i);
    const char *dest = json_string_value (json_object_get (m, "destination"));
    if (dest == NULL || *dest == '\0')
      return husk_err (err, EINVAL, "%s.destination: required field missing", where);
    _cleanup_free_ char *joined = NULL;
    if (husk_path_join ("/", dest, &joined, err) < 0)
      return husk_err_wrap (err, "%s.destination", where);
    mt->dest = TAKE_PTR (joined);
    const char *src = json_string_value (json_object_get (m, "source"));
    const char *type = json_string_value (json_object_get (m, "type"));
    mt->source = src ? xstrdup (src) : NULL;
    mt->type = type && *type ? xstrdup (type) : NULL;
    if (json_object_get (m, "uidMappings") || json_object_get (m, "gidMappings"))
      return husk_err (err, EINVAL, "%s: idmapped mounts are not supported", where);
    int r = rt_mount_parse_options (json_object_get (m, "options"), where, mt, err);
    if (r < 0)
      return r;
    if (mt->type && streq (mt->type, "bind"))
      mt->bind = true;
    if (mt->bind && (mt->source == NULL || *mt->source == '\0'))
      return husk_err (err, EINVAL, "%s.source: a bind mount needs a source", where);
    if (mt->type == NULL && !mt->bind)
      return husk_err (err, EINVAL, "%s.type: required for a mount that is not a bind mount",
                       where);
  }
  return 0;
}

static int
decode_devices (rt_spec *s, json_t *lin, husk_error **err)
{
  json_t *arr = json_object_get (lin, "devices"), *d;
  size_t i;
  s->ndevices = json_array_size (arr);
  s->devices = xcalloc (s->ndevices + 1, sizeof *s->devices);
  json_array_foreach (arr, i, d)
  {
    rt_device *dv = &s->devices[i];
    const char *path = json_string_value (json_object_get (d, "path"));
    const char *type = json_string_value (json_object_get (d, "type"));
    if (path == NULL || type == NULL)
      return husk_err (err, EINVAL, "linux.devices[%zu]: path and type are required", i);
    if (husk_path_join ("/", path, &dv->path, err) < 0)
      return husk_err_wrap (err, "linux.devices[%zu].path", i);
    if (strlen (type) != 1 || !strchr ("cbup", type[0]))
      return husk_err (err, EINVAL, "linux.devices[%zu].type: \"%s\" is not c, b, u or p", i,
                       type);
    dv->type = type[0] == 'u' ? 'c' : type[0];
    json_t *maj = json_object_get (d, "major"), *min = json_object_get (d, "minor");
    if (dv->type != 'p' && (!maj || !min))
      return husk_err (err, EINVAL, "linux.devices[%zu]: major and minor are required", i);
    dv->major = json_integer_value (maj);
    dv->minor = json_integer_value (min);
    json_t *mode = json_object_get (d, "fileMode");
    dv->mode = mode ? (mode_t) json_integer_value (mode) : 0666;
    dv->uid = (uid_t) json_integer_value (json_object_get (d, "uid"));
    dv->gid = (gid_t) json_integer_value (json_object_get (d, "gid"));
  }
  return 0;
}

static int
decode_paths (json_t *arr, const char *where, char ***out, husk_error **err)
{
  size_t i, n = json_array_size (arr);
  json_t *p;
  char **v = xcalloc (n + 1, sizeof *v);
  json_array_foreach (arr, i, p)
  {
    if (husk_path_join ("/", json_string_value (p), &v[i], err) < 0)
      {
        strv_free (v);
        return husk_err_wrap (err, "%s[%zu]", where, i);
      }
  }
  *out = v;
  return 0;
}

/* A sysctl is allowed only when its kernel namespace is the container's own. */
static int
decode_sysctl (rt_spec *s, json_t *lin, husk_error **err)
{
  json_t *obj = json_object_get (lin, "sysctl"), *v;
  const char *k;
  s->sysctl = xcalloc (json_object_size (obj) + 1, sizeof *s->sysctl);
  json_object_foreach (obj, k, v)
  {
    /* Checked as the /proc/sys path it is written to (mount.c), so that both separators
       and dotted interface names (net.ipv4.conf.eth0/100.forwarding) are taken. */
    _cleanup_free_ char *p = rt_sysctl_path (k);
    if (p == NULL)
      return husk_err (err, EINVAL, "linux.sysctl.%s: invalid name", k);
    int need = -1;
    if (strncmp (p, "net/", 4) == 0)
      need = RT_NS_NET;
    else if (strncmp (p, "fs/mqueue/", 10) == 0 || strncmp (p, "kernel/shm", 10) == 0
             || strncmp (p, "kernel/msg", 10) == 0 || streq (p, "kernel/sem"))
      need = RT_NS_IPC;
    else if (streq (p, "kernel/hostname") || streq (p, "kernel/domainname"))
      need = RT_NS_UTS;
    if (need < 0)
      return husk_err (err, EINVAL, "linux.sysctl.%s: not a namespaced sysctl", k);
    if (!s->ns[need].present || s->ns[need].path)
      return husk_err (err, EINVAL, "linux.sysctl.%s: needs a new %s namespace", k,
                       rt_ns_name (need));
    s->sysctl[s->nsysctl].key = xstrdup (k);
    s->sysctl[s->nsysctl].value = xstrdup (json_string_value (v));
    s->nsysctl++;
  }
  return 0;
}

static int
decode_propagation (rt_spec *s, json_t *lin, husk_error **err)
{
  static const struct
  {
    const char *name;
    unsigned long flags;
  } props[] = {
    {"private", MS_PRIVATE},  {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},      {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  const char *p = json_string_value (json_object_get (lin, "rootfsPropagation"));
  s->rootfs_propagation = MS_PRIVATE | MS_REC;
  if (p == NULL || *p == '\0')
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (props); i++)
    if (streq (props[i].name, p))
      {
        s->rootfs_propagation = props[i].flags;
        return 0;
      }
  return husk_err (err, EINVAL, "linux.rootfsPropagation: unknown propagation \"%s\"", p);
}

static int
decode_personality (rt_spec *s, json_t *lin, husk_error **err)
{
  json_t *p = json_object_get (lin, "personality");
  if (p == NULL)
    return 0;
  const char *dom = json_string_value (json_object_get (p, "domain"));
  if (dom == NULL)
    return husk_err (err, EINVAL, "linux.personality.domain: required field missing");
  if (streq (dom, "LINUX"))
    s->personality = PER_LINUX;
  else if (streq (dom, "LINUX32"))
    s->personality = PER_LINUX32;
  else
    return husk_err (err, EINVAL, "linux.personality.domain: unknown domain \"%s\"", dom);
  if (json_array_size (json_object_get (p, "flags")) > 0)
    return husk_err (err, EINVAL, "linux.personality.flags: no flags are supported");
  s->has_personality = true;
  return 0;
}

/* Cross-field rules of the spec. */
static int
check_consistency (rt_spec *s, json_t *cfg, husk_error **err)
{
  bool newuser = s->ns[RT_NS_USER].present && !s->ns[RT_NS_USER].path;
  if ((s->hostname && *s->hostname) && (!s->ns[RT_NS_UTS].present || s->ns[RT_NS_UTS].path))
    return husk_err (err, EINVAL, "hostname: needs a new uts namespace");
  if ((s->domainname && *s->domainname) && (!s->ns[RT_NS_UTS].present || s->ns[RT_NS_UTS].path))
    return husk_err (err, EINVAL, "domainname: needs a new uts namespace");
  if (newuser && (s->n_uid_maps == 0 || s->n_gid_maps == 0))
    return husk_err (err, EINVAL,
                     "linux.uidMappings: a new user namespace needs uid and gid mappings");
  if (!newuser && (s->n_uid_maps || s->n_gid_maps))
    return husk_err (err, EINVAL, "linux.uidMappings: mappings need a new user namespace");
  if (s->time_offsets && json_object_size (s->time_offsets)
      && (!s->ns[RT_NS_TIME].present || s->ns[RT_NS_TIME].path))
    return husk_err (err, EINVAL, "linux.timeOffsets: needs a new time namespace");
  if (json_object_get (cfg, "process") == NULL)
    return husk_err (err, EINVAL, "process: required field missing");
  return 0;
}

static int
decode_linux (rt_spec *s, json_t *cfg, husk_error **err)
{
  json_t *lin = json_object_get (cfg, "linux");
  if (lin == NULL)
    return husk_err (err, EINVAL, "linux: required field missing");
  int r;
  if ((r = decode_namespaces (s, lin, err)) < 0
      || (r = decode_idmaps (json_object_get (lin, "uidMappings"), "linux.uidMappings",
                             &s->uid_maps, &s->n_uid_maps, err)) < 0
      || (r = decode_idmaps (json_object_get (lin, "gidMappings"), "linux.gidMappings",
                             &s->gid_maps, &s->n_gid_maps, err)) < 0
      || (r = decode_devices (s, lin, err)) < 0
      || (r = decode_paths (json_object_get (lin, "maskedPaths"), "linux.maskedPaths",
                            &s->masked, err)) < 0
      || (r = decode_paths (json_object_get (lin, "readonlyPaths"), "linux.readonlyPaths",
                            &s->readonly, err)) < 0
      || (r = decode_sysctl (s, lin, err)) < 0 || (r = decode_propagation (s, lin, err)) < 0
      || (r = decode_personality (s, lin, err)) < 0)
    return r;
  const char *cgp = json_string_value (json_object_get (lin, "cgroupsPath"));
  s->cgroups_path = cgp && *cgp ? xstrdup (cgp) : NULL;
  s->resources = json_object_get (lin, "resources");
  if (s->resources && (r = rt_cgroup_check_resources (s->resources, "linux.resources", err)) < 0)
    return r;
  s->time_offsets = json_object_get (lin, "timeOffsets");
  json_t *sc = json_object_get (lin, "seccomp");
  if (sc && (r = rt_seccomp_build (sc, "linux.seccomp", &s->seccomp, err)) < 0)
    return r;
  return 0;
}

int
rt_spec_parse (json_t *cfg, const char *bundle, rt_spec **out, husk_error **err)
{
  int r = rt_schema_check (cfg, err);
  if (r < 0)
    return r;
  _cleanup_ (rt_spec_freep) rt_spec *s = xzalloc (sizeof *s);
  s->json = json_incref (cfg);
  char cwd[4096];
  if (bundle[0] != '/' && getcwd (cwd, sizeof cwd) == NULL)
    return husk_err_errno (err, "getcwd");
  _cleanup_free_ char *abs = bundle[0] == '/' ? xstrdup (bundle) : xasprintf ("%s/%s", cwd, bundle);
  s->bundle = husk_path_normalize (abs);
  const char *h = json_string_value (json_object_get (cfg, "hostname"));
  const char *d = json_string_value (json_object_get (cfg, "domainname"));
  s->hostname = h ? xstrdup (h) : NULL;
  s->domainname = d ? xstrdup (d) : NULL;
  if ((r = decode_root (s, cfg, err)) < 0 || (r = decode_linux (s, cfg, err)) < 0
      || (r = decode_mounts (s, cfg, err)) < 0
      || (r = rt_hooks_decode (json_object_get (cfg, "hooks"), s->hooks, err)) < 0
      || (r = check_consistency (s, cfg, err)) < 0
      || (r = rt_process_decode (json_object_get (cfg, "process"), "process", &s->proc, err))
             < 0)
    return r;
  if (s->proc.args == NULL || s->proc.args[0] == NULL)
    return husk_err (err, EINVAL, "process.args: at least one argument is required");
  *out = TAKE_PTR (s);
  return 0;
}

int
rt_spec_load (const char *bundle, rt_spec **out, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/config.json", bundle);
  _cleanup_json_ json_t *cfg = NULL;
  int r = husk_json_load_file (path, &cfg, err);
  if (r < 0)
    return r;
  r = rt_spec_parse (cfg, bundle, out, err);
  if (r < 0)
    return husk_err_wrap (err, "%s", path);
  return 0;
}

void
rt_spec_free (rt_spec *s)
{
  if (s == NULL)
    return;
  json_decref (s->json);
  free (s->bundle);
  free (s->rootfs);
  free (s->hostname);
  free (s->domainname);
  rt_process_clear (&s->proc);
  for (int i = 0; i < RT_NS_COUNT; i++)
    free (s->ns[i].path);
  free (s->uid_maps);
  free (s->gid_maps);
  for (size_t i = 0; i < s->nmounts; i++)
    {
      free (s->mounts[i].dest);
      free (s->mounts[i].source);
      free (s->mounts[i].type);
      free (s->mounts[i].data);
    }
  free (s->mounts);
  for (size_t i = 0; i < s->ndevices; i++)
    free (s->devices[i].path);
  free (s->devices);
  strv_free (s->masked);
  strv_free (s->readonly);
  for (size_t i = 0; i < s->nsysctl; i++)
    {
      free (s->sysctl[i].key);
      free (s->sysctl[i].value);
    }
  free (s->sysctl);
  free (s->cgroups_path);
  rt_hooks_clear (s->hooks);
  rt_seccomp_free (s->seccomp);
  free (s);
}
