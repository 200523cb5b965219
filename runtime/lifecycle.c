/* husk runtime: start, state, kill, delete, list, pause, resume, update of containers
   recorded under the state root. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/log.h"
#include "lib/path.h"
#include "runtime/internal.h"

DEFINE_CLEANUP (rt_state *, rt_state_clear)

static int
load (const char *root, const char *id, rt_state *st, husk_error **err)
{
  return rt_state_load (root, id, st, err);
}

static char *
state_string (const rt_state *st, const char *status)
{
  _cleanup_json_ json_t *j = rt_state_to_json (st, status);
  return husk_json_dump (j);
}

/* Reads the fifo the init blocks on; gives up when the init dies first. */
static int
release_init (const rt_state *st, husk_error **err)
{
  _cleanup_free_ char *fifo = xasprintf ("%s/exec.fifo", st->dir);
  _cleanup_close_ int fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return husk_err_errno (err, "open %s", fifo);
  for (;;)
    {
      struct pollfd p = {fd, POLLIN, 0};
      int n = poll (&p, 1, 100);
      if (n > 0 && (p.revents & POLLIN))
        {
          char c;
          if (read (fd, &c, 1) == 1)
            break;
        }
      if (!rt_state_alive (st))
        return husk_err (err, ESRCH, "container %s: init process exited before start", st->id);
    }
  unlink (fifo);
  return 0;
}

int
rt_container_start (const char *root, const char *id, husk_error **err)
{
  _cleanup_ (rt_state_clearp) rt_state *stp = NULL;
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  stp = &st;
  const char *status = rt_state_status (&st);
  if (!streq (status, "created"))
    return husk_err (err, EINVAL, "cannot start a container that has %s",
                     streq (status, "stopped") ? "stopped" : "already been started");
  if ((r = release_init (&st, err)) < 0)
    return r;
  rt_hooks hooks[RT_HOOK_COUNT] = {0};
  if (rt_hooks_decode (json_object_get (st.config, "hooks"), hooks, NULL) == 0)
    {
      _cleanup_free_ char *s = state_string (&st, "running");
      _cleanup_error_ husk_error *herr = NULL;
      if (rt_hooks_run (&hooks[RT_HOOK_POSTSTART], "poststart", s, &herr) < 0)
        log_warn ("poststart hook failed", "id", id, "error", herr->msg);
    }
  rt_hooks_clear (hooks);
  return 0;
}

int
rt_container_state (const char *root, const char *id, json_t **out, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  *out = rt_state_to_json (&st, rt_state_status (&st));
  rt_state_clear (&st);
  return 0;
}

static int
signal_init (const rt_state *st, int sig, husk_error **err)
{
  int pfd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  if (pfd < 0 || rt_proc_start_time (st->pid) != st->start_time)
    {
      if (pfd >= 0)
        close (pfd);
      return husk_err (err, ESRCH, "container %s: process not running", st->id);
    }
  int r = (int) syscall (SYS_pidfd_send_signal, pfd, sig, NULL, 0);
  int e = errno;
  close (pfd);
  if (r < 0)
    return husk_err_sys (err, e, "signal %d to container %s", sig, st->id);
  return 0;
}

static int
signal_all (const rt_state *st, int sig, husk_error **err)
{
  if (sig == SIGKILL)
    return rt_cgroup_kill (&st->cg, err);
  pid_t *pids = NULL;
  size_t n = 0;
  int r = rt_cgroup_pids (&st->cg, &pids, &n, err);
  if (r < 0)
    return r;
  for (size_t i = 0; i < n; i++)
    kill (pids[i], sig);
  free (pids);
  return 0;
}

int
rt_container_kill (const char *root, const char *id, int sig, bool all, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  const char *status = rt_state_status (&st);
  if (streq (status, "stopped") && !all)
    r = husk_err (err, ESRCH, "container not running");
  else
    r = all ? signal_all (&st, sig, err) : signal_init (&st, sig, err);
  rt_state_clear (&st);
  return r;
}

static void
run_poststop (const rt_state *st)
{
  rt_hooks hooks[RT_HOOK_COUNT] = {0};
  if (rt_hooks_decode (json_object_get (st->config, "hooks"), hooks, NULL) == 0
      && hooks[RT_HOOK_POSTSTOP].n)
    {
      _cleanup_free_ char *s = state_string (st, "stopped");
      _cleanup_error_ husk_error *herr = NULL;
      if (rt_hooks_run (&hooks[RT_HOOK_POSTSTOP], "poststop", s, &herr) < 0)
        log_warn ("poststop hook failed", "id", st->id, "error", herr->msg);
    }
  rt_hooks_clear (hooks);
}

static int
kill_all (rt_state *st, husk_error **err)
{
  int r = rt_cgroup_kill (&st->cg, err);
  if (r < 0)
    return r;
  if (rt_state_alive (st))
    {
      kill (st->pid, SIGKILL);
      for (int i = 0; i < 1000 && rt_state_alive (st); i++)
        usleep (1000);
    }
  waitpid (st->pid, NULL, WNOHANG);
  return 0;
}

static int
delete_state (rt_state *st, bool force, husk_error **err)
{
  const char *status = rt_state_status (st);
  if (!force && (streq (status, "running") || streq (status, "paused")))
    return husk_err (err, EBUSY, "cannot delete container %s that is not stopped: %s", st->id,
                     status);
  bool alive = !streq (status, "stopped");
  /* Reap the init if it is our child (run, or the agent as subreaper). */
  if (!alive)
    waitpid (st->pid, NULL, WNOHANG);
  /* An empty cgroup goes at once; else every process in it is killed first. */
  int r = 0;
  if (alive || rmdir (st->cg.path) < 0)
    r = kill_all (st, err);
  if (r < 0)
    return r;
  run_poststop (st);
  if ((r = rt_cgroup_destroy (&st->cg, err)) < 0)
    return r;
  return husk_rm_rf (st->dir, err);
}

int
rt_container_delete (const char *root, const char *id, bool force, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  r = delete_state (&st, force, err);
  rt_state_clear (&st);
  return r;
}

int
rt_container_list (const char *root, json_t **out, husk_error **err)
{
  json_t *arr = json_array ();
  DIR *d = opendir (root);
  if (d == NULL)
    {
      if (errno == ENOENT)
        {
          *out = arr;
          return 0;
        }
      json_decref (arr);
      return husk_err_errno (err, "open %s", root);
    }
  struct dirent *e;
  while ((e = readdir (d)))
    {
      if (e->d_name[0] == '.')
        continue;
      rt_state st;
      if (load (root, e->d_name, &st, NULL) < 0)
        continue;
      json_array_append_new (arr, rt_state_to_json (&st, rt_state_status (&st)));
      rt_state_clear (&st);
    }
  closedir (d);
  *out = arr;
  return 0;
}

static int
freeze (const char *root, const char *id, bool frozen, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  const char *status = rt_state_status (&st);
  if (frozen && !streq (status, "running"))
    r = husk_err (err, EINVAL, "container not running");
  else if (!frozen && !streq (status, "paused"))
    r = husk_err (err, EINVAL, "container not paused");
  else
    r = rt_cgroup_freeze (&st.cg, frozen, err);
  rt_state_clear (&st);
  return r;
}

int
rt_container_pause (const char *root, const char *id, husk_error **err)
{
  return freeze (root, id, true, err);
}

int
rt_container_resume (const char *root, const char *id, husk_error **err)
{
  return freeze (root, id, false, err);
}

int
rt_container_update (const char *root, const char *id, json_t *resources, bool skip,
                     husk_error **err)
{
  int r = rt_schema_check_resources (resources, "resources", err);
  if (r < 0)
    return r;
  rt_state st;
  if ((r = load (root, id, &st, err)) < 0)
    return r;
  if (streq (rt_state_status (&st), "stopped"))
    r = husk_err (err, EINVAL, "container not running");
  else
    r = rt_cgroup_apply (&st.cg, resources, skip || rt_skip_limits_env (), err);
  if (r == 0 && json_object_get (resources, "devices"))
    r = rt_devices_cgroup (&st.cg, resources, NULL, err);
  if (r == 0)
    {
      /* Keep the recorded config in step, so that `state`-based tools see the new limits. */
      json_t *lin = json_object_get (st.config, "linux");
      if (lin == NULL)
        json_object_set_new (st.config, "linux", lin = json_object ());
      json_t *cur = json_object_get (lin, "resources");
      if (cur)
        json_object_update_recursive (cur, resources);
      else
        json_object_set (lin, "resources", resources);
      r = rt_state_save (&st, err);
    }
  rt_state_clear (&st);
  return r;
}

int
rt_container_pids (const char *root, const char *id, pid_t **out, size_t *n, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  r = rt_cgroup_pids (&st.cg, out, n, err);
  rt_state_clear (&st);
  return r;
}

int
rt_container_stats (const char *root, const char *id, json_t **out, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  r = rt_cgroup_stats (&st.cg, out, err);
  rt_state_clear (&st);
  return r;
}

static int
shell_status (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 255;
}

int
rt_container_wait (const char *root, const char *id, int *status, husk_error **err)
{
  rt_state st;
  int r = load (root, id, &st, err);
  if (r < 0)
    return r;
  *status = rt_wait_forward (st.pid);
  rt_state_clear (&st);
  return 0;
}

static volatile pid_t forward_to;

static void
forward_signal (int sig)
{
  if (forward_to > 0)
    kill (forward_to, sig);
}

int
rt_wait_forward (pid_t pid)
{
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  struct sigaction sa = {.sa_handler = forward_signal}, old[ARRAY_SIZE (sigs)];
  forward_to = pid;
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    sigaction (sigs[i], &sa, &old[i]);
  int status = 0;
  pid_t w;
  do
    w = waitpid (pid, &status, 0);
  while (w < 0 && errno == EINTR);
  for (size_t i = 0; i < ARRAY_SIZE (sigs); i++)
    sigaction (sigs[i], &old[i], NULL);
  forward_to = 0;
  if (w < 0)
    return 255;
  return shell_status (status);
}

int
rt_signal_parse (const char *s)
{
  static const struct
  {
    const char *name;
    int sig;
  } names[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},   {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},       {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
  };
  if (s == NULL || *s == '\0')
    return -1;
  char *end;
  long n = strtol (s, &end, 10);
  if (*end == '\0')
    return n > 0 && n < 65 ? (int) n : -1;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if (strcasecmp (names[i].name, s) == 0)
      return names[i].sig;
  if (strncasecmp (s, "RTMIN+", 6) == 0)
    return SIGRTMIN + atoi (s + 6);
  return -1;
}
