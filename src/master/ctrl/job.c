/* husk controllers: Job. Runs pods from the template until spec.completions succeed (or,
   without completions, until one succeeds and none is active), at most spec.parallelism at a
   time; failed pods count against backoffLimit (after spec.podFailurePolicy) and are
   replaced after the exponential back-off; activeDeadlineSeconds and
   ttlSecondsAfterFinished are honoured. The Job's status carries the counts and the
   Complete / Failed conditions `kubectl wait` reads. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

/* The condition of that type with status True, or NULL. */
static json_t *
condition_true (const json_t *obj, const char *type)
{
  json_t *conds = husk_json_path (obj, "status.conditions"), *cd;
  size_t i;
  json_array_foreach (conds, i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    const char *s = json_string_value (json_object_get (cd, "status"));
    if (t && s && streq (t, type) && streq (s, "True"))
      return cd;
  }
  return NULL;
}

static int
create_pod (ctrl_ctx *c, const json_t *job, husk_error **err)
{
  const char *name = husk_json_path_str (job, "metadata.name");
  const char *uid = husk_json_path_str (job, "metadata.uid");
  _cleanup_json_ json_t *meta = ctrl_pod_meta (job, "batch/v1", "Job");
  json_t *labels = json_object_get (meta, "labels");
  if (!json_is_object (labels))
    json_object_set_new (meta, "labels", labels = json_object ());
  json_object_set_new (labels, "batch.kubernetes.io/job-name", json_string (name));
  json_object_set_new (labels, "job-name", json_string (name));
  json_object_set_new (labels, "batch.kubernetes.io/controller-uid", json_string (uid));
  json_object_set_new (labels, "controller-uid", json_string (uid));
  return ctrl_create_pod (c, job, meta, err);
}

static void
delete_quiet (ctrl_ctx *c, const char *path)
{
  _cleanup_error_ husk_error *e = NULL;
  kclient_json (c->k, "DELETE", path, NULL, NULL, NULL, NULL, &e);
}

static void
delete_pod (ctrl_ctx *c, const json_t *pod)
{
  _cleanup_free_ char *path
      = xasprintf ("/api/v1/namespaces/%s/pods/%s", husk_json_path_str (pod, "metadata.namespace"),
                   husk_json_path_str (pod, "metadata.name"));
  delete_quiet (c, path);
}

static void
add_condition (json_t *status, const char *type, const char *reason, const char *message,
               const char *now)
{
  json_t *conds = json_object_get (status, "conditions");
  if (!json_is_array (conds))
    json_object_set_new (status, "conditions", conds = json_array ());
  json_t *cd = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", "True",
                          "lastProbeTime", now, "lastTransitionTime", now, "reason", reason);
  if (message)
    json_object_set_new (cd, "message", json_string (message));
  json_array_append_new (conds, cd);
}

static int
put_status (ctrl_ctx *c, json_t *job, json_t *status, husk_error **err)
{
  if (json_equal (status, json_object_get (job, "status")))
    return 0;
  json_object_set (job, "status", status);
  return ctrl_put (c, "/apis/batch/v1", "jobs", job, "/status", err);
}

/* A finished Job: deleted ttlSecondsAfterFinished after it finished. */
static void
finished (ctrl_ctx *c, json_t *job, json_t *cond, int64_t now)
{
  json_t *ttl = husk_json_path (job, "spec.ttlSecondsAfterFinished");
  if (!json_is_integer (ttl))
    return;
  int64_t at = ctrl_time_parse (json_string_value (json_object_get (cond, "lastTransitionTime")));
  if (at + json_integer_value (ttl) > now)
    return;
  _cleanup_free_ char *path = xasprintf (
      "/apis/batch/v1/namespaces/%s/jobs/%s?propagationPolicy=Background",
      husk_json_path_str (job, "metadata.namespace"), husk_json_path_str (job, "metadata.name"));
  delete_quiet (c, path);
}

static int
sync_one (ctrl_ctx *c, json_t *job, json_t *pods, int64_t now, husk_error **err)
{
  const char *uid = husk_json_path_str (job, "metadata.uid");
  const char *ns = husk_json_path_str (job, "metadata.namespace");
  const char *jname = husk_json_path_str (job, "metadata.name");
  if (!uid || !ns || ctrl_terminating (job))
    return 0;
  json_t *done = condition_true (job, "Complete");
  if (!done)
    done = condition_true (job, "Failed");
  if (done)
    {
      finished (c, job, done, now);
      return 0;
    }
  if (json_is_true (husk_json_path (job, "spec.suspend")))
    return 0;
  _cleanup_json_ json_t *status = json_is_object (json_object_get (job, "status"))
                                      ? json_deep_copy (json_object_get (job, "status"))
                                      : json_object ();
  _cleanup_free_ char *now_s = ctrl_time_now ();
  if (!json_object_get (status, "startTime"))
    json_object_set_new (status, "startTime", json_string (now_s));
  size_t cap = json_array_size (pods);
  _cleanup_free_ json_t **active = xmalloc ((cap + 1) * sizeof *active);
  size_t n_active = 0;
  json_int_t succeeded = 0, failed = 0, ready = 0;
  int64_t last_failure = 0;
  _cleanup_free_ char *fail_msg = NULL;
  json_t *policy = husk_json_path (job, "spec.podFailurePolicy");
  json_t *p;
  size_t i;
  json_array_foreach (pods, i, p)
  {
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    const char *owner = ctrl_controller_uid (p);
    if (!pns || !streq (pns, ns) || !owner || !streq (owner, uid))
      continue;
    const char *phase = husk_json_path_str (p, "status.phase");
    if (phase && streq (phase, "Succeeded"))
      succeeded++;
    else if (phase && streq (phase, "Failed"))
      {
        char *msg = NULL;
        ctrl_pfp_action a = policy ? ctrl_job_pod_failure_policy (policy, p, &msg) : CTRL_PFP_COUNT;
        if (a == CTRL_PFP_FAIL_JOB && !fail_msg)
          fail_msg = TAKE_PTR (msg);
        free (msg);
        if (a == CTRL_PFP_IGNORE)
          continue;
        failed++;
        int64_t t = ctrl_time_parse (husk_json_path_str (p, "metadata.creationTimestamp"));
        if (t > last_failure)
          last_failure = t;
      }
    else if (!ctrl_terminating (p))
      {
        active[n_active++] = p;
        ready += ctrl_pod_ready (p);
      }
  }
  /* Pods removed by someone else keep counting. */
  if (husk_json_path_int (status, "succeeded", 0) > succeeded)
    succeeded = husk_json_path_int (status, "succeeded", 0);
  if (husk_json_path_int (status, "failed", 0) > failed)
    failed = husk_json_path_int (status, "failed", 0);

  json_t *completions = husk_json_path (job, "spec.completions");
  json_int_t parallelism = husk_json_path_int (job, "spec.parallelism", 1);
  json_int_t backoff_limit = husk_json_path_int (job, "spec.backoffLimit", 6);
  json_int_t deadline = husk_json_path_int (job, "spec.activeDeadlineSeconds", -1);
  int64_t start = ctrl_time_parse (json_string_value (json_object_get (status, "startTime")));
  const char *fail_reason = NULL, *fail_text = NULL;
  if (fail_msg)
    fail_reason = "PodFailurePolicy", fail_text = fail_msg;
  else if (failed > backoff_limit)
    fail_reason = "BackoffLimitExceeded", fail_text = "Job has reached the specified backoff limit";
  else if (deadline >= 0 && start > 0 && start + deadline <= now)
    fail_reason = "DeadlineExceeded", fail_text = "Job was active longer than specified deadline";
  bool complete = json_is_integer (completions) ? succeeded >= json_integer_value (completions)
                                                : succeeded > 0 && n_active == 0;

  json_int_t want = 0;
  if (!fail_reason && !complete)
    {
      want = parallelism;
      if (json_is_integer (completions) && json_integer_value (completions) - succeeded < want)
        want = json_integer_value (completions) - succeeded;
      if (!json_is_integer (completions) && succeeded > 0)
        want = (json_int_t)n_active; /* one succeeded: let the others finish, start no more */
    }
  if (fail_reason || complete)
    for (size_t j = 0; j < n_active; j++)
      delete_pod (c, active[j]);
  else if ((json_int_t)n_active > want)
    for (size_t j = (size_t)want; j < n_active; j++)
      delete_pod (c, active[j]);
  else if ((json_int_t)n_active < want
           && ctrl_job_backoff_remaining ((int32_t)failed, last_failure, now) <= 0)
    for (json_int_t j = (json_int_t)n_active; j < want; j++)
      {
        int ret = create_pod (c, job, err);
        if (ret < 0)
          return husk_err_wrap (err, "job %s/%s: create pod", ns, jname);
        n_active++;
      }

  json_object_set_new (status, "active",
                       json_integer (fail_reason || complete ? 0 : (json_int_t)n_active));
  json_object_set_new (status, "succeeded", json_integer (succeeded));
  json_object_set_new (status, "failed", json_integer (failed));
  json_object_set_new (status, "ready", json_integer (fail_reason || complete ? 0 : ready));
  if (fail_reason)
    {
      add_condition (status, "FailureTarget", fail_reason, fail_text, now_s);
      add_condition (status, "Failed", fail_reason, fail_text, now_s);
    }
  else if (complete)
    {
      add_condition (status, "SuccessCriteriaMet", "CompletionsReached",
                     "Reached expected number of succeeded pods", now_s);
      add_condition (status, "Complete", "CompletionsReached",
                     "Reached expected number of succeeded pods", now_s);
      json_object_set_new (status, "completionTime", json_string (now_s));
    }
  return put_status (c, job, status, err);
}

int
ctrl_job_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *jobs = NULL, *pods = NULL;
  int ret = ctrl_list (c, "/apis/batch/v1/jobs", &jobs, err);
  if (ret == 0)
    ret = ctrl_list (c, "/api/v1/pods", &pods, err);
  if (ret < 0)
    return ret;
  int64_t now = time (NULL);
  json_t *job;
  size_t i;
  json_array_foreach (jobs, i, job)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_one (c, job, pods, now, &e) < 0)
      log_warn ("job sync", "error", e->msg);
  }
  return 0;
}
