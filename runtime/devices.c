/* husk runtime: device nodes in the container's /dev and its standard symlinks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/path.h"
#include "runtime/internal.h"

static const rt_device default_devices[] = {
  {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
  {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
  {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static bool
dev_is_bind (const rt_spec *spec)
{
  for (size_t i = 0; i < spec->nmounts; i++)
    if (streq (spec->mounts[i].dest, "/dev") && spec->mounts[i].bind)
      return true;
  return false;
}

static int
bind_device (const rt_device *d, const char *target, husk_error **err)
{
  _cleanup_close_ int fd = open (target, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    return husk_err_errno (err, "create %s", d->path);
  if (mount (d->path, target, NULL, MS_BIND, NULL) < 0)
    return husk_err_errno (err, "bind device %s", d->path);
  return 0;
}

static int
create_device (const rt_spec *spec, const rt_device *d, bool in_userns, husk_error **err)
{
  _cleanup_free_ char *target = NULL;
  int r = husk_path_resolve_in_root (spec->rootfs, d->path, &target, err);
  if (r < 0)
    return r;
  _cleanup_free_ char *dir = xstrdup (target);
  *strrchr (dir, '/') = '\0';
  if ((r = rt_mkdir_p (dir, 0755, err)) < 0)
    return r;
  if (in_userns)
    return bind_device (d, target, err);
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = makedev (d->major, d->minor);
  /* Usually a fresh tmpfs: replace what is there only when needed. */
  r = mknod (target, type | (d->mode & 07777), dev);
  if (r < 0 && errno == EEXIST && unlink (target) == 0)
    r = mknod (target, type | (d->mode & 07777), dev);
  if (r < 0)
    {
      if (errno == EPERM)
        return bind_device (d, target, err);
      return husk_err_errno (err, "mknod %s", d->path);
    }
  if (chmod (target, d->mode & 07777) < 0 || chown (target, d->uid, d->gid) < 0)
    return husk_err_errno (err, "set owner and mode of %s", d->path);
  return 0;
}

int
rt_devices_create (const rt_spec *spec, bool in_userns, husk_error **err)
{
  int r;
  if (!dev_is_bind (spec))
    for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
      if ((r = create_device (spec, &default_devices[i], in_userns, err)) < 0)
        return r;
  for (size_t i = 0; i < spec->ndevices; i++)
    if ((r = create_device (spec, &spec->devices[i], in_userns, err)) < 0)
      return husk_err_wrap (err, "linux.devices[%zu]", i);
  return 0;
}

int
rt_devices_symlinks (const rt_spec *spec, husk_error **err)
{
  static const char *const links[][2] = {
    {"/proc/self/fd", "/dev/fd"},     {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    {"pts/ptmx", "/dev/ptmx"},
  };
  if (dev_is_bind (spec))
    return 0;
  _cleanup_free_ char *dir = xasprintf ("%s/dev", spec->rootfs);
  struct stat st;
  if (stat (dir, &st) < 0)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (links); i++)
    {
      _cleanup_free_ char *target = xasprintf ("%s%s", spec->rootfs, links[i][1]);
      if (streq (links[i][1], "/dev/ptmx"))
        unlink (target); /* a /dev/ptmx device would bypass the container's devpts */
      if (symlink (links[i][0], target) < 0 && errno != EEXIST)
        return husk_err_errno (err, "symlink %s", links[i][1]);
    }
  return 0;
}
