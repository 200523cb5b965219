/* husk runtime: OCI hooks, run in order with the container state on stdin. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/internal.h"

static const char *const hook_kinds[RT_HOOK_COUNT] = {
  [RT_HOOK_PRESTART] = "prestart",
  [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
  [RT_HOOK_CREATE_CONTAINER] = "createContainer",
  [RT_HOOK_START_CONTAINER] = "startContainer",
  [RT_HOOK_POSTSTART] = "poststart",
  [RT_HOOK_POSTSTOP] = "poststop",
};

int
rt_hooks_decode (json_t *hooks, rt_hooks out[RT_HOOK_COUNT], husk_error **err)
{
  for (int k = 0; k < RT_HOOK_COUNT; k++)
    {
      json_t *arr = json_object_get (hooks, hook_kinds[k]), *h;
      size_t i;
      out[k].v = xcalloc (json_array_size (arr) + 1, sizeof (rt_hook));
      json_array_foreach (arr, i, h)
      {
        _cleanup_free_ char *where = xasprintf ("hooks.%s[%zu]", hook_kinds[k], i);
        rt_hook *hk = &out[k].v[out[k].n++];
        const char *path = json_string_value (json_object_get (h, "path"));
        if (path == NULL || path[0] != '/')
          return husk_err (err, EINVAL, "%s.path: an absolute path is required", where);
        hk->path = xstrdup (path);
        int r;
        if ((r = husk_json_get_strv (h, "args", where, &hk->args, err)) < 0
            || (r = husk_json_get_strv (h, "env", where, &hk->env, err)) < 0)
          return r;
        json_t *t = json_object_get (h, "timeout");
        if (t && json_integer_value (t) <= 0)
          return husk_err (err, EINVAL, "%s.timeout: must be greater than zero", where);
        hk->timeout = t ? (int) json_integer_value (t) : 0;
      }
    }
  return 0;
}

void
rt_hooks_clear (rt_hooks h[RT_HOOK_COUNT])
{
  for (int k = 0; k < RT_HOOK_COUNT; k++)
    {
      for (size_t i = 0; i < h[k].n; i++)
        {
          free (h[k].v[i].path);
          strv_free (h[k].v[i].args);
          strv_free (h[k].v[i].env);
        }
      free (h[k].v);
      h[k].v = NULL;
      h[k].n = 0;
    }
}

static _noreturn_ void
hook_child (const rt_hook *h, int in_fd)
{
  dup2 (in_fd, 0);
  char *const empty[] = {NULL};
  char *argv0[] = {h->path, NULL};
  execve (h->path, h->args && h->args[0] ? h->args : argv0, h->env ? h->env : empty);
  _exit (127);
}

/* Waits for pid, killing it when timeout (s) passes; returns its wait status or -1. */
static int
wait_timeout (pid_t pid, int timeout)
{
  struct timespec start;
  clock_gettime (CLOCK_MONOTONIC, &start);
  int status;
  for (;;)
    {
      pid_t w = waitpid (pid, &status, timeout ? WNOHANG : 0);
      if (w == pid)
        return status;
      if (w < 0 && errno != EINTR)
        return -1;
      if (w == 0)
        {
          struct timespec now;
          clock_gettime (CLOCK_MONOTONIC, &now);
          if (now.tv_sec - start.tv_sec >= timeout)
            {
              kill (pid, SIGKILL);
              waitpid (pid, &status, 0);
              return -2;
            }
          usleep (5000);
        }
    }
}

static int
run_one (const rt_hook *h, const char *state, husk_error **err)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  pid_t pid = fork ();
  if (pid < 0)
    {
      close (p[0]);
      close (p[1]);
      return husk_err_errno (err, "fork");
    }
  if (pid == 0)
    hook_child (h, p[0]);
  close (p[0]);
  signal (SIGPIPE, SIG_IGN);
  size_t len = strlen (state), off = 0;
  while (off < len)
    {
      ssize_t w = write (p[1], state + off, len - off);
      if (w <= 0)
        break; /* a hook need not read its stdin */
      off += (size_t) w;
    }
  close (p[1]);
  int status = wait_timeout (pid, h->timeout);
  if (status == -2)
    return husk_err (err, ETIMEDOUT, "%s: timed out after %d s", h->path, h->timeout);
  if (status < 0)
    return husk_err_errno (err, "%s: wait", h->path);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    return husk_err (err, EIO, "%s: exit status %d", h->path, WEXITSTATUS (status));
  return husk_err (err, EIO, "%s: killed by signal %d", h->path, WTERMSIG (status));
}

int
rt_hooks_run (const rt_hooks *h, const char *kind, const char *state, husk_error **err)
{
  for (size_t i = 0; i < h->n; i++)
    {
      int r = run_one (&h->v[i], state, err);
      if (r < 0)
        return husk_err_wrap (err, "hooks.%s[%zu]", kind, i);
    }
  return 0;
}
