/* husk runtime: `create` on the runtime's side: checks everything, then drives the setup
   processes (init.c) and records the state. Any failure undoes what was done. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/log.h"
#include "lib/path.h"
#include "runtime/init.h"

typedef struct creating
{
  const rt_spec *spec;
  rt_state st;
  pid_t stage1, init;
  int sync;
  bool run;        /* create + start: no exec.fifo, done when the process exec'd */
  bool want_state; /* the init waits for GO with the state (its hooks need it) */
  bool have_dir, have_cgroup, in_cgroup;
  const char *pid_file;
} creating;

/* UTC as RFC 3339 with nanoseconds. By hand: glibc's gmtime_r loads /etc/localtime
   (tzset) for nothing. Civil date from days since the epoch: H. Hinnant's algorithm. */
static char *
now_rfc3339 (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  long long secs = ts.tv_sec, days = secs / 86400, rem = secs % 86400;
  long long z = days + 719468, era = z / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  long long y = yoe + era * 400 + (m <= 2);
  return xasprintf ("%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", y, m, d, rem / 3600,
                    rem / 60 % 60, rem % 60, ts.tv_nsec);
}

static char *
hook_state (const creating *c, const char *status)
{
  _cleanup_json_ json_t *j = rt_state_to_json (&c->st, status);
  json_object_set_new (j, "pid", json_integer (c->init));
  return husk_json_dump (j);
}

static void
undo (creating *c)
{
  if (c->init > 0)
    kill (c->init, SIGKILL);
  if (c->stage1 > 0)
    {
      kill (c->stage1, SIGKILL);
      waitpid (c->stage1, NULL, 0);
    }
  if (c->init > 0)
    waitpid (c->init, NULL, __WALL); /* reaped here when we are its subreaper */
  if (c->have_cgroup)
    {
      rt_cgroup_kill (&c->st.cg, NULL);
      rt_cgroup_destroy (&c->st.cg, NULL);
    }
  if (c->have_dir)
    husk_rm_rf (c->st.dir, NULL);
}

/* The init's pid is known: state.json (written once) and the pid file, while the init is
   still setting up; then the state for its hooks when it waits for it. */
static int
init_known (creating *c, pid_t pid, husk_error **err)
{
  int r;
  c->init = pid;
  c->st.pid = pid;
  c->st.start_time = rt_proc_start_time (pid);
  if ((r = rt_state_save (&c->st, err)) < 0)
    return r;
  if (c->pid_file && (r = rt_write_pid_file (c->pid_file, pid, err)) < 0)
    return r;
  if (!c->want_state)
    return 0;
  _cleanup_free_ char *state = hook_state (c, "creating");
  if (rt_sync_send (c->sync, RT_MSG_GO, state, strlen (state)) < 0)
    return husk_err_errno (err, "send the state to container init");
  return 0;
}

static int
handle_msg (creating *c, int type, char *payload, husk_error **err)
{
  const rt_spec *spec = c->spec;
  switch (type)
    {
    case RT_MSG_USERMAP:
      if (rt_ns_write_idmaps (c->stage1, spec, err) < 0)
        return -1;
      return rt_sync_send (c->sync, RT_MSG_GO, NULL, 0);
    case RT_MSG_PID:
      return init_known (c, (pid_t) atoi (payload), err); /* stage 1 exits now */
    case RT_MSG_HOOKS:
      {
        _cleanup_free_ char *state = hook_state (c, "creating");
        if (rt_hooks_run (&spec->hooks[RT_HOOK_PRESTART], "prestart", state, err) < 0
            || rt_hooks_run (&spec->hooks[RT_HOOK_CREATE_RUNTIME], "createRuntime", state, err)
                   < 0)
          return -1;
        return rt_sync_send (c->sync, RT_MSG_GO, NULL, 0);
      }
    case RT_MSG_ERROR:
      return husk_err (err, EIO, "%s", payload);
    case 0:
      return husk_err (err, EIO, "container init exited during setup");
    default:
      return husk_err (err, EPROTO, "unexpected message %d from container init", type);
    }
}

/* Until READY (create) or until the sync socket closes on exec (run). */
static int
drive (creating *c, husk_error **err)
{
  int r;
  if (c->stage1 > 0)
    {
      if ((r = c->in_cgroup ? 0 : rt_cgroup_enter (&c->st.cg, c->stage1, err)) < 0)
        return r;
      if (rt_sync_send (c->sync, RT_MSG_GO, NULL, 0) < 0)
        return husk_err_errno (err, "start container setup");
    }
  for (;;)
    {
      _cleanup_free_ char *payload = NULL;
      int type = rt_sync_recv (c->sync, &payload);
      if (type == RT_MSG_READY)
        {
          /* The init closes its end right after READY: once it has, the created
             container holds nothing of ours (its stdio, exec.fifo and /proc only). */
          rt_sync_recv (c->sync, NULL);
          return 0;
        }
      if (type == 0 && c->run && c->init > 0)
        return 0;
      if (type < 0)
        return husk_err_sys (err, -type, "read from container init");
      r = handle_msg (c, type, payload, err);
      if (r < 0)
        return (err && *err) ? r : husk_err_sys (err, -r, "talk to container init");
    }
}

static bool
hooks_need_state (const rt_spec *spec)
{
  return spec->hooks[RT_HOOK_CREATE_CONTAINER].n || spec->hooks[RT_HOOK_START_CONTAINER].n;
}

/* <root>/<id>; the root is created only when missing (saves a mkdir per path component). */
static int
make_state_dir (const char *root, const char *dir, const char *id, husk_error **err)
{
  int r = mkdir (dir, 0700);
  if (r < 0 && errno == ENOENT)
    {
      if ((r = husk_mkdir_p (root, 0700, err)) < 0)
        return r;
      r = mkdir (dir, 0700);
    }
  if (r == 0)
    return 0;
  return errno == EEXIST ? husk_err (err, EEXIST, "container with id exists: %s", id)
                         : husk_err_errno (err, "create %s", dir);
}

static int
prepare (creating *c, const char *root, const char *id, bool skip, husk_error **err)
{
  const rt_spec *spec = c->spec;
  int r;
  if ((r = rt_cgroup_resolve (spec->cgroups_path, id, &c->st.cg, err)) < 0
      || (r = rt_cgroup_apply (NULL, spec->resources, skip, err)) < 0)
    return r;
  if ((r = rt_state_dir (root, id, &c->st.dir, err)) < 0)
    return r;
  if ((r = make_state_dir (root, c->st.dir, id, err)) < 0)
    return r;
  c->have_dir = true;
  _cleanup_free_ char *fifo = xasprintf ("%s/exec.fifo", c->st.dir);
  if (!c->run && mkfifo (fifo, 0622) < 0)
    return husk_err_errno (err, "mkfifo %s", fifo);
  if ((r = rt_cgroup_create (&c->st.cg, err)) < 0)
    return r;
  c->have_cgroup = true;
  if ((r = rt_cgroup_apply (&c->st.cg, spec->resources, skip, err)) < 0
      || (r = rt_devices_cgroup (&c->st.cg, spec->resources, spec, err)) < 0)
    return r;
  c->st.id = xstrdup (id);
  c->st.bundle = xstrdup (spec->bundle);
  c->st.rootfs = xstrdup (spec->rootfs);
  c->st.created = now_rfc3339 ();
  c->st.owner = xstrdup ("");
  c->st.config = json_incref (spec->json);
  json_t *ann = json_object_get (spec->json, "annotations");
  c->st.annotations = ann ? json_incref (ann) : NULL;
  return 0;
}

/* Namespace flags for one clone3 straight into the container, or -1 when a stage 1 is
   needed: namespaces to join (setns), a user ns (the runtime writes its maps in between),
   a time ns (offsets are written before any process enters it). */
static int
direct_clone_flags (const rt_spec *spec)
{
  for (int i = 0; i < RT_NS_COUNT; i++)
    if (spec->ns[i].present && spec->ns[i].path)
      return -1;
  if (spec->ns[RT_NS_USER].present || spec->ns[RT_NS_TIME].present)
    return -1;
  return rt_ns_unshare_flags (spec);
}

static int
spawn (creating *c, const rt_create_opts *opts, husk_error **err)
{
  _cleanup_close_ int fifo = -1;
  if (!c->run)
    {
      _cleanup_free_ char *path = xasprintf ("%s/exec.fifo", c->st.dir);
      /* Opened here: the init may run as a user that cannot reach the state directory. */
      if ((fifo = open (path, O_PATH | O_CLOEXEC)) < 0)
        return husk_err_errno (err, "open %s", path);
    }
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return husk_err_errno (err, "socketpair");
  rt_init_args a = {sv[1], opts->console_socket_fd, fifo, opts->no_pivot, opts->preserve_fds,
                    {opts->stdin_fd, opts->stdout_fd, opts->stderr_fd}, c->run, c->want_state,
                    opts->console_rows, opts->console_cols};
  int flags = direct_clone_flags (c->spec);
  pid_t pid = flags >= 0 ? rt_clone_container (c->st.cg.path, flags) : -1;
  bool direct = pid >= 0;
  if (!direct)
    {
      /* The init is stage 1's child; when stage 1 exits it is reparented to us. */
      prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
      pid = rt_fork_into_cgroup (c->st.cg.path, &c->in_cgroup);
    }
  if (pid < 0)
    {
      close (sv[0]);
      close (sv[1]);
      return husk_err_errno (err, "fork");
    }
  /* Through stage 1 the init always waits for GO: stage 1's PID message must reach us
     before the init's READY. */
  c->want_state = c->want_state || !direct;
  a.want_state = c->want_state;
  if (pid == 0)
    {
      close (sv[0]);
      if (direct)
        rt_init_direct (c->spec, &a);
      rt_init_stage1 (c->spec, &a);
    }
  close (sv[1]);
  c->sync = sv[0];
  if (!direct)
    {
      c->stage1 = pid;
      return 0;
    }
  c->in_cgroup = true;
  return init_known (c, pid, err);
}

static int
create_steps (creating *c, const char *root, const char *id, const rt_create_opts *opts,
              bool skip, husk_error **err)
{
  int r;
  c->want_state = hooks_need_state (c->spec);
  c->pid_file = opts->pid_file;
  if ((r = prepare (c, root, id, skip, err)) < 0 || (r = spawn (c, opts, err)) < 0
      || (r = drive (c, err)) < 0)
    return r;
  if (c->stage1 > 0)
    {
      waitpid (c->stage1, NULL, 0);
      c->stage1 = 0;
    }
  return 0;
}

static int
create_or_run (const char *root, const char *id, const char *bundle, const rt_create_opts *opts,
               bool run, pid_t *pid_out, husk_error **err)
{
  _cleanup_ (rt_spec_freep) rt_spec *spec = NULL;
  int r = rt_state_check_id (id, err);
  if (r < 0 || (r = rt_spec_load (bundle, &spec, err)) < 0)
    return r;
  bool skip = opts->skip_limits || rt_skip_limits_env ();
  if (spec->proc.terminal && opts->console_socket_fd < 0)
    return husk_err (err, EINVAL, "process.terminal is set: --console-socket is required");
  creating c = {.spec = spec, .sync = -1, .run = run};
  r = create_steps (&c, root, id, opts, skip, err);
  if (c.sync >= 0)
    close (c.sync);
  if (r < 0)
    undo (&c);
  else if (run)
    {
      _cleanup_free_ char *state = hook_state (&c, "running");
      _cleanup_error_ husk_error *herr = NULL;
      if (rt_hooks_run (&spec->hooks[RT_HOOK_POSTSTART], "poststart", state, &herr) < 0)
        log_warn ("poststart hook failed", "id", id, "error", herr->msg);
    }
  if (r == 0 && pid_out)
    *pid_out = c.init;
  rt_state_clear (&c.st);
  return r;
}

int
rt_container_create (const char *root, const char *id, const char *bundle,
                     const rt_create_opts *opts, husk_error **err)
{
  return create_or_run (root, id, bundle, opts, false, NULL, err);
}

int
rt_container_run (const char *root, const char *id, const char *bundle, const rt_create_opts *opts,
                  pid_t *pid_out, husk_error **err)
{
  return create_or_run (root, id, bundle, opts, true, pid_out, err);
}
