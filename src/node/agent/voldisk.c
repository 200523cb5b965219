/* husk node agent: volume directories, tmpfs mounts, emptyDir, hostPath checks, subPath,
   and the per-pod volume tree (see volume.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "lib/json.h"
#include "lib/path.h"
#include "src/node/agent/podspec.h"
#include "src/node/agent/volume.h"

bool
agent_vol_is_tmpfs (const char *dir)
{
  struct statfs fs;
  struct stat st, pst;
  if (statfs (dir, &fs) < 0 || fs.f_type != TMPFS_MAGIC || stat (dir, &st) < 0)
    return false;
  _cleanup_free_ char *parent = xasprintf ("%s/..", dir);
  if (stat (parent, &pst) < 0)
    return false;
  return st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
}

int
agent_vol_tmpfs (const char *dir, int64_t size_bytes, mode_t mode, husk_error **err)
{
  int ret = husk_mkdir_p (dir, 0755, err);
  if (ret < 0)
    return ret;
  if (agent_vol_is_tmpfs (dir))
    return 0;
  _cleanup_free_ char *opts = size_bytes > 0
                                  ? xasprintf ("mode=%o,size=%lld", mode, (long long)size_bytes)
                                  : xasprintf ("mode=%o", mode);
  if (mount ("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
    return husk_err_errno (err, "mount tmpfs on %s", dir);
  return 0;
}

int
agent_vol_umount (const char *dir, husk_error **err)
{
  for (int i = 0; i < 16; i++) /* stacked mounts, if a bug ever made some */
    if (umount2 (dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
      {
        if (errno == EINVAL || errno == ENOENT)
          return 0;
        return husk_err_errno (err, "unmount %s", dir);
      }
  return 0;
}

int
agent_vol_empty_dir (json_t *empty_dir, const char *dir, husk_error **err)
{
  const char *medium = json_string_value (json_object_get (empty_dir, "medium"));
  json_t *limit = json_object_get (empty_dir, "sizeLimit");
  int64_t size = 0;
  int ret;
  if (limit && (ret = husk_quantity_json (limit, 1, "emptyDir.sizeLimit", &size, err)) < 0)
    return ret;
  if (medium && streq (medium, "Memory"))
    return agent_vol_tmpfs (dir, size, 0777, err);
  if (medium && *medium)
    return husk_err (err, ENOTSUP, "emptyDir: medium \"%s\" is not supported", medium);
  if ((ret = husk_mkdir_p (dir, 0777, err)) < 0)
    return ret;
  if (chmod (dir, 0777) < 0)
    return husk_err_errno (err, "chmod %s", dir);
  return 0;
}

int64_t
agent_vol_memory_size (const agent_vol_ctx *ctx, json_t *empty_dir)
{
  int64_t size = 0, v;
  husk_error *e = NULL;
  json_t *alloc = json_object_get (ctx->node_allocatable, "memory");
  if (alloc && husk_quantity_json (alloc, 1, "allocatable.memory", &v, &e) == 0 && v > 0)
    size = v;
  agent_cgroup_res r;
  if (ctx->pod && agent_pod_cgroup (ctx->pod, -1, &r, &e) == 0 && r.memory_max > 0
      && (size == 0 || r.memory_max <= size))
    size = r.memory_max;
  json_t *limit = json_object_get (empty_dir, "sizeLimit");
  if (limit && husk_quantity_json (limit, 1, "sizeLimit", &v, &e) == 0 && v > 0
      && (size == 0 || v <= size))
    size = v;
  husk_error_free (e);
  return size;
}

int
agent_vol_host_path (json_t *host_path, char **out, husk_error **err)
{
  const char *path = json_string_value (json_object_get (host_path, "path"));
  const char *type = json_string_value (json_object_get (host_path, "type"));
  struct stat st;
  if (!path || path[0] != '/')
    return husk_err (err, EINVAL, "hostPath: path must be absolute");
  if (!type)
    type = "";
  bool exists = stat (path, &st) == 0;
  if (streq (type, ""))
    ;
  else if (streq (type, "DirectoryOrCreate"))
    {
      if (!exists)
        {
          int ret = husk_mkdir_p (path, 0755, err);
          if (ret < 0)
            return ret;
        }
      else if (!S_ISDIR (st.st_mode))
        return husk_err (err, ENOTDIR, "hostPath type check failed: %s is not a directory", path);
    }
  else if (streq (type, "FileOrCreate"))
    {
      if (!exists)
        {
          int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
          if (fd < 0 && errno != EEXIST)
            return husk_err_errno (err, "hostPath: create file %s", path);
          if (fd >= 0)
            close (fd);
        }
      else if (!S_ISREG (st.st_mode))
        return husk_err (err, EINVAL, "hostPath type check failed: %s is not a file", path);
    }
  else
    {
      static const struct
      {
        const char *type;
        mode_t fmt;
        const char *what;
      } checks[] = { { "Directory", S_IFDIR, "a directory" },
                     { "File", S_IFREG, "a file" },
                     { "Socket", S_IFSOCK, "a socket file" },
                     { "CharDevice", S_IFCHR, "a character device" },
                     { "BlockDevice", S_IFBLK, "a block device" } };
      size_t i;
      for (i = 0; i < ARRAY_SIZE (checks); i++)
        if (streq (type, checks[i].type))
          break;
      if (i == ARRAY_SIZE (checks))
        return husk_err (err, EINVAL, "hostPath: unsupported type \"%s\"", type);
      if (!exists)
        return husk_err (err, ENOENT, "hostPath type check failed: %s does not exist", path);
      if ((st.st_mode & S_IFMT) != checks[i].fmt)
        return husk_err (err, EINVAL, "hostPath type check failed: %s is not %s", path,
                         checks[i].what);
    }
  *out = xstrdup (path);
  return 0;
}

int
agent_vol_subpath (const char *volume_dir, const char *subpath, char **out, husk_error **err)
{
  if (!subpath || !*subpath)
    {
      *out = xstrdup (volume_dir);
      return 0;
    }
  if (subpath[0] == '/')
    return husk_err (err, EINVAL, "subPath \"%s\": must be a relative path", subpath);
  for (const char *p = subpath; *p;)
    {
      size_t el = strcspn (p, "/");
      if (el == 2 && p[0] == '.' && p[1] == '.')
        return husk_err (err, EINVAL, "subPath \"%s\": must not contain '..'", subpath);
      p += el;
      if (*p)
        p++;
    }
  int ret = husk_path_resolve_in_root (volume_dir, subpath, out, err);
  if (ret < 0)
    return husk_err_wrap (err, "subPath \"%s\"", subpath);
  return 0;
}

int
agent_vol_pvc (const agent_vol_ctx *ctx, json_t *src, char **out, husk_error **err)
{
  const char *claim = json_string_value (json_object_get (src, "claimName"));
  _cleanup_json_ json_t *pvc = NULL, *pv = NULL;
  int ret;
  if (!claim || !*claim)
    return husk_err (err, EINVAL, "persistentVolumeClaim.claimName: Required value");
  if (!ctx->get_pvc || !ctx->get_pv)
    return husk_err (err, ENOTSUP, "persistentVolumeClaim \"%s\": no claim lookup on this node",
                     claim);
  if ((ret = ctx->get_pvc (ctx->ud, claim, &pvc, err)) < 0)
    return ret;
  if (!pvc)
    return husk_err (err, ENOENT, "persistentvolumeclaim \"%s\" not found", claim);
  const char *phase = husk_json_path_str (pvc, "status.phase");
  const char *pv_name = husk_json_path_str (pvc, "spec.volumeName");
  if (!phase || !streq (phase, "Bound") || !pv_name || !*pv_name)
    return husk_err (err, EAGAIN, "persistentvolumeclaim \"%s\" is not bound", claim);
  if ((ret = ctx->get_pv (ctx->ud, pv_name, &pv, err)) < 0)
    return ret;
  if (!pv)
    return husk_err (err, ENOENT, "persistentvolume \"%s\" not found", pv_name);
  json_t *hp = husk_json_path (pv, "spec.hostPath");
  if (hp)
    {
      ret = agent_vol_host_path (hp, out, err);
      return ret < 0 ? husk_err_wrap (err, "persistentvolume \"%s\"", pv_name) : 0;
    }
  const char *local = husk_json_path_str (pv, "spec.local.path");
  if (local)
    {
      struct stat st;
      if (local[0] != '/' || stat (local, &st) < 0)
        return husk_err (err, ENOENT, "persistentvolume \"%s\": local path %s does not exist",
                         pv_name, local);
      *out = xstrdup (local);
      return 0;
    }
  return husk_err (err, ENOTSUP,
                   "persistentvolume \"%s\": only hostPath and local volumes are supported",
                   pv_name);
}

static char *
volume_dir (const char *pods_dir, const char *uid, agent_vol_kind k, const char *name)
{
  return xasprintf ("%s/%s/volumes/%s/%s", pods_dir, uid, agent_vol_plugin_dir (k), name);
}

int
agent_vol_setup (const agent_vol_ctx *ctx, const char *pods_dir, json_t *volume, gid_t fs_group,
                 char **out, husk_error **err)
{
  const char *name = json_string_value (json_object_get (volume, "name"));
  const char *uid = husk_json_path_str (ctx->pod, "metadata.uid");
  agent_vol_kind k = agent_vol_kind_of (volume);
  int ret;
  if (!name || !*name || strchr (name, '/') || name[0] == '.')
    return husk_err (err, EINVAL, "volume name \"%s\" is not valid", name ? name : "");
  if (!uid || !*uid || strchr (uid, '/') || uid[0] == '.')
    return husk_err (err, EINVAL, "pod without a valid uid");
  if (k == AGENT_VOL_HOST_PATH)
    return agent_vol_host_path (json_object_get (volume, "hostPath"), out, err);
  if (k == AGENT_VOL_PVC)
    {
      ret = agent_vol_pvc (ctx, json_object_get (volume, "persistentVolumeClaim"), out, err);
      return ret < 0 ? husk_err_wrap (err, "MountVolume.SetUp failed for volume \"%s\" ", name) : 0;
    }
  if (k == AGENT_VOL_UNKNOWN)
    return husk_err (err, ENOTSUP, "volume \"%s\": this kind of volume is not supported", name);
  _cleanup_free_ char *dir = volume_dir (pods_dir, uid, k, name);
  if (k == AGENT_VOL_EMPTY_DIR)
    {
      json_t *ed = json_object_get (volume, "emptyDir");
      const char *medium = json_string_value (json_object_get (ed, "medium"));
      if (medium && streq (medium, "Memory"))
        ret = agent_vol_tmpfs (dir, agent_vol_memory_size (ctx, ed), 0777, err);
      else
        ret = agent_vol_empty_dir (ed, dir, err);
      if (ret < 0)
        return husk_err_wrap (err, "volume \"%s\"", name);
      *out = TAKE_PTR (dir);
      return 0;
    }
  agent_vol_payload *p = NULL;
  ret = agent_vol_payload_for (ctx, volume, &p, err);
  if (ret < 0)
    return ret;
  if (k == AGENT_VOL_SECRET || k == AGENT_VOL_PROJECTED)
    ret = agent_vol_tmpfs (dir, 0, 0755, err);
  if (ret >= 0)
    ret = agent_atomic_write (dir, p, fs_group, NULL, err);
  agent_vol_payload_free (p);
  if (ret < 0)
    return husk_err_wrap (err, "MountVolume.SetUp failed for volume \"%s\" ", name);
  *out = TAKE_PTR (dir);
  return 0;
}

int
agent_vol_teardown_pod (const char *pods_dir, const char *uid, husk_error **err)
{
  if (!uid || !*uid || strchr (uid, '/') || uid[0] == '.')
    return husk_err (err, EINVAL, "pod without a valid uid");
  _cleanup_free_ char *root = xasprintf ("%s/%s/volumes", pods_dir, uid);
  DIR *d = opendir (root);
  if (!d)
    return errno == ENOENT ? 0 : husk_err_errno (err, "open %s", root);
  struct dirent *plugin;
  int ret = 0;
  while ((plugin = readdir (d)) && ret >= 0)
    {
      if (plugin->d_name[0] == '.')
        continue;
      _cleanup_free_ char *pdir = xasprintf ("%s/%s", root, plugin->d_name);
      DIR *pd = opendir (pdir);
      if (!pd)
        continue;
      struct dirent *v;
      while ((v = readdir (pd)) && ret >= 0)
        {
          if (v->d_name[0] == '.')
            continue;
          _cleanup_free_ char *vdir = xasprintf ("%s/%s", pdir, v->d_name);
          ret = agent_vol_umount (vdir, err);
        }
      closedir (pd);
    }
  closedir (d);
  if (ret < 0)
    return ret;
  return husk_rm_rf (root, err);
}
