/* husk controllers: the pure logic the controllers share (no I/O beyond reading tzdata):
   cron schedules with time zones, Deployment rolling-update arithmetic, the
   pod-template-hash, Job back-off. */
#ifndef HUSK_CTRL_LOGIC_H
#define HUSK_CTRL_LOGIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* ---- time zones (tz.c): TZif files from tzdata, with their POSIX footer rule ---- */
typedef struct ctrl_tz ctrl_tz;

/* Loads an IANA zone ("Europe/Paris"; "" and "UTC" are UTC) from ctrl_tz_dir (default
   /usr/share/zoneinfo, or $ZONEINFO). ENOENT for an unknown zone. */
int ctrl_tz_load (const char *name, ctrl_tz **out, husk_error **err);
void ctrl_tz_free (ctrl_tz *tz);
/* Seconds east of UTC at instant utc (unix seconds). */
int32_t ctrl_tz_offset (const ctrl_tz *tz, int64_t utc);

/* ---- cron (cron.c): the CronJob schedule syntax (robfig/cron's standard parser) ---- */
typedef struct ctrl_cron ctrl_cron;

/* "m h dom mon dow" with lists, ranges, steps, names (JAN, MON), *, ?, and @yearly
   @annually @monthly @weekly @daily @midnight @hourly; an optional "CRON_TZ=<zone> " or
   "TZ=<zone> " prefix. time_zone is the CronJob's spec.timeZone (NULL: none; the zone
   defaults to UTC). Errors read like upstream's ("unknown time zone Mars/Base",
   "end of range (70) above maximum (59): 0-70"). */
int ctrl_cron_parse (const char *schedule, const char *time_zone, ctrl_cron **out,
                     husk_error **err);
void ctrl_cron_free (ctrl_cron *c);

/* The first activation strictly after t (unix seconds, second resolution), or 0 when the
   schedule has none within five years (e.g. "0 0 30 2 *"). */
int64_t ctrl_cron_next (const ctrl_cron *c, int64_t t);

typedef enum ctrl_missed
{
  CTRL_NONE_MISSED = 0,
  CTRL_FEW_MISSED,  /* more than one start missed */
  CTRL_MANY_MISSED, /* more than 100: the controller warns and starts only the last */
} ctrl_missed;

/* The CronJob controller's mostRecentScheduleTime: earliest is status.lastScheduleTime
   (or creationTimestamp), raised to now - startingDeadlineSeconds when that is later
   (starting_deadline < 0: none). *most_recent is the latest activation in (earliest, now]
   or 0; *missed classifies how many were skipped. Returns -EINVAL when two activations are
   less than a second apart (an impossible schedule). */
int ctrl_cron_most_recent (const ctrl_cron *c, int64_t earliest, int64_t now,
                           int64_t starting_deadline, int64_t *most_recent, ctrl_missed *missed,
                           husk_error **err);

/* ---- Deployment rolling update (rollout.c) ---- */

/* upstream GetScaledValueFromIntOrPercent: an integer, or "N%" of total rounded up or down. */
int ctrl_intstr_scaled (const json_t *v, int32_t total, bool round_up, int32_t *out,
                        husk_error **err);

/* ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down; both zero becomes
   unavailable = 1. NULL values take the defaults (25%, 25%). */
int ctrl_rollout_fenceposts (const json_t *max_surge, const json_t *max_unavailable,
                             int32_t desired, int32_t *surge, int32_t *unavailable,
                             husk_error **err);

typedef struct ctrl_rs
{
  int32_t replicas;  /* spec.replicas; updated in place by the scale-down step */
  int32_t available; /* status.availableReplicas */
  int64_t created;   /* creationTimestamp, for oldest-first ordering */
} ctrl_rs;

/* NewRSNewReplicas: the new ReplicaSet's replica count for this step. total is the sum of
   spec.replicas over all ReplicaSets of the Deployment (new included). */
int32_t ctrl_rollout_new_replicas (int32_t desired, int32_t surge, int32_t total,
                                   int32_t new_replicas);

/* reconcileOldReplicaSets: first removes unavailable pods of old ReplicaSets, then scales
   old ReplicaSets down (oldest first) while availability stays >= desired - unavailable.
   Updates old[i].replicas and returns how many replicas were removed. */
int32_t ctrl_rollout_scale_down_old (int32_t desired, int32_t unavailable, ctrl_rs *old,
                                     size_t n_old, const ctrl_rs *new_rs);

typedef struct ctrl_rs_scale
{
  int32_t replicas;     /* spec.replicas; set to the new size */
  int64_t created;      /* creationTimestamp */
  int32_t max_replicas; /* annotation deployment.kubernetes.io/max-replicas; 0 when absent */
} ctrl_rs_scale;

/* Proportional scaling of a RollingUpdate Deployment resized mid-rollout (upstream
   DeploymentController.scale): the replicas to add or remove (desired + surge minus the
   current total) are shared among the active ReplicaSets (replicas > 0) by their fraction,
   largest first (newer first when adding, older first when removing), leftovers to the
   first. status_replicas is the Deployment's status.replicas (the fallback fraction base). */
void ctrl_rollout_proportional (int32_t desired, int32_t surge, int32_t status_replicas,
                                ctrl_rs_scale *rs, size_t n);

/* One ReplicaSet of a Deployment as the status computation needs it. */
typedef struct ctrl_rs_status
{
  const char *name;
  int32_t spec_replicas;              /* spec.replicas */
  int32_t replicas, ready, available; /* status.replicas, readyReplicas, availableReplicas */
  bool is_new;                        /* its pod template is the Deployment's */
} ctrl_rs_status;

/* The Deployment's new status (depstatus.c, upstream calculateStatus + syncRolloutStatus +
   checkPausedConditions): replicas, updatedReplicas, readyReplicas, availableReplicas,
   unavailableReplicas, observedGeneration, collisionCount, and the Available
   (MinimumReplicasAvailable / MinimumReplicasUnavailable) and Progressing
   (NewReplicaSetAvailable, ReplicaSetUpdated, ProgressDeadlineExceeded, DeploymentPaused,
   DeploymentResumed) conditions with upstream's messages and timestamps. */
int ctrl_deployment_status (json_t *deployment, const ctrl_rs_status *rs, size_t n, int64_t now,
                            json_t **out, husk_error **err);

/* ReplicaSet scale-down order (podrank.c, upstream ActivePodsWithRanks with
   LogarithmicScaleDown and PodDeletionCost): sorts pods so that the first ones are deleted
   first: unscheduled, then Pending < Unknown < Running, not ready, lower
   controller.kubernetes.io/pod-deletion-cost, more pods on the same node, ready for less
   time, more restarts, newer (times compared on a log2 scale from now, ties by uid). */
void ctrl_rank_pods_for_deletion (json_t **pods, size_t n, int64_t now);

/* ---- pod-template-hash (podhash.c) ---- */

/* FNV-32a over the template (canonical JSON: sorted keys, compact) followed, when
   collision_count >= 0, by the count as 8 little-endian bytes; the decimal value rendered
   with upstream's SafeEncodeString alphabet "bcdfghjklmnpqrstvwxz2456789". */
char *ctrl_pod_template_hash (const json_t *template, int64_t collision_count);
/* The encoding step alone (exposed for tests). */
char *ctrl_safe_encode (const char *s);

/* ---- Job back-off (backoff.c) ---- */

/* Delay before recreating a failed pod after `failures` consecutive failures: 10 s doubled
   per failure, capped at 6 minutes; 0 for no failures. */
int64_t ctrl_job_backoff (int32_t failures);
/* Seconds still to wait at `now` when the last failure happened at last_failure. */
int64_t ctrl_job_backoff_remaining (int32_t failures, int64_t last_failure, int64_t now);

typedef enum ctrl_pfp_action
{
  CTRL_PFP_COUNT = 0, /* counts against backoffLimit (also: no rule matched) */
  CTRL_PFP_IGNORE,    /* not counted; the pod is replaced */
  CTRL_PFP_FAIL_JOB,  /* the Job fails (reason PodFailurePolicy) */
  CTRL_PFP_FAIL_INDEX /* the index fails (Indexed Jobs with backoffLimitPerIndex) */
} ctrl_pfp_action;

/* spec.podFailurePolicy applied to a failed pod (jobpolicy.c): the first matching rule's
   action; for FailJob, *message is upstream's condition message ("Container main for pod
   ns/p failed with exit code 42 matching FailJob rule at index 0"), else NULL. */
ctrl_pfp_action ctrl_job_pod_failure_policy (json_t *policy, json_t *pod, char **message);

/* ---- DaemonSet placement (dsnode.c) ---- */

/* The pod spec's tolerations plus the ones upstream's DaemonSet controller adds (not-ready
   and unreachable NoExecute; disk-, memory-, pid-pressure and unschedulable NoSchedule;
   network-unavailable for hostNetwork). A new array. */
json_t *ctrl_ds_tolerations (json_t *pod_spec);
/* upstream NodeShouldRunDaemonPod, answered by the scheduler's sched_daemon_fits: *should_run
   when the node matches (nodeSelector, required node affinity) and every NoSchedule and
   NoExecute taint is tolerated; *should_continue (a running pod may stay) when the node
   matches and every NoExecute taint is tolerated. spec.unschedulable is ignored. A template
   the scheduler cannot parse: no new pod, a running one stays. */
void ctrl_ds_node_should_run (json_t *pod_spec, json_t *node, bool *should_run,
                              bool *should_continue);
/* A copy of pod_spec for a daemon pod of node: required node affinity replaced by one term
   matchFields metadata.name In [node], tolerations as ctrl_ds_tolerations. */
json_t *ctrl_ds_pod_spec (json_t *pod_spec, const char *node);
/* The node a daemon pod is for: spec.nodeName, else the matchFields term that pins it. */
const char *ctrl_ds_pod_node (json_t *pod);

/* One node in a DaemonSet rolling update (upstream rollingUpdate / findUpdatedPodsOnNode). */
typedef struct ctrl_ds_node
{
  bool ok;                  /* at most one old and one new pod (else the manage step acts) */
  bool has_old, old_avail;  /* a pod of an old revision, and it is available */
  bool has_new, new_avail;  /* a pod of the current revision, and it is available */
  bool delete_old;          /* out: delete the old pod */
  bool create_new;          /* out: create a new pod next to the old one (surge) */
} ctrl_ds_node;

/* One step of a RollingUpdate: with max_surge 0, old pods are deleted (unavailable ones
   always, available ones while fewer than max_unavailable nodes are unavailable); with
   max_surge > 0, new pods are created next to old ones (unavailable old ones always, others
   up to max_surge at a time) and an old pod goes once its new one is available. Returns the
   number of actions set. */
size_t ctrl_ds_rolling_step (ctrl_ds_node *nodes, size_t n, int32_t max_surge,
                             int32_t max_unavailable);

/* ---- Indexed Jobs (jobindex.c) ---- */
#define CTRL_JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"
/* The pod's completion index (annotation, else label CTRL_JOB_INDEX_KEY), or -1. */
int64_t ctrl_job_pod_index (const json_t *pod);
/* Marks done[i] for every i < n listed in s ("1,3-5"; NULL or "" lists none). */
int ctrl_job_parse_indexes (const char *s, bool *done, int64_t n, husk_error **err);
/* The done indexes as upstream's compressed list ("" when none); caller frees. */
char *ctrl_job_format_indexes (const bool *done, int64_t n);
/* backoffLimitPerIndex: the failures of an index so far, and those podFailurePolicy
   ignored, carried by each new pod of the index (upstream's annotations). */
#define CTRL_JOB_FAILURES_KEY "batch.kubernetes.io/job-index-failure-count"
#define CTRL_JOB_IGNORED_KEY  "batch.kubernetes.io/job-index-ignored-failure-count"
/* The pod's annotation key as a non-negative count (0 when absent or malformed). */
int64_t ctrl_job_pod_count (const json_t *pod, const char *key);
/* spec.successPolicy of an Indexed Job with n completions against its succeeded indexes
   done[0..n): the index of the first rule met, or -1. A rule with succeededIndexes only is
   met when all of them succeeded; with succeededCount only, when that many indexes
   succeeded; with both, when that many of the listed ones did. A rule whose
   succeededIndexes do not parse is never met. */
int ctrl_job_success_rule (const json_t *policy, const bool *done, int64_t n);

#endif
