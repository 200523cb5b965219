/* husk runtime: the two processes that build a container.
   stage 1 joins namespaces given by path, creates the user namespace (the runtime writes its
   maps), unshares the other namespaces and forks stage 2, the container's init (pid 1 of a
   new pid ns). Stage 2 builds the rootfs, pivots, applies the process settings, reports
   READY and blocks on exec.fifo until `start`; then it execs process.args.
   Every failure goes back to the runtime as an RT_MSG_ERROR carrying the message. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "runtime/init.h"

static void
wait_go (int sync, char **payload)
{
  int t = rt_sync_recv (sync, payload);
  if (t != RT_MSG_GO)
    _exit (1); /* the runtime went away or failed: it cleans up */
}

static int
write_time_offsets (const rt_spec *spec, husk_error **err)
{
  const char *k;
  json_t *v;
  json_object_foreach (spec->time_offsets, k, v)
  {
    char line[128];
    snprintf (line, sizeof line, "%s %lld %lld", k,
              (long long) json_integer_value (json_object_get (v, "secs")),
              (long long) json_integer_value (json_object_get (v, "nanosecs")));
    int r = rt_write_file ("/proc/self/timens_offsets", line, err);
    if (r < 0)
      return husk_err_wrap (err, "linux.timeOffsets.%s", k);
  }
  return 0;
}

static int
stage1_namespaces (const rt_spec *spec, int sync, husk_error **err)
{
  int r = rt_ns_join_paths (spec, err);
  if (r < 0)
    return r;
  if (spec->ns[RT_NS_USER].present && spec->ns[RT_NS_USER].path == NULL)
    {
      if (unshare (CLONE_NEWUSER) < 0)
        return husk_err_errno (err, "create user namespace");
      if (rt_sync_send (sync, RT_MSG_USERMAP, NULL, 0) < 0)
        _exit (1);
      wait_go (sync, NULL);
      if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        return husk_err_errno (err, "become root in the user namespace (is 0 mapped?)");
    }
  int flags = rt_ns_unshare_flags (spec);
  if (flags && unshare (flags) < 0)
    return husk_err_errno (err, "create namespaces");
  if (spec->time_offsets && (r = write_time_offsets (spec, err)) < 0)
    return r;
  return 0;
}

static _noreturn_ void stage2 (const rt_spec *spec, const rt_init_args *a);

static void
child_fds (rt_init_args *a)
{
  _cleanup_error_ husk_error *err = NULL;
  int *const keep[] = {&a->sync, &a->fifo_fd, &a->console_socket};
  if (rt_child_fds (a->stdio, a->preserve_fds, keep, ARRAY_SIZE (keep), &err) < 0)
    rt_child_fail (a->sync, err);
}

void
rt_init_direct (const rt_spec *spec, rt_init_args *a)
{
  child_fds (a);
  stage2 (spec, a);
}

void
rt_init_stage1 (const rt_spec *spec, rt_init_args *a)
{
  _cleanup_error_ husk_error *err = NULL;
  child_fds (a);
  wait_go (a->sync, NULL);
  if (stage1_namespaces (spec, a->sync, &err) < 0)
    rt_child_fail (a->sync, err);
  pid_t pid = fork ();
  if (pid < 0)
    {
      husk_err_errno (&err, "fork container init");
      rt_child_fail (a->sync, err);
    }
  if (pid == 0)
    stage2 (spec, a);
  char v[16];
  snprintf (v, sizeof v, "%d", (int) pid);
  rt_sync_send (a->sync, RT_MSG_PID, v, strlen (v));
  _exit (0);
}

static int
set_names (const rt_spec *spec, husk_error **err)
{
  if (spec->hostname && *spec->hostname
      && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return husk_err_errno (err, "hostname: sethostname \"%s\"", spec->hostname);
  if (spec->domainname && *spec->domainname
      && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return husk_err_errno (err, "domainname: setdomainname \"%s\"", spec->domainname);
  if (spec->has_personality && personality (spec->personality) < 0)
    return husk_err_errno (err, "linux.personality");
  return 0;
}

/* A network namespace the runtime created gets its loopback up, as crun does: pods and
   containers expect 127.0.0.1 to work before (or without) any CNI plugin. */
static int
loopback_up (const rt_spec *spec, husk_error **err)
{
  if (!spec->ns[RT_NS_NET].present || spec->ns[RT_NS_NET].path != NULL)
    return 0;
  _cleanup_close_ int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return husk_err_errno (err, "network namespace: socket");
  struct ifreq ifr = {.ifr_name = "lo"};
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return husk_err_errno (err, "network namespace: flags of lo");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return husk_err_errno (err, "network namespace: bring lo up");
  return 0;
}

/* Everything up to READY; errors go back to `create`. */
static int
stage2_setup (const rt_spec *spec, const rt_init_args *a, const char *state, char **exe,
              int *fifo_fd, int *proc_fd, husk_error **err)
{
  int r;
  bool own_mnt = spec->ns[RT_NS_MOUNT].path == NULL;
  if (setsid () < 0)
    return husk_err_errno (err, "setsid");
  if (own_mnt && (r = rt_mount_setup_rootfs (spec, err)) < 0)
    return r;
  if (spec->hooks[RT_HOOK_PRESTART].n || spec->hooks[RT_HOOK_CREATE_RUNTIME].n)
    {
      if (rt_sync_send (a->sync, RT_MSG_HOOKS, NULL, 0) < 0)
        _exit (1);
      wait_go (a->sync, NULL);
    }
  if ((r = rt_hooks_run (&spec->hooks[RT_HOOK_CREATE_CONTAINER], "createContainer", state, err))
      < 0)
    return r;
  *fifo_fd = a->fifo_fd;
  if (!a->run && (*proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return husk_err_errno (err, "open /proc");
  if (own_mnt && (r = rt_mount_do_pivot (spec, a->no_pivot, err)) < 0)
    return r;
  if ((r = set_names (spec, err)) < 0 || (r = loopback_up (spec, err)) < 0
      || (own_mnt && (r = rt_mount_finish (spec, err)) < 0))
    return r;
  if (spec->proc.terminal
      && (r = rt_terminal_setup (a->console_socket, a->rows ? a->rows : spec->proc.rows,
                                 a->cols ? a->cols : spec->proc.cols, true, err))
             < 0)
    return r;
  if ((r = rt_process_setup_limits (&spec->proc, err)) < 0)
    return r;
  if (chdir (spec->proc.cwd) < 0)
    return husk_err_errno (err, "process.cwd: chdir %s", spec->proc.cwd);
  return rt_process_find_exe (&spec->proc, exe, err);
}

/* After the start point: with run the runtime still listens, else it has returned and the
   message goes to the container's stderr. what (may be NULL) prefixes err; without err,
   errno tells. */
static _noreturn_ void
fatal (const rt_init_args *a, const char *what, husk_error *err)
{
  _cleanup_error_ husk_error *own = NULL;
  if (err == NULL)
    husk_err_errno (&own, "%s", what ? what : "container init");
  else if (what)
    husk_err_wrap (&err, "%s", what);
  husk_error *e = err ? err : own;
  if (a->run)
    rt_child_fail (a->sync, e);
  dprintf (2, "husk-runtime: %s\n", e->msg);
  _exit (127);
}

/* Blocks until `start` opens the fifo for reading. */
static void
wait_start (const rt_init_args *a, int fifo_fd, int proc_fd)
{
  rt_sync_send (a->sync, RT_MSG_READY, NULL, 0);
  close (a->sync);
  char path[64];
  snprintf (path, sizeof path, "self/fd/%d", fifo_fd);
  int w = openat (proc_fd, path, O_WRONLY | O_CLOEXEC);
  if (w < 0 || write (w, "0", 1) != 1)
    fatal (a, "exec.fifo", NULL);
  close (w);
  close (fifo_fd);
}

static void
stage2 (const rt_spec *spec, const rt_init_args *a)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *state = NULL, *exe = NULL;
  int fifo_fd = -1, proc_fd = -1;
  if (a->want_state)
    wait_go (a->sync, &state);
  if (stage2_setup (spec, a, state, &exe, &fifo_fd, &proc_fd, &err) < 0)
    rt_child_fail (a->sync, err);
  if (a->console_socket >= 0)
    close (a->console_socket);
  if (!a->run)
    wait_start (a, fifo_fd, proc_fd);
  if (proc_fd >= 0)
    close (proc_fd);
  if (rt_hooks_run (&spec->hooks[RT_HOOK_START_CONTAINER], "startContainer", state, &err) < 0)
    fatal (a, "hooks", err);
  close_range (3 + (unsigned) a->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  if (rt_process_finalize (&spec->proc, spec->seccomp, &err) < 0)
    fatal (a, "process", err);
  int e = -rt_process_exec (&spec->proc, exe);
  husk_err_sys (&err, e, "exec %s", exe);
  fatal (a, NULL, err);
}
