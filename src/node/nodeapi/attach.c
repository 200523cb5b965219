/* husk node API: /attach/{ns}/{pod}/{container} (and .../{pod}/{uid}/{container}) over
   WebSocket v5/v4.channel.k8s.io: what the container writes from now on, stdout on
   channel 1 and stderr on channel 2, until it stops (Status Success) or the client leaves.
   The output is followed in the container's CRI log, where the agent's log pump writes
   it, so attaching needs nothing from the agent's loop. Stdin (-i, channel 0) goes to a
   container created with spec.stdin: husk-shim holds the write end of its stdin pipe on fd
   5 (pod/stdin.c), which is opened here through /proc/<shim>/fd/5; a close of channel 0
   (v5) or the client leaving closes it, and with stdinOnce the shim is told to close its
   end too (SIGUSR1), so the container reads EOF, as kubelet does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>

#include "lib/json.h"
#include "lib/path.h"
#include "runtime/runtime.h"
#include "src/node/agent/crilog.h"
#include "src/node/nodeapi/nodeapi-internal.h"

typedef struct attach_req
{
  char *rt_root, *id, *path;
  bool out, err;
  int in;      /* the container's stdin pipe (-i), or -1 */
  pid_t shim;  /* its holder */
  bool once;   /* stdinOnce: the first attach's end closes the container's stdin */
  bool tty;    /* the client wants one stream: stderr goes on channel 1 too */
} attach_req;

static void
attach_req_free (void *ud)
{
  attach_req *x = ud;
  free (x->rt_root), free (x->id), free (x->path);
  if (x->in >= 0)
    close (x->in);
  free (x);
}

typedef struct follower
{
  attach_req *x;
  agent_log_opts opts;
  int fd; /* write end of the pipe to the stream's loop */
} follower;

static bool
ctr_stopped (void *ud)
{
  follower *f = ud;
  _cleanup_json_ json_t *st = NULL;
  if (rt_container_state (f->x->rt_root, f->x->id, &st, NULL) < 0)
    return true;
  const char *s = husk_json_path_str (st, "status");
  return s == NULL || !streq (s, "running");
}

static int
to_pipe (void *ud, const char *data, size_t len)
{
  follower *f = ud;
  return nodeapi_write_all (f->fd, data, len);
}

static void *
follow_main (void *ud)
{
  follower *f = ud;
  agent_log_read (f->x->path, &f->opts, to_pipe, f, NULL);
  close (f->fd);
  return NULL;
}

/* Starts a follower of one stream from now; returns the read end of its pipe, or -1. */
static int
start_follower (follower *f, attach_req *x, agent_log_stream s, int stop_fd, pthread_t *t)
{
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  *f = (follower){.x = x, .fd = fds[1]};
  f->opts = (agent_log_opts) AGENT_LOG_OPTS_INIT;
  f->opts.follow = true;
  f->opts.streams = 1 << s;
  f->opts.since_set = true;
  clock_gettime (CLOCK_REALTIME, &f->opts.since);
  f->opts.stop = ctr_stopped;
  f->opts.stop_ud = f;
  f->opts.stop_fd = stop_fd;
  if (pthread_create (t, NULL, follow_main, f) != 0)
    {
      close (fds[0]), close (fds[1]);
      return -1;
    }
  return fds[0];
}

static void
stdin_close (attach_req *x)
{
  if (x->in < 0)
    return;
  close (x->in);
  x->in = -1;
  if (x->once && x->shim > 0)
    kill (x->shim, SIGUSR1);
}

/* A client message: stdin data, or the close of stdin; resize has nothing to do. */
static void
on_message (attach_req *x, const uint8_t *d, size_t l)
{
  if (l < 1)
    return;
  if (d[0] == 0 && l > 1 && x->in >= 0 && nodeapi_write_all (x->in, d + 1, l - 1) < 0)
    stdin_close (x);
  else if (d[0] == 255 && l >= 2 && d[1] == 0)
    stdin_close (x);
}

static void
attach_run (nodeapi_ws *ws, void *ud)
{
  attach_req *x = ud;
  int stop = eventfd (0, EFD_CLOEXEC);
  follower fo, fe;
  pthread_t to, te;
  int out = x->out ? start_follower (&fo, x, AGENT_LOG_STDOUT, stop, &to) : -1;
  int err = x->err ? start_follower (&fe, x, AGENT_LOG_STDERR, stop, &te) : -1;
  bool started_out = out >= 0, started_err = err >= 0, client_gone = false;
  while (out >= 0 || err >= 0)
    {
      struct pollfd pf[3] = {{ws->fd, POLLIN, 0}, {out, POLLIN, 0}, {err, POLLIN, 0}};
      bool pend = nodeapi_ws_pending (ws);
      if (poll (pf, 3, pend ? 0 : -1) < 0 && errno != EINTR)
        break;
      if (pf[0].revents || pend)
        {
          const uint8_t *d;
          size_t l;
          int r = 0;
          if (nodeapi_ws_fill (ws) <= 0)
            r = -1;
          while (r == 0 && (r = nodeapi_ws_next (ws, &d, &l)) > 0)
            {
              on_message (x, d, l);
              r = 0;
            }
          if (r < 0)
            {
              client_gone = true;
              break;
            }
        }
      for (int k = 1; k <= 2; k++)
        {
          int *fd = k == 1 ? &out : &err;
          if (*fd < 0 || !pf[k].revents)
            continue;
          char buf[16384];
          ssize_t n = read (*fd, buf, sizeof buf);
          if (n > 0)
            nodeapi_ws_send (ws, k == 2 && x->tty ? 1 : k, buf, (size_t) n);
          else if (n == 0 || errno != EINTR)
            {
              close (*fd);
              *fd = -1;
            }
        }
    }
  stdin_close (x);
  uint64_t one = 1;
  if (write (stop, &one, sizeof one) < 0)
    (void) 0;
  if (out >= 0)
    close (out);
  if (err >= 0)
    close (err);
  if (started_out)
    pthread_join (to, NULL);
  if (started_err)
    pthread_join (te, NULL);
  close (stop);
  if (!client_gone)
    {
      static const char ok[] = "{\"metadata\":{},\"status\":\"Success\"}";
      nodeapi_ws_send (ws, 3, ok, sizeof ok - 1);
      nodeapi_ws_close (ws, 1000);
    }
}

/* The write end of container id's stdin through its shim; errors say why there is none. */
static int
open_stdin (nodeapi *s, const char *id, const char *ctr, int *fd, pid_t *shim, bool *once,
            husk_error **err)
{
  _cleanup_json_ json_t *st = NULL;
  int r = rt_container_state (s->rt_root, id, &st, err);
  if (r < 0)
    return r;
  const char *bundle = husk_json_path_str (st, "bundle");
  _cleanup_free_ char *mode_file = xasprintf ("%s/stdin", bundle ? bundle : "");
  _cleanup_free_ char *state_file = xasprintf ("%s/state.json", bundle ? bundle : "");
  _cleanup_free_ char *mode = NULL;
  _cleanup_json_ json_t *saved = NULL;
  if (husk_read_file (mode_file, &mode, NULL, NULL) < 0 || mode == NULL)
    return husk_err (err, EINVAL,
                     "container %s has no stdin to attach to: it was not created with "
                     "stdin: true (kubectl run -i)", ctr);
  if (husk_json_load_file (state_file, &saved, err) < 0)
    return -EIO;
  *shim = (pid_t) json_integer_value (json_object_get (saved, "shim"));
  *once = strncmp (mode, "once", 4) == 0;
  _cleanup_free_ char *path = xasprintf ("/proc/%d/fd/5", (int) *shim);
  *fd = *shim > 0 ? open (path, O_WRONLY | O_CLOEXEC) : -1;
  if (*fd < 0)
    return husk_err (err, EPIPE, "the stdin of container %s is closed%s", ctr,
                     *once ? " (stdinOnce: an earlier attach ended it)" : "");
  return 0;
}

enum MHD_Result
nodeapi_attach (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n)
{
  if (n != 4 && n != 5)
    return nodeapi_reply_status (c, 404, "NotFound", "use /attach/{namespace}/{pod}/{container}");
  static const char *const protos[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
  bool tty = nodeapi_arg_true (c, "tty");
  /* With a tty (kubectl attach -t, or forced for a tty: true container) the client reads
     one stream: the container has no terminal here, so its stderr is merged into it. */
  bool out = nodeapi_arg_true (c, "stdout");
  bool err = tty ? out : nodeapi_arg_true (c, "stderr");
  bool in = nodeapi_arg_true (c, "stdin");
  if (!out && !err)
    return nodeapi_reply_status (c, 400, "BadRequest",
                                 "you must specify at least 1 of stdin, stdout, stderr");
  const char *ns = parts[1], *pod = parts[2], *ctr = parts[n - 1];
  _cleanup_error_ husk_error *e = NULL;
  _cleanup_free_ char *uid = NULL, *id = NULL, *dir = NULL;
  if (nodeapi_pod_uid (s, ns, pod, n == 5 ? parts[3] : NULL, &uid, &e) < 0
      || nodeapi_ctr_id (s, uid, ctr, &id, &e) < 0
      || agent_log_dir (s->log_dir, ns, pod, uid, ctr, &dir, &e) < 0)
    return nodeapi_reply_error (c, e);
  long cur, prev;
  if (nodeapi_log_restarts (dir, &cur, &prev) < 0 || cur < 0)
    return nodeapi_reply_status (c, 404, "NotFound", "container \"%s\" has no output stream", ctr);
  int in_fd = -1;
  pid_t shim = 0;
  bool once = false;
  if (in && open_stdin (s, id, ctr, &in_fd, &shim, &once, &e) < 0)
    return nodeapi_reply_status (c, 400, "BadRequest", "%s", e->msg);
  enum MHD_Result ret = MHD_NO;
  const char *proto = nodeapi_ws_negotiate (c, protos, &ret);
  if (proto == NULL)
    {
      if (in_fd >= 0)
        close (in_fd);
      return ret;
    }
  attach_req *x = xzalloc (sizeof *x);
  x->in = in_fd, x->shim = shim, x->once = once, x->tty = tty;
  x->rt_root = xstrdup (s->rt_root);
  x->id = TAKE_PTR (id);
  x->path = agent_log_path (dir, (unsigned) cur);
  x->out = out, x->err = err;
  return nodeapi_ws_upgrade (c, proto, attach_run, attach_req_free, x);
}
