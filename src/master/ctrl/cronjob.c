/* husk controllers: CronJob. At each activation of spec.schedule (in spec.timeZone) a Job
   named <cronjob>-<scheduled minute> is created from spec.jobTemplate, within
   startingDeadlineSeconds, following concurrencyPolicy (Allow, Forbid, Replace); finished
   Jobs beyond the history limits are deleted; status carries active, lastScheduleTime and
   lastSuccessfulTime. */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "src/master/ctrl/ctrl-internal.h"
#include "src/master/ctrl/logic.h"

static char *
fmt_time (int64_t t)
{
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r (&tt, &tm);
  char buf[32];
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return xstrdup (buf);
}

/* "Complete", "Failed" or NULL for a Job still running. */
static const char *
job_finished (const json_t *job)
{
  json_t *conds = husk_json_path (job, "status.conditions"), *cd;
  size_t i;
  json_array_foreach (conds, i, cd)
  {
    const char *t = json_string_value (json_object_get (cd, "type"));
    const char *s = json_string_value (json_object_get (cd, "status"));
    if (t && s && streq (s, "True") && (streq (t, "Complete") || streq (t, "Failed")))
      return t;
  }
  return NULL;
}

static void
delete_job (ctrl_ctx *c, const json_t *job)
{
  _cleanup_free_ char *path = xasprintf (
      "/apis/batch/v1/namespaces/%s/jobs/%s?propagationPolicy=Background",
      husk_json_path_str (job, "metadata.namespace"), husk_json_path_str (job, "metadata.name"));
  _cleanup_error_ husk_error *e = NULL;
  ctrl_write (c, "DELETE", path, NULL, NULL, NULL, NULL, &e);
}

static int
cmp_created (const void *a, const void *b)
{
  int64_t x
      = ctrl_time_parse (husk_json_path_str (*(json_t *const *)a, "metadata.creationTimestamp"));
  int64_t y
      = ctrl_time_parse (husk_json_path_str (*(json_t *const *)b, "metadata.creationTimestamp"));
  return x < y ? -1 : x > y;
}

/* Deletes the oldest finished Jobs of that kind beyond limit. */
static void
trim_history (ctrl_ctx *c, json_t **jobs, size_t n, const char *kind, json_int_t limit)
{
  _cleanup_free_ json_t **f = xmalloc ((n + 1) * sizeof *f);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      const char *st = job_finished (jobs[i]);
      if (st && streq (st, kind))
        f[k++] = jobs[i];
    }
  if ((json_int_t)k <= limit)
    return;
  qsort (f, k, sizeof *f, cmp_created);
  for (size_t i = 0; i < k - (size_t)limit; i++)
    delete_job (c, f[i]);
}

static int
create_job (ctrl_ctx *c, const json_t *cj, const char *name, int64_t scheduled, husk_error **err)
{
  const char *ns = husk_json_path_str (cj, "metadata.namespace");
  json_t *jt = husk_json_path (cj, "spec.jobTemplate");
  json_t *jm = json_object_get (jt, "metadata");
  _cleanup_json_ json_t *meta = json_is_object (jm) ? json_deep_copy (jm) : json_object ();
  json_object_del (meta, "creationTimestamp");
  json_object_set_new (meta, "name", json_string (name));
  json_object_set_new (meta, "namespace", json_string (ns));
  json_t *ann = json_object_get (meta, "annotations");
  if (!json_is_object (ann))
    json_object_set_new (meta, "annotations", ann = json_object ());
  _cleanup_free_ char *ts = fmt_time (scheduled);
  json_object_set_new (ann, "batch.kubernetes.io/cronjob-scheduled-timestamp", json_string (ts));
  json_object_set_new (meta, "ownerReferences",
                       json_pack ("[o]", ctrl_owner_ref ("batch/v1", "CronJob", cj)));
  json_t *spec = json_object_get (jt, "spec");
  _cleanup_json_ json_t *job
      = json_pack ("{s:s, s:s, s:O, s:O}", "apiVersion", "batch/v1", "kind", "Job", "metadata",
                   meta, "spec", spec ? spec : json_object ());
  _cleanup_free_ char *path = xasprintf ("/apis/batch/v1/namespaces/%s/jobs", ns);
  long code = 0;
  int ret = ctrl_write (c, "POST", path, NULL, job, NULL, &code, err);
  if (ret < 0 && code == 409)
    {
      husk_error_free (*err);
      *err = NULL;
      return 0;
    }
  return ret;
}

static int
sync_one (ctrl_ctx *c, const json_t *cj, json_t *jobs, int64_t now, husk_error **err)
{
  const char *uid = husk_json_path_str (cj, "metadata.uid");
  const char *ns = husk_json_path_str (cj, "metadata.namespace");
  const char *name = husk_json_path_str (cj, "metadata.name");
  const char *schedule = husk_json_path_str (cj, "spec.schedule");
  if (!uid || !ns || !name || !schedule || ctrl_terminating (cj))
    return 0;
  size_t cap = json_array_size (jobs);
  _cleanup_free_ json_t **mine = xmalloc ((cap + 1) * sizeof *mine);
  size_t n = 0;
  json_t *j;
  size_t i;
  json_array_foreach (jobs, i, j)
  {
    const char *jns = husk_json_path_str (j, "metadata.namespace");
    const char *owner = ctrl_controller_uid (j);
    if (jns && streq (jns, ns) && owner && streq (owner, uid) && !ctrl_terminating (j))
      mine[n++] = j;
  }
  _cleanup_json_ json_t *status = json_is_object (json_object_get (cj, "status"))
                                      ? json_deep_copy (json_object_get (cj, "status"))
                                      : json_object ();
  const char *policy = husk_json_path_str (cj, "spec.concurrencyPolicy");
  size_t n_active = 0;
  for (size_t k = 0; k < n; k++)
    n_active += job_finished (mine[k]) == NULL;

  if (!json_is_true (husk_json_path (cj, "spec.suspend")))
    {
      ctrl_cron *cron = NULL;
      int ret = ctrl_cron_parse (schedule, husk_json_path_str (cj, "spec.timeZone"), &cron, err);
      if (ret < 0)
        return husk_err_wrap (err, "cronjob %s/%s", ns, name);
      const char *last = json_string_value (json_object_get (status, "lastScheduleTime"));
      int64_t earliest
          = ctrl_time_parse (last ? last : husk_json_path_str (cj, "metadata.creationTimestamp"));
      int64_t most = 0;
      ctrl_missed missed = CTRL_NONE_MISSED;
      ret = ctrl_cron_most_recent (cron, earliest, now,
                                   husk_json_path_int (cj, "spec.startingDeadlineSeconds", -1), &most, &missed,
                                   err);
      ctrl_cron_free (cron);
      if (ret < 0)
        return husk_err_wrap (err, "cronjob %s/%s", ns, name);
      bool forbid = policy && streq (policy, "Forbid") && n_active > 0;
      if (most > 0 && !forbid)
        {
          if (policy && streq (policy, "Replace"))
            for (size_t k = 0; k < n; k++)
              if (job_finished (mine[k]) == NULL)
                delete_job (c, mine[k]);
          _cleanup_free_ char *jname = xasprintf ("%s-%lld", name, (long long)(most / 60));
          ret = create_job (c, cj, jname, most, err);
          if (ret < 0)
            return husk_err_wrap (err, "cronjob %s/%s: create job", ns, name);
          _cleanup_free_ char *ts = fmt_time (most);
          json_object_set_new (status, "lastScheduleTime", json_string (ts));
        }
    }

  json_t *active = json_array ();
  int64_t last_ok
      = ctrl_time_parse (json_string_value (json_object_get (status, "lastSuccessfulTime")));
  for (size_t k = 0; k < n; k++)
    {
      const char *fin = job_finished (mine[k]);
      if (fin == NULL)
        json_array_append_new (
            active, json_pack ("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", "batch/v1", "kind", "Job",
                               "name", husk_json_path_str (mine[k], "metadata.name"), "namespace",
                               ns, "uid", husk_json_path_str (mine[k], "metadata.uid")));
      else if (streq (fin, "Complete"))
        {
          int64_t t = ctrl_time_parse (husk_json_path_str (mine[k], "status.completionTime"));
          if (t > last_ok)
            last_ok = t;
        }
    }
  if (json_array_size (active))
    json_object_set_new (status, "active", active);
  else
    {
      json_decref (active);
      json_object_del (status, "active");
    }
  if (last_ok > 0)
    {
      _cleanup_free_ char *ts_ok = fmt_time (last_ok);
      json_object_set_new (status, "lastSuccessfulTime", json_string (ts_ok));
    }
  trim_history (c, mine, n, "Complete", husk_json_path_int (cj, "spec.successfulJobsHistoryLimit", 3));
  trim_history (c, mine, n, "Failed", husk_json_path_int (cj, "spec.failedJobsHistoryLimit", 1));

  if (json_equal (status, json_object_get (cj, "status")))
    return 0;
  _cleanup_json_ json_t *copy = json_deep_copy (cj); /* cj is shared, read-only */
  json_object_set (copy, "status", status);
  return ctrl_put (c, "/apis/batch/v1", "cronjobs", copy, "/status", err);
}

int
ctrl_cronjob_sync (ctrl_ctx *c, husk_error **err)
{
  _cleanup_json_ json_t *cjs = NULL, *jobs = NULL;
  int ret = ctrl_list (c, "/apis/batch/v1/cronjobs", &cjs, err);
  if (ret == 0)
    ret = ctrl_list (c, "/apis/batch/v1/jobs", &jobs, err);
  if (ret < 0)
    return ret;
  int64_t now = time (NULL);
  json_t *cj;
  size_t i;
  json_array_foreach (cjs, i, cj)
  {
    _cleanup_error_ husk_error *e = NULL;
    if (sync_one (c, cj, jobs, now, &e) < 0)
      log_warn ("cronjob sync", "error", e->msg);
  }
  return 0;
}
