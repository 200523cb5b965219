/* husk node: the pod cgroup's limits (<root>/husk/pod-<uid>), as kubelet's
   ResourceConfigForPod sets them on kubepods/<qos>/pod<uid>; the values come from
   agent_pod_cgroup (src/node/agent/resources.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "src/node/agent/podspec.h"
#include "src/node/node-internal.h"

/* Writes value into dir/file; 1 when the file is missing (its controller is not enabled
   here), 0 when written. */
static int
cg_write (const char *dir, const char *file, const char *value, husk_error **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return 1;
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  size_t len = strlen (value);
  ssize_t n = write (fd, value, len);
  int saved = errno;
  close (fd);
  if (n != (ssize_t) len)
    {
      errno = n < 0 ? saved : EIO;
      return husk_err_errno (err, "write %s to %s", value, path);
    }
  return 0;
}

int
pod_cgroup_limits (node_agent *a, node_pod *p, const char *dir, husk_error **err)
{
  /* Memory first: a lower memory.max than the pod's usage would reclaim, and nothing runs
     in the pod yet. */
  static const char *const files[] = {"memory.low", "memory.max", "cpu.weight", "cpu.max",
                                      "pids.max"};
  if (!a->limits_enforced) /* warned once at start (node.c setup_cgroups) */
    return 0;
  agent_cgroup_res res;
  int r = agent_pod_cgroup (p->obj, a->pod_max_pids, &res, err);
  if (r < 0)
    return husk_err_wrap (err, "pod cgroup %s", dir);
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_free_ char *v = agent_cgroup_value (&res, files[i]);
      r = cg_write (dir, files[i], v, err);
      if (r < 0)
        return husk_err_wrap (err, "pod cgroup limits");
      if (r > 0 && strncmp (v, "max", 3) != 0)
        log_warn ("pod cgroup: controller not enabled, limit not set", "cgroup", dir, "file",
                  files[i], "value", v);
    }
  return 0;
}
