/* husk node API: /exec/{ns}/{pod}/{container} (and .../{pod}/{uid}/{container}) over
   WebSocket, protocols v5.channel.k8s.io and v4.channel.k8s.io: channel 0 stdin, 1 stdout,
   2 stderr, 3 the final metav1.Status, 4 terminal resize, 255 stdin closed (v5).

   The process starts through the runtime library from a shim: a child forked from the
   stream's thread that puts the stream's pipes (or, with tty, nothing: the runtime makes a
   pty and hands its master over the console socket) on fds 0-2, calls rt_container_exec,
   waits for the process as its subreaper and reports "S" (started), "E<message>" (could
   not start) and "X<code>" (exit status, as a shell reports it) on a status pipe. The
   agent's loop reaps the shim itself; the status pipe, not waitpid, carries the result. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "runtime/runtime.h"
#include "src/node/nodeapi/nodeapi-internal.h"

#define CH_STDIN 0
#define CH_STDOUT 1
#define CH_STDERR 2
#define CH_ERROR 3
#define CH_RESIZE 4
#define CH_CLOSE 255

typedef struct exec_req
{
  char *rt_root, *id;
  json_t *process;
  char *cmdline; /* for messages */
  bool in, out, err, tty, v5;
} exec_req;

static void
exec_req_free (void *ud)
{
  exec_req *x = ud;
  free (x->rt_root), free (x->id), free (x->cmdline);
  json_decref (x->process);
  free (x);
}

/* ---- the shim ----------------------------------------------------------------------------- */

typedef struct shim_fds
{
  int in, out, err; /* the process's stdio; -1: /dev/null */
  int console;      /* tty: the console socket; else -1 */
  int status;       /* status pipe (write end) */
} shim_fds;

static _noreturn_ void
shim_main (exec_req *x, shim_fds f)
{
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  signal (SIGCHLD, SIG_DFL);
  signal (SIGPIPE, SIG_DFL);
  int null = open ("/dev/null", O_RDWR);
  int want[3] = {f.in, f.out, f.err};
  for (int i = 0; i < 3; i++)
    if (dup2 (want[i] >= 0 ? want[i] : null, i) < 0)
      _exit (120);
  /* Keep only stdio, the console socket (3) and the status pipe (4): descriptors of the
     node's other connections must not outlive them in this process. */
  if (f.console >= 0 && dup3 (f.console, 3, O_CLOEXEC) < 0)
    _exit (121);
  if (dup3 (f.status, 4, O_CLOEXEC) < 0)
    _exit (121);
  syscall (SYS_close_range, 5U, ~0U, 0U);
  rt_exec_opts o = RT_EXEC_OPTS_INIT;
  o.console_socket_fd = f.console >= 0 ? 3 : -1;
  pid_t pid = 0;
  husk_error *err = NULL;
  if (rt_container_exec (x->rt_root, x->id, x->process, &o, &pid, &err) < 0)
    {
      dprintf (4, "E%s", err && err->msg ? err->msg : "exec failed");
      _exit (1);
    }
  for (int i = 0; i <= 3; i++)
    close (i);
  dprintf (4, "S");
  int st = 0;
  for (;;)
    {
      pid_t w = waitpid (-1, &st, 0);
      if (w == pid)
        break;
      if (w < 0 && errno != EINTR)
        _exit (1);
    }
  int code = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
  dprintf (4, "X%d", code);
  _exit (0);
}

/* ---- the stream --------------------------------------------------------------------------- */

typedef struct session
{
  nodeapi_ws *ws;
  exec_req *x;
  int in, out, err, master; /* our ends; -1 when closed */
  int status;
  husk_buf status_msg;
  bool status_eof;
} session;

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static int
start_shim (session *s, husk_error **err)
{
  int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, con[2] = {-1, -1}, st[2];
  if (pipe2 (st, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  bool ok = true;
  if (s->x->tty)
    ok = socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) == 0;
  else
    {
      if (s->x->in)
        ok = ok && pipe2 (in, O_CLOEXEC) == 0;
      if (s->x->out)
        ok = ok && pipe2 (out, O_CLOEXEC) == 0;
      if (s->x->err)
        ok = ok && pipe2 (er, O_CLOEXEC) == 0;
    }
  pid_t pid = ok ? fork () : -1;
  if (pid == 0)
    shim_main (s->x, (shim_fds){in[0], out[1], er[1], con[1], st[1]});
  int e = errno;
  close_fd (&in[0]), close_fd (&out[1]), close_fd (&er[1]), close_fd (&con[1]), close_fd (&st[1]);
  s->in = in[1], s->out = out[0], s->err = er[0], s->status = st[0];
  if (pid < 0)
    {
      close_fd (&con[0]);
      return husk_err_sys (err, e, "start the exec shim");
    }
  if (s->x->tty)
    {
      /* The pty master comes over the console socket, unless the exec fails first. */
      struct pollfd pf[2] = {{con[0], POLLIN, 0}, {s->status, POLLIN, 0}};
      if (poll (pf, 2, 30000) > 0 && (pf[0].revents & POLLIN))
        {
          char b;
          struct iovec iov = {&b, 1};
          union
          {
            char buf[CMSG_SPACE (sizeof (int))];
            struct cmsghdr align;
          } u;
          struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                             .msg_controllen = sizeof u.buf};
          if (recvmsg (con[0], &m, MSG_CMSG_CLOEXEC) > 0)
            {
              struct cmsghdr *c = CMSG_FIRSTHDR (&m);
              if (c && c->cmsg_type == SCM_RIGHTS)
                memcpy (&s->master, CMSG_DATA (c), sizeof (int));
            }
        }
      close_fd (&con[0]);
    }
  return 0;
}

static void
resize (session *s, const uint8_t *data, size_t len)
{
  _cleanup_json_ json_t *j = json_loadb ((const char *) data, len, 0, NULL);
  if (j == NULL || s->master < 0)
    return;
  struct winsize w = {0};
  w.ws_col = (unsigned short) json_integer_value (json_object_get (j, "Width"));
  w.ws_row = (unsigned short) json_integer_value (json_object_get (j, "Height"));
  ioctl (s->master, TIOCSWINSZ, &w);
}

/* A client message: stdin data, a resize, or stdin closed. */
static void
on_message (session *s, const uint8_t *data, size_t len)
{
  if (len < 1)
    return;
  uint8_t ch = data[0];
  data++, len--;
  if (ch == CH_STDIN && len > 0)
    {
      int fd = s->x->tty ? s->master : s->in;
      if (fd >= 0 && nodeapi_write_all (fd, data, len) < 0 && !s->x->tty)
        close_fd (&s->in);
    }
  else if (ch == CH_RESIZE)
    resize (s, data, len);
  else if (ch == CH_CLOSE && len >= 1 && data[0] == CH_STDIN)
    {
      if (s->x->tty && s->master >= 0)
        nodeapi_write_all (s->master, "\x04", 1);
      else
        close_fd (&s->in);
    }
}

/* Reads fd and sends it on channel ch; closes fd at EOF or error. */
static void
pump (session *s, int *fd, int ch)
{
  char buf[32768];
  ssize_t n;
  do
    n = read (*fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    nodeapi_ws_send (s->ws, ch, buf, (size_t) n);
  else
    close_fd (fd);
}

static void
read_status (session *s)
{
  char buf[512];
  ssize_t n = read (s->status, buf, sizeof buf);
  if (n > 0)
    husk_buf_append (&s->status_msg, buf, (size_t) n);
  else if (n == 0 || errno != EINTR)
    {
      s->status_eof = true;
      close_fd (&s->status);
    }
}

static void
send_status (session *s)
{
  const char *m = husk_buf_str (&s->status_msg);
  const char *x = strrchr (m, 'X');
  json_t *st;
  if (m[0] == 'E' || (x == NULL && m[0] != 'S'))
    st = json_pack ("{s:{}, s:s, s:s, s:s}", "metadata", "status", "Failure", "reason",
                    "InternalError", "message",
                    m[0] == 'E' ? m + 1 : "the exec process ended without a status");
  else if (x && atoi (x + 1) != 0)
    {
      _cleanup_free_ char *msg = xasprintf (
          "command terminated with non-zero exit code: error executing command [%s], exit code %d",
          s->x->cmdline, atoi (x + 1));
      _cleanup_free_ char *code = xasprintf ("%d", atoi (x + 1));
      st = json_pack ("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata", "status", "Failure",
                      "reason", "NonZeroExitCode", "message", msg, "details", "causes", "reason",
                      "ExitCode", "message", code);
    }
  else
    st = json_pack ("{s:{}, s:s}", "metadata", "status", "Success");
  _cleanup_free_ char *j = husk_json_dump (st);
  json_decref (st);
  nodeapi_ws_send (s->ws, CH_ERROR, j, strlen (j));
}

static void
session_loop (session *s)
{
  int64_t grace_until = -1;
  for (;;)
    {
      int out = s->x->tty ? s->master : s->out;
      bool outputs = out >= 0 || (!s->x->tty && s->err >= 0);
      if (s->status_eof && !outputs)
        break;
      struct pollfd pf[4] = {{s->ws->fd, POLLIN, 0}, {out, POLLIN, 0},
                             {s->x->tty ? -1 : s->err, POLLIN, 0}, {s->status, POLLIN, 0}};
      int timeout = -1;
      if (s->status_eof)
        {
          /* The process is gone; what it left running may hold the pipes: a short grace. */
          struct timespec ts;
          clock_gettime (CLOCK_MONOTONIC, &ts);
          int64_t now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
          if (grace_until < 0)
            grace_until = now + 1000;
          if (now >= grace_until)
            break;
          timeout = (int) (grace_until - now);
        }
      bool pend = nodeapi_ws_pending (s->ws);
      int n = poll (pf, 4, pend ? 0 : timeout);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      if (pf[0].revents || pend)
        {
          if (nodeapi_ws_fill (s->ws) <= 0)
            return; /* the client left */
          const uint8_t *data;
          size_t len;
          int r;
          while ((r = nodeapi_ws_next (s->ws, &data, &len)) > 0)
            on_message (s, data, len);
          if (r < 0)
            return;
        }
      if (pf[1].revents)
        pump (s, s->x->tty ? &s->master : &s->out, CH_STDOUT);
      if (pf[2].revents)
        pump (s, &s->err, CH_STDERR);
      if (pf[3].revents)
        read_status (s);
    }
  send_status (s);
  nodeapi_ws_close (s->ws, 1000);
  /* Wait a little for the client's close frame so that it reads everything. */
  struct pollfd pf = {s->ws->fd, POLLIN, 0};
  while ((nodeapi_ws_pending (s->ws) || poll (&pf, 1, 2000) > 0) && nodeapi_ws_fill (s->ws) > 0)
    {
      const uint8_t *d;
      size_t l;
      int r;
      while ((r = nodeapi_ws_next (s->ws, &d, &l)) > 0)
        ;
      if (r < 0)
        break;
    }
}

static void
exec_run (nodeapi_ws *ws, void *ud)
{
  session s = {.ws = ws, .x = ud, .in = -1, .out = -1, .err = -1, .master = -1, .status = -1};
  _cleanup_error_ husk_error *err = NULL;
  if (start_shim (&s, &err) < 0)
    husk_buf_printf (&s.status_msg, "E%s", err->msg);
  else
    session_loop (&s);
  if (s.status_msg.len && s.status_msg.data[0] == 'E' && s.status >= 0)
    send_status (&s);
  close_fd (&s.in), close_fd (&s.out), close_fd (&s.err), close_fd (&s.master);
  close_fd (&s.status);
  husk_buf_free (&s.status_msg);
}

/* ---- the request -------------------------------------------------------------------------- */

static enum MHD_Result
add_command (void *ud, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void) kind;
  if (key && streq (key, "command") && value)
    json_array_append_new (ud, json_string (value));
  return MHD_YES;
}

/* The container's own process (env, cwd, user, capabilities) running args instead. */
static int
exec_process (nodeapi *s, const char *id, json_t *args, bool tty, json_t **out, husk_error **err)
{
  _cleanup_json_ json_t *st = NULL;
  int r = rt_container_state (s->rt_root, id, &st, err);
  if (r < 0)
    return r;
  const char *bundle = husk_json_path_str (st, "bundle");
  if (bundle == NULL)
    return husk_err (err, EIO, "container %s: no bundle in its state", id);
  _cleanup_free_ char *cfg = xasprintf ("%s/config.json", bundle);
  _cleanup_json_ json_t *spec = NULL;
  r = husk_json_load_file (cfg, &spec, err);
  if (r < 0)
    return r;
  json_t *p = json_deep_copy (json_object_get (spec, "process"));
  if (!json_is_object (p))
    p = json_object ();
  json_object_set (p, "args", args);
  json_object_set_new (p, "terminal", json_boolean (tty));
  json_object_del (p, "consoleSize");
  *out = p;
  return 0;
}

enum MHD_Result
nodeapi_exec (nodeapi *s, struct MHD_Connection *c, char **parts, size_t n)
{
  if (n != 4 && n != 5)
    return nodeapi_reply_status (c, 404, "NotFound",
                                 "use /exec/{namespace}/{pod}/{container}?command=...");
  static const char *const protos[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
  exec_req x = {.in = nodeapi_arg_true (c, "stdin"), .out = nodeapi_arg_true (c, "stdout"),
                .err = nodeapi_arg_true (c, "stderr"), .tty = nodeapi_arg_true (c, "tty")};
  if (x.tty)
    x.err = false; /* a terminal merges stderr into stdout */
  _cleanup_json_ json_t *args = json_array ();
  MHD_get_connection_values (c, MHD_GET_ARGUMENT_KIND, add_command, args);
  if (json_array_size (args) == 0)
    return nodeapi_reply_status (c, 400, "BadRequest",
                                 "you must specify at least 1 command for exec");
  if (!x.in && !x.out && !x.err)
    return nodeapi_reply_status (c, 400, "BadRequest",
                                 "you must specify at least 1 of stdin, stdout, stderr");
  _cleanup_error_ husk_error *err = NULL;
  _cleanup_free_ char *uid = NULL, *id = NULL;
  json_t *proc = NULL;
  if (nodeapi_pod_uid (s, parts[1], parts[2], n == 5 ? parts[3] : NULL, &uid, &err) < 0
      || nodeapi_ctr_id (s, uid, parts[n - 1], &id, &err) < 0
      || exec_process (s, id, args, x.tty, &proc, &err) < 0)
    return nodeapi_reply_error (c, err);
  enum MHD_Result ret = MHD_NO;
  const char *proto = nodeapi_ws_negotiate (c, protos, &ret);
  if (proto == NULL)
    {
      json_decref (proc);
      return ret;
    }
  exec_req *h = xzalloc (sizeof *h);
  *h = x;
  h->v5 = streq (proto, protos[0]);
  h->rt_root = xstrdup (s->rt_root);
  h->id = TAKE_PTR (id);
  h->process = proc;
  husk_buf cl = HUSK_BUF_INIT;
  size_t i;
  json_t *a;
  json_array_foreach (args, i, a)
  husk_buf_printf (&cl, "%s%s", i ? " " : "", json_string_value (a));
  h->cmdline = husk_buf_steal (&cl);
  return nodeapi_ws_upgrade (c, proto, exec_run, exec_req_free, h);
}
