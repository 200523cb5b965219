/* Probes against real servers on 127.0.0.1 started here: httpGet (status codes,
   redirects, headers, timeout, named ports), tcpSocket, exec through a callback, spec
   validation, and the liveness/readiness/startup state machine. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "lib/json.h"
#include "src/node/agent/hooks.h"
#include "src/node/agent/probe.h"
#include "tests/unit/tap.h"

static int http_port, closed_port;
static volatile bool stop_server;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char last_request[4096];

static int
listen_any (int *port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  int one = 1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen (fd, 64) < 0)
    return -1;
  getsockname (fd, (struct sockaddr *)&sa, &len);
  *port = ntohs (sa.sin_port);
  return fd;
}

static void
reply (int c, const char *status, const char *extra, const char *body)
{
  char buf[1024];
  int n = snprintf (buf, sizeof buf,
                    "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s", status,
                    strlen (body), extra, body);
  if (write (c, buf, n) < 0)
    return;
}

static void *
http_server (void *ud)
{
  int lfd = *(int *)ud;
  while (!stop_server)
    {
      struct pollfd p = { .fd = lfd, .events = POLLIN };
      if (poll (&p, 1, 50) <= 0)
        continue;
      int c = accept4 (lfd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      char req[4096] = "";
      size_t got = 0;
      while (got < sizeof req - 1 && !strstr (req, "\r\n\r\n"))
        {
          ssize_t n = read (c, req + got, sizeof req - 1 - got);
          if (n <= 0)
            break;
          got += n;
          req[got] = 0;
        }
      pthread_mutex_lock (&mu);
      snprintf (last_request, sizeof last_request, "%s", req);
      pthread_mutex_unlock (&mu);
      char path[256] = "";
      sscanf (req, "GET %255s", path);
      char loc[256];
      if (streq (path, "/ok"))
        reply (c, "200 OK", "", "fine");
      else if (streq (path, "/fail"))
        reply (c, "500 Internal Server Error", "", "broken");
      else if (streq (path, "/notfound"))
        reply (c, "404 Not Found", "", "");
      else if (streq (path, "/redir"))
        reply (c, "302 Found", "Location: /ok\r\n", "");
      else if (streq (path, "/redir-fail"))
        {
          snprintf (loc, sizeof loc, "Location: http://127.0.0.1:%d/fail\r\n", http_port);
          reply (c, "302 Found", loc, "");
        }
      else if (streq (path, "/redir-away"))
        reply (c, "302 Found", "Location: http://elsewhere.invalid/x\r\n", "moved");
      else if (streq (path, "/slow"))
        {
          usleep (1500000);
          reply (c, "200 OK", "", "late");
        }
      else if (streq (path, "/headers"))
        {
          bool good = strstr (req, "\r\nX-Custom: yes\r\n")
                      && strstr (req, "\r\nUser-Agent: kube-probe/1.32\r\n")
                      && strstr (req, "\r\nAccept: */*\r\n");
          reply (c, good ? "200 OK" : "400 Bad Request", "", "");
        }
      else if (streq (path, "/host"))
        reply (c, strstr (req, "\r\nHost: example.test\r\n") ? "200 OK" : "400 Bad Request", "",
               "");
      else
        reply (c, "404 Not Found", "", "");
      close (c);
    }
  return NULL;
}

static json_t *
J (const char *s)
{
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  if (!j)
    {
      printf ("# bad test JSON: %s: %s\n", e.text, s);
      exit (99);
    }
  return j;
}

static agent_probe_spec *
spec (const char *probe, agent_probe_kind kind, char **errmsg)
{
  json_t *p = J (probe);
  json_t *c = J ("{\"name\":\"c\",\"ports\":[{\"name\":\"http\",\"containerPort\":0}]}");
  json_object_set_new (json_array_get (json_object_get (c, "ports"), 0), "containerPort",
                       json_integer (http_port));
  agent_probe_spec *s = NULL;
  husk_error *err = NULL;
  if (agent_probe_spec_parse (p, c, kind, &s, &err) < 0)
    {
      if (errmsg)
        *errmsg = xstrdup (err->msg);
      husk_error_free (err);
    }
  json_decref (p);
  json_decref (c);
  return s;
}

static agent_probe_result
run (const char *probe, char **msg)
{
  agent_probe_spec *s = spec (probe, AGENT_PROBE_LIVENESS, NULL);
  if (!s)
    {
      *msg = xstrdup ("(spec refused)");
      return AGENT_PROBE_UNKNOWN;
    }
  agent_probe_target t = { .pod_ip = "127.0.0.1" };
  agent_probe_result r = agent_probe_run (s, &t, msg);
  agent_probe_spec_free (s);
  return r;
}

static void
test_http (void)
{
  char probe[512], *msg = NULL;
#define HTTP(path, extra)                                                                          \
  (snprintf (probe, sizeof probe, "{\"httpGet\":{\"path\":\"%s\",\"port\":%d%s}}", path,           \
             http_port, extra),                                                                    \
   probe)
  ok (run (HTTP ("/ok", ""), &msg) == AGENT_PROBE_SUCCESS, "200: success");
  free (msg);
  ok (run (HTTP ("/fail", ""), &msg) == AGENT_PROBE_FAILURE, "500: failure");
  is_str (msg, "HTTP probe failed with statuscode: 500", "failure message as kubelet's");
  free (msg);
  ok (run (HTTP ("/notfound", ""), &msg) == AGENT_PROBE_FAILURE, "404: failure");
  free (msg);
  ok (run (HTTP ("/redir", ""), &msg) == AGENT_PROBE_SUCCESS,
      "redirect to a 200 on the same host: success");
  free (msg);
  ok (run (HTTP ("/redir-fail", ""), &msg) == AGENT_PROBE_FAILURE,
      "redirect to a 500 on the same host: followed, failure");
  free (msg);
  ok (run (HTTP ("/redir-away", ""), &msg) == AGENT_PROBE_SUCCESS
          && strstr (msg, "Probe terminated redirects"),
      "redirect to another host: not followed, success with a warning");
  free (msg);
  ok (run (HTTP ("/headers", ",\"httpHeaders\":[{\"name\":\"X-Custom\",\"value\":\"yes\"}]"), &msg)
          == AGENT_PROBE_SUCCESS,
      "custom header, kube-probe User-Agent and Accept sent");
  free (msg);
  ok (run (HTTP ("/host", ",\"httpHeaders\":[{\"name\":\"Host\",\"value\":\"example.test\"}]"),
           &msg)
          == AGENT_PROBE_SUCCESS,
      "Host header overrides");
  free (msg);
  ok (run (HTTP ("/slow", ",\"timeoutSeconds\":1"), &msg) == AGENT_PROBE_FAILURE,
      "slower than timeoutSeconds: failure");
  free (msg);
  snprintf (probe, sizeof probe,
            "{\"httpGet\":{\"path\":\"ok\",\"port\":\"http\"},\"timeoutSeconds\":2}");
  ok (run (probe, &msg) == AGENT_PROBE_SUCCESS, "named port and a path without '/'");
  free (msg);
  pthread_mutex_lock (&mu);
  ok (strncmp (last_request, "GET /ok HTTP/1.1\r\n", 18) == 0, "request line as expected");
  pthread_mutex_unlock (&mu);
  snprintf (probe, sizeof probe, "{\"httpGet\":{\"path\":\"/ok\",\"port\":\"nope\"}}");
  ok (run (probe, &msg) == AGENT_PROBE_FAILURE && strstr (msg, "unable to find port"),
      "unknown named port: failure");
  free (msg);
  snprintf (probe, sizeof probe, "{\"httpGet\":{\"path\":\"/ok\",\"port\":%d}}", closed_port);
  agent_probe_result refused = run (probe, &msg);
  ok (refused == AGENT_PROBE_FAILURE && strstr (msg, "Get \"http://127.0.0.1:"),
      "connection refused: failure (%s)", msg);
  free (msg);
}

static void
test_tcp (void)
{
  char probe[256], *msg = NULL;
  snprintf (probe, sizeof probe, "{\"tcpSocket\":{\"port\":%d}}", http_port);
  ok (run (probe, &msg) == AGENT_PROBE_SUCCESS, "tcpSocket to a listener: success");
  free (msg);
  snprintf (probe, sizeof probe, "{\"tcpSocket\":{\"port\":%d,\"host\":\"127.0.0.1\"}}",
            closed_port);
  ok (run (probe, &msg) == AGENT_PROBE_FAILURE, "tcpSocket to a closed port: failure");
  char want[128];
  snprintf (want, sizeof want, "dial tcp 127.0.0.1:%d: connect: connection refused", closed_port);
  is_str (msg, want, "message as Go's dialer");
  free (msg);
}

/* The fake runtime: runs argv on the host with a timeout. */
static int
fake_exec (void *ud, char *const argv[], int timeout_ms, int *exit_code, char **output,
           husk_error **err)
{
  int p[2];
  if (pipe (p) < 0)
    return husk_err_errno (err, "pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (p[1], 1);
      dup2 (p[1], 2);
      execvp (argv[0], argv);
      _exit (127);
    }
  close (p[1]);
  char buf[1024];
  size_t got = 0;
  struct pollfd pf = { .fd = p[0], .events = POLLIN };
  bool timed_out = false;
  for (;;)
    {
      int n = poll (&pf, 1, timeout_ms);
      if (n == 0)
        {
          timed_out = true;
          break;
        }
      ssize_t r = read (p[0], buf + got, sizeof buf - 1 - got);
      if (r <= 0)
        break;
      got += r;
    }
  close (p[0]);
  if (timed_out)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return husk_err (err, ETIMEDOUT, "timed out");
    }
  int st;
  waitpid (pid, &st, 0);
  buf[got] = 0;
  *exit_code = WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
  *output = xstrdup (buf);
  return 0;
}

static agent_probe_result
run_exec (const char *probe, char **msg)
{
  agent_probe_spec *s = spec (probe, AGENT_PROBE_READINESS, NULL);
  agent_probe_target t = { .exec = fake_exec };
  agent_probe_result r = s ? agent_probe_run (s, &t, msg) : AGENT_PROBE_UNKNOWN;
  agent_probe_spec_free (s);
  return r;
}

static void
test_exec (void)
{
  char *msg = NULL;
  ok (run_exec ("{\"exec\":{\"command\":[\"true\"]}}", &msg) == AGENT_PROBE_SUCCESS,
      "exec exit 0: success");
  free (msg);
  ok (run_exec ("{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo not ready; exit 3\"]}}", &msg)
          == AGENT_PROBE_FAILURE,
      "exec exit 3: failure");
  is_str (msg, "not ready\n", "the command's output is the message");
  free (msg);
  ok (run_exec ("{\"exec\":{\"command\":[\"sleep\",\"5\"]},\"timeoutSeconds\":1}", &msg)
              == AGENT_PROBE_FAILURE
          && strstr (msg, "command \"sleep 5\" timed out"),
      "exec past timeoutSeconds: failure, timed out");
  free (msg);
  agent_probe_spec *s = spec ("{\"exec\":{\"command\":[\"true\"]}}", AGENT_PROBE_LIVENESS, NULL);
  ok (agent_probe_run (s, &(agent_probe_target){ 0 }, &msg) == AGENT_PROBE_FAILURE,
      "exec without a runtime: failure");
  free (msg);
  agent_probe_spec_free (s);
}

static void
test_spec (void)
{
  char *msg = NULL;
  agent_probe_spec *s = spec ("{\"tcpSocket\":{\"port\":80}}", AGENT_PROBE_READINESS, NULL);
  ok (s && s->period == 10 && s->timeout == 1 && s->success_threshold == 1
          && s->failure_threshold == 3 && s->initial_delay == 0,
      "defaults: period 10, timeout 1, success 1, failure 3, delay 0");
  agent_probe_spec_free (s);
  struct
  {
    const char *probe, *msg;
    agent_probe_kind kind;
  } bad[] = {
    { "{}", "must specify a handler type", AGENT_PROBE_LIVENESS },
    { "{\"tcpSocket\":{\"port\":80},\"exec\":{\"command\":[\"x\"]}}", "more than 1 handler",
      AGENT_PROBE_LIVENESS },
    { "{\"tcpSocket\":{\"port\":80},\"successThreshold\":2}", "must be 1", AGENT_PROBE_LIVENESS },
    { "{\"tcpSocket\":{\"port\":80},\"periodSeconds\":0}", "periodSeconds", AGENT_PROBE_READINESS },
    { "{\"tcpSocket\":{\"port\":70000}}", "between 1 and 65535", AGENT_PROBE_READINESS },
    { "{\"httpGet\":{\"port\":80,\"scheme\":\"FTP\"}}", "Unsupported value",
      AGENT_PROBE_READINESS },
    { "{\"exec\":{\"command\":[]}}", "Required value", AGENT_PROBE_READINESS },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      msg = NULL;
      s = spec (bad[i].probe, bad[i].kind, &msg);
      ok (!s && msg && strstr (msg, bad[i].msg), "refused: %s (%s)", bad[i].probe,
          msg ? msg : "accepted");
      agent_probe_spec_free (s);
      free (msg);
    }
  s = spec ("{\"tcpSocket\":{\"port\":80},\"successThreshold\":2}", AGENT_PROBE_READINESS, NULL);
  ok (s && s->success_threshold == 2, "readiness may have successThreshold 2");
  agent_probe_spec_free (s);
}

/* ---- state machine ------------------------------------------------------------------ */

static void
test_machine (void)
{
  agent_probe_spec *live = spec ("{\"tcpSocket\":{\"port\":80},\"initialDelaySeconds\":5,"
                                 "\"periodSeconds\":2,\"failureThreshold\":3}",
                                 AGENT_PROBE_LIVENESS, NULL);
  agent_prober p;
  agent_prober_init (&p, live, AGENT_PROBE_LIVENESS, 1000);
  is_int (p.published, AGENT_PROBE_SUCCESS, "liveness starts as Success");
  is_int (agent_prober_next (&p, true), 6000, "first run after initialDelaySeconds");
  ok (!agent_prober_record (&p, AGENT_PROBE_FAILURE, 6000), "one failure: no change");
  is_int (agent_prober_next (&p, true), 8000, "then every periodSeconds");
  ok (!agent_prober_record (&p, AGENT_PROBE_FAILURE, 8000), "two failures: no change");
  ok (!agent_prober_record (&p, AGENT_PROBE_SUCCESS, 10000), "a success resets the run");
  ok (!agent_prober_record (&p, AGENT_PROBE_FAILURE, 12000)
          && !agent_prober_record (&p, AGENT_PROBE_FAILURE, 14000),
      "two more failures: no change");
  ok (agent_prober_record (&p, AGENT_PROBE_FAILURE, 16000) && p.published == AGENT_PROBE_FAILURE,
      "third consecutive failure: Failure published (kill)");
  is_int (agent_prober_next (&p, true), -1, "on hold until the container restarts");
  agent_prober_reset (&p, 20000);
  ok (p.published == AGENT_PROBE_SUCCESS && agent_prober_next (&p, true) == 25000,
      "restart: starts over");

  agent_probe_spec *ready = spec ("{\"tcpSocket\":{\"port\":80},\"periodSeconds\":1,"
                                  "\"successThreshold\":2,\"failureThreshold\":2}",
                                  AGENT_PROBE_READINESS, NULL);
  agent_prober r;
  agent_prober_init (&r, ready, AGENT_PROBE_READINESS, 0);
  is_int (r.published, AGENT_PROBE_FAILURE, "readiness starts as Failure (not ready)");
  ok (!agent_prober_record (&r, AGENT_PROBE_SUCCESS, 0),
      "one success: still not ready (successThreshold 2)");
  ok (agent_prober_record (&r, AGENT_PROBE_SUCCESS, 1000) && r.published == AGENT_PROBE_SUCCESS,
      "two: ready");
  ok (!agent_prober_record (&r, AGENT_PROBE_FAILURE, 2000), "one failure: still ready");
  ok (agent_prober_record (&r, AGENT_PROBE_FAILURE, 3000) && r.published == AGENT_PROBE_FAILURE,
      "two: not ready");
  ok (agent_prober_next (&r, true) == 4000, "readiness keeps probing after failure (no hold)");
  ok (agent_prober_next (&r, false) == -1,
      "readiness waits while the startup probe has not succeeded");

  agent_probe_spec *start
      = spec ("{\"tcpSocket\":{\"port\":80},\"periodSeconds\":1,\"failureThreshold\":30}",
              AGENT_PROBE_STARTUP, NULL);
  agent_prober s;
  agent_prober_init (&s, start, AGENT_PROBE_STARTUP, 0);
  is_int (s.published, AGENT_PROBE_UNKNOWN, "startup starts as Unknown");
  for (int i = 0; i < 10; i++)
    agent_prober_record (&s, AGENT_PROBE_FAILURE, i * 1000);
  ok (s.published == AGENT_PROBE_UNKNOWN, "10 failures of 30: still starting");
  ok (agent_prober_record (&s, AGENT_PROBE_SUCCESS, 10000) && s.published == AGENT_PROBE_SUCCESS,
      "success: started");
  is_int (agent_prober_next (&s, true), -1, "a succeeded startup probe stops");
  agent_prober_reset (&s, 0);
  for (int i = 0; i < 29; i++)
    agent_prober_record (&s, AGENT_PROBE_FAILURE, i * 1000);
  ok (agent_prober_record (&s, AGENT_PROBE_FAILURE, 29000) && s.published == AGENT_PROBE_FAILURE
          && agent_prober_next (&s, false) == -1,
      "30 failures: Failure published (kill), on hold");

  /* end to end: readiness against the real server, which then goes away */
  char probe[256];
  snprintf (
      probe, sizeof probe,
      "{\"httpGet\":{\"path\":\"/ok\",\"port\":%d},\"periodSeconds\":1,\"failureThreshold\":1}",
      http_port);
  agent_probe_spec *e2e = spec (probe, AGENT_PROBE_READINESS, NULL);
  agent_prober q;
  agent_prober_init (&q, e2e, AGENT_PROBE_READINESS, 0);
  agent_probe_target t = { .pod_ip = "127.0.0.1" };
  ok (agent_prober_record (&q, agent_probe_run (e2e, &t, NULL), 0)
          && q.published == AGENT_PROBE_SUCCESS,
      "live server: Ready");
  free (e2e->path);
  e2e->path = xstrdup ("/fail");
  ok (agent_prober_record (&q, agent_probe_run (e2e, &t, NULL), 1000)
          && q.published == AGENT_PROBE_FAILURE,
      "server turns 500: not Ready");
  agent_probe_spec_free (e2e);
  agent_probe_spec_free (live);
  agent_probe_spec_free (ready);
  agent_probe_spec_free (start);
  is_str (agent_probe_kind_name (AGENT_PROBE_STARTUP), "Startup", "kind names for events");
}

/* ---- lifecycle hooks and grace periods ------------------------------------------------ */

static char *
hook (const char *handler, int timeout)
{
  json_t *pod = J ("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"u1\"}}");
  json_t *ctr = J ("{\"name\":\"c\"}");
  json_t *h = J (handler);
  agent_probe_target t = { .pod_ip = "127.0.0.1", .exec = fake_exec };
  husk_error *err = NULL;
  char *res
      = agent_hook_run (pod, ctr, h, &t, timeout, &err) == 0 ? xstrdup ("ok") : xstrdup (err->msg);
  husk_error_free (err);
  json_decref (pod);
  json_decref (ctr);
  json_decref (h);
  return res;
}

static void
test_hooks (void)
{
  char *r = hook ("{\"exec\":{\"command\":[\"true\"]}}", 5);
  is_str (r, "ok", "exec hook succeeds");
  free (r);
  r = hook ("{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo bye; exit 4\"]}}", 5);
  is_str (r,
          "Exec lifecycle hook ([sh -c echo bye; exit 4]) for Container \"c\" in Pod \"p_ns(u1)\" "
          "failed - "
          "error: command 'sh -c echo bye; exit 4' exited with 4: , message: \"bye\\n\"",
          "failed exec hook: kubelet's message");
  free (r);
  char h[256];
  snprintf (h, sizeof h, "{\"httpGet\":{\"path\":\"/ok\",\"port\":%d}}", http_port);
  r = hook (h, 5);
  is_str (r, "ok", "httpGet hook succeeds on 200");
  free (r);
  snprintf (h, sizeof h, "{\"httpGet\":{\"path\":\"/fail\",\"port\":%d}}", http_port);
  r = hook (h, 5);
  ok (strncmp (r, "HTTP lifecycle hook (/fail) for Container \"c\" in Pod \"p_ns(u1)\" failed", 68)
          == 0,
      "httpGet hook fails on 500 (%s)", r);
  free (r);
  struct timespec a, b;
  clock_gettime (CLOCK_MONOTONIC, &a);
  r = hook ("{\"sleep\":{\"seconds\":1}}", 5);
  clock_gettime (CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  ok (streq (r, "ok") && ms >= 1000, "sleep hook sleeps (%ld ms)", ms);
  free (r);
  clock_gettime (CLOCK_MONOTONIC, &a);
  r = hook ("{\"sleep\":{\"seconds\":30}}", 1);
  clock_gettime (CLOCK_MONOTONIC, &b);
  ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  ok (streq (r, "ok") && ms < 5000, "sleep hook bounded by the grace period (%ld ms)", ms);
  free (r);
  r = hook ("{}", 5);
  ok (strstr (r, "no exec, httpGet or sleep") != NULL, "empty handler refused");
  free (r);

  json_t *pod = J ("{\"spec\":{}}");
  is_int (agent_grace_seconds (pod, NULL), 30, "default grace 30 s");
  json_decref (pod);
  pod = J ("{\"spec\":{\"terminationGracePeriodSeconds\":0}}");
  is_int (agent_grace_seconds (pod, NULL), 2, "grace at least 2 s");
  json_decref (pod);
  pod = J ("{\"metadata\":{\"deletionGracePeriodSeconds\":5},\"spec\":{"
           "\"terminationGracePeriodSeconds\":60}}");
  is_int (agent_grace_seconds (pod, NULL), 5, "deletionGracePeriodSeconds wins");
  json_decref (pod);
  pod = J ("{\"spec\":{\"terminationGracePeriodSeconds\":60}}");
  agent_probe_spec *ps = spec ("{\"tcpSocket\":{\"port\":80},\"terminationGracePeriodSeconds\":7}",
                               AGENT_PROBE_LIVENESS, NULL);
  is_int (agent_grace_seconds (pod, ps), 7, "probe-level grace for a probe kill");
  agent_probe_spec_free (ps);
  json_decref (pod);
  is_int (agent_grace_after_hook (30, 10500), 19, "preStop time comes off the grace");
  is_int (agent_grace_after_hook (30, 40000), 2, "but 2 s remain at least");
}

int
main (void)
{
  int lfd = listen_any (&http_port);
  int cfd = listen_any (&closed_port);
  if (lfd < 0 || cfd < 0)
    tap_skip_all ("cannot listen on 127.0.0.1");
  close (cfd); /* a port nobody listens on */
  pthread_t th;
  pthread_create (&th, NULL, http_server, &lfd);
  test_http ();
  test_tcp ();
  test_exec ();
  test_spec ();
  test_machine ();
  test_hooks ();
  stop_server = true;
  pthread_join (th, NULL);
  close (lfd);
  return tap_done ();
}
