/* husk runtime: small file helpers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "lib/path.h"
#include "runtime/internal.h"

int
rt_write_file (const char *path, const char *data, husk_error **err)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", path);
  size_t len = strlen (data);
  if (write (fd, data, len) != (ssize_t) len)
    return husk_err_errno (err, "write %s (\"%s\")", path, data);
  return 0;
}

int
rt_write_pid_file (const char *path, pid_t pid, husk_error **err)
{
  char v[16];
  snprintf (v, sizeof v, "%d", (int) pid);
  return rt_write_file_atomic (path, v, 0644, err);
}

int
rt_mkdir_p (const char *path, mode_t mode, husk_error **err)
{
  if (mkdir (path, mode) == 0)
    return 0;
  if (errno == ENOENT)
    return husk_mkdir_p (path, mode, err);
  struct stat st;
  if (errno != EEXIST || stat (path, &st) < 0 || !S_ISDIR (st.st_mode))
    return husk_err_sys (err, errno == EEXIST ? ENOTDIR : errno, "mkdir %s", path);
  return 0;
}

bool
rt_skip_limits_env (void)
{
  const char *v = getenv (RT_ENV_SKIP_LIMITS);
  return v && *v && !streq (v, "0") && !streq (v, "false");
}

/* State under --root lives on a tmpfs (/run) and dies with the machine's containers, so it
   is replaced atomically (write + rename) but not fsync'ed. */
int
rt_write_file_atomic (const char *path, const char *data, mode_t mode, husk_error **err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s.tmp%d", path, (int) getpid ());
  _cleanup_close_ int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return husk_err_errno (err, "create %s", tmp);
  size_t len = strlen (data);
  if (write (fd, data, len) != (ssize_t) len)
    {
      int r = husk_err_errno (err, "write %s", tmp);
      unlink (tmp);
      return r;
    }
  if (rename (tmp, path) < 0)
    {
      int r = husk_err_errno (err, "rename %s", tmp);
      unlink (tmp);
      return r;
    }
  return 0;
}

static bool
single_threaded (void)
{
  _cleanup_free_ char *data = NULL;
  if (husk_read_file ("/proc/self/stat", &data, NULL, NULL) < 0)
    return false;
  char *p = strrchr (data, ')');
  /* num_threads is field 20; fields after ')' start at 3. */
  for (int field = 2; p && field < 20; field++)
    p = strchr (p + 1, ' ');
  return p && atoi (p + 1) == 1;
}

static pid_t
clone3_into (const char *cgroup_path, uint64_t flags)
{
  int cg = open (cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0)
    return -1;
  struct clone_args args = {.flags = CLONE_INTO_CGROUP | flags,
                            .exit_signal = SIGCHLD,
                            .cgroup = (uint64_t) cg};
  fflush (NULL);
  pid_t pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    return 0;
  int e = errno;
  close (cg);
  errno = e;
  return pid;
}

pid_t
rt_fork_into_cgroup (const char *cgroup_path, bool *entered)
{
  *entered = false;
  /* clone3 skips libc's fork handlers: only safe when no other thread may hold a lock. */
  if (cgroup_path && single_threaded ())
    {
      pid_t pid = clone3_into (cgroup_path, 0);
      if (pid >= 0)
        {
          *entered = pid > 0;
          return pid;
        }
    }
  fflush (NULL);
  return fork ();
}

pid_t
rt_clone_container (const char *cgroup_path, int ns_flags)
{
  if (!single_threaded ())
    {
      errno = EAGAIN;
      return -1;
    }
  return clone3_into (cgroup_path, (uint64_t) (unsigned) ns_flags);
}
