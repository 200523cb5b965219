/* Driver for t-logs.sh: real processes' stdout/stderr through the pump into CRI log files,
   read back as kubectl logs would (all, tail, previous, follow until the process exits),
   and the pump's throughput against a plain `cat > file` of the same stream (TAP). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/path.h"
#include "src/node/agent/crilog.h"
#include "tests/unit/tap.h"

static char tmp[] = "/tmp/agent-log-check.XXXXXX";
static agent_log_pump *pump;

typedef struct ctr
{
  pid_t pid;
  volatile int done;
  char *dir;
} ctr;

static void
on_done (void *ud)
{
  ((ctr *)ud)->done = 1;
}

/* Starts sh -c script with its stdout and stderr on pipes handed to the pump. */
static uint64_t max_size; /* 0 = default */

static int
start (ctr *c, const char *name, unsigned restart, const char *script)
{
  husk_error *err = NULL;
  int out[2], errp[2];
  agent_log_writer *w = NULL;
  if (agent_log_dir (tmp, "default", "pod", "uid-1", name, &c->dir, &err) < 0
      || agent_log_writer_open (c->dir, restart, max_size, 0, &w, &err) < 0
      || pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
    return -1;
  c->done = 0;
  c->pid = fork ();
  if (c->pid == 0)
    {
      dup2 (out[1], 1);
      dup2 (errp[1], 2);
      execl ("/bin/sh", "sh", "-c", script, (char *)NULL);
      _exit (127);
    }
  close (out[1]);
  close (errp[1]);
  return agent_log_pump_add (pump, out[0], errp[0], w, on_done, c, &err);
}

static void
run_pump_until_idle (void)
{
  husk_error *err = NULL;
  for (int i = 0; i < 100000 && agent_log_pump_count (pump) > 0; i++)
    agent_log_pump_run (pump, 100, &err);
}

static int
to_buf (void *ud, const char *d, size_t n)
{
  husk_buf_append (ud, d, n);
  return 0;
}

static char *
logs (const char *dir, unsigned restart, agent_log_opts *o)
{
  _cleanup_free_ char *p = agent_log_path (dir, restart);
  husk_buf b = HUSK_BUF_INIT;
  husk_error *err = NULL;
  if (agent_log_read (p, o, to_buf, &b, &err) < 0)
    {
      husk_buf_free (&b);
      char *m = xasprintf ("(error: %s)", err->msg);
      husk_error_free (err);
      return m;
    }
  return husk_buf_steal (&b);
}

static void
test_many (void)
{
  enum
  {
    N = 10,
    LINES = 2000
  };
  ctr c[N] = { 0 };
  char name[32];
  const char *script = "i=0; while [ $i -lt 2000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                       "i=$((i+1)); done; printf 'no newline'";
  for (int i = 0; i < N; i++)
    {
      snprintf (name, sizeof name, "c%d", i);
      if (start (&c[i], name, 0, script) < 0)
        ok (0, "start %d", i);
    }
  run_pump_until_idle ();
  int done = 0;
  for (int i = 0; i < N; i++)
    {
      int st;
      waitpid (c[i].pid, &st, 0);
      done += c[i].done;
    }
  is_int (done, N, "all 10 processes' pipes reached end of file");
  bool good = true;
  for (int i = 0; i < N && good; i++)
    {
      agent_log_opts o = AGENT_LOG_OPTS_INIT;
      o.streams = 1 << AGENT_LOG_STDOUT;
      _cleanup_free_ char *out = logs (c[i].dir, 0, &o);
      husk_buf want = HUSK_BUF_INIT;
      for (int l = 0; l < LINES; l++)
        husk_buf_printf (&want, "out %d\n", l);
      husk_buf_puts (&want, "no newline\n");
      if (!streq (out, husk_buf_str (&want)))
        good = false;
      husk_buf_reset (&want);
      o.streams = 1 << AGENT_LOG_STDERR;
      _cleanup_free_ char *er = logs (c[i].dir, 0, &o);
      for (int l = 0; l < LINES; l++)
        husk_buf_printf (&want, "err %d\n", l);
      if (!streq (er, husk_buf_str (&want)))
        good = false;
      husk_buf_free (&want);
    }
  ok (good,
      "every container's stdout and stderr complete and in order, the unfinished last line kept");
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  o.tail_lines = 1;
  _cleanup_free_ char *t = logs (c[3].dir, 0, &o);
  is_str (t, "no newline\n", "tailLines=1 of a real log is its last record");
  for (int i = 0; i < N; i++)
    free (c[i].dir);
}

static void
test_previous (void)
{
  ctr a = { 0 }, b = { 0 };
  start (&a, "web", 0, "echo run0; exit 3");
  run_pump_until_idle ();
  waitpid (a.pid, NULL, 0);
  start (&b, "web", 1, "echo run1");
  run_pump_until_idle ();
  waitpid (b.pid, NULL, 0);
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  _cleanup_free_ char *cur = logs (b.dir, 1, &o);
  _cleanup_free_ char *prev = logs (b.dir, 0, &o);
  is_str (cur, "run1\n", "current restart's log");
  is_str (prev, "run0\n", "--previous reads restart - 1");
  free (a.dir);
  free (b.dir);
}

typedef struct follow_arg
{
  ctr *c;
  husk_buf out;
  int ret;
  struct timespec end;
} follow_arg;

static bool
exited (void *ud)
{
  return ((ctr *)ud)->done;
}

static void *
follower (void *ud)
{
  follow_arg *f = ud;
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  o.follow = true;
  o.stop = exited;
  o.stop_ud = f->c;
  husk_error *err = NULL;
  _cleanup_free_ char *p = agent_log_path (f->c->dir, 0);
  f->ret = agent_log_read (p, &o, to_buf, &f->out, &err);
  clock_gettime (CLOCK_MONOTONIC, &f->end);
  husk_error_free (err);
  return NULL;
}

static void
test_follow (void)
{
  ctr c = { 0 };
  start (&c, "tail", 0, "echo first; sleep 1; echo second; sleep 1; echo third");
  follow_arg f = { .c = &c };
  pthread_t th;
  pthread_create (&th, NULL, follower, &f);
  run_pump_until_idle ();
  struct timespec exit_t;
  clock_gettime (CLOCK_MONOTONIC, &exit_t);
  waitpid (c.pid, NULL, 0);
  pthread_join (th, NULL);
  is_int (f.ret, 0, "follow returns without error");
  is_str (husk_buf_str (&f.out), "first\nsecond\nthird\n",
          "follow streamed every line of a running process");
  long lag = (f.end.tv_sec - exit_t.tv_sec) * 1000 + (f.end.tv_nsec - exit_t.tv_nsec) / 1000000;
  ok (lag < 3000, "follow ends once the process has exited (%ld ms after)", lag);
  husk_buf_free (&f.out);
  free (c.dir);
}

static double
now_s (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void
bench (void)
{
  const char *gen = "head -c 67108864 /dev/zero | tr '\\0' x | fold -w 99";
  /* peer: the same stream to a file through cat */
  _cleanup_free_ char *peer = xasprintf ("%s | cat > %s/peer.out", gen, tmp);
  double t0 = now_s ();
  if (system (peer) != 0)
    ok (0, "peer ran");
  double tp = now_s () - t0;
  ctr c = { 0 };
  max_size = 1ULL << 30;
  t0 = now_s ();
  start (&c, "bench", 0, gen);
  run_pump_until_idle ();
  waitpid (c.pid, NULL, 0);
  double tc = now_s () - t0;
  _cleanup_free_ char *p = agent_log_path (c.dir, 0);
  struct stat st;
  stat (p, &st);
  printf ("# pump: 64 MiB in %.2f s (%.0f MiB/s, %lld bytes of CRI records); cat > file: %.2f s; "
          "ratio %.2f\n",
          tc, 64 / tc, (long long)st.st_size, tp, tc / tp);
  ok (st.st_size > 67108864, "64 MiB of output landed in the log (%lld bytes)",
      (long long)st.st_size);
  free (c.dir);
}

int
main (int argc, char **argv)
{
  if (!mkdtemp (tmp))
    return 99;
  husk_error *err = NULL;
  if (agent_log_pump_new (&pump, &err) < 0)
    return 99;
  test_many ();
  test_previous ();
  test_follow ();
  if (argc > 1 && streq (argv[1], "--bench"))
    bench ();
  agent_log_pump_free (pump);
  husk_rm_rf (tmp, &err);
  return tap_done ();
}
