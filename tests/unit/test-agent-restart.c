/* Restart policy, crash-loop back-off timing, reasons and pod phase. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "src/node/agent/restart.h"
#include "tests/unit/tap.h"

static void
test_policy (void)
{
  agent_restart_policy p;
  husk_error *err = NULL;
  ok (agent_restart_policy_parse (NULL, &p, &err) == 0 && p == AGENT_RESTART_ALWAYS,
      "no restartPolicy means Always");
  ok (agent_restart_policy_parse ("OnFailure", &p, &err) == 0 && p == AGENT_RESTART_ON_FAILURE,
      "OnFailure parses");
  ok (agent_restart_policy_parse ("Sometimes", &p, &err) < 0 && strstr (err->msg, "Sometimes"),
      "unknown policy refused, named");
  husk_error_free (err);
  ok (agent_restart_wanted (AGENT_RESTART_ALWAYS, 0), "Always restarts a success");
  ok (!agent_restart_wanted (AGENT_RESTART_ON_FAILURE, 0), "OnFailure keeps a success");
  ok (agent_restart_wanted (AGENT_RESTART_ON_FAILURE, 137), "OnFailure restarts a failure");
  ok (!agent_restart_wanted (AGENT_RESTART_NEVER, 1), "Never never restarts");
}

/* A container that crashes one second after each start: the waits the agent imposes. */
static void
test_backoff (void)
{
  agent_backoff b = { 0 };
  int64_t now = 1000000, waits[10];
  for (int i = 0; i < 10; i++)
    {
      int64_t finished = now;
      int64_t wait = agent_backoff_check (&b, finished, now);
      waits[i] = wait;
      if (wait > 0)
        {
          now += wait;
          ok (agent_backoff_check (&b, finished, now - 1) > 0,
              "crash %d: still backing off 1 ms early", i + 1);
          ok (agent_backoff_check (&b, finished, now) == 0,
              "crash %d: starts when the wait is over", i + 1);
        }
      now += 1000; /* runs one second */
    }
  int64_t want[] = { 0, 10000, 20000, 40000, 80000, 160000, 300000, 300000, 300000, 300000 };
  bool same = true;
  for (int i = 0; i < 10; i++)
    if (waits[i] != want[i])
      {
        same = false;
        printf ("# crash %d: waited %lld, want %lld\n", i + 1, (long long)waits[i],
                (long long)want[i]);
      }
  ok (same, "waits go 0, 10s, 20s, 40s ... capped at 5 min");

  /* Runs 11 minutes, then crashes: restarts at once, and the next wait is 10 s again. */
  now += 11 * 60 * 1000;
  is_int (agent_backoff_check (&b, now, now), 0, "after 10 min running the back-off resets");
  now += 1000;
  is_int (agent_backoff_check (&b, now, now), 10000, "and the next crash waits 10 s again");
  char *m = agent_backoff_message (&b, "web", "web-1", "default", "u1");
  is_str (m, "back-off 10s restarting failed container=web pod=web-1_default(u1)",
          "CrashLoopBackOff message as kubelet writes it");
  free (m);
  b.delay_ms = 300000;
  m = agent_backoff_message (&b, "web", "web-1", "default", "u1");
  ok (strstr (m, "back-off 5m0s ") != NULL, "durations read like Go's (5m0s)");
  free (m);
  /* 9 minutes of running is not enough to reset. */
  agent_backoff c = { 0 };
  now = 0;
  agent_backoff_check (&c, now, now);
  now += 1000;
  int64_t w = agent_backoff_check (&c, now, now);
  now += w;
  agent_backoff_check (&c, now - w, now); /* the restart itself */
  now += 9 * 60 * 1000;
  is_int (agent_backoff_check (&c, now, now), 20000, "9 min running does not reset (20 s)");
}

static void
test_reasons (void)
{
  is_str (agent_terminated_reason (0, false), "Completed", "exit 0 is Completed");
  is_str (agent_terminated_reason (2, false), "Error", "exit 2 is Error");
  is_str (agent_terminated_reason (137, true), "OOMKilled", "OOM kill is OOMKilled");
  is_int (agent_exit_code_from_status (3 << 8), 3, "exit status 3");
  is_int (agent_exit_code_from_status (SIGKILL), 137, "killed by SIGKILL is 137");
  is_int (agent_exit_code_from_status (SIGTERM), 143, "killed by SIGTERM is 143");
}

static void
write_events (const char *dir, const char *text)
{
  _cleanup_free_ char *path = xasprintf ("%s/memory.events", dir);
  FILE *f = fopen (path, "w");
  if (f == NULL || fputs (text, f) < 0 || fclose (f) != 0)
    {
      printf ("Bail out! cannot write %s\n", path);
      exit (1);
    }
}

/* memory.events as the kernel writes it: only oom_kill counts, not oom or oom_group_kill. */
static void
test_oom_events (void)
{
  char dir[] = "/tmp/test-agent-restart.XXXXXX";
  if (mkdtemp (dir) == NULL)
    {
      printf ("Bail out! mkdtemp %s\n", dir);
      exit (1);
    }
  ok (!agent_cgroup_oom_killed (dir), "no memory.events (no memory controller): not OOMKilled");
  write_events (dir, "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\noom_group_kill 0\n");
  ok (!agent_cgroup_oom_killed (dir), "memory.max hit, nothing killed: not OOMKilled");
  write_events (dir, "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\noom_group_kill 0\n");
  ok (agent_cgroup_oom_killed (dir), "oom_kill 1: OOMKilled");
  write_events (dir, "oom_kill 3\n");
  ok (agent_cgroup_oom_killed (dir), "oom_kill on the first line");
  write_events (dir, "oom 2\nxoom_kill 5\noom_group_kill 2\n");
  ok (!agent_cgroup_oom_killed (dir), "other keys ending in oom_kill do not count");
  _cleanup_free_ char *path = xasprintf ("%s/memory.events", dir);
  unlink (path);
  rmdir (dir);
}

#define R(st, code, last)                                                                          \
  {                                                                                                \
    .state = AGENT_CTR_##st, .exit_code = code, .last_terminated = last                            \
  }
#define I(st, code, last)                                                                          \
  {                                                                                                \
    .state = AGENT_CTR_##st, .exit_code = code, .last_terminated = last, .init = true              \
  }

static void
test_phase (void)
{
  agent_ctr_phase_input a[] = { R (RUNNING, 0, false), R (RUNNING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, a, 2, true), "Running", "all running: Running");
  agent_ctr_phase_input b[] = { R (RUNNING, 0, false), R (WAITING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, b, 2, true), "Pending",
          "one never started: Pending");
  agent_ctr_phase_input c[] = { R (WAITING, 1, true) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, c, 1, true), "Running",
          "CrashLoopBackOff pod is Running");
  agent_ctr_phase_input d[] = { R (TERMINATED, 0, false), R (TERMINATED, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_NEVER, d, 2, true), "Succeeded",
          "all exit 0, Never: Succeeded");
  is_str (agent_pod_phase (AGENT_RESTART_ON_FAILURE, d, 2, true), "Succeeded",
          "all exit 0, OnFailure: Succeeded");
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, d, 2, true), "Running",
          "all exit 0, Always: Running (restarting)");
  agent_ctr_phase_input e[] = { R (TERMINATED, 0, false), R (TERMINATED, 1, false) };
  is_str (agent_pod_phase (AGENT_RESTART_NEVER, e, 2, true), "Failed", "one failed, Never: Failed");
  is_str (agent_pod_phase (AGENT_RESTART_ON_FAILURE, e, 2, true), "Running",
          "one failed, OnFailure: Running");
  agent_ctr_phase_input f[] = { I (TERMINATED, 1, false), R (WAITING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_NEVER, f, 2, false), "Failed",
          "failed init, Never: Failed");
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, f, 2, false), "Pending",
          "failed init, Always: Pending");
  agent_ctr_phase_input g[] = { I (RUNNING, 0, false), R (WAITING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, g, 2, false), "Pending", "init running: Pending");
  agent_ctr_phase_input h[] = { I (TERMINATED, 0, false), R (RUNNING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, h, 2, true), "Running",
          "init done, main running: Running");
  agent_ctr_phase_input s[]
      = { { .state = AGENT_CTR_RUNNING, .init = true, .sidecar = true }, R (WAITING, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, s, 2, false), "Pending",
          "sidecar not started: Pending");
  agent_ctr_phase_input t[]
      = { { .state = AGENT_CTR_RUNNING, .init = true, .sidecar = true, .started = true },
          R (TERMINATED, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_NEVER, t, 2, true), "Running",
          "sidecar still running after main exited: Running");
  agent_ctr_phase_input u[] = { R (UNKNOWN, 0, false) };
  is_str (agent_pod_phase (AGENT_RESTART_ALWAYS, u, 1, false), "Pending", "no status yet: Pending");
}

int
main (void)
{
  test_policy ();
  test_backoff ();
  test_reasons ();
  test_oom_events ();
  test_phase ();
  return tap_done ();
}
