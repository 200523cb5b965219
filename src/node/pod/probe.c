/* husk node: liveness, readiness and startup probes of running containers, on the agent's
   main thread. The checks and the state machine are src/node/agent/probe.h; here they are
   scheduled, exec probes run through the runtime library (no runtime binary forked per
   probe), and a failed liveness/startup probe stops the container for its restart. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"
#include "runtime/runtime.h"
#include "src/node/agent/hooks.h"
#include "src/node/node-internal.h"

static const char *const probe_keys[3] = {"livenessProbe", "readinessProbe", "startupProbe"};

void
pod_probes_stop (node_ctr *c)
{
  for (int k = 0; k < 3; k++)
    {
      if (c->probe_spec[k])
        agent_probe_spec_free (c->probe_spec[k]);
      c->probe_spec[k] = NULL;
    }
}

void
pod_probes_start (node_agent *a, node_pod *p, node_ctr *c, int64_t now_ms)
{
  (void) a;
  pod_probes_stop (c);
  c->kill_at_ms = 0;
  for (int k = 0; k < 3; k++)
    {
      json_t *probe = json_object_get (c->spec, probe_keys[k]);
      if (probe == NULL)
        continue;
      _cleanup_error_ husk_error *err = NULL;
      if (agent_probe_spec_parse (probe, c->spec, (agent_probe_kind) k, &c->probe_spec[k], &err) < 0)
        {
          log_warn ("probe ignored", "pod", p->name, "container", c->name, "error", err->msg);
          continue;
        }
      agent_prober_init (&c->prober[k], c->probe_spec[k], (agent_probe_kind) k, now_ms);
    }
  c->ready = c->probe_spec[AGENT_PROBE_READINESS] == NULL;
  c->started_ok = c->probe_spec[AGENT_PROBE_STARTUP] == NULL;
}

/* ---- exec probes ------------------------------------------------------------------------ */

typedef struct exec_args
{
  node_agent *a;
  const char *id;
  json_t *process;
  pid_t pid;
} exec_args;

static int
do_exec (void *ud, husk_error **err)
{
  exec_args *x = ud;
  rt_exec_opts o = RT_EXEC_OPTS_INIT;
  return rt_container_exec (x->a->rt_root, x->id, x->process, &o, &x->pid, err);
}

int
pod_exec_sync (void *ud, char *const argv[], int timeout_ms, int *exit_code, char **output,
               husk_error **err)
{
  pod_exec_ctx *pc = ud;
  _cleanup_free_ char *id = pod_ctr_runtime_id (pc->p, pc->c);
  json_t *args = json_array ();
  for (size_t i = 0; argv[i]; i++)
    json_array_append_new (args, json_string (argv[i]));
  _cleanup_json_ json_t *proc = json_pack (
      "{s:b, s:{s:i, s:i}, s:o, s:[s], s:s}", "terminal", 0, "user", "uid", 0, "gid", 0, "args",
      args, "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "cwd",
      "/");
  json_t *user = husk_json_path (json_object_get (pc->c->spec, "securityContext"), "runAsUser");
  if (user)
    json_object_set (json_object_get (proc, "user"), "uid", user);
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return husk_err_errno (err, "pipe");
  exec_args x = {pc->a, id, proc, 0};
  int r = pod_with_stdio (pc->a, -1, fds[1], fds[1], do_exec, &x, err);
  close (fds[1]);
  if (r < 0)
    {
      close (fds[0]);
      return r;
    }
  int pidfd = (int) syscall (SYS_pidfd_open, x.pid, 0);
  husk_buf out = HUSK_BUF_INIT;
  int64_t deadline = node_now_ms () + timeout_ms;
  bool exited = false, eof = false;
  while (!(exited && eof))
    {
      int64_t left = deadline - node_now_ms ();
      if (left <= 0)
        break;
      struct pollfd pf[2] = {{fds[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
      int n = poll (pf, pidfd >= 0 ? 2 : 1, (int) left);
      if (n < 0 && errno == EINTR)
        continue;
      if (pf[0].revents)
        {
          char buf[4096];
          ssize_t k = read (fds[0], buf, sizeof buf);
          if (k > 0 && out.len < 10240)
            husk_buf_append (&out, buf, (size_t) k);
          else if (k <= 0)
            eof = true;
        }
      if (pidfd < 0 || pf[1].revents)
        exited = true;
    }
  close (fds[0]);
  if (pidfd >= 0)
    close (pidfd);
  int st = 0;
  if (!exited)
    {
      kill (x.pid, SIGKILL);
      waitpid (x.pid, NULL, 0);
      husk_buf_free (&out);
      return husk_err (err, ETIMEDOUT, "command timed out after %d ms", timeout_ms);
    }
  while (waitpid (x.pid, &st, 0) < 0 && errno == EINTR)
    ;
  *exit_code = agent_exit_code_from_status (st);
  if (output)
    *output = husk_buf_steal (&out);
  husk_buf_free (&out);
  return 0;
}

/* ---- scheduling ------------------------------------------------------------------------- */

static void
on_failure (node_agent *a, node_pod *p, node_ctr *c, agent_probe_kind k, const char *msg,
            int64_t now_ms)
{
  log_info ("probe failed: stopping the container", "pod", p->name, "ns", p->ns, "container",
            c->name, "probe", agent_probe_kind_name (k), "message", msg ? msg : "");
  free (c->message);
  c->message = xasprintf ("Container %s failed %s probe, will be restarted", c->name,
                          k == AGENT_PROBE_LIVENESS ? "liveness" : "startup");
  pod_event (a, p, c, "Normal", "Killing", "%s", c->message);
  json_t *g = husk_json_path (p->obj, "spec.terminationGracePeriodSeconds");
  int64_t grace = c->probe_spec[k]->termination_grace >= 0 ? c->probe_spec[k]->termination_grace
                  : g ? json_integer_value (g)
                      : 30;
  int64_t hook_ms = pod_hook_pre_stop (a, p, c, grace);
  if (hook_ms > 0)
    {
      grace = agent_grace_after_hook (grace, hook_ms);
      now_ms = node_now_ms ();
    }
  pod_ctr_signal (a, p, c, grace > 0 ? SIGTERM : SIGKILL);
  c->kill_at_ms = now_ms + grace * 1000;
}

void
pod_probes_run (node_agent *a, node_pod *p, node_ctr *c, int64_t now_ms)
{
  if (c->kill_at_ms)
    {
      if (now_ms >= c->kill_at_ms)
        {
          pod_ctr_signal (a, p, c, SIGKILL);
          c->kill_at_ms = now_ms + 60000;
        }
      return;
    }
  pod_exec_ctx pc = {a, p, c};
  agent_probe_target t = {.pod_ip = p->pod_ip, .exec = pod_exec_sync, .exec_ud = &pc};
  static const agent_probe_kind order[] = {AGENT_PROBE_STARTUP, AGENT_PROBE_LIVENESS,
                                           AGENT_PROBE_READINESS};
  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      agent_probe_kind k = order[i];
      if (c->probe_spec[k] == NULL)
        continue;
      int64_t next = agent_prober_next (&c->prober[k], c->started_ok);
      if (next < 0 || now_ms < next)
        continue;
      _cleanup_free_ char *msg = NULL;
      agent_probe_result res = agent_probe_run (c->probe_spec[k], &t, &msg);
      if (res != AGENT_PROBE_SUCCESS)
        pod_event (a, p, c, "Warning", "Unhealthy", "%s probe failed: %s",
                   agent_probe_kind_name (k), msg ? msg : "");
      if (!agent_prober_record (&c->prober[k], res, node_now_ms ()))
        continue;
      agent_probe_result pub = c->prober[k].published;
      if (k == AGENT_PROBE_READINESS)
        c->ready = pub == AGENT_PROBE_SUCCESS;
      else if (k == AGENT_PROBE_STARTUP && pub == AGENT_PROBE_SUCCESS)
        c->started_ok = true;
      if (k != AGENT_PROBE_READINESS && pub == AGENT_PROBE_FAILURE)
        {
          on_failure (a, p, c, k, msg, now_ms);
          return;
        }
    }
}
