/* runtime: seccomp profiles built with libseccomp behave as written once loaded. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "runtime/internal.h"
#include "tests/unit/tap.h"

/* Loads the profile in a child, runs probe there; returns probe's exit code. */
static int
in_child (const char *profile, int (*probe) (void))
{
  json_t *j = json_loads (profile, 0, NULL);
  husk_error *err = NULL;
  rt_seccomp *sc = NULL;
  if (j == NULL || rt_seccomp_build (j, "linux.seccomp", &sc, &err) < 0)
    {
      printf ("# build failed: %s\n", err ? err->msg : "bad json");
      return -1;
    }
  json_decref (j);
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (rt_seccomp_load (sc, NULL) < 0)
        _exit (100);
      _exit (probe ());
    }
  int status;
  waitpid (pid, &status, 0);
  rt_seccomp_free (sc);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 200 + WTERMSIG (status);
}

static int
probe_kill (void)
{
  /* signal 0 is refused with ENOTTY by the rule, SIGCONT is not. */
  if (kill (getpid (), 0) == 0 || errno != ENOTTY)
    return 1;
  if (kill (getpid (), SIGCONT) != 0)
    return 2;
  struct utsname u;
  if (uname (&u) == 0 || errno != 99)
    return 3;
  return 0;
}

static int
probe_default (void)
{
  if (unshare (CLONE_NEWUTS) == 0 || errno != EPERM)
    return 1; /* needs CAP_SYS_ADMIN in the profile */
  if (getpid () <= 0)
    return 2;
  pid_t p = fork (); /* clone without namespace flags is allowed */
  if (p < 0)
    return 3;
  if (p == 0)
    _exit (0);
  waitpid (p, NULL, 0);
  return 0;
}

static int
probe_nnp (void)
{
  return 0;
}

int
main (void)
{
  const char *custom =
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
    "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":25,"
    "\"args\":[{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"uname\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":99}]}";
  is_int (in_child (custom, probe_kill), 0, "argument conditions and errnoRet apply");

  json_t *def = rt_default_seccomp (rt_default_capabilities ());
  char *s = json_dumps (def, 0);
  is_int (in_child (s, probe_default), 0, "RuntimeDefault: unshare gets EPERM, fork works");
  free (s);
  json_decref (def);

  const char *kill_default = "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":[]}";
  is_int (in_child (kill_default, probe_nnp), 200 + SIGSYS,
          "defaultAction SCMP_ACT_KILL_PROCESS kills on the first syscall");
  return tap_done ();
}
