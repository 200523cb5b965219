/* husk node: work that runs beside the main loop. A job is a forked child that reports on a
   pipe: the sandbox (husk-pause create and start, CNI ADD) and a container's create and
   start (the fork that becomes its husk-shim) run as jobs, so that several pods are built at
   once while one main thread keeps owning every pod. The read end sits in the main loop's
   epoll set; the child's end closes when it exits or execs (close-on-exec), and that EOF is
   the completion, which wakes the loop like any event. A process, not a thread: the fork
   reaps its own helpers (CNI plugins, the runtime's stages) without racing the main loop's
   waitpid(-1), and may lend fds 0-2 without touching the daemon's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>

#include "lib/log.h"
#include "src/node/node-internal.h"

int
node_job_start (node_agent *a, node_job **out, void (*child) (void *ud, int report_fd),
                void *ud, husk_error **err)
{
  int rep[2];
  if (pipe2 (rep, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  int64_t t0 = node_mono_us ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (rep[0]);
      signal (SIGCHLD, SIG_DFL);
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      child (ud, rep[1]);
      _exit (0);
    }
  int e = errno;
  close (rep[1]);
  if (pid < 0)
    {
      close (rep[0]);
      return husk_err_sys (err, e, "fork");
    }
  if (node_mono_us () - t0 > 2000)
    node_step_done ("fork-slow", "-", &t0);
  node_job *j = xzalloc (sizeof *j);
  j->pid = pid;
  j->fd = rep[0];
  j->t0_us = node_mono_us ();
  fcntl (j->fd, F_SETFL, O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = NODE_EP_JOB};
  if (a->ep >= 0)
    epoll_ctl (a->ep, EPOLL_CTL_ADD, j->fd, &ev);
  a->jobs++;
  *out = j;
  return 0;
}

bool
node_job_poll (node_agent *a, node_job *j)
{
  if (j->done)
    return true;
  char buf[1024];
  for (;;)
    {
      ssize_t n = read (j->fd, buf, sizeof buf);
      if (n > 0)
        {
          husk_buf_append (&j->out, buf, (size_t) n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return false;
      break; /* EOF, or an error that will not go away */
    }
  j->done = true;
  if (a->ep >= 0)
    epoll_ctl (a->ep, EPOLL_CTL_DEL, j->fd, NULL);
  close (j->fd);
  j->fd = -1;
  a->jobs--;
  return true;
}

void
node_job_free (node_agent *a, node_job *j)
{
  if (j == NULL)
    return;
  if (!j->done)
    {
      if (a->ep >= 0)
        epoll_ctl (a->ep, EPOLL_CTL_DEL, j->fd, NULL);
      close (j->fd);
      a->jobs--;
    }
  husk_buf_free (&j->out);
  free (j);
}

bool
node_job_slot (const node_agent *a)
{
  return a->jobs < NODE_JOBS_MAX;
}
