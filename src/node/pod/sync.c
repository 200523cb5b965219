/* husk node: the pod table and its reconciliation. Each pass compares what the API wants
   (the Pod) with what runs: sandbox first, init containers one by one in order, then the
   regular containers; exits are restarted per restartPolicy with kubelet's back-off; a pod
   being deleted is stopped gracefully (SIGTERM, terminationGracePeriodSeconds, SIGKILL),
   torn down, and its object deleted with gracePeriodSeconds=0 as kubelet does. */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/node/agent/events.h"
#include "src/node/agent/hooks.h"
#include "src/node/node-internal.h"

#define START_RETRY_MS 2000
#define START_RETRY_MAX_MS 300000

node_pod *
pod_find (node_agent *a, const char *uid)
{
  for (node_pod *p = a->pods; p; p = p->next)
    if (streq (p->uid, uid))
      return p;
  return NULL;
}

static void
ctr_init (node_ctr *c, json_t *spec, bool init)
{
  c->name = xstrdup (json_string_value (json_object_get (spec, "name")) ?: "");
  c->spec = json_incref (spec);
  c->init = init;
  const char *rp = json_string_value (json_object_get (spec, "restartPolicy"));
  c->sidecar = init && rp && streq (rp, "Always");
  c->state = AGENT_CTR_WAITING;
  c->start_fds[0] = c->start_fds[1] = -1;
}

static node_pod *
pod_new (node_agent *a, json_t *obj)
{
  node_pod *p = xzalloc (sizeof *p);
  p->uid = xstrdup (husk_json_path_str (obj, "metadata.uid"));
  p->ns = xstrdup (husk_json_path_str (obj, "metadata.namespace") ?: "default");
  p->name = xstrdup (husk_json_path_str (obj, "metadata.name") ?: "");
  json_t *inits = husk_json_path (obj, "spec.initContainers");
  json_t *ctrs = husk_json_path (obj, "spec.containers");
  p->ninit = json_array_size (inits);
  p->nctrs = p->ninit + json_array_size (ctrs);
  p->ctrs = xcalloc (p->nctrs ? p->nctrs : 1, sizeof *p->ctrs);
  for (size_t i = 0; i < p->ninit; i++)
    ctr_init (&p->ctrs[i], json_array_get (inits, i), true);
  for (size_t i = p->ninit; i < p->nctrs; i++)
    ctr_init (&p->ctrs[i], json_array_get (ctrs, i - p->ninit), false);
  p->created_ms = node_now_ms ();
  p->next = a->pods;
  a->pods = p;
  return p;
}

static void
pod_free (node_agent *a, node_pod *p)
{
  node_job_free (a, p->sandbox_job);
  for (size_t i = 0; i < p->nctrs; i++)
    {
      node_ctr *c = &p->ctrs[i];
      pod_ctr_start_abandon (a, c);
      pod_probes_stop (c);
      json_decref (c->spec);
      free (c->name), free (c->reason), free (c->message), free (c->last_reason);
      free (c->last_id), free (c->image_ref), free (c->image_id);
      free (c->term_file), free (c->log_path);
    }
  free (p->ctrs);
  json_decref (p->obj);
  free (p->uid), free (p->ns), free (p->name), free (p->sandbox_error), free (p->pod_ip);
  free (p->dir), free (p->last_status), free (p->phase), free (p->evict_message);
  free (p);
}

void
pod_apply_event (node_agent *a, const char *type, json_t *obj)
{
  const char *uid = husk_json_path_str (obj, "metadata.uid");
  if (uid == NULL || node_is_mirror_pod (obj))
    return;
  node_pod *p = pod_find (a, uid);
  if (streq (type, "DELETED"))
    {
      if (p)
        p->api_gone = p->dirty = true;
      return;
    }
  if (p == NULL)
    {
      const char *phase = husk_json_path_str (obj, "status.phase");
      bool finished = phase && (streq (phase, "Succeeded") || streq (phase, "Failed"));
      bool deleting = husk_json_path (obj, "metadata.deletionTimestamp") != NULL;
      /* A finished pod we never ran has nothing to start; unless it is being deleted,
         where the deletion has to be completed. */
      if (finished && !deleting)
        return;
      p = pod_new (a, obj);
    }
  json_decref (p->obj);
  p->obj = json_incref (obj);
  p->dirty = true;
}

void
pod_apply_list (node_agent *a, json_t *items)
{
  for (node_pod *p = a->pods; p; p = p->next)
    {
      bool found = false;
      size_t i;
      json_t *it;
      json_array_foreach (items, i, it)
      {
        const char *uid = husk_json_path_str (it, "metadata.uid");
        if (uid && streq (uid, p->uid))
          found = true;
      }
      if (!found && !p->static_pod)
        p->api_gone = p->dirty = true;
    }
  size_t i;
  json_t *it;
  json_array_foreach (items, i, it)
  pod_apply_event (a, "MODIFIED", it);
  pod_adopt_orphans (a);
}

void
pod_child_exited (node_agent *a, pid_t pid, int wait_status)
{
  for (node_pod *p = a->pods; p; p = p->next)
    {
      if (p->pause_pid == pid)
        {
          log_warn ("sandbox exited", "pod", p->name, "ns", p->ns);
          p->pause_pid = 0;
          p->dirty = true;
          return;
        }
      for (size_t i = 0; i < p->nctrs; i++)
        {
          node_ctr *c = &p->ctrs[i];
          if (c->shim_pid == pid && c->start_job)
            {
              /* Exited before its start was taken in: dealt with then. */
              c->early_exit = true;
              c->early_status = wait_status;
              p->dirty = true;
              return;
            }
          if (c->shim_pid != pid || c->state != AGENT_CTR_RUNNING)
            continue;
          p->dirty = true;
          /* What the pipes still hold reaches the log first (FallbackToLogsOnError). */
          agent_log_pump_run (a->pump, 0, NULL);
          /* The shim wrote the init's status before exiting; without it, its own. */
          if (!pod_ctr_poll_exit (p, c))
            pod_ctr_exited (p, c, wait_status);
          return;
        }
    }
}

/* ---- starting and restarting ---------------------------------------------------------- */

static void
set_waiting (node_ctr *c, const char *reason, const char *message)
{
  c->state = AGENT_CTR_WAITING;
  free (c->reason);
  free (c->message);
  c->reason = reason ? xstrdup (reason) : NULL;
  c->message = message ? xstrdup (message) : NULL;
}

/* A volume that could not be set up: kubelet keeps the container in ContainerCreating (no
   message) and says why in a FailedMount warning; retried sooner than other failures
   (2 s doubling to 16 s) so that a ConfigMap or Secret created later is picked up quickly. */
static void
mount_failed (node_agent *a, node_pod *p, node_ctr *c, husk_error *err, int64_t now)
{
  c->failures++;
  int64_t delay = START_RETRY_MS << (c->failures > 4 ? 3 : c->failures - 1);
  c->retry_ms = now + delay;
  set_waiting (c, AGENT_REASON_CONTAINER_CREATING, NULL);
  log_warn ("volume setup failed", "pod", p->name, "ns", p->ns, "container", c->name, "error",
            err ? err->msg : "");
  pod_event (a, p, NULL, "Warning", AGENT_EV_FAILED_MOUNT, "%s", err ? err->msg : "");
}

static void
start_failed (node_agent *a, node_pod *p, node_ctr *c, const char *reason, husk_error *err,
              int64_t now)
{
  if (reason && streq (reason, AGENT_EV_FAILED_MOUNT))
    {
      mount_failed (a, p, c, err, now);
      return;
    }
  c->failures++;
  int64_t delay = START_RETRY_MS << (c->failures > 8 ? 8 : c->failures - 1);
  c->retry_ms = now + (delay > START_RETRY_MAX_MS ? START_RETRY_MAX_MS : delay);
  if (reason && streq (reason, AGENT_REASON_ERR_IMAGE_PULL) && c->failures > 1)
    reason = AGENT_REASON_IMAGE_PULL_BACKOFF;
  set_waiting (c, reason ? reason : AGENT_REASON_CREATE_ERROR, err ? err->msg : NULL);
  log_warn ("container start failed", "pod", p->name, "ns", p->ns, "container", c->name,
            "reason", c->reason, "error", err ? err->msg : "");
  pod_event (a, p, c, "Warning", "Failed", "Error: %s", err ? err->msg : c->reason);
  if (c->created)
    pod_ctr_remove (a, p, c);
}

/* Begins c's start: what needs the pod table is done here, the create and start run as a
   job (start_ctr_finish takes its outcome in). */
static void
start_ctr (node_agent *a, node_pod *p, node_ctr *c, int64_t now)
{
  if (now < c->retry_ms || c->start_job)
    return;
  if (!node_job_slot (a))
    {
      p->wants_slot = true;
      return;
    }
  const char *reason = NULL;
  _cleanup_error_ husk_error *err = NULL;
  int64_t t0 = node_mono_us ();
  int r = pod_ctr_start (a, p, c, &reason, &err);
  node_step_done ("start-begin", p->name, &t0);
  if (r < 0)
    start_failed (a, p, c, reason, err, now);
}

static void
start_ctr_finish (node_agent *a, node_pod *p, node_ctr *c, int64_t now)
{
  const char *reason = NULL;
  _cleanup_error_ husk_error *err = NULL;
  if (pod_ctr_start_finish (a, p, c, &reason, &err) < 0)
    {
      start_failed (a, p, c, reason, err, now);
      return;
    }
  c->failures = 0;
  c->retry_ms = 0;
  c->state = AGENT_CTR_RUNNING;
  c->started_at = now / 1000;
  pod_ctr_save (p, c);
  pod_probes_start (a, p, c, now);
  pod_event (a, p, c, "Normal", "Created", "Created container %s", c->name);
  pod_event (a, p, c, "Normal", "Started", "Started container %s", c->name);
  free (c->reason), free (c->message);
  c->reason = c->message = NULL;
  log_info ("container started", "pod", p->name, "ns", p->ns, "container", c->name);
  if (c->early_exit)
    {
      /* It already ended: what its pipes hold reaches the log first. */
      agent_log_pump_run (a->pump, 0, NULL);
      if (!pod_ctr_poll_exit (p, c))
        pod_ctr_exited (p, c, c->early_status);
      c->early_exit = false;
      return;
    }
  /* Its status is reported (and the next container started) only once postStart returned. */
  pod_hook_post_start (a, p, c);
}

/* A terminated container becomes lastState; then it is started again or waits out its
   back-off (CrashLoopBackOff). */
static void
restart_ctr (node_agent *a, node_pod *p, node_ctr *c, int64_t now)
{
  if (c->state == AGENT_CTR_TERMINATED)
    {
      c->has_last = true;
      c->last_exit = c->exit_code;
      free (c->last_reason);
      c->last_reason = c->reason ? xstrdup (c->reason) : NULL;
      c->last_started = c->started_at;
      c->last_finished = c->finished_at;
      free (c->last_id);
      c->last_id = pod_ctr_runtime_id (p, c);
      set_waiting (c, AGENT_REASON_CRASH_LOOP, NULL);
      c->exit_code = 0;
    }
  if (c->reason && !streq (c->reason, AGENT_REASON_CRASH_LOOP))
    {
      start_ctr (a, p, c, now); /* a failed start being retried */
      return;
    }
  if (!node_job_slot (a))
    {
      /* Before the back-off records this restart: it happens once a slot is free. */
      p->wants_slot = true;
      return;
    }
  int64_t wait = agent_backoff_check (&c->backoff, c->finished_ms, now);
  if (wait > 0)
    {
      _cleanup_free_ char *msg = agent_backoff_message (&c->backoff, c->name, p->name, p->ns, p->uid);
      if (c->message == NULL || !streq (c->message, msg))
        pod_event (a, p, c, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
                   c->name, p->name, p->ns, p->uid);
      free (c->message);
      c->message = TAKE_PTR (msg);
      return;
    }
  c->restart_count++;
  start_ctr (a, p, c, now);
}

static agent_restart_policy
policy_of (node_pod *p)
{
  agent_restart_policy pol = AGENT_RESTART_ALWAYS;
  agent_restart_policy_parse (husk_json_path_str (p->obj, "spec.restartPolicy"), &pol, NULL);
  return pol;
}

static bool
never_started (const node_ctr *c)
{
  return c->state == AGENT_CTR_WAITING && !c->has_last && c->restart_count == 0
         && (c->reason == NULL || !streq (c->reason, AGENT_REASON_CRASH_LOOP));
}

/* Returns true when every init container completed. */
static bool
sync_init (node_agent *a, node_pod *p, agent_restart_policy pol, int64_t now)
{
  for (size_t i = 0; i < p->ninit; i++)
    {
      node_ctr *c = &p->ctrs[i];
      if (c->start_job)
        return false;
      if (c->sidecar)
        {
          if (c->state == AGENT_CTR_RUNNING)
            pod_probes_run (a, p, c, now);
          if (never_started (c))
            start_ctr (a, p, c, now);
          else if (c->state != AGENT_CTR_RUNNING)
            restart_ctr (a, p, c, now);
          if (c->state != AGENT_CTR_RUNNING)
            return false;
          continue;
        }
      if (c->state == AGENT_CTR_TERMINATED && c->exit_code == 0)
        continue;
      if (c->state == AGENT_CTR_RUNNING)
        return false;
      if (never_started (c))
        {
          start_ctr (a, p, c, now);
          return false;
        }
      /* Failed: Never ends the pod; otherwise the init container is retried. */
      if (pol == AGENT_RESTART_NEVER)
        return false;
      restart_ctr (a, p, c, now);
      return false;
    }
  return true;
}

static void
sync_regular (node_agent *a, node_pod *p, agent_restart_policy pol, int64_t now)
{
  for (size_t i = p->ninit; i < p->nctrs; i++)
    {
      node_ctr *c = &p->ctrs[i];
      if (c->start_job)
        continue;
      if (c->state == AGENT_CTR_RUNNING)
        {
          pod_probes_run (a, p, c, now);
          continue;
        }
      if (never_started (c))
        {
          start_ctr (a, p, c, now);
          continue;
        }
      int code = c->state == AGENT_CTR_TERMINATED ? c->exit_code : c->last_exit;
      if (agent_restart_wanted (pol, code))
        restart_ctr (a, p, c, now);
    }
}

static bool
init_failed_for_good (node_pod *p, agent_restart_policy pol)
{
  if (pol != AGENT_RESTART_NEVER)
    return false;
  for (size_t i = 0; i < p->ninit; i++)
    if (p->ctrs[i].state == AGENT_CTR_TERMINATED && p->ctrs[i].exit_code != 0)
      return true;
  return false;
}

/* ---- termination ------------------------------------------------------------------------ */

static int64_t
grace_seconds (node_pod *p)
{
  if (p->api_gone && husk_json_path (p->obj, "metadata.deletionTimestamp") == NULL)
    return 0; /* removed from the API outright */
  json_t *g = husk_json_path (p->obj, "metadata.deletionGracePeriodSeconds");
  if (g == NULL)
    g = husk_json_path (p->obj, "spec.terminationGracePeriodSeconds");
  return g ? json_integer_value (g) : 30;
}

static void
delete_from_api (node_agent *a, node_pod *p)
{
  _cleanup_free_ char *path = xasprintf ("/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
  _cleanup_json_ json_t *body = json_pack ("{s:s, s:s, s:i, s:{s:s}}", "kind", "DeleteOptions",
                                           "apiVersion", "v1", "gracePeriodSeconds", 0,
                                           "preconditions", "uid", p->uid);
  long status = 0;
  _cleanup_error_ husk_error *err = NULL;
  if (kclient_json (a->kc, "DELETE", path, NULL, body, NULL, &status, &err) == 0 || status == 404
      || status == 409)
    p->api_gone = true; /* 409: a newer pod of that name, this one is gone */
  else
    log_warn ("deleting the pod object failed", "pod", p->name, "ns", p->ns, "error",
              err ? err->msg : "");
}

static void
terminate (node_agent *a, node_pod *p, int64_t now)
{
  if (!p->terminating)
    {
      p->terminating = true;
      int64_t grace = grace_seconds (p);
      p->kill_deadline_ms = now + grace * 1000;
      log_info ("stopping pod", "pod", p->name, "ns", p->ns);
      /* preStop hooks first, counted within the grace period (at least 2 s are left). */
      int64_t hook_ms = 0;
      for (size_t i = 0; i < p->nctrs; i++)
        hook_ms += pod_hook_pre_stop (a, p, &p->ctrs[i], grace - hook_ms / 1000);
      if (hook_ms > 0)
        p->kill_deadline_ms = node_now_ms () + agent_grace_after_hook (grace, hook_ms) * 1000;
      for (size_t i = 0; i < p->nctrs; i++)
        if (p->ctrs[i].pid > 0)
          {
            pod_event (a, p, &p->ctrs[i], "Normal", "Killing", "Stopping container %s",
                       p->ctrs[i].name);
            pod_ctr_signal (a, p, &p->ctrs[i], grace > 0 ? SIGTERM : SIGKILL);
          }
    }
  bool running = false;
  for (size_t i = 0; i < p->nctrs; i++)
    running |= p->ctrs[i].pid > 0;
  if (running)
    {
      if (now >= p->kill_deadline_ms && !p->sigkill_sent)
        {
          p->sigkill_sent = true;
          for (size_t i = 0; i < p->nctrs; i++)
            if (p->ctrs[i].pid > 0)
              pod_ctr_signal (a, p, &p->ctrs[i], SIGKILL);
        }
      return;
    }
  if (!p->torn_down)
    {
      for (size_t i = 0; i < p->nctrs; i++)
        if (p->ctrs[i].created)
          pod_ctr_remove (a, p, &p->ctrs[i]);
      _cleanup_error_ husk_error *err = NULL;
      if (pod_sandbox_teardown (a, p, &err) < 0)
        {
          log_warn ("pod teardown incomplete, retrying", "pod", p->name, "error", err->msg);
          return;
        }
      p->torn_down = true;
      log_info ("pod stopped", "pod", p->name, "ns", p->ns);
    }
  if (!p->api_gone)
    delete_from_api (a, p);
}

/* ---- one pass ----------------------------------------------------------------------------- */

/* First sight of a pod: what an earlier agent left running is taken over. */
static void
adopt (node_agent *a, node_pod *p)
{
  p->adopt_tried = true;
  if (!pod_sandbox_adopt (a, p))
    return;
  for (size_t i = 0; i < p->nctrs; i++)
    pod_ctr_adopt (a, p, &p->ctrs[i]);
  /* Regular containers ran: the init containers had completed. */
  for (size_t i = p->ninit; i < p->nctrs; i++)
    p->initialized |= p->ctrs[i].created;
}

/* Containers adopted from an earlier agent are not our children: their exits are polled. */
static void
poll_adopted (node_pod *p)
{
  for (size_t i = 0; i < p->nctrs; i++)
    if (p->ctrs[i].adopted && p->ctrs[i].state == AGENT_CTR_RUNNING)
      pod_ctr_poll_exit (p, &p->ctrs[i]);
}

static void
sandbox_failed (node_agent *a, node_pod *p, husk_error *err, int64_t now)
{
  log_warn ("sandbox creation failed", "pod", p->name, "ns", p->ns, "error", err->msg);
  pod_event (a, p, NULL, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: %s",
             err->msg);
  free (p->sandbox_error);
  p->sandbox_error = xstrdup (err->msg);
  p->retry_ms = now + START_RETRY_MS;
  /* Whatever was half made goes, the next try starts clean. */
  pod_sandbox_teardown (a, p, NULL);
}

/* Takes in the jobs of p that completed; true while some still run. */
static bool
collect_jobs (node_agent *a, node_pod *p, int64_t now)
{
  bool busy = false;
  if (p->sandbox_job && node_job_poll (a, p->sandbox_job))
    {
      _cleanup_error_ husk_error *err = NULL;
      int64_t t0 = node_mono_us ();
      int r = pod_sandbox_finish (a, p, &err);
      node_step_done ("sandbox-finish", p->name, &t0);
      if (r < 0)
        sandbox_failed (a, p, err, now);
      else
        {
          free (p->sandbox_error);
          p->sandbox_error = NULL;
        }
    }
  busy |= p->sandbox_job != NULL;
  for (size_t i = 0; i < p->nctrs; i++)
    {
      node_ctr *c = &p->ctrs[i];
      if (c->start_job && node_job_poll (a, c->start_job))
        {
          int64_t t0 = node_mono_us ();
          start_ctr_finish (a, p, c, now);
          node_step_done ("start-finish", p->name, &t0);
        }
      busy |= c->start_job != NULL;
    }
  return busy;
}

/* kubelet's admission of what the node cannot run (sysctls): the pod ends Failed with the
   reason, through the eviction path (nothing to stop yet). */
static bool
admit_rejects (node_agent *a, node_pod *p, int64_t now)
{
  char *msg = NULL;
  if (pod_sysctl_admit (a, p, &msg) == 0)
    return false;
  p->evict_message = msg;
  p->reject_reason = "SysctlForbidden";
  log_warn ("pod rejected", "pod", p->name, "ns", p->ns, "reason", p->reject_reason, "message", msg);
  pod_event (a, p, NULL, "Warning", p->reject_reason, "%s", msg);
  pod_evict_sync (a, p, now);
  return true;
}

static void
sync_pod (node_agent *a, node_pod *p, int64_t now)
{
  p->dirty = p->wants_slot = false;
  if (!p->adopt_tried)
    adopt (a, p);
  poll_adopted (p);
  bool busy = collect_jobs (a, p, now);
  bool deleting = p->api_gone || husk_json_path (p->obj, "metadata.deletionTimestamp") != NULL;
  /* A pod being deleted (or evicted) waits for its creations to finish, then stops. */
  if (deleting && busy)
    return;
  if (deleting)
    {
      terminate (a, p, now);
      return;
    }
  if (p->evict_message && !busy)
    {
      pod_evict_sync (a, p, now);
      return;
    }
  if (p->start_time == 0)
    p->start_time = now / 1000;
  if (p->phase && (streq (p->phase, "Succeeded") || streq (p->phase, "Failed")))
    return;
  if (!p->sandbox_ready)
    {
      if (p->sandbox_job)
        goto report;
      if (!p->pause_pid && admit_rejects (a, p, now))
        return;
      if (now < p->retry_ms)
        return;
      if (!node_job_slot (a))
        {
          p->wants_slot = true;
          goto report;
        }
      _cleanup_error_ husk_error *err = NULL;
      int64_t t0 = node_mono_us ();
      int r = pod_sandbox_ensure (a, p, &err);
      node_step_done ("sandbox-begin", p->name, &t0);
      if (r < 0)
        sandbox_failed (a, p, err, now);
      goto report;
    }
  agent_restart_policy pol = policy_of (p);
  if (!init_failed_for_good (p, pol))
    {
      p->initialized = sync_init (a, p, pol, now) || p->initialized;
      if (p->initialized)
        sync_regular (a, p, pol, now);
    }
report:;
  _cleanup_error_ husk_error *err = NULL;
  int64_t t0 = node_mono_us ();
  if (pod_status_report (a, p, &err) < 0)
    log_warn ("pod status update failed", "pod", p->name, "ns", p->ns, "error", err->msg);
  if (node_mono_us () - t0 > 2000)
    node_step_done ("status-slow", p->name, &t0);
}

void
pod_table_free (node_agent *a)
{
  while (a->pods)
    {
      node_pod *p = a->pods;
      a->pods = p->next;
      pod_free (a, p);
    }
}

/* Status PATCHes that failed are sent again. */
static void
resend_failed_status (node_agent *a)
{
  node_apiq_failure *f = a->apiq ? node_apiq_failed (a->apiq) : NULL;
  for (node_apiq_failure *i = f; i; i = i->next)
    {
      node_pod *p = pod_find (a, i->uid);
      if (p && p->status_seq == i->seq)
        {
          free (p->last_status);
          p->last_status = NULL;
          p->dirty = true;
        }
    }
  node_apiq_failures_free (f);
}

/* A job of p has finished (its report is complete). */
static bool
job_done (node_agent *a, node_pod *p)
{
  if (p->sandbox_job && node_job_poll (a, p->sandbox_job))
    return true;
  for (size_t i = 0; i < p->nctrs; i++)
    if (p->ctrs[i].start_job && node_job_poll (a, p->ctrs[i].start_job))
      return true;
  return false;
}

void
pod_sync_all (node_agent *a)
{
  int64_t now = node_now_ms ();
  bool full = now - a->last_full_ms >= 1000 || now < a->last_full_ms;
  if (full)
    a->last_full_ms = now;
  resend_failed_status (a);
  /* Finished jobs first: the slots they free go to the pods waiting for one. */
  for (node_pod *p = a->pods; p; p = p->next)
    if (job_done (a, p))
      p->dirty = true;
  for (node_pod **pp = &a->pods; *pp;)
    {
      node_pod *p = *pp;
      if (!full && !p->dirty && !(p->wants_slot && node_job_slot (a)))
        {
          pp = &p->next;
          continue;
        }
      int64_t t0 = node_mono_us ();
      sync_pod (a, p, now);
      if (node_mono_us () - t0 > 5000)
        node_step_done ("sync-slow", p->name, &t0);
      if (p->torn_down && p->api_gone)
        {
          *pp = p->next;
          pod_free (a, p);
          continue;
        }
      pp = &p->next;
    }
}
