/* husk runtime: the container's mounts, pivot_root (or MS_MOVE + chroot), masked and
   read-only paths, read-only root. Runs in the container's init, in its mount ns. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "lib/path.h"
#include "runtime/internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

typedef struct mopt
{
  const char *name;
  bool clear;
  unsigned long flag;
} mopt;

static const mopt flag_opts[] = {
  {"defaults", false, 0},         {"ro", false, MS_RDONLY},
  {"rw", true, MS_RDONLY},        {"suid", true, MS_NOSUID},
  {"nosuid", false, MS_NOSUID},   {"dev", true, MS_NODEV},
  {"nodev", false, MS_NODEV},     {"exec", true, MS_NOEXEC},
  {"noexec", false, MS_NOEXEC},   {"sync", false, MS_SYNCHRONOUS},
  {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC},
  {"remount", false, MS_REMOUNT}, {"mand", false, MS_MANDLOCK},
  {"nomand", true, MS_MANDLOCK},  {"atime", true, MS_NOATIME},
  {"noatime", false, MS_NOATIME}, {"diratime", true, MS_NODIRATIME},
  {"nodiratime", false, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
  {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
  {"nostrictatime", true, MS_STRICTATIME}, {"lazytime", false, MS_LAZYTIME},
  {"nolazytime", true, MS_LAZYTIME}, {"silent", false, MS_SILENT},
  {"loud", true, MS_SILENT},      {"iversion", false, MS_I_VERSION},
  {"noiversion", true, MS_I_VERSION}, {"nosymfollow", false, MS_NOSYMFOLLOW},
  {"symfollow", true, MS_NOSYMFOLLOW},
};

static const mopt prop_opts[] = {
  {"private", false, MS_PRIVATE},     {"rprivate", false, MS_PRIVATE | MS_REC},
  {"shared", false, MS_SHARED},       {"rshared", false, MS_SHARED | MS_REC},
  {"slave", false, MS_SLAVE},         {"rslave", false, MS_SLAVE | MS_REC},
  {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

static const mopt rec_opts[] = {
  {"rro", false, MOUNT_ATTR_RDONLY},       {"rrw", true, MOUNT_ATTR_RDONLY},
  {"rnosuid", false, MOUNT_ATTR_NOSUID},   {"rsuid", true, MOUNT_ATTR_NOSUID},
  {"rnodev", false, MOUNT_ATTR_NODEV},     {"rdev", true, MOUNT_ATTR_NODEV},
  {"rnoexec", false, MOUNT_ATTR_NOEXEC},   {"rexec", true, MOUNT_ATTR_NOEXEC},
  {"rnodiratime", false, MOUNT_ATTR_NODIRATIME}, {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
  {"rnoatime", false, MOUNT_ATTR_NOATIME}, {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
  {"rrelatime", false, MOUNT_ATTR_RELATIME},
};

static const mopt *
find_opt (const mopt *t, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (streq (t[i].name, name))
      return &t[i];
  return NULL;
}

int
rt_mount_parse_options (json_t *options, const char *where, rt_mount *m, husk_error **err)
{
  _cleanup_buf_ husk_buf data = HUSK_BUF_INIT;
  size_t i;
  json_t *o;
  json_array_foreach (options, i, o)
  {
    const char *s = json_string_value (o);
    const mopt *f;
    if (streq (s, "bind") || streq (s, "rbind"))
      {
        m->bind = true;
        m->rec = m->rec || s[0] == 'r';
      }
    else if ((f = find_opt (flag_opts, ARRAY_SIZE (flag_opts), s)))
      m->flags = f->clear ? (m->flags & ~f->flag) : (m->flags | f->flag);
    else if ((f = find_opt (prop_opts, ARRAY_SIZE (prop_opts), s)))
      m->propagation = f->flag;
    else if ((f = find_opt (rec_opts, ARRAY_SIZE (rec_opts), s)))
      {
        if (f->clear)
          m->attr_clr |= f->flag;
        else
          m->attr_set |= f->flag;
        if (f->flag & MOUNT_ATTR__ATIME)
          m->attr_clr |= MOUNT_ATTR__ATIME;
      }
    else if (streq (s, "idmap") || streq (s, "ridmap") || streq (s, "tmpcopyup"))
      return husk_err (err, EINVAL, "%s.options[%zu]: \"%s\" is not supported", where, i, s);
    else if (*s == '\0' || strchr (s, ','))
      return husk_err (err, EINVAL, "%s.options[%zu]: invalid option \"%s\"", where, i, s);
    else
      {
        if (data.len)
          husk_buf_putc (&data, ',');
        husk_buf_puts (&data, s);
      }
  }
  m->data = data.len ? husk_buf_steal (&data) : NULL;
  return 0;
}

/* Flags the kernel refuses to drop on a bind remount inside a user namespace. */
static unsigned long
locked_flags (const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

static int
remount_bind (const char *target, unsigned long flags, husk_error **err)
{
  unsigned long f = MS_REMOUNT | MS_BIND | flags;
  if (mount (NULL, target, NULL, f, NULL) == 0)
    return 0;
  if (errno == EPERM && mount (NULL, target, NULL, f | locked_flags (target), NULL) == 0)
    return 0;
  return husk_err_errno (err, "remount %s", target);
}

/* Creates what a mount needs to land on: a file for a file bind, else a directory. */
static int
make_target (const char *target, const rt_mount *m, husk_error **err)
{
  struct stat st;
  bool want_file = false;
  if (m->bind && m->source && stat (m->source, &st) == 0 && !S_ISDIR (st.st_mode))
    want_file = true;
  if (lstat (target, &st) == 0)
    return 0;
  if (!want_file)
    return rt_mkdir_p (target, 0755, err);
  _cleanup_free_ char *dir = xstrdup (target);
  char *slash = strrchr (dir, '/');
  if (slash && slash != dir)
    *slash = '\0';
  int r = rt_mkdir_p (dir, 0755, err);
  if (r < 0)
    return r;
  _cleanup_close_ int fd = open (target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return husk_err_errno (err, "create %s", target);
  return 0;
}

static int
cgroup_rel (char **out)
{
  _cleanup_free_ char *data = NULL;
  if (husk_read_file ("/proc/self/cgroup", &data, NULL, NULL) < 0 || data == NULL)
    return -1;
  char *save = NULL;
  for (char *line = strtok_r (data, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "0::", 3) == 0)
      {
        *out = xstrdup (line + 3);
        return 0;
      }
  return -1;
}

static int
mount_cgroup (const rt_spec *spec, const rt_mount *m, const char *target, husk_error **err)
{
  unsigned long flags = m->flags & ~MS_REMOUNT;
  if (spec->ns[RT_NS_CGROUP].present)
    {
      if (mount ("cgroup2", target, "cgroup2", flags, NULL) == 0)
        return 0;
      if (errno != EPERM && errno != EBUSY)
        return husk_err_errno (err, "mount cgroup2 on %s", m->dest);
    }
  /* Without a cgroup namespace, show only the container's own cgroup. */
  const char *mnt;
  _cleanup_free_ char *rel = NULL;
  if (rt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  if (cgroup_rel (&rel) < 0)
    return husk_err (err, ENOENT, "mount cgroup on %s: no cgroup2 entry in /proc/self/cgroup",
                     m->dest);
  _cleanup_free_ char *src = xasprintf ("%s%s", mnt, rel);
  if (mount (src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return husk_err_errno (err, "bind %s on %s", src, m->dest);
  return remount_bind (target, flags, err);
}

static int
mount_one (const rt_spec *spec, const rt_mount *m, husk_error **err)
{
  _cleanup_free_ char *target = NULL;
  int r = husk_path_resolve_in_root (spec->rootfs, m->dest, &target, err);
  if (r < 0)
    return r;
  r = make_target (target, m, err);
  if (r < 0)
    return r;
  unsigned long flags = m->flags & ~MS_REMOUNT;
  if (m->bind)
    {
      if (mount (m->source, target, NULL, MS_BIND | (m->rec ? MS_REC : 0), NULL) < 0)
        return husk_err_errno (err, "bind %s on %s", m->source, m->dest);
      if ((flags & ~MS_REC) && (r = remount_bind (target, flags, err)) < 0)
        return r;
    }
  else if (streq (m->type, "cgroup") || streq (m->type, "cgroup2"))
    {
      if ((r = mount_cgroup (spec, m, target, err)) < 0)
        return r;
    }
  else if (mount (m->source ? m->source : m->type, target, m->type, flags, m->data) < 0)
    {
      bool userns = spec->ns[RT_NS_USER].present;
      /* sysfs and mqueue cannot be mounted from a user ns that does not own the net or ipc
         ns: show the host's, as runc does. */
      if (errno == EPERM && userns && (streq (m->type, "sysfs") || streq (m->type, "mqueue")))
        {
          const char *host = streq (m->type, "sysfs") ? "/sys" : "/dev/mqueue";
          if (mount (host, target, NULL, MS_BIND | MS_REC, NULL) < 0)
            return husk_err_errno (err, "bind %s on %s", host, m->dest);
          if ((r = remount_bind (target, flags, err)) < 0)
            return r;
        }
      else
        return husk_err_errno (err, "mount %s (%s%s%s) on %s", m->type, m->source ? m->source : "",
                               m->data ? ", " : "", m->data ? m->data : "", m->dest);
    }
  if (m->propagation && mount (NULL, target, NULL, m->propagation, NULL) < 0)
    return husk_err_errno (err, "set propagation of %s", m->dest);
  if (m->attr_set || m->attr_clr)
    {
      struct mount_attr a = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
      if (syscall (SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a, sizeof a) < 0)
        return husk_err_errno (err, "set recursive attributes of %s", m->dest);
    }
  return 0;
}

int
rt_mount_setup_rootfs (const rt_spec *spec, husk_error **err)
{
  unsigned long prop = spec->rootfs_propagation;
  if (prop & MS_SHARED)
    prop = MS_SLAVE | MS_REC;
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return husk_err_errno (err, "set propagation of /");
  if (mount (spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return husk_err_errno (err, "bind rootfs %s", spec->rootfs);
  for (size_t i = 0; i < spec->nmounts; i++)
    {
      int r = mount_one (spec, &spec->mounts[i], err);
      if (r < 0)
        return husk_err_wrap (err, "mounts[%zu]", i);
    }
  bool userns = spec->ns[RT_NS_USER].present;
  int r = rt_devices_create (spec, userns, err);
  if (r < 0)
    return r;
  return rt_devices_symlinks (spec, err);
}

int
rt_mount_do_pivot (const rt_spec *spec, bool no_pivot, husk_error **err)
{
  if (chdir (spec->rootfs) < 0)
    return husk_err_errno (err, "chdir %s", spec->rootfs);
  if (!no_pivot)
    {
      if (syscall (SYS_pivot_root, ".", ".") == 0)
        {
          /* The old root is stacked under the new one: detach it without propagating. */
          if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
            return husk_err_errno (err, "make old root slave");
          if (umount2 (".", MNT_DETACH) < 0)
            return husk_err_errno (err, "detach old root");
          if (chdir ("/") < 0)
            return husk_err_errno (err, "chdir /");
          goto done;
        }
      if (errno != EINVAL)
        return husk_err_errno (err, "pivot_root %s", spec->rootfs);
      /* EINVAL: the current root cannot be pivoted (initramfs); move instead. */
    }
  if (mount (spec->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    return husk_err_errno (err, "move %s to /", spec->rootfs);
  if (chroot (".") < 0)
    return husk_err_errno (err, "chroot %s", spec->rootfs);
  if (chdir ("/") < 0)
    return husk_err_errno (err, "chdir /");
done:
  if ((spec->rootfs_propagation & MS_SHARED)
      && mount (NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
    return husk_err_errno (err, "set rootfs propagation");
  return 0;
}

static int
mask_path (const char *path, husk_error **err)
{
  struct stat st;
  if (stat (path, &st) < 0)
    return 0;
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
        return husk_err_errno (err, "linux.maskedPaths: %s", path);
    }
  else if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return husk_err_errno (err, "linux.maskedPaths: %s", path);
  return 0;
}

static int
readonly_path (const char *path, husk_error **err)
{
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return husk_err_errno (err, "linux.readonlyPaths: %s", path);
    }
  int r = remount_bind (path, MS_RDONLY | MS_REC, err);
  if (r < 0)
    return husk_err_wrap (err, "linux.readonlyPaths");
  return 0;
}

char *
rt_sysctl_path (const char *key)
{
  char *path = xstrdup (key);
  size_t first = strcspn (path, "./");
  if (path[first] == '.')
    for (char *p = path; *p; p++)
      *p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
  /* Every component a name under /proc/sys: none empty, "." or "..". */
  for (const char *c = path;; c++)
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        {
          free (path);
          return NULL;
        }
      c += n;
      if (*c == '\0')
        return path;
    }
}

static int
write_sysctl (const rt_sysctl *s, husk_error **err)
{
  _cleanup_free_ char *rel = rt_sysctl_path (s->key);
  if (rel == NULL)
    return husk_err (err, EINVAL, "linux.sysctl.%s: invalid name", s->key);
  _cleanup_free_ char *path = xasprintf ("/proc/sys/%s", rel);
  int r = rt_write_file (path, s->value, err);
  if (r < 0)
    return husk_err_wrap (err, "linux.sysctl.%s", s->key);
  return 0;
}

int
rt_mount_finish (const rt_spec *spec, husk_error **err)
{
  int r;
  for (size_t i = 0; i < spec->nsysctl; i++)
    if ((r = write_sysctl (&spec->sysctl[i], err)) < 0)
      return r;
  for (size_t i = 0; spec->readonly && spec->readonly[i]; i++)
    if ((r = readonly_path (spec->readonly[i], err)) < 0)
      return r;
  for (size_t i = 0; spec->masked && spec->masked[i]; i++)
    if ((r = mask_path (spec->masked[i], err)) < 0)
      return r;
  if (spec->root_readonly && (r = remount_bind ("/", MS_RDONLY, err)) < 0)
    return husk_err_wrap (err, "root.readonly");
  return 0;
}
