/* Driver for tests/integration/runtime/t-stdio.sh: creates N containers from N threads at
   once through the library, each with its own stdin/stdout/stderr pipes
   (rt_create_opts.std*_fd), as the node agent does. While all of them wait for start it
   checks each init's open fds (its own three pipes on 0/1/2, nothing of another
   container's); then it starts them, feeds stdin, reads stdout/stderr to EOF and prints
   one line per container:
     <i> fds=<ok|what is wrong> out=<stdout> err=<stderr> status=<exit code>
   usage: rt-stdio-helper ROOT BUNDLE N   (the bundle's process reads a line and echoes it) */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "runtime/runtime.h"

typedef struct ctr
{
  int i;
  char id[64];
  int in[2], out[2], err[2];
  pid_t pid;
  char *fds, *out_text, *err_text, *error;
  int status;
} ctr;

static const char *root, *bundle;
static pthread_barrier_t created;

static char *
fd_link (pid_t pid, const char *name)
{
  char path[64], buf[128];
  snprintf (path, sizeof path, "/proc/%d/fd/%s", (int) pid, name);
  ssize_t n = readlink (path, buf, sizeof buf - 1);
  if (n < 0)
    return xstrdup ("closed");
  buf[n] = '\0';
  return xstrdup (buf);
}

static char *
pipe_name (int fd)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return xstrdup ("?");
  return xasprintf ("pipe:[%lu]", (unsigned long) st.st_ino);
}

/* Each of 0/1/2 must be this container's pipe, and no other fd may be a pipe. */
static char *
check_fds (ctr *c)
{
  int mine[3] = {c->in[0], c->out[1], c->err[1]};
  static const char *const slot[3] = {"0", "1", "2"};
  for (int k = 0; k < 3; k++)
    {
      _cleanup_free_ char *got = fd_link (c->pid, slot[k]), *want = pipe_name (mine[k]);
      if (!streq (got, want))
        return xasprintf ("fd-%d-is-%s-not-%s", k, got, want);
    }
  char dir[64];
  snprintf (dir, sizeof dir, "/proc/%d/fd", (int) c->pid);
  DIR *d = opendir (dir);
  if (d == NULL)
    return xasprintf ("opendir-%s", strerror (errno));
  struct dirent *e;
  char *bad = NULL;
  while (bad == NULL && (e = readdir (d)))
    {
      if (e->d_name[0] == '.' || atoi (e->d_name) < 3)
        continue;
      _cleanup_free_ char *l = fd_link (c->pid, e->d_name);
      if (strncmp (l, "pipe:", 5) == 0 || strncmp (l, "socket:", 7) == 0)
        bad = xasprintf ("leaked-fd-%s-%s", e->d_name, l);
    }
  closedir (d);
  return bad ? bad : xstrdup ("ok");
}

static char *
read_all (int fd)
{
  husk_buf b = HUSK_BUF_INIT;
  char chunk[256];
  ssize_t n;
  while ((n = read (fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      husk_buf_append (&b, chunk, (size_t) n);
  char *s = xstrdup (husk_buf_str (&b));
  husk_buf_free (&b);
  for (char *p = s; *p; p++)
    if (*p == '\n' || *p == ' ')
      *p = '_';
  return s;
}

static int
create (ctr *c, husk_error **err)
{
  if (pipe2 (c->in, O_CLOEXEC) < 0 || pipe2 (c->out, O_CLOEXEC) < 0
      || pipe2 (c->err, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  rt_create_opts o = RT_CREATE_OPTS_INIT;
  o.skip_limits = true;
  o.stdin_fd = c->in[0];
  o.stdout_fd = c->out[1];
  o.stderr_fd = c->err[1];
  int r = rt_container_create (root, c->id, bundle, &o, err);
  if (r < 0)
    return r;
  _cleanup_json_ json_t *st = NULL;
  if ((r = rt_container_state (root, c->id, &st, err)) < 0)
    return r;
  c->pid = (pid_t) json_integer_value (json_object_get (st, "pid"));
  return 0;
}

static void *
run (void *arg)
{
  ctr *c = arg;
  _cleanup_error_ husk_error *err = NULL;
  int r = create (c, &err);
  pthread_barrier_wait (&created); /* every container exists and waits for start */
  if (r < 0)
    {
      c->error = xstrdup (err->msg);
      return NULL;
    }
  c->fds = check_fds (c);
  close (c->in[0]), close (c->out[1]), close (c->err[1]);
  _cleanup_free_ char *line = xasprintf ("hello-%d\n", c->i);
  if (write (c->in[1], line, strlen (line)) < 0)
    c->error = xstrdup ("write stdin");
  close (c->in[1]);
  if (rt_container_start (root, c->id, &err) < 0)
    {
      c->error = xstrdup (err->msg);
      return NULL;
    }
  c->out_text = read_all (c->out[0]);
  c->err_text = read_all (c->err[0]);
  int ws = 0;
  while (waitpid (c->pid, &ws, __WALL) < 0 && errno == EINTR)
    ;
  c->status = WIFEXITED (ws) ? WEXITSTATUS (ws) : 128 + WTERMSIG (ws);
  rt_container_delete (root, c->id, true, NULL);
  return NULL;
}

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      fprintf (stderr, "usage: rt-stdio-helper ROOT BUNDLE N\n");
      return 2;
    }
  root = argv[1];
  bundle = argv[2];
  int n = atoi (argv[3]);
  ctr *v = xcalloc ((size_t) n, sizeof *v);
  pthread_t *t = xcalloc ((size_t) n, sizeof *t);
  pthread_barrier_init (&created, NULL, (unsigned) n);
  for (int i = 0; i < n; i++)
    {
      v[i].i = i;
      snprintf (v[i].id, sizeof v[i].id, "stdio-%d-%d", (int) getpid (), i);
      pthread_create (&t[i], NULL, run, &v[i]);
    }
  for (int i = 0; i < n; i++)
    pthread_join (t[i], NULL);
  for (int i = 0; i < n; i++)
    {
      if (v[i].error)
        printf ("%d error=%s\n", i, v[i].error);
      else
        printf ("%d fds=%s out=%s err=%s status=%d\n", i, v[i].fds, v[i].out_text, v[i].err_text,
                v[i].status);
    }
  return 0;
}
