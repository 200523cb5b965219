/* Crash test: a child process runs 8 writer threads creating objects as fast as they can and
   reports every acknowledged create ("name rev") through a pipe; the parent kills it with
   SIGKILL mid-stream, reopens the store and checks that every acknowledged write is present
   with its revision. Three rounds on the same file. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/path.h"
#include "src/master/store/store.h"
#include "tests/unit/tap.h"

#define THREADS 8

static store *S;
static int report_fd = -1;
static int round_no;

static void *
child_writer (void *arg)
{
  int t = (int)(intptr_t)arg;
  for (long i = 0;; i++)
    {
      char name[64], line[128];
      snprintf (name, sizeof name, "r%d-t%d-%ld", round_no, t, i);
      _cleanup_free_ char *json
          = xasprintf ("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"crash\"},"
                       "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                       name);
      int64_t rev = 0;
      _cleanup_error_ husk_error *err = NULL;
      if (store_create (S, "pods", "crash", name, json, NULL, &rev, &err) < 0)
        _exit (3);
      int n = snprintf (line, sizeof line, "%s %lld\n", name, (long long)rev);
      if (write (report_fd, line, (size_t)n) != n) /* < PIPE_BUF: atomic */
        _exit (4);
    }
  return NULL;
}

static _noreturn_ void
child (const char *dir, int fd)
{
  report_fd = fd;
  store_options o = { .data_dir = dir };
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &S, &err) < 0)
    _exit (2);
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++)
    pthread_create (&th[i], NULL, child_writer, (void *)(intptr_t)i);
  for (;;)
    pause ();
}

typedef struct ack
{
  char name[64];
  long long rev;
} ack;

static void
one_round (const char *dir, int r)
{
  int p[2];
  if (pipe (p) < 0)
    exit (1);
  round_no = r;
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (p[0]);
      child (dir, p[1]);
    }
  close (p[1]);
  /* Read acknowledgements; kill after a number of them that varies per round (or after 10 s
     on a very slow machine), so the kill lands at different points. */
  FILE *f = fdopen (p[0], "r");
  struct timespec t0, now;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  size_t kill_after = (size_t)(r * r * 400);
  size_t n = 0, cap = 0;
  ack *acks = NULL;
  char line[256];
  bool killed = false;
  while (fgets (line, sizeof line, f))
    {
      if (n == cap)
        {
          cap = cap ? cap * 2 : 4096;
          acks = xreallocarray (acks, cap, sizeof *acks);
        }
      if (sscanf (line, "%63s %lld", acks[n].name, &acks[n].rev) == 2)
        n++;
      clock_gettime (CLOCK_MONOTONIC, &now);
      long el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
      if (!killed && (n >= kill_after || el >= 10000))
        {
          kill (pid, SIGKILL);
          killed = true; /* keep reading: what the child acknowledged is still in the pipe */
        }
    }
  fclose (f);
  int status = 0;
  waitpid (pid, &status, 0);
  ok (killed && WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
      "round %d: writer process killed with SIGKILL mid-stream", r);
  ok (n > 0, "round %d: %zu writes acknowledged before the kill", r, n);

  store_options o = { .data_dir = dir };
  store *s = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (store_open (&o, &s, &err) < 0)
    {
      ok (0, "round %d: reopen after the kill: %s", r, err->msg);
      free (acks);
      return;
    }
  size_t missing = 0, wrong = 0;
  long long maxrev = 0;
  for (size_t i = 0; i < n; i++)
    {
      char *json = NULL;
      int64_t rev = 0;
      _cleanup_error_ husk_error *gerr = NULL;
      if (store_get (s, "pods", "crash", acks[i].name, &json, &rev, &gerr) < 0)
        {
          if (missing++ == 0)
            printf ("# missing: %s (rev %lld): %s\n", acks[i].name, acks[i].rev, gerr->msg);
        }
      else if (rev != acks[i].rev)
        wrong++;
      if (acks[i].rev > maxrev)
        maxrev = acks[i].rev;
      free (json);
    }
  int64_t cur = 0;
  store_current_revision (s, &cur, NULL);
  ok (missing == 0 && wrong == 0,
      "round %d: every acknowledged write present with its revision (%zu missing, %zu wrong)", r,
      missing, wrong);
  ok (cur >= maxrev, "round %d: revision after restart (%lld) >= last acknowledged (%lld)", r,
      (long long)cur, maxrev);
  store_close (s);
  free (acks);
}

int
main (void)
{
  char tmpl[] = "/tmp/husk-store-crash.XXXXXX";
  char *dir = mkdtemp (tmpl);
  if (!dir)
    tap_skip_all ("mkdtemp");
  signal (SIGPIPE, SIG_IGN);
  for (int r = 1; r <= 3; r++)
    one_round (dir, r);
  husk_rm_rf (dir, NULL);
  return tap_done ();
}
