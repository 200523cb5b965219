/* husk runtime: exec a new process in a running container: all of its namespaces, its
   cgroup, its seccomp profile; its own process spec. Stage 1 joins the namespaces and
   forks stage 2 (inside the pid ns), which sets the process up and execs. The sync socket is
   close-on-exec: EOF after PID means the exec happened. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/internal.h"

typedef struct exec_ctx
{
  rt_state st;
  rt_process proc;
  rt_seccomp *seccomp;
  int fds[RT_NS_COUNT]; /* the init's namespaces that differ from ours */
  int sync;
  int console; /* the console socket, -1: none */
  const rt_exec_opts *opts;
} exec_ctx;

static const int join_order[] = {RT_NS_USER, RT_NS_PID,    RT_NS_NET,  RT_NS_IPC,
                                 RT_NS_UTS,  RT_NS_CGROUP, RT_NS_TIME, RT_NS_MOUNT};

static int
open_namespaces (exec_ctx *x, husk_error **err)
{
  json_t *arr = husk_json_path (x->st.config, "linux.namespaces"), *n;
  size_t i;
  json_array_foreach (arr, i, n)
  {
    int t = rt_ns_type_from_name (json_string_value (json_object_get (n, "type")));
    if (t < 0)
      continue;
    _cleanup_free_ char *theirs = xasprintf ("/proc/%d/ns/%s", (int) x->st.pid,
                                             rt_ns_proc_name (t));
    _cleanup_free_ char *ours = xasprintf ("/proc/self/ns/%s", rt_ns_proc_name (t));
    struct stat a, b;
    if (stat (theirs, &a) < 0)
      return husk_err_errno (err, "%s", theirs);
    if (stat (ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
      continue; /* already there (joining one's own user ns is refused) */
    x->fds[t] = open (theirs, O_RDONLY | O_CLOEXEC);
    if (x->fds[t] < 0)
      return husk_err_errno (err, "open %s", theirs);
  }
  return 0;
}

static _noreturn_ void
stage2 (exec_ctx *x)
{
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *exe = NULL;
  if (rt_sync_recv (x->sync, NULL) != RT_MSG_GO)
    _exit (1);
  if (x->proc.terminal
      && rt_terminal_setup (x->console, x->opts->console_rows ? x->opts->console_rows : x->proc.rows,
                            x->opts->console_cols ? x->opts->console_cols : x->proc.cols, false,
                            &err)
             < 0)
    rt_child_fail (x->sync, err);
  if (x->console >= 0)
    close (x->console);
  if (rt_process_setup_limits (&x->proc, &err) < 0 || chdir (x->proc.cwd) < 0)
    {
      if (err == NULL)
        husk_err_errno (&err, "process.cwd: chdir %s", x->proc.cwd);
      rt_child_fail (x->sync, err);
    }
  if (rt_process_find_exe (&x->proc, &exe, &err) < 0
      || rt_process_finalize (&x->proc, x->seccomp, &err) < 0)
    rt_child_fail (x->sync, err);
  int e = -rt_process_exec (&x->proc, exe);
  husk_err_sys (&err, e, "exec %s", exe);
  rt_child_fail (x->sync, err);
}

/* The caller's stdio on 0/1/2; only the runtime's fds survive. */
static void
child_fds (exec_ctx *x)
{
  _cleanup_error_ husk_error *err = NULL;
  int *keep[RT_NS_COUNT + 2] = {&x->sync, &x->console};
  for (int i = 0; i < RT_NS_COUNT; i++)
    keep[2 + i] = &x->fds[i];
  int stdio[3] = {x->opts->stdin_fd, x->opts->stdout_fd, x->opts->stderr_fd};
  if (rt_child_fds (stdio, x->opts->preserve_fds, keep, ARRAY_SIZE (keep), &err) < 0)
    rt_child_fail (x->sync, err);
}

static _noreturn_ void
stage1 (exec_ctx *x)
{
  _cleanup_error_ husk_error *err = NULL;
  child_fds (x);
  if (rt_sync_recv (x->sync, NULL) != RT_MSG_GO)
    _exit (1);
  for (size_t k = 0; k < ARRAY_SIZE (join_order); k++)
    {
      int t = join_order[k];
      if (x->fds[t] >= 0 && setns (x->fds[t], rt_ns_clone_flag (t)) < 0)
        {
          husk_err_errno (&err, "join %s namespace of container %s", rt_ns_name (t), x->st.id);
          rt_child_fail (x->sync, err);
        }
    }
  if (x->fds[RT_NS_USER] >= 0 && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      husk_err_errno (&err, "become root in the user namespace");
      rt_child_fail (x->sync, err);
    }
  pid_t pid = fork ();
  if (pid < 0)
    {
      husk_err_errno (&err, "fork");
      rt_child_fail (x->sync, err);
    }
  if (pid == 0)
    stage2 (x);
  char v[16];
  snprintf (v, sizeof v, "%d", (int) pid);
  rt_sync_send (x->sync, RT_MSG_PID, v, strlen (v));
  _exit (0);
}

static int
load_process (exec_ctx *x, json_t *process, husk_error **err)
{
  int r = rt_schema_check_process (process, "process", err);
  if (r < 0 || (r = rt_process_decode (process, "process", &x->proc, err)) < 0)
    return r;
  if (x->proc.args == NULL || x->proc.args[0] == NULL)
    return husk_err (err, EINVAL, "process.args: at least one argument is required");
  if (x->proc.terminal && x->opts->console_socket_fd < 0)
    return husk_err (err, EINVAL, "process.terminal is set: --console-socket is required");
  json_t *sc = husk_json_path (x->st.config, "linux.seccomp");
  if (sc && (r = rt_seccomp_build (sc, "linux.seccomp", &x->seccomp, err)) < 0)
    return r;
  return 0;
}

/* Runs stage 1 and 2; returns the host pid of the exec'd process. */
static int
spawn_and_drive (exec_ctx *x, pid_t *out, husk_error **err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return husk_err_errno (err, "socketpair");
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  bool entered = false;
  pid_t s1 = rt_fork_into_cgroup (x->st.cg.path, &entered);
  if (s1 < 0)
    return husk_err_errno (err, "fork");
  if (s1 == 0)
    {
      close (sv[0]);
      x->sync = sv[1];
      stage1 (x);
    }
  close (sv[1]);
  _cleanup_close_ int sync = sv[0];
  pid_t pid = 0;
  int r = entered ? 0 : rt_cgroup_enter (&x->st.cg, s1, err);
  if (r == 0 && rt_sync_send (sync, RT_MSG_GO, NULL, 0) < 0)
    r = husk_err_errno (err, "exec setup");
  _cleanup_free_ char *payload = NULL;
  int t = r == 0 ? rt_sync_recv (sync, &payload) : -1;
  waitpid (s1, NULL, 0);
  if (r == 0 && t == RT_MSG_PID)
    {
      pid = (pid_t) atoi (payload);
      free (TAKE_PTR (payload));
      if (rt_sync_send (sync, RT_MSG_GO, NULL, 0) < 0)
        r = husk_err_errno (err, "exec setup");
      else
        t = rt_sync_recv (sync, &payload);
    }
  if (r == 0 && t == RT_MSG_ERROR)
    r = husk_err (err, EIO, "%s", payload);
  else if (r == 0 && t != 0)
    r = husk_err (err, EIO, "exec setup failed");
  if (r < 0 && pid > 0)
    waitpid (pid, NULL, 0);
  if (r == 0)
    *out = pid;
  return r;
}

int
rt_container_exec (const char *root, const char *id, json_t *process, const rt_exec_opts *opts,
                   pid_t *pid_out, husk_error **err)
{
  exec_ctx x = {.sync = -1, .console = opts->console_socket_fd, .opts = opts};
  for (int i = 0; i < RT_NS_COUNT; i++)
    x.fds[i] = -1;
  int r = rt_state_load (root, id, &x.st, err);
  if (r < 0)
    return r;
  const char *status = rt_state_status (&x.st);
  if (!streq (status, "running") && !streq (status, "created"))
    r = husk_err (err, EINVAL, "cannot exec in a %s container", status);
  if (r == 0)
    r = load_process (&x, process, err);
  if (r == 0)
    r = open_namespaces (&x, err);
  pid_t pid = 0;
  if (r == 0)
    r = spawn_and_drive (&x, &pid, err);
  if (r == 0 && opts->pid_file)
    r = rt_write_pid_file (opts->pid_file, pid, err);
  if (r == 0)
    *pid_out = pid;
  for (int i = 0; i < RT_NS_COUNT; i++)
    if (x.fds[i] >= 0)
      close (x.fds[i]);
  rt_seccomp_free (x.seccomp);
  rt_process_clear (&x.proc);
  rt_state_clear (&x.st);
  return r;
}
