/* husk-pause: the pod sandbox's first process. Holds the pod's namespaces, reaps zombies
   (it is pid 1 of the pod's pid ns when processes are shared), exits 0 on SIGTERM/SIGINT.
   Static, no stdio: only raw system calls through libc's thin wrappers. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term (int sig)
{
  (void) sig;
  stop = 1;
}

static void
on_child (int sig)
{
  (void) sig;
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
}

static void
say (const char *s)
{
  ssize_t r = write (2, s, strlen (s));
  (void) r;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && (strcmp (argv[1], "-v") == 0 || strcmp (argv[1], "--version") == 0))
    {
      ssize_t r = write (1, "husk-pause\n", 11);
      (void) r;
      return 0;
    }
  if (getpid () != 1)
    say ("husk-pause: warning: not running as pid 1\n");
  struct sigaction term = {0}, chld = {0};
  term.sa_handler = on_term;
  chld.sa_handler = on_child;
  chld.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction (SIGTERM, &term, NULL);
  sigaction (SIGINT, &term, NULL);
  sigaction (SIGCHLD, &chld, NULL);
  while (!stop)
    pause ();
  return 0;
}
