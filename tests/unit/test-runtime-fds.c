/* runtime: rt_child_fds, the fd table of a freshly forked setup process: the caller's
   stdio fds onto 0/1/2 (also when one is already in place, used twice, or swapped), the
   runtime's own fds moved out of the way, everything else closed, preserve_fds kept.
   Each case runs in a forked child; fds are memfds named after what they stand for, so
   the child can describe its table: "0=A 1=B 2=C +S" (fds below 3+preserve by number,
   those above by name; "!" marks a close-on-exec flag on 0/1/2, which would lose it). */
#include "config.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "runtime/internal.h"
#include "tests/unit/tap.h"

static int
named (const char *name, int at)
{
  int fd = memfd_create (name, 0);
  if (at >= 0 && fd != at)
    {
      dup2 (fd, at);
      close (fd);
      fd = at;
    }
  return fd;
}

static void
name_of (int fd, char *out, size_t n)
{
  char path[64], link[128];
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t l = readlink (path, link, sizeof link - 1);
  link[l > 0 ? l : 0] = '\0';
  const char *m = strstr (link, "memfd:");
  snprintf (out, n, "%s", m ? m + 6 : "?");
  char *sp = strchr (out, ' ');
  if (sp)
    *sp = '\0';
}

/* The child's fd table, leaving out the result pipe. */
static void
describe (int floor, int result, char *buf, size_t n)
{
  size_t len = 0;
  buf[0] = '\0';
  for (int fd = 0; fd < 256; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags < 0 || fd == result)
        continue;
      char name[64];
      name_of (fd, name, sizeof name);
      if (fd < floor)
        len += (size_t) snprintf (buf + len, n - len, "%s%d=%s%s", len ? " " : "", fd, name,
                                  fd < 3 && (flags & FD_CLOEXEC) ? "!" : "");
      else
        len += (size_t) snprintf (buf + len, n - len, "%s+%s", len ? " " : "", name);
    }
}

typedef void (*setup_fn) (int stdio[3], int *keep, int *preserve);

/* Runs setup + rt_child_fds in a child; returns its description of the result. */
static char *
run_case (setup_fn setup)
{
  int p[2];
  if (pipe (p) < 0)
    return xstrdup ("pipe failed");
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (p[0]);
      int result = fcntl (p[1], F_DUPFD, 100); /* out of the way of every case's fds */
      close (p[1]);
      for (int fd = 0; fd < 256; fd++) /* a clean table: only what the case sets up */
        if (fd != result)
          close (fd);
      int stdio[3] = {-1, -1, -1}, keep = -1, preserve = 0;
      setup (stdio, &keep, &preserve);
      int *const kept[] = {&keep, &result};
      husk_error *err = NULL;
      char buf[512];
      if (rt_child_fds (stdio, preserve, kept, ARRAY_SIZE (kept), &err) < 0)
        snprintf (buf, sizeof buf, "error: %s", err->msg);
      else
        describe (3 + preserve, result, buf, sizeof buf);
      if (write (result, buf, strlen (buf)) < 0)
        _exit (2);
      _exit (0);
    }
  close (p[1]);
  char buf[512];
  ssize_t n = read (p[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  close (p[0]);
  waitpid (pid, NULL, 0);
  return xstrdup (buf);
}

static void
case_plain (int stdio[3], int *keep, int *preserve)
{
  (void) preserve;
  stdio[0] = named ("A", 10);
  stdio[1] = named ("B", 11);
  stdio[2] = named ("C", 12);
  named ("junk", 20);
  *keep = named ("S", 30);
  named ("in", 0), named ("out", 1), named ("err", 2);
}

static void
case_in_place (int stdio[3], int *keep, int *preserve)
{
  (void) keep, (void) preserve;
  named ("in", 0), named ("err", 2);
  stdio[1] = named ("B", 1);
  fcntl (1, F_SETFD, FD_CLOEXEC); /* a caller's close-on-exec fd must still survive exec */
}

static void
case_twice (int stdio[3], int *keep, int *preserve)
{
  (void) keep, (void) preserve;
  named ("in", 0);
  stdio[1] = stdio[2] = named ("B", 7);
}

static void
case_swap (int stdio[3], int *keep, int *preserve)
{
  (void) keep, (void) preserve;
  named ("in", 0);
  stdio[1] = named ("A", 2);
  stdio[2] = named ("B", 1);
}

static void
case_keep_low (int stdio[3], int *keep, int *preserve)
{
  (void) preserve;
  *keep = named ("S", 0); /* the caller had no stdin: our socket got fd 0 */
  stdio[0] = named ("A", 5);
  named ("out", 1), named ("err", 2);
}

static void
case_inherit (int stdio[3], int *keep, int *preserve)
{
  (void) stdio, (void) preserve;
  named ("in", 0), named ("out", 1), named ("err", 2);
  *keep = named ("S", 3);
  named ("junk", 4);
}

static void
case_preserve (int stdio[3], int *keep, int *preserve)
{
  named ("in", 0), named ("out", 1), named ("err", 2);
  named ("P", 3), named ("Q", 4);
  named ("junk", 5);
  *keep = named ("S", 6);
  stdio[2] = named ("E", 9);
  *preserve = 2;
}

int
main (void)
{
  static const struct
  {
    const char *name;
    setup_fn fn;
    const char *want;
  } cases[] = {
    {"stdio fds land on 0/1/2; foreign fds closed; the runtime's fd kept", case_plain,
     "0=A 1=B 2=C +S"},
    {"an fd already on its slot stays, without close-on-exec", case_in_place, "0=in 1=B 2=err"},
    {"one fd for stdout and stderr", case_twice, "0=in 1=B 2=B"},
    {"stdout and stderr swapped", case_swap, "0=in 1=A 2=B"},
    {"a runtime fd on 0 moves out of the way of stdin", case_keep_low, "0=A 1=out 2=err +S"},
    {"-1 inherits; only junk goes", case_inherit, "0=in 1=out 2=err +S"},
    {"preserve_fds keeps 3 and 4", case_preserve, "0=in 1=out 2=E 3=P 4=Q +S"},
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = run_case (cases[i].fn);
      is_str (got, cases[i].want, cases[i].name);
      free (got);
    }
  return tap_done ();
}
