/* husk-shim: what keeps a container's stdio and exit status while the agent is away.

   The agent forks, makes the fork a child subreaper, creates and starts the container from
   it (so the container's init is this process's child), then execs husk-shim with the read
   ends of the container's stdout and stderr pipes on fds 3 and 4:

     husk-shim <init pid> <exit file>

   It only holds those fds (a container never gets EPIPE because the agent died; a
   restarted agent reopens them through /proc/<shim>/fd/3 and 4) and waits: when the init
   exits its raw wait status goes to <exit file> (written to <exit file>.tmp, renamed), and
   the shim exits. Any other orphan reparented here is reaped. A few pages of memory.

   With spec.stdin the write end of the container's stdin pipe is on fd 5, held open;
   SIGUSR1 closes it (stdinOnce: the first attach ended, the container sees EOF). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
close_stdin (int sig)
{
  (void) sig;
  close (5);
}

static int
write_status (const char *path, int status)
{
  char tmp[4096], text[32];
  int n = snprintf (tmp, sizeof tmp, "%s.tmp", path);
  if (n < 0 || (size_t) n >= sizeof tmp)
    return -1;
  int len = snprintf (text, sizeof text, "%d\n", status);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  bool ok = write (fd, text, (size_t) len) == len;
  ok = close (fd) == 0 && ok;
  return ok && rename (tmp, path) == 0 ? 0 : -1;
}

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fputs ("usage: husk-shim INIT-PID EXIT-FILE (started by husk node)\n", stderr);
      return 2;
    }
  char *end = NULL;
  long init = strtol (argv[1], &end, 10);
  if (end == argv[1] || *end || init <= 0)
    {
      fprintf (stderr, "husk-shim: bad pid %s\n", argv[1]);
      return 2;
    }
  /* The agent's terminal or process group must not stop us. */
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGUSR1, close_stdin);
  for (;;)
    {
      int st = 0;
      pid_t w = waitpid (-1, &st, __WALL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return 1; /* the init is not ours: nothing to report */
      if (w == (pid_t) init)
        return write_status (argv[2], st) < 0 ? 1 : 0;
    }
}
