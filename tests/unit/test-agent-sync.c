/* computePodActions: init containers in order, sidecars, restarts through the back-off,
   probe kills, finished pods, sandbox loss. */
#include "lib/buf.h"
#include "lib/json.h"
#include "src/node/agent/sync.h"
#include "tests/unit/tap.h"

static json_t *
mkpod (const char *policy, const char *init, const char *ctrs)
{
  char *s = xasprintf (
      "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u1\"},"
      "\"spec\":{\"restartPolicy\":\"%s\",\"initContainers\":[%s],\"containers\":[%s]}}",
      policy, init, ctrs);
  json_error_t e;
  json_t *j = json_loads (s, 0, &e);
  free (s);
  if (!j)
    exit (99);
  return j;
}

/* e.g. "sandbox start:i0" or "start:c0,c1 wait:c2" */
static char *
summary (const agent_pod_actions *a)
{
  husk_buf b = HUSK_BUF_INIT;
  husk_buf_puts (&b, "");
  if (a->create_sandbox)
    husk_buf_puts (&b, " sandbox");
  if (a->kill_pod)
    husk_buf_puts (&b, " killpod");
  if (a->done)
    husk_buf_puts (&b, " done");
  for (size_t i = 0; i < a->nkill; i++)
    husk_buf_printf (&b, "%s%c%zu", i ? "," : " kill:", a->kill[i].ref.init ? 'i' : 'c',
                     a->kill[i].ref.index);
  for (size_t i = 0; i < a->nstart; i++)
    husk_buf_printf (&b, "%s%c%zu", i ? "," : " start:", a->start[i].init ? 'i' : 'c',
                     a->start[i].index);
  for (size_t i = 0; i < a->nwait; i++)
    husk_buf_printf (&b, "%s%c%zu", i ? "," : " wait:", a->wait[i].ref.init ? 'i' : 'c',
                     a->wait[i].ref.index);
  char *s = husk_buf_steal (&b);
  if (*s == ' ')
    memmove (s, s + 1, strlen (s));
  return s;
}

static char *
act (json_t *pod, bool exists, bool ready, agent_ctr_runtime *init, size_t ninit,
     agent_ctr_runtime *c, size_t n, int64_t now, agent_pod_actions *keep)
{
  agent_pod_actions a;
  husk_error *err = NULL;
  if (agent_pod_compute_actions (pod, exists, ready, init, ninit, c, n, now, &a, &err) < 0)
    {
      char *m = xasprintf ("error: %s", err->msg);
      husk_error_free (err);
      return m;
    }
  char *s = summary (&a);
  if (keep)
    *keep = a;
  else
    agent_pod_actions_clear (&a);
  return s;
}

#define CHECK(got_expr, want, name)                                                                \
  do                                                                                               \
    {                                                                                              \
      char *g__ = (got_expr);                                                                      \
      is_str (g__, want, name);                                                                    \
      free (g__);                                                                                  \
    }                                                                                              \
  while (0)

#define U                                                                                          \
  {                                                                                                \
    .state = AGENT_CTR_UNKNOWN                                                                     \
  }
#define R                                                                                          \
  {                                                                                                \
    .state = AGENT_CTR_RUNNING, .started = true                                                    \
  }
#define T(code)                                                                                    \
  {                                                                                                \
    .state = AGENT_CTR_TERMINATED, .exit_code = code, .finished_ms = 1000                          \
  }

static void
test_init_order (void)
{
  json_t *p = mkpod ("Always", "{\"name\":\"i0\"},{\"name\":\"i1\"}",
                     "{\"name\":\"a\"},{\"name\":\"b\"}");
  agent_ctr_runtime i_none[] = { U, U }, c_none[] = { U, U };
  CHECK (act (p, false, false, i_none, 2, c_none, 2, 0, NULL), "sandbox start:i0",
         "new pod: sandbox, then the first init container");
  agent_ctr_runtime i_run[] = { R, U };
  CHECK (act (p, true, true, i_run, 2, c_none, 2, 0, NULL), "", "init 0 running: wait");
  agent_ctr_runtime i_one[] = { T (0), U };
  CHECK (act (p, true, true, i_one, 2, c_none, 2, 0, NULL), "start:i1", "init 0 done: init 1 next");
  agent_ctr_runtime i_done[] = { T (0), T (0) };
  CHECK (act (p, true, true, i_done, 2, c_none, 2, 0, NULL), "start:c0,c1",
         "init done: all regular containers");
  agent_ctr_runtime c_run[] = { R, R };
  CHECK (act (p, true, true, i_done, 2, c_run, 2, 0, NULL), "", "all running: nothing to do");
  agent_ctr_runtime i_gone[] = { U, U };
  CHECK (act (p, true, true, i_gone, 2, c_run, 2, 0, NULL), "",
         "init statuses gone after start: not run again");
  json_decref (p);

  p = mkpod ("Always", "", "{\"name\":\"a\"},{\"name\":\"b\"}");
  CHECK (act (p, false, false, NULL, 0, c_none, 2, 0, NULL), "sandbox start:c0,c1",
         "no init: sandbox and every container");
  json_decref (p);
}

static void
test_init_failure (void)
{
  json_t *p = mkpod ("OnFailure", "{\"name\":\"i0\"}", "{\"name\":\"a\"}");
  agent_backoff b = { 0 };
  agent_ctr_runtime i_fail[]
      = { { .state = AGENT_CTR_TERMINATED, .exit_code = 1, .finished_ms = 1000, .backoff = &b } };
  agent_ctr_runtime c_none[] = { U };
  CHECK (act (p, true, true, i_fail, 1, c_none, 1, 1000, NULL), "start:i0",
         "failed init, OnFailure: restarted at once");
  i_fail[0].finished_ms = 2000;
  agent_pod_actions a;
  CHECK (act (p, true, true, i_fail, 1, c_none, 1, 2000, &a), "wait:i0", "failed again: back-off");
  ok (a.nwait == 1 && a.wait[0].remaining_ms == 10000
          && streq (a.wait[0].message,
                    "back-off 10s restarting failed container=i0 pod=p_default(u1)"),
      "wait carries 10 s and kubelet's message");
  agent_pod_actions_clear (&a);
  CHECK (act (p, true, true, i_fail, 1, c_none, 1, 12000, NULL), "start:i0",
         "after 10 s: restarted");
  json_decref (p);
  p = mkpod ("Never", "{\"name\":\"i0\"}", "{\"name\":\"a\"}");
  agent_ctr_runtime i_f2[] = { T (1) };
  CHECK (act (p, true, true, i_f2, 1, c_none, 1, 0, NULL), "killpod done",
         "failed init, Never: the pod fails");
  json_decref (p);
}

static void
test_sidecars (void)
{
  json_t *p = mkpod ("Never", "{\"name\":\"log\",\"restartPolicy\":\"Always\"},{\"name\":\"i1\"}",
                     "{\"name\":\"a\"}");
  agent_ctr_runtime c_none[] = { U };
  agent_ctr_runtime s0[] = { U, U };
  CHECK (act (p, true, true, s0, 2, c_none, 1, 0, NULL), "start:i0", "sidecar starts first");
  agent_ctr_runtime s1[] = { { .state = AGENT_CTR_RUNNING, .started = false }, U };
  CHECK (act (p, true, true, s1, 2, c_none, 1, 0, NULL), "",
         "sidecar not started yet: the next init waits");
  agent_ctr_runtime s2[] = { R, U };
  CHECK (act (p, true, true, s2, 2, c_none, 1, 0, NULL), "start:i1",
         "sidecar started: next init container");
  agent_ctr_runtime s3[] = { R, T (0) };
  CHECK (act (p, true, true, s3, 2, c_none, 1, 0, NULL), "start:c0", "then the regular container");
  agent_backoff b = { 0 };
  agent_ctr_runtime s4[]
      = { { .state = AGENT_CTR_TERMINATED, .exit_code = 0, .finished_ms = 5000, .backoff = &b },
          T (0) };
  agent_ctr_runtime c_run[] = { R };
  CHECK (act (p, true, true, s4, 2, c_run, 1, 5000, NULL), "start:i0",
         "an exited sidecar restarts even in a Never pod");
  agent_ctr_runtime c_done[] = { T (0) };
  CHECK (act (p, true, true, s3, 2, c_done, 1, 0, NULL), "killpod done",
         "main container finished: sidecars stop with the pod");
  json_decref (p);
}

static void
test_restarts (void)
{
  json_t *p = mkpod ("Always", "", "{\"name\":\"web\"},{\"name\":\"db\"}");
  agent_backoff b = { 0 };
  agent_ctr_runtime c[]
      = { R,
          { .state = AGENT_CTR_TERMINATED, .exit_code = 2, .finished_ms = 1000, .backoff = &b } };
  CHECK (act (p, true, true, NULL, 0, c, 2, 1000, NULL), "start:c1",
         "first crash: restarted at once");
  c[1].finished_ms = 3000;
  CHECK (act (p, true, true, NULL, 0, c, 2, 3000, NULL), "wait:c1",
         "second crash: CrashLoopBackOff");
  CHECK (act (p, true, true, NULL, 0, c, 2, 13000, NULL), "start:c1", "10 s later: restarted");
  c[1].finished_ms = 14000;
  agent_pod_actions a;
  CHECK (act (p, true, true, NULL, 0, c, 2, 14000, &a), "wait:c1", "third crash: back-off again");
  ok (a.nwait == 1 && a.wait[0].remaining_ms == 20000, "the wait doubled to 20 s");
  agent_pod_actions_clear (&a);
  agent_ctr_runtime done[] = { T (0), T (0) };
  CHECK (act (p, true, true, NULL, 0, done, 2, 0, NULL), "start:c0,c1",
         "Always restarts exit 0 too");
  json_decref (p);

  p = mkpod ("OnFailure", "", "{\"name\":\"job\"},{\"name\":\"helper\"}");
  agent_ctr_runtime of[] = { T (0), T (3) };
  CHECK (act (p, true, true, NULL, 0, of, 2, 0, NULL), "start:c1",
         "OnFailure: only the failed one restarts");
  CHECK (act (p, true, true, NULL, 0, done, 2, 0, NULL), "killpod done",
         "OnFailure, all exit 0: the pod is done");
  CHECK (act (p, true, false, NULL, 0, done, 2, 0, NULL), "killpod done",
         "...and no sandbox is recreated for it");
  json_decref (p);
}

static void
test_probes_and_sandbox (void)
{
  json_t *p = mkpod ("Always", "", "{\"name\":\"web\"}");
  agent_ctr_runtime c[]
      = { { .state = AGENT_CTR_RUNNING, .started = true, .liveness_failed = true } };
  agent_pod_actions a;
  CHECK (act (p, true, true, NULL, 0, c, 1, 0, &a), "kill:c0", "liveness failure: kill");
  ok (a.nkill == 1
          && streq (a.kill[0].reason, "Container web failed liveness probe, will be restarted"),
      "kill reason as kubelet's event");
  agent_pod_actions_clear (&a);
  agent_ctr_runtime st[] = { { .state = AGENT_CTR_RUNNING, .startup_failed = true } };
  CHECK (act (p, true, true, NULL, 0, st, 1, 0, &a), "kill:c0", "startup failure: kill");
  ok (strstr (a.kill[0].reason, "failed startup probe") != NULL, "startup reason");
  agent_pod_actions_clear (&a);
  agent_ctr_runtime r[] = { R };
  CHECK (act (p, true, false, NULL, 0, r, 1, 0, NULL), "sandbox killpod start:c0",
         "sandbox died (Always): recreate everything");
  json_decref (p);
  p = mkpod ("Never", "", "{\"name\":\"web\"}");
  CHECK (act (p, true, true, NULL, 0, c, 1, 0, &a), "killpod done kill:c0",
         "Never: liveness failure kills, and the pod ends");
  ok (a.nkill == 1 && !strstr (a.kill[0].reason, "restarted"), "...without 'will be restarted'");
  agent_pod_actions_clear (&a);
  agent_ctr_runtime f[] = { T (137) };
  CHECK (act (p, true, true, NULL, 0, f, 1, 0, NULL), "killpod done",
         "Never: killed container stays down, pod done");
  CHECK (act (p, true, false, NULL, 0, f, 1, 0, NULL), "killpod done",
         "Never: a dead sandbox is not revived");
  json_decref (p);
  p = mkpod ("Sometimes", "", "{\"name\":\"web\"}");
  CHECK (act (p, true, true, NULL, 0, r, 1, 0, NULL),
         "error: restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
         "\"OnFailure\", \"Never\"",
         "bad restartPolicy refused");
  json_decref (p);
}

static void
test_images (void)
{
  agent_pull_policy p;
  husk_error *err = NULL;
  struct
  {
    const char *policy, *image;
    agent_pull_policy want;
  } cases[] = {
    { "", "busybox", AGENT_PULL_ALWAYS },
    { "", "busybox:latest", AGENT_PULL_ALWAYS },
    { "", "busybox:1.36", AGENT_PULL_IF_NOT_PRESENT },
    { "", "localhost:5000/app", AGENT_PULL_ALWAYS },
    { "", "localhost:5000/app:v2", AGENT_PULL_IF_NOT_PRESENT },
    { "", "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      AGENT_PULL_IF_NOT_PRESENT },
    { "Never", "busybox", AGENT_PULL_NEVER },
    { "Always", "busybox:1.36", AGENT_PULL_ALWAYS },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    ok (agent_pull_policy_of (cases[i].policy, cases[i].image, &p, &err) == 0 && p == cases[i].want,
        "pull policy '%s' for %s", cases[i].policy, cases[i].image);
  ok (agent_pull_policy_of ("Sometimes", "x", &p, &err) < 0, "unknown pull policy refused");
  husk_error_free (err);
  err = NULL;
  is_int (agent_pull_needed (AGENT_PULL_IF_NOT_PRESENT, "x", true, &err), 0,
          "IfNotPresent + present: no pull");
  is_int (agent_pull_needed (AGENT_PULL_IF_NOT_PRESENT, "x", false, &err), 1,
          "IfNotPresent + absent: pull");
  is_int (agent_pull_needed (AGENT_PULL_ALWAYS, "x", true, &err), 1, "Always: pull");
  ok (agent_pull_needed (AGENT_PULL_NEVER, "busybox:1.36", false, &err) < 0
          && streq (err->msg,
                    "Container image \"busybox:1.36\" is not present with pull policy of Never"),
      "Never + absent: ErrImageNeverPull message");
  husk_error_free (err);
  char *m = agent_pull_backoff_message ("busybox:1.36");
  is_str (m, "Back-off pulling image \"busybox:1.36\"", "ImagePullBackOff message");
  free (m);
}

int
main (void)
{
  test_init_order ();
  test_init_failure ();
  test_sidecars ();
  test_restarts ();
  test_probes_and_sandbox ();
  test_images ();
  return tap_done ();
}
