/* husk controllers: Job. Runs pods from the template until spec.completions succeed (or,
   without completions, until one succeeds and none is active), at most spec.parallelism at a
   time; failed pods count against backoffLimit (after spec.podFailurePolicy) and are
   replaced after the exponential back-off; activeDeadlineSeconds and
   ttlSecondsAfterFinished are honoured. Indexed Jobs may limit failures per index
   (backoffLimitPerIndex, maxFailedIndexes, status.failedIndexes, podFailurePolicy's
   FailIndex) and end early by spec.successPolicy (SuccessCriteriaMet, the remaining pods
   deleted, then Complete). The Job's status carries the counts and the Complete / Failed
   conditions `kubectl wait` reads. */
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

/* The template's spec for the pod of completion index idx: hostname <job>-<idx> and
   JOB_COMPLETION_INDEX (from the pod's annotation) in every container, as upstream. */
static json_t *
indexed_spec (const json_t *job, int64_t idx)
{
  json_t *spec = json_deep_copy (husk_json_path (job, "spec.template.spec"));
  if (!json_is_object (spec))
    spec = json_object ();
  if (!json_object_get (spec, "hostname"))
    json_object_set_new (spec, "hostname",
                         json_sprintf ("%s-%lld", husk_json_path_str (job, "metadata.name"),
                                       (long long)idx));
  static const char *const lists[] = { "initContainers", "containers" };
  for (size_t l = 0; l < 2; l++)
    {
      json_t *ctr;
      size_t i;
      json_array_foreach (json_object_get (spec, lists[l]), i, ctr)
      {
        json_t *env = json_object_get (ctr, "env");
        if (!json_is_array (env))
          json_object_set_new (ctr, "env", env = json_array ());
        json_array_append_new (
            env, json_pack ("{s:s, s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX", "valueFrom",
                            "fieldRef", "fieldPath",
                            "metadata.annotations['" CTRL_JOB_INDEX_KEY "']"));
      }
    }
  return spec;
}

/* A pod for job; idx >= 0: the pod of that completion index (Indexed mode), carrying the
   index's failures so far when fails >= 0 (backoffLimitPerIndex). */
static int
create_pod (ctrl_ctx *c, const json_t *job, int64_t idx, int64_t fails, int64_t ignored,
            husk_error **err)
{
  const char *name = husk_json_path_str (job, "metadata.name");
  const char *uid = husk_json_path_str (job, "metadata.uid");
  _cleanup_json_ json_t *meta = ctrl_pod_meta (job, "batch/v1", "Job");
  ctrl_set_label (meta, "batch.kubernetes.io/job-name", name);
  ctrl_set_label (meta, "job-name", name);
  ctrl_set_label (meta, "batch.kubernetes.io/controller-uid", uid);
  ctrl_set_label (meta, "controller-uid", uid);
  if (idx < 0)
    return ctrl_create_pod (c, job, meta, err);
  char num[32];
  snprintf (num, sizeof num, "%lld", (long long)idx);
  ctrl_set_label (meta, CTRL_JOB_INDEX_KEY, num);
  json_t *ann = json_object_get (meta, "annotations");
  if (!json_is_object (ann))
    json_object_set_new (meta, "annotations", ann = json_object ());
  json_object_set_new (ann, CTRL_JOB_INDEX_KEY, json_string (num));
  if (fails >= 0)
    json_object_set_new (ann, CTRL_JOB_FAILURES_KEY, json_sprintf ("%lld", (long long)fails));
  if (fails >= 0 && ignored > 0)
    json_object_set_new (ann, CTRL_JOB_IGNORED_KEY, json_sprintf ("%lld", (long long)ignored));
  json_object_set_new (meta, "generateName", json_sprintf ("%s-%s-", name, num));
  _cleanup_json_ json_t *spec = indexed_spec (job, idx);
  return ctrl_post_pod (c, husk_json_path_str (job, "metadata.namespace"), meta, spec, err);
}

static void
delete_quiet (ctrl_ctx *c, const char *path)
{
  _cleanup_error_ husk_error *e = NULL;
  ctrl_write (c, "DELETE", path, NULL, NULL, NULL, NULL, &e);
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
put_status (ctrl_ctx *c, const json_t *job, json_t *status, husk_error **err)
{
  if (json_equal (status, json_object_get (job, "status")))
    return 0;
  _cleanup_json_ json_t *copy = json_deep_copy (job); /* the listed Job is shared */
  json_object_set (copy, "status", status);
  return ctrl_put (c, "/apis/batch/v1", "jobs", copy, "/status", err);
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

/* What one pass saw of a Job's pods. */
typedef struct job_pass
{
  ctrl_ctx *c;
  json_t *job, *status;
  const char *ns, *name;
  int64_t now;
  json_t **active; /* not finished, not terminating */
  size_t n_active;
  json_int_t succeeded, failed, ready;
  int64_t last_failure;
  char *fail_msg; /* a FailJob rule matched */
  int64_t completions; /* -1: none */
  bool *done;          /* Indexed: completed indexes (completions of them) */
  size_t terminating;  /* unfinished pods being deleted */
  /* backoffLimitPerIndex (Indexed only): per index, whether it failed, its counted and
     ignored failures, the time of its last counted failure. */
  bool per_index;
  json_int_t limit_per_index;
  bool *failed_idx;
  int64_t *idx_fails, *idx_ignored, *idx_last;
} job_pass;

static void
job_pass_free (job_pass *j)
{
  free (j->active);
  free (j->fail_msg);
  free (j->done);
  free (j->failed_idx);
  free (j->idx_fails);
  free (j->idx_ignored);
  free (j->idx_last);
}

static int64_t
max64 (int64_t a, int64_t b)
{
  return a > b ? a : b;
}

/* When a failed pod failed, as upstream's getFinishedTime: its Ready=False transition, else
   the latest container finishedAt, else its deletion, else its creation. Back-offs count
   from it. */
static int64_t
failed_at (const json_t *p)
{
  json_t *x;
  size_t i;
  json_array_foreach (husk_json_path (p, "status.conditions"), i, x)
  {
    const char *t = json_string_value (json_object_get (x, "type"));
    const char *st = json_string_value (json_object_get (x, "status"));
    int64_t at = ctrl_time_parse (json_string_value (json_object_get (x, "lastTransitionTime")));
    if (t && st && streq (t, "Ready") && streq (st, "False") && at > 0)
      return at;
  }
  int64_t last = 0;
  json_array_foreach (husk_json_path (p, "status.containerStatuses"), i, x)
      last = max64 (last, ctrl_time_parse (husk_json_path_str (x, "state.terminated.finishedAt")));
  if (last > 0)
    return last;
  int64_t del = ctrl_time_parse (husk_json_path_str (p, "metadata.deletionTimestamp"));
  return del > 0 ? del : ctrl_time_parse (husk_json_path_str (p, "metadata.creationTimestamp"));
}

/* backoffLimitPerIndex: what pod p of an index tells about its failures. A failed pod
   (action a) adds one to the counts it was created with; an index fails when its counted
   failures pass the limit, or at once by a FailIndex rule. */
static void
count_index (job_pass *j, const json_t *p, bool failed, ctrl_pfp_action a)
{
  int64_t idx = ctrl_job_pod_index (p);
  if (!j->per_index || idx < 0 || idx >= j->completions)
    return;
  int64_t fails = ctrl_job_pod_count (p, CTRL_JOB_FAILURES_KEY);
  int64_t ignored = ctrl_job_pod_count (p, CTRL_JOB_IGNORED_KEY);
  if (failed && a == CTRL_PFP_IGNORE)
    ignored++;
  else if (failed)
    {
      fails++;
      int64_t t = failed_at (p);
      j->idx_last[idx] = max64 (j->idx_last[idx], t);
      if (a == CTRL_PFP_FAIL_INDEX || fails > j->limit_per_index)
        j->failed_idx[idx] = true;
    }
  j->idx_fails[idx] = max64 (j->idx_fails[idx], fails);
  j->idx_ignored[idx] = max64 (j->idx_ignored[idx], ignored);
}

static void
count_pod (job_pass *j, json_t *policy, json_t *p)
{
  const char *phase = husk_json_path_str (p, "status.phase");
  if (phase && streq (phase, "Succeeded"))
    {
      int64_t idx = ctrl_job_pod_index (p);
      if (!j->done)
        j->succeeded++;
      else if (idx >= 0 && idx < j->completions)
        j->done[idx] = true;
    }
  else if (phase && streq (phase, "Failed"))
    {
      char *msg = NULL;
      ctrl_pfp_action a = policy ? ctrl_job_pod_failure_policy (policy, p, &msg) : CTRL_PFP_COUNT;
      if (a == CTRL_PFP_FAIL_JOB && !j->fail_msg)
        j->fail_msg = TAKE_PTR (msg);
      free (msg);
      count_index (j, p, true, a);
      if (a == CTRL_PFP_IGNORE)
        return;
      j->failed++;
      int64_t t = failed_at (p);
      if (t > j->last_failure)
        j->last_failure = t;
    }
  else if (!ctrl_terminating (p))
    {
      count_index (j, p, false, CTRL_PFP_COUNT);
      j->active[j->n_active++] = p;
      j->ready += ctrl_pod_ready (p);
    }
  else
    j->terminating++;
}

/* Indexed with backoffLimitPerIndex: the per-index arrays, and status.failedIndexes parsed
   back so that failed pods removed since keep counting. */
static int
collect_per_index (job_pass *j, husk_error **err)
{
  json_t *limit = husk_json_path (j->job, "spec.backoffLimitPerIndex");
  if (!json_is_integer (limit))
    return 0;
  size_t n = (size_t)j->completions + 1;
  j->per_index = true;
  j->limit_per_index = json_integer_value (limit);
  j->failed_idx = calloc (n, sizeof *j->failed_idx);
  j->idx_fails = calloc (n, sizeof *j->idx_fails);
  j->idx_ignored = calloc (n, sizeof *j->idx_ignored);
  j->idx_last = calloc (n, sizeof *j->idx_last);
  if (!j->failed_idx || !j->idx_fails || !j->idx_ignored || !j->idx_last)
    return husk_err (err, ENOMEM, "job %s/%s: %zu indexes", j->ns, j->name, n);
  int ret = ctrl_job_parse_indexes (husk_json_path_str (j->status, "failedIndexes"),
                                    j->failed_idx, j->completions, err);
  if (ret < 0)
    return husk_err_wrap (err, "job %s/%s: status", j->ns, j->name);
  return 0;
}

static int
collect (job_pass *j, json_t *pods, husk_error **err)
{
  const char *uid = husk_json_path_str (j->job, "metadata.uid");
  json_t *completions = husk_json_path (j->job, "spec.completions");
  const char *mode = husk_json_path_str (j->job, "spec.completionMode");
  j->completions = json_is_integer (completions) ? json_integer_value (completions) : -1;
  if (mode && streq (mode, "Indexed") && j->completions >= 0)
    {
      j->done = calloc ((size_t)j->completions + 1, sizeof *j->done);
      int ret = ctrl_job_parse_indexes (husk_json_path_str (j->status, "completedIndexes"),
                                        j->done, j->completions, err);
      if (ret < 0)
        return husk_err_wrap (err, "job %s/%s: status", j->ns, j->name);
      ret = collect_per_index (j, err);
      if (ret < 0)
        return ret;
    }
  j->active = xmalloc ((json_array_size (pods) + 1) * sizeof *j->active);
  json_t *policy = husk_json_path (j->job, "spec.podFailurePolicy"), *p;
  size_t i;
  json_array_foreach (pods, i, p)
  {
    const char *pns = husk_json_path_str (p, "metadata.namespace");
    const char *owner = ctrl_controller_uid (p);
    if (pns && streq (pns, j->ns) && owner && streq (owner, uid))
      count_pod (j, policy, p);
  }
  if (j->done)
    for (int64_t k = 0; k < j->completions; k++)
      {
        j->succeeded += j->done[k];
        if (j->failed_idx && j->done[k])
          j->failed_idx[k] = false; /* a succeeded index is not a failed one */
      }
  /* Pods removed by someone else keep counting. */
  if (husk_json_path_int (j->status, "succeeded", 0) > j->succeeded && !j->done)
    j->succeeded = husk_json_path_int (j->status, "succeeded", 0);
  if (husk_json_path_int (j->status, "failed", 0) > j->failed)
    j->failed = husk_json_path_int (j->status, "failed", 0);
  return 0;
}

static bool
index_failed (const job_pass *j, int64_t idx)
{
  return j->failed_idx && j->failed_idx[idx];
}

/* backoffLimitPerIndex: the index's replacement waits for its own back-off. */
static bool
index_backing_off (const job_pass *j, int64_t idx)
{
  return j->per_index && j->idx_fails[idx] > 0
         && ctrl_job_backoff_remaining ((int32_t)j->idx_fails[idx], j->idx_last[idx], j->now) > 0;
}

/* Indexed: active pods of completed, failed or duplicate indexes go; missing indexes (lowest
   first) get a pod while fewer than want are active. */
static int
run_indexed (job_pass *j, json_int_t want, husk_error **err)
{
  _cleanup_free_ bool *busy = calloc ((size_t)j->completions + 1, sizeof *busy);
  size_t kept = 0;
  for (size_t k = 0; k < j->n_active; k++)
    {
      int64_t idx = ctrl_job_pod_index (j->active[k]);
      if (idx < 0 || idx >= j->completions || j->done[idx] || busy[idx] || index_failed (j, idx)
          || (json_int_t)kept >= want)
        delete_pod (j->c, j->active[k]);
      else
        {
          busy[idx] = true;
          j->active[kept++] = j->active[k];
        }
    }
  j->n_active = kept;
  for (int64_t idx = 0; idx < j->completions && (json_int_t)j->n_active < want; idx++)
    {
      if (j->done[idx] || busy[idx] || index_failed (j, idx) || index_backing_off (j, idx))
        continue;
      int ret = create_pod (j->c, j->job, idx, j->per_index ? j->idx_fails[idx] : -1,
                            j->per_index ? j->idx_ignored[idx] : 0, err);
      if (ret < 0)
        return husk_err_wrap (err, "job %s/%s: create pod for index %lld", j->ns, j->name,
                              (long long)idx);
      j->n_active++;
    }
  return 0;
}

static int
run_pods (job_pass *j, bool finished, json_int_t want, husk_error **err)
{
  if (finished)
    {
      for (size_t k = 0; k < j->n_active; k++)
        delete_pod (j->c, j->active[k]);
      return 0;
    }
  if (!j->per_index && ctrl_job_backoff_remaining ((int32_t)j->failed, j->last_failure, j->now) > 0
      && (json_int_t)j->n_active < want)
    want = (json_int_t)j->n_active; /* replacements wait for the back-off */
  if (j->done)
    return run_indexed (j, want, err);
  if ((json_int_t)j->n_active > want)
    for (size_t k = (size_t)want; k < j->n_active; k++)
      delete_pod (j->c, j->active[k]);
  for (json_int_t k = (json_int_t)j->n_active; k < want; k++)
    {
      int ret = create_pod (j->c, j->job, -1, -1, 0, err);
      if (ret < 0)
        return husk_err_wrap (err, "job %s/%s: create pod", j->ns, j->name);
      j->n_active++;
    }
  return 0;
}

/* The Suspended condition's status ("True", "False") or NULL; *cd gets it. */
static const char *
suspended_condition (json_t *status, json_t **cd)
{
  json_t *c;
  size_t i;
  *cd = NULL;
  json_array_foreach (json_object_get (status, "conditions"), i, c)
  {
    const char *t = json_string_value (json_object_get (c, "type"));
    if (t && streq (t, "Suspended"))
      {
        *cd = c;
        return json_string_value (json_object_get (c, "status"));
      }
  }
  return NULL;
}

/* spec.suspend: active pods are deleted and the Job says Suspended; resuming flips the
   condition and restarts the clock of activeDeadlineSeconds (upstream). Returns true when
   the Job is suspended (nothing else to do). */
static bool
handle_suspend (job_pass *j, const char *now_s)
{
  json_t *cd;
  const char *st = suspended_condition (j->status, &cd);
  bool suspend = json_is_true (husk_json_path (j->job, "spec.suspend"));
  if (suspend && !(st && streq (st, "True")))
    {
      if (!cd)
        add_condition (j->status, "Suspended", "JobSuspended", "Job suspended", now_s);
      else
        {
          json_object_set_new (cd, "status", json_string ("True"));
          json_object_set_new (cd, "reason", json_string ("JobSuspended"));
          json_object_set_new (cd, "message", json_string ("Job suspended"));
          json_object_set_new (cd, "lastTransitionTime", json_string (now_s));
        }
    }
  else if (!suspend && st && streq (st, "True"))
    {
      json_object_set_new (cd, "status", json_string ("False"));
      json_object_set_new (cd, "reason", json_string ("JobResumed"));
      json_object_set_new (cd, "message", json_string ("Job resumed"));
      json_object_set_new (cd, "lastTransitionTime", json_string (now_s));
      json_object_set_new (j->status, "startTime", json_string (now_s));
    }
  if (!suspend)
    return false;
  for (size_t k = 0; k < j->n_active; k++)
    delete_pod (j->c, j->active[k]);
  json_object_set_new (j->status, "active", json_integer (0));
  json_object_set_new (j->status, "ready", json_integer (0));
  return true;
}

/* How a pass ends the Job: failed (reason, text), or its success criteria met (reason,
   text), Complete once drained (no pod left running or terminating). */
typedef struct job_end
{
  const char *fail_reason, *fail_text;
  const char *ok_reason, *ok_text;
  bool drained;
} job_end;

static json_t *
status_condition (json_t *status, const char *type)
{
  json_t *cd;
  size_t i;
  json_array_foreach (json_object_get (status, "conditions"), i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    const char *st = json_string_value (json_object_get (cd, "status"));
    if (t && st && streq (t, type) && streq (st, "True"))
      return cd;
  }
  return NULL;
}

static void
finish_status (job_pass *j, const job_end *e, const char *now_s)
{
  bool over = e->fail_reason || e->ok_reason;
  json_object_set_new (j->status, "active", json_integer (over ? 0 : (json_int_t)j->n_active));
  json_object_set_new (j->status, "succeeded", json_integer (j->succeeded));
  json_object_set_new (j->status, "failed", json_integer (j->failed));
  json_object_set_new (j->status, "ready", json_integer (over ? 0 : j->ready));
  if (j->done)
    {
      _cleanup_free_ char *ci = ctrl_job_format_indexes (j->done, j->completions);
      if (*ci)
        json_object_set_new (j->status, "completedIndexes", json_string (ci));
    }
  if (j->per_index)
    {
      _cleanup_free_ char *fi = ctrl_job_format_indexes (j->failed_idx, j->completions);
      json_object_set_new (j->status, "failedIndexes", json_string (fi));
    }
  if (e->fail_reason)
    {
      add_condition (j->status, "FailureTarget", e->fail_reason, e->fail_text, now_s);
      add_condition (j->status, "Failed", e->fail_reason, e->fail_text, now_s);
    }
  else if (e->ok_reason)
    {
      if (!status_condition (j->status, "SuccessCriteriaMet"))
        add_condition (j->status, "SuccessCriteriaMet", e->ok_reason, e->ok_text, now_s);
      if (!e->drained)
        return;
      add_condition (j->status, "Complete", e->ok_reason, e->ok_text, now_s);
      json_object_set_new (j->status, "completionTime", json_string (now_s));
    }
}

/* backoffLimitPerIndex: too many failed indexes, or every index finished with some failed
   (upstream's order: after podFailurePolicy, backoffLimit and the deadline). */
static void
index_failure (job_pass *j, job_end *e)
{
  int64_t failed = 0;
  for (int64_t k = 0; k < j->completions; k++)
    failed += j->failed_idx[k];
  json_t *max = husk_json_path (j->job, "spec.maxFailedIndexes");
  if (json_is_integer (max) && failed > json_integer_value (max))
    e->fail_reason = "MaxFailedIndexesExceeded",
    e->fail_text = "Job has exceeded the specified maximal number of failed indexes";
  else if (failed > 0 && failed + j->succeeded >= j->completions)
    e->fail_reason = "FailedIndexes", e->fail_text = "Job has failed indexes";
}

/* Why the Job ends this pass, if it does; *msg keeps the success policy's message. */
static void
job_end_of (job_pass *j, job_end *e, char **msg)
{
  json_int_t backoff_limit = husk_json_path_int (j->job, "spec.backoffLimit", 6);
  json_int_t deadline = husk_json_path_int (j->job, "spec.activeDeadlineSeconds", -1);
  int64_t start = ctrl_time_parse (husk_json_path_str (j->status, "startTime"));
  json_t *met = status_condition (j->status, "SuccessCriteriaMet");
  json_t *policy = husk_json_path (j->job, "spec.successPolicy");
  int rule;
  if (met) /* already decided: drain, then Complete with the same words */
    e->ok_reason = json_string_value (json_object_get (met, "reason")),
    e->ok_text = json_string_value (json_object_get (met, "message"));
  else if (j->fail_msg)
    e->fail_reason = "PodFailurePolicy", e->fail_text = j->fail_msg;
  else if (j->failed > backoff_limit)
    e->fail_reason = "BackoffLimitExceeded",
    e->fail_text = "Job has reached the specified backoff limit";
  else if (deadline >= 0 && start > 0 && start + deadline <= j->now)
    e->fail_reason = "DeadlineExceeded",
    e->fail_text = "Job was active longer than specified deadline";
  else if (j->per_index)
    index_failure (j, e);
  if (e->fail_reason || e->ok_reason)
    return;
  if (j->done && json_is_object (policy)
      && (rule = ctrl_job_success_rule (policy, j->done, j->completions)) >= 0)
    {
      *msg = xasprintf ("Matched rules at index %d", rule);
      e->ok_reason = "SuccessPolicy", e->ok_text = *msg;
      return;
    }
  bool complete = j->completions >= 0 ? j->succeeded >= j->completions
                                      : j->succeeded > 0 && j->n_active == 0;
  if (complete)
    e->ok_reason = "CompletionsReached", e->ok_text = "Reached expected number of succeeded pods";
}

static int
sync_pass (job_pass *j, json_t *pods, husk_error **err)
{
  _cleanup_free_ char *now_s = ctrl_time_now ();
  int ret = collect (j, pods, err);
  if (ret < 0)
    return ret;
  if (handle_suspend (j, now_s))
    return put_status (j->c, j->job, j->status, err);
  if (!json_object_get (j->status, "startTime"))
    json_object_set_new (j->status, "startTime", json_string (now_s));
  json_int_t parallelism = husk_json_path_int (j->job, "spec.parallelism", 1);
  job_end e = { 0 };
  _cleanup_free_ char *msg = NULL;
  job_end_of (j, &e, &msg);
  /* Completions end at once (the pods are done); a success policy first drains the pods
     still running. */
  e.drained = (e.ok_reason && streq (e.ok_reason, "CompletionsReached"))
              || (j->n_active == 0 && j->terminating == 0);
  json_int_t left = j->completions - j->succeeded;
  if (j->failed_idx)
    for (int64_t k = 0; k < j->completions; k++)
      left -= j->failed_idx[k];
  json_int_t want = parallelism;
  if (j->completions >= 0 && left < want)
    want = left;
  if (j->completions < 0 && j->succeeded > 0)
    want = (json_int_t)j->n_active; /* one succeeded: let the others finish, start no more */
  ret = run_pods (j, e.fail_reason || e.ok_reason, want, err);
  if (ret < 0)
    return ret;
  finish_status (j, &e, now_s);
  return put_status (j->c, j->job, j->status, err);
}

static int
sync_one (ctrl_ctx *c, json_t *job, json_t *pods, int64_t now, husk_error **err)
{
  job_pass j = { .c = c, .job = job, .now = now };
  j.ns = husk_json_path_str (job, "metadata.namespace");
  j.name = husk_json_path_str (job, "metadata.name");
  if (!husk_json_path_str (job, "metadata.uid") || !j.ns || !j.name || ctrl_terminating (job))
    return 0;
  json_t *done = condition_true (job, "Complete");
  if (!done)
    done = condition_true (job, "Failed");
  if (done)
    {
      finished (c, job, done, now);
      return 0;
    }
  json_t *st = json_object_get (job, "status");
  _cleanup_json_ json_t *status = json_is_object (st) ? json_deep_copy (st) : json_object ();
  j.status = status;
  int ret = sync_pass (&j, pods, err);
  job_pass_free (&j);
  return ret;
}

int
ctrl_job_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *jobs = NULL, *pods = NULL;
  int ret = ctrl_list (c, "/apis/batch/v1/jobs", &jobs, err);
  if (ret < 0 || json_array_size (jobs) == 0)
    return ret; /* no Job: no need for the (large) pod list */
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
