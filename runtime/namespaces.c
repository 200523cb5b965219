/* husk runtime: namespace names, joining by path, user namespace id maps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#include "lib/buf.h"
#include "runtime/internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  const char *oci, *proc;
  int flag;
} ns_table[RT_NS_COUNT] = {
  [RT_NS_USER] = {"user", "user", CLONE_NEWUSER},
  [RT_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
  [RT_NS_PID] = {"pid", "pid", CLONE_NEWPID},
  [RT_NS_NET] = {"network", "net", CLONE_NEWNET},
  [RT_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
  [RT_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
  [RT_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
  [RT_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

int
rt_ns_type_from_name (const char *name)
{
  for (int i = 0; i < RT_NS_COUNT; i++)
    if (streq (ns_table[i].oci, name))
      return i;
  return -1;
}

const char *
rt_ns_name (int type)
{
  return ns_table[type].oci;
}

const char *
rt_ns_proc_name (int type)
{
  return ns_table[type].proc;
}

int
rt_ns_clone_flag (int type)
{
  return ns_table[type].flag;
}

/* User first (it grants the rights to join the others), mount last (it changes the view
   of every later path). */
static const int join_order[] = {RT_NS_USER, RT_NS_PID,    RT_NS_NET,  RT_NS_IPC,
                                 RT_NS_UTS,  RT_NS_CGROUP, RT_NS_TIME, RT_NS_MOUNT};

int
rt_ns_join_paths (const rt_spec *spec, husk_error **err)
{
  int fds[RT_NS_COUNT];
  for (int i = 0; i < RT_NS_COUNT; i++)
    fds[i] = -1;
  /* Open every path first: after joining the mount ns they may no longer be reachable. */
  int r = 0;
  for (int i = 0; i < RT_NS_COUNT && r == 0; i++)
    if (spec->ns[i].path)
      {
        fds[i] = open (spec->ns[i].path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
          r = husk_err_errno (err, "open %s namespace %s", rt_ns_name (i), spec->ns[i].path);
      }
  for (size_t k = 0; k < ARRAY_SIZE (join_order) && r == 0; k++)
    {
      int i = join_order[k];
      if (fds[i] >= 0 && setns (fds[i], ns_table[i].flag) < 0)
        r = husk_err_errno (err, "join %s namespace %s", rt_ns_name (i), spec->ns[i].path);
    }
  for (int i = 0; i < RT_NS_COUNT; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  return r;
}

int
rt_ns_unshare_flags (const rt_spec *spec)
{
  int flags = 0;
  for (int i = 0; i < RT_NS_COUNT; i++)
    if (i != RT_NS_USER && spec->ns[i].present && spec->ns[i].path == NULL)
      flags |= ns_table[i].flag;
  return flags;
}

static int
write_map (pid_t pid, const char *file, const rt_idmap *m, size_t n, husk_error **err)
{
  _cleanup_buf_ husk_buf b = HUSK_BUF_INIT;
  for (size_t i = 0; i < n; i++)
    husk_buf_printf (&b, "%u %u %u\n", m[i].container, m[i].host, m[i].size);
  _cleanup_free_ char *path = xasprintf ("/proc/%d/%s", (int) pid, file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  if (write (fd, husk_buf_str (&b), b.len) != (ssize_t) b.len)
    return husk_err_errno (err, "write %s (\"%s\")", file, husk_buf_str (&b));
  return 0;
}

int
rt_ns_write_idmaps (pid_t pid, const rt_spec *spec, husk_error **err)
{
  int r = write_map (pid, "uid_map", spec->uid_maps, spec->n_uid_maps, err);
  if (r < 0)
    return husk_err_wrap (err, "linux.uidMappings");
  r = write_map (pid, "gid_map", spec->gid_maps, spec->n_gid_maps, err);
  if (r < 0)
    return husk_err_wrap (err, "linux.gidMappings");
  return 0;
}
