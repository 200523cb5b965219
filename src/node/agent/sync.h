/* husk node agent: what to do next for a pod — kubelet's computePodActions reduced to a
   pure function. The wiring calls it on every pod event (container exit, probe result,
   spec change, timer) with the runtime's view of the pod and carries out the actions:
   kill, create the sandbox, start containers; waits (CrashLoopBackOff) come back with
   their remaining time so the wiring can set a timer. */
#ifndef HUSK_AGENT_SYNC_H
#define HUSK_AGENT_SYNC_H

#include <jansson.h>

#include "src/node/agent/restart.h"

/* The runtime's view of one container of the spec (latest instance). */
typedef struct agent_ctr_runtime
{
  agent_ctr_state state;  /* UNKNOWN: never created (or removed); RUNNING; TERMINATED */
  int exit_code;          /* TERMINATED */
  int64_t finished_ms;    /* TERMINATED: when it exited */
  bool started;           /* startup probe passed (or none): sidecar ordering */
  bool liveness_failed;   /* a published liveness Failure (kill it) */
  bool startup_failed;    /* a published startup Failure (kill it) */
  agent_backoff *backoff; /* this container's back-off, kept by the caller (may be NULL) */
} agent_ctr_runtime;

typedef struct agent_ctr_ref
{
  bool init; /* spec.initContainers[index] or spec.containers[index] */
  size_t index;
} agent_ctr_ref;

typedef struct agent_ctr_kill
{
  agent_ctr_ref ref;
  char *reason; /* event message: "Container web failed liveness probe, will be restarted" */
} agent_ctr_kill;

typedef struct agent_ctr_wait
{
  agent_ctr_ref ref;
  int64_t remaining_ms;
  char *message; /* the CrashLoopBackOff message */
} agent_ctr_wait;

typedef struct agent_pod_actions
{
  bool kill_pod;       /* stop every container and the sandbox */
  bool create_sandbox; /* (re)create the sandbox first, then start */
  bool done;           /* nothing will run again: the pod reached a final phase */
  agent_ctr_kill *kill;
  size_t nkill;
  agent_ctr_ref *start; /* in order; init containers one at a time */
  size_t nstart;
  agent_ctr_wait *wait; /* restarts held back by the crash-loop back-off */
  size_t nwait;
} agent_pod_actions;

/* pod: the Pod (spec.initContainers, spec.containers, spec.restartPolicy, metadata for
   messages). init[i] and ctrs[i] follow the spec's order. sandbox_exists: one was made
   before (alive or dead); sandbox_ready: it is running with its network. A container
   killed for a probe failure is restarted on a later call, once it shows as TERMINATED
   (then the back-off applies). Restarts (TERMINATED -> start) go through each
   container's back-off: allowed ones are in start, the others in wait. */
int agent_pod_compute_actions (json_t *pod, bool sandbox_exists, bool sandbox_ready,
                               const agent_ctr_runtime *init, size_t ninit,
                               const agent_ctr_runtime *ctrs, size_t n, int64_t now_ms,
                               agent_pod_actions *out, husk_error **err);
void agent_pod_actions_clear (agent_pod_actions *a);

/* ---- images ------------------------------------------------------------------------------ */

typedef enum agent_pull_policy
{
  AGENT_PULL_ALWAYS = 0,
  AGENT_PULL_IF_NOT_PRESENT,
  AGENT_PULL_NEVER,
} agent_pull_policy;

/* imagePullPolicy, defaulted as the API server does when empty: Always for an image
   without tag or with ":latest" (and no digest), else IfNotPresent. */
int agent_pull_policy_of (const char *policy, const char *image, agent_pull_policy *out,
                          husk_error **err);
/* 1: pull, 0: use the image present. Never with no image present fails with kubelet's
   ErrImageNeverPull message (`Container image "x" is not present with pull policy of
   Never`). Pull failures go through an agent_backoff per image: ErrImagePull first,
   then ImagePullBackOff with agent_pull_backoff_message while it waits. */
int agent_pull_needed (agent_pull_policy p, const char *image, bool present, husk_error **err);
char *agent_pull_backoff_message (const char *image); /* Back-off pulling image "x" */
#define AGENT_REASON_ERR_IMAGE_NEVER_PULL "ErrImageNeverPull"

#endif
