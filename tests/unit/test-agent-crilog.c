/* CRI log files: writer records, partial lines, rotation, the kubectl-logs reader
   (tail, since, timestamps, limitBytes, streams, follow across rotation) and the pump. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/path.h"
#include "src/node/agent/crilog.h"
#include "tests/unit/tap.h"

static char tmp[] = "/tmp/test-agent-crilog.XXXXXX";
static long fake_sec = 1795756200; /* 2026-11-27T05:10:00Z */
static long fake_nsec = 123456789;

static void
fake_clock (struct timespec *t)
{
  t->tv_sec = fake_sec;
  t->tv_nsec = fake_nsec;
}

static char *
slurp (const char *path)
{
  char *s = NULL;
  husk_error *err = NULL;
  if (husk_read_file (path, &s, NULL, &err) < 0)
    {
      husk_error_free (err);
      return xstrdup ("(missing)");
    }
  return s;
}

static int
to_buf (void *ud, const char *data, size_t len)
{
  husk_buf_append (ud, data, len);
  return 0;
}

static char *
read_logs (const char *path, agent_log_opts *o)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_error *err = NULL;
  if (agent_log_read (path, o, to_buf, &b, &err) < 0)
    {
      husk_buf_free (&b);
      char *m = xasprintf ("(error %s)", err->msg);
      husk_error_free (err);
      return m;
    }
  return husk_buf_steal (&b);
}

static void
test_names (void)
{
  char *d = NULL;
  husk_error *err = NULL;
  ok (agent_log_dir (NULL, "default", "web", "u-1", "nginx", &d, &err) == 0, "log dir builds");
  is_str (d, "/var/log/pods/default_web_u-1/nginx", "log dir follows kubelet's layout");
  char *p = agent_log_path (d, 3);
  is_str (p, "/var/log/pods/default_web_u-1/nginx/3.log", "log path is <restart>.log");
  free (p);
  free (d);
  ok (agent_log_dir (NULL, "default", "..", "u", "c", &d, &err) < 0, "'..' as a name is refused");
  husk_error_free (err);
  err = NULL;
  ok (agent_log_dir (NULL, "default", "a/b", "u", "c", &d, &err) < 0, "'/' in a name is refused");
  husk_error_free (err);

  struct timespec t = { .tv_sec = fake_sec, .tv_nsec = 5 };
  char buf[40];
  agent_log_format_time (&t, buf, sizeof buf);
  is_str (buf, "2026-11-27T05:10:00.000000005Z", "time has nine fraction digits");
  struct timespec r;
  ok (agent_log_parse_time (buf, strlen (buf), &r) == 0 && r.tv_sec == fake_sec && r.tv_nsec == 5,
      "time parses back");
  const char *off = "2026-11-27T07:10:00.5+02:00";
  ok (agent_log_parse_time (off, strlen (off), &r) == 0 && r.tv_sec == fake_sec
          && r.tv_nsec == 500000000,
      "offset and short fraction parse");
  ok (agent_log_parse_time ("yesterday", 9, &r) < 0, "garbage time refused");
}

static void
test_writer (void)
{
  husk_error *err = NULL;
  agent_log_writer *w = NULL;
  _cleanup_free_ char *dir = xasprintf ("%s/w/c", tmp);
  ok (agent_log_writer_open (dir, 0, 0, 0, &w, &err) == 0, "writer opens (creating dirs)");
  agent_log_writer_set_clock (w, fake_clock);
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, "hello\nwor", 9, &err);
  agent_log_writer_feed (w, AGENT_LOG_STDERR, "oops\n", 5, &err);
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, "ld\n\nlast", 8, &err);
  agent_log_writer_eof (w, AGENT_LOG_STDOUT, &err);
  _cleanup_free_ char *path = xstrdup (agent_log_writer_path (w));
  agent_log_writer_close (w);
  _cleanup_free_ char *got = slurp (path);
  is_str (got,
          "2026-11-27T05:10:00.123456789Z stdout F hello\n"
          "2026-11-27T05:10:00.123456789Z stderr F oops\n"
          "2026-11-27T05:10:00.123456789Z stdout F world\n"
          "2026-11-27T05:10:00.123456789Z stdout F \n"
          "2026-11-27T05:10:00.123456789Z stdout F last\n",
          "records: lines joined across reads, streams kept apart, unfinished line F at EOF");

  /* A 40000-byte line: P 16384, P 16384, F 7232. */
  _cleanup_free_ char *dir2 = xasprintf ("%s/long/c", tmp);
  ok (agent_log_writer_open (dir2, 1, 0, 0, &w, &err) == 0, "second writer opens");
  agent_log_writer_set_clock (w, fake_clock);
  char *big = xmalloc (40001);
  memset (big, 'x', 40000);
  big[40000] = '\n';
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, big, 20000, &err);
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, big + 20000, 20001, &err);
  free (big);
  _cleanup_free_ char *p2 = xstrdup (agent_log_writer_path (w));
  agent_log_writer_close (w);
  _cleanup_free_ char *g2 = slurp (p2);
  int lines = 0, partial = 0;
  for (char *l = g2; (l = strchr (l, '\n')); l++)
    lines++;
  for (char *l = g2; (l = strstr (l, " stdout P ")); l++)
    partial++;
  is_int (lines, 3, "a 40000-byte line makes three records");
  is_int (partial, 2, "the first two are partial (P)");
  ok (strstr (p2, "/1.log") != NULL, "restart 1 writes 1.log");

  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  _cleanup_free_ char *joined = read_logs (p2, &o);
  ok (strlen (joined) == 40001 && joined[40000] == '\n' && strspn (joined, "x") == 40000,
      "reader joins the partial records back into one line");
}

static void
test_rotation (void)
{
  husk_error *err = NULL;
  agent_log_writer *w = NULL;
  _cleanup_free_ char *dir = xasprintf ("%s/rot/c", tmp);
  ok (agent_log_writer_open (dir, 0, 200, 3, &w, &err) == 0, "small writer opens");
  agent_log_writer_set_clock (w, fake_clock);
  for (int i = 0; i < 20; i++)
    {
      char line[64];
      snprintf (line, sizeof line, "line %02d\n", i);
      fake_sec++;
      agent_log_writer_feed (w, AGENT_LOG_STDOUT, line, strlen (line), &err);
    }
  agent_log_writer_close (w);
  int n = 0;
  bool cur = false, small = true;
  _cleanup_free_ char *cmd = xasprintf ("ls %s", dir);
  FILE *f = popen (cmd, "r");
  char name[256];
  while (f && fgets (name, sizeof name, f))
    {
      name[strcspn (name, "\n")] = 0;
      n++;
      if (streq (name, "0.log"))
        cur = true;
      _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
      struct stat st;
      if (stat (p, &st) == 0 && st.st_size > 200)
        small = false;
    }
  if (f)
    pclose (f);
  is_int (n, 3, "rotation keeps max_files files");
  ok (cur, "0.log is the current file");
  ok (small, "no file grows past max_size");
  _cleanup_free_ char *p = xasprintf ("%s/0.log", dir);
  _cleanup_free_ char *last = slurp (p);
  ok (strstr (last, "stdout F line 19\n") != NULL, "the newest line is in the current file");

  /* one read holding many lines: the batch is split at record boundaries */
  _cleanup_free_ char *dir2 = xasprintf ("%s/rot2/c", tmp);
  ok (agent_log_writer_open (dir2, 0, 400, 20, &w, &err) == 0, "batch writer opens");
  agent_log_writer_set_clock (w, fake_clock);
  husk_buf many = HUSK_BUF_INIT;
  for (int i = 0; i < 40; i++)
    husk_buf_printf (&many, "batch %02d\n", i);
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, many.data, many.len, &err);
  husk_buf_free (&many);
  agent_log_writer_close (w);
  _cleanup_free_ char *cat = xasprintf ("cat $(ls %s/0.log.* | sort) %s/0.log", dir2, dir2);
  FILE *g = popen (cat, "r");
  char line[256];
  int seen = 0;
  bool in_order = true;
  while (g && fgets (line, sizeof line, g))
    {
      char want[32];
      snprintf (want, sizeof want, "batch %02d\n", seen);
      if (!strstr (line, want))
        in_order = false;
      seen++;
    }
  if (g)
    pclose (g);
  is_int (seen, 40, "40 lines of one read across rotated files");
  ok (in_order, "in order, each record whole in one file");
  _cleanup_free_ char *big = xasprintf ("find %s -type f -size +400c | wc -l", dir2);
  g = popen (big, "r");
  int over = -1;
  if (g && fscanf (g, "%d", &over) != 1)
    over = -1;
  if (g)
    pclose (g);
  is_int (over, 0, "no file past max_size");
}

static void
write_file (const char *path, const char *s)
{
  husk_error *err = NULL;
  husk_write_file_atomic (path, s, strlen (s), 0644, &err);
  husk_error_free (err);
}

static void
test_reader (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/r.log", tmp);
  write_file (path, "2026-11-27T05:10:00.100000000Z stdout F one\n"
                    "2026-11-27T05:10:01.000000000Z stderr F two\n"
                    "garbage line\n"
                    "2026-11-27T05:10:02.000000000Z stdout P thr\n"
                    "2026-11-27T05:10:02.500000000Z stdout F ee\n"
                    "2026-11-27T05:10:03.000000000Z stdout F four\n");
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  char *s = read_logs (path, &o);
  is_str (s, "one\ntwo\nthree\nfour\n", "plain read: messages, partials joined, garbage skipped");
  free (s);

  o.tail_lines = 2;
  s = read_logs (path, &o);
  is_str (s, "ee\nfour\n", "tailLines=2 counts records");
  free (s);
  o.tail_lines = 0;
  s = read_logs (path, &o);
  is_str (s, "", "tailLines=0 shows nothing");
  free (s);
  o.tail_lines = 100;
  s = read_logs (path, &o);
  is_str (s, "one\ntwo\nthree\nfour\n", "tailLines beyond the file shows all");
  free (s);

  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  o.timestamps = true;
  o.tail_lines = 3;
  s = read_logs (path, &o);
  is_str (s, "2026-11-27T05:10:02Z thr2026-11-27T05:10:02.5Z ee\n2026-11-27T05:10:03Z four\n",
          "timestamps in RFC3339Nano (trailing zeros trimmed)");
  free (s);

  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  o.since_set = true;
  agent_log_parse_time ("2026-11-27T05:10:01Z", 20, &o.since);
  s = read_logs (path, &o);
  is_str (s, "two\nthree\nfour\n", "sinceTime skips older records");
  free (s);

  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  agent_log_opts_since_seconds (&o, 60);
  s = read_logs (path, &o);
  is_str (s, "", "sinceSeconds=60 skips records from long ago");
  free (s);

  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  o.limit_bytes = 6;
  s = read_logs (path, &o);
  is_str (s, "one\ntw", "limitBytes cuts the output");
  free (s);

  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  o.streams = 1 << AGENT_LOG_STDERR;
  s = read_logs (path, &o);
  is_str (s, "two\n", "stream filter: stderr only");
  free (s);

  _cleanup_free_ char *missing = xasprintf ("%s/nope.log", tmp);
  o = (agent_log_opts)AGENT_LOG_OPTS_INIT;
  husk_buf b = HUSK_BUF_INIT;
  husk_error *err = NULL;
  int ret = agent_log_read (missing, &o, to_buf, &b, &err);
  ok (ret < 0 && err && err->errnum == ENOENT, "a missing file is ENOENT (previous of restart 0)");
  husk_error_free (err);
  husk_buf_free (&b);
}

/* ---- follow ---------------------------------------------------------------------- */

typedef struct follow_ctx
{
  pthread_mutex_t mu;
  husk_buf got;
  bool stop;
  char *dir;
} follow_ctx;

static int
follow_out (void *ud, const char *data, size_t len)
{
  follow_ctx *c = ud;
  pthread_mutex_lock (&c->mu);
  husk_buf_append (&c->got, data, len);
  pthread_mutex_unlock (&c->mu);
  return 0;
}

static bool
follow_stop (void *ud)
{
  follow_ctx *c = ud;
  pthread_mutex_lock (&c->mu);
  bool s = c->stop;
  pthread_mutex_unlock (&c->mu);
  return s;
}

static bool
wait_for (follow_ctx *c, const char *want)
{
  for (int i = 0; i < 500; i++)
    {
      pthread_mutex_lock (&c->mu);
      bool found = strstr (husk_buf_str (&c->got), want) != NULL;
      pthread_mutex_unlock (&c->mu);
      if (found)
        return true;
      usleep (10000);
    }
  return false;
}

static int follow_ret = 1;

static void *
follow_thread (void *ud)
{
  follow_ctx *c = ud;
  _cleanup_free_ char *path = xasprintf ("%s/0.log", c->dir);
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  o.follow = true;
  o.tail_lines = 1;
  o.stop = follow_stop;
  o.stop_ud = c;
  husk_error *err = NULL;
  follow_ret = agent_log_read (path, &o, follow_out, c, &err);
  husk_error_free (err);
  return NULL;
}

static void
test_follow (void)
{
  husk_error *err = NULL;
  follow_ctx c = { .mu = PTHREAD_MUTEX_INITIALIZER };
  c.dir = xasprintf ("%s/follow/c", tmp);
  agent_log_writer *w = NULL;
  ok (agent_log_writer_open (c.dir, 0, 300, 5, &w, &err) == 0, "follow: writer opens");
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, "old\nbefore\n", 11, &err);
  pthread_t th;
  pthread_create (&th, NULL, follow_thread, &c);
  ok (wait_for (&c, "before\n"), "follow shows the tail first");
  agent_log_writer_feed (w, AGENT_LOG_STDOUT, "live 1\n", 7, &err);
  ok (wait_for (&c, "live 1\n"), "follow sees a new line (inotify)");
  /* Enough to rotate a few times. */
  /* Each line is waited for: a reader that falls two rotations behind skips a file, as
     kubelet's does; this test is about following one rotation at a time. */
  bool kept_up = true;
  for (int i = 0; i < 30; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "rot %02d\n", i);
      agent_log_writer_feed (w, AGENT_LOG_STDOUT, line, strlen (line), &err);
      kept_up &= wait_for (&c, line);
    }
  ok (kept_up, "the follower saw each line within 5 s");
  ok (wait_for (&c, "rot 29\n"), "follow continues across rotation");
  pthread_mutex_lock (&c.mu);
  const char *g = husk_buf_str (&c.got);
  ok (strstr (g, "old") == NULL, "tailLines=1 applied before following");
  bool all = true;
  for (int i = 0; i < 30; i++)
    {
      char line[32];
      snprintf (line, sizeof line, "rot %02d\n", i);
      if (!strstr (g, line))
        all = false;
    }
  ok (all, "no line lost across rotations");
  c.stop = true;
  pthread_mutex_unlock (&c.mu);
  pthread_join (th, NULL);
  is_int (follow_ret, 0, "follow ends when the container is gone");
  agent_log_writer_close (w);
  husk_buf_free (&c.got);
  free (c.dir);
}

/* ---- pump ------------------------------------------------------------------------ */

static int done_calls;
static void
on_done (void *ud)
{
  (*(int *)ud)++;
  done_calls++;
}

static void
test_pump (void)
{
  husk_error *err = NULL;
  agent_log_pump *p = NULL;
  ok (agent_log_pump_new (&p, &err) == 0, "pump created");
  enum
  {
    N = 20
  };
  int out[N][2], errp[N][2], flags[N] = { 0 };
  char *dirs[N];
  for (int i = 0; i < N; i++)
    {
      agent_log_writer *w = NULL;
      dirs[i] = xasprintf ("%s/pump/c%d", tmp, i);
      if (pipe (out[i]) < 0 || pipe (errp[i]) < 0
          || agent_log_writer_open (dirs[i], 0, 0, 0, &w, &err) < 0)
        {
          ok (0, "setup");
          return;
        }
      agent_log_pump_add (p, out[i][0], errp[i][0], w, on_done, &flags[i], &err);
    }
  is_int (agent_log_pump_count (p), N, "pump holds every container");
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < N; i++)
      {
        char line[64];
        int n = snprintf (line, sizeof line, "c%d out %d\n", i, round);
        if (write (out[i][1], line, n) != n)
          ok (0, "write");
        n = snprintf (line, sizeof line, "c%d err %d", i, round);
        if (write (errp[i][1], line, n) != n)
          ok (0, "write");
      }
  for (int i = 0; i < N; i++)
    {
      close (out[i][1]);
      close (errp[i][1]);
    }
  int left = N;
  for (int spins = 0; left > 0 && spins < 1000; spins++)
    left = agent_log_pump_run (p, 100, &err);
  is_int (left, 0, "all containers detach at end of file");
  is_int (done_calls, N, "done called once per container");
  bool good = true;
  for (int i = 0; i < N; i++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/0.log", dirs[i]);
      _cleanup_free_ char *s = slurp (path);
      agent_log_opts o = AGENT_LOG_OPTS_INIT;
      _cleanup_free_ char *msgs = read_logs (path, &o);
      _cleanup_free_ char *want_out = xasprintf ("c%d out 0\nc%d out 1\nc%d out 2\n", i, i, i);
      _cleanup_free_ char *want_err = xasprintf ("stderr F c%d err 0c%d err 1c%d err 2\n", i, i, i);
      if (!strstr (msgs, "out 0\n") || !strstr (s, want_err) || flags[i] != 1)
        good = false;
      o.streams = 1 << AGENT_LOG_STDOUT;
      _cleanup_free_ char *o2 = read_logs (path, &o);
      if (!streq (o2, want_out))
        good = false;
      free (dirs[i]);
    }
  ok (good, "every container's log has its own stdout lines and its stderr tail");
  agent_log_pump_free (p);
}

static void
test_query (void)
{
  agent_log_opts o = AGENT_LOG_OPTS_INIT;
  bool prev = false;
  char *ctr = NULL;
  husk_error *err = NULL;
  ok (agent_log_opts_from_query (
          "container=web&follow=true&tailLines=10&timestamps=1&limitBytes=500"
          "&sinceTime=2026-11-27T05%3A10%3A00Z&previous=true&stream=Stderr",
          &o, &prev, &ctr, &err)
          == 0,
      "query parses");
  ok (o.follow && o.timestamps && o.tail_lines == 10 && o.limit_bytes == 500 && prev,
      "flags and numbers");
  ok (o.since_set && o.since.tv_sec == 1795756200 && o.since.tv_nsec == 0,
      "sinceTime URL-decoded and parsed");
  ok (o.streams == 1 << AGENT_LOG_STDERR, "stream=Stderr");
  is_str (ctr, "web", "container");
  free (ctr);
  struct
  {
    const char *q, *msg;
  } bad[] = {
    { "tailLines=-1", "tailLines: Invalid value: -1: must be greater than or equal to 0" },
    { "limitBytes=0", "limitBytes: Invalid value: 0: must be greater than 0" },
    { "sinceSeconds=10&sinceTime=2026-11-27T05:10:00Z",
      "at most one of `sinceTime` or `sinceSeconds`" },
    { "follow=maybe", "follow: invalid boolean" },
    { "stream=Both", "stream: Unsupported value" },
    { "sinceTime=yesterday", "sinceTime: invalid" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      agent_log_opts b = AGENT_LOG_OPTS_INIT;
      err = NULL;
      int ret = agent_log_opts_from_query (bad[i].q, &b, NULL, NULL, &err);
      ok (ret < 0 && err && strstr (err->msg, bad[i].msg), "refused: %s", bad[i].q);
      husk_error_free (err);
    }
  agent_log_opts d = AGENT_LOG_OPTS_INIT;
  ok (agent_log_opts_from_query ("", &d, NULL, NULL, &err) == 0 && d.tail_lines == -1 && !d.follow,
      "empty query: defaults");
}

static void
test_termination (void)
{
  husk_error *err = NULL;
  char *m = NULL;
  _cleanup_free_ char *missing = xasprintf ("%s/no-such-termination-log", tmp);
  ok (agent_termination_message_file (missing, &m, &err) == 0 && streq (m, ""),
      "missing message file: empty");
  free (m);
  _cleanup_free_ char *f = xasprintf ("%s/termination-log", tmp);
  char *big = xmalloc (5001);
  memset (big, 'a', 5000);
  memcpy (big + 5000 - 3, "END", 3);
  big[5000] = 0;
  write_file (f, big);
  ok (agent_termination_message_file (f, &m, &err) == 0 && strlen (m) == 4096
          && strcmp (m + 4093, "END") == 0,
      "message file: its last 4096 bytes");
  free (m);
  free (big);

  _cleanup_free_ char *log = xasprintf ("%s/term.log", tmp);
  husk_buf b = HUSK_BUF_INIT;
  for (int i = 0; i < 100; i++)
    husk_buf_printf (&b, "2026-11-27T05:10:00.000000000Z stderr F line %d\n", i);
  write_file (log, husk_buf_str (&b));
  husk_buf_free (&b);
  ok (agent_termination_message_logs (log, &m, &err) == 0, "fallback to logs reads");
  ok (strncmp (m, "line 20\n", 8) == 0 && strstr (m, "line 99\n") && !strstr (m, "line 19\n"),
      "fallback to logs: the last 80 lines");
  free (m);
  husk_buf c = HUSK_BUF_INIT;
  for (int i = 0; i < 100; i++)
    husk_buf_printf (&c, "2026-11-27T05:10:00.000000000Z stderr F %0100d\n", i);
  write_file (log, husk_buf_str (&c));
  husk_buf_free (&c);
  ok (agent_termination_message_logs (log, &m, &err) == 0 && strlen (m) == 2048 && m[2047] == '\n',
      "fallback to logs: cut to the last 2048 bytes");
  free (m);
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 99;
  test_names ();
  test_writer ();
  test_rotation ();
  test_reader ();
  test_follow ();
  test_pump ();
  test_termination ();
  test_query ();
  husk_error *err = NULL;
  husk_rm_rf (tmp, &err);
  return tap_done ();
}
