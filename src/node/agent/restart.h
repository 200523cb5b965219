/* husk node agent: restart policy, kubelet's crash-loop back-off, container status
   reasons and the pod phase computed from container states (pkg/kubelet as of v1.32). */
#ifndef HUSK_AGENT_RESTART_H
#define HUSK_AGENT_RESTART_H

#include <stdint.h>

#include "lib/error.h"

typedef enum agent_restart_policy
{
  AGENT_RESTART_ALWAYS = 0,
  AGENT_RESTART_ON_FAILURE,
  AGENT_RESTART_NEVER,
} agent_restart_policy;

/* "Always", "OnFailure", "Never"; NULL or "" is Always (the API default). */
int agent_restart_policy_parse (const char *s, agent_restart_policy *out, husk_error **err);
const char *agent_restart_policy_name (agent_restart_policy p);
/* Whether a container that exited with exit_code is started again. */
bool agent_restart_wanted (agent_restart_policy p, int exit_code);

/* ---- back-off (kubelet's flowcontrol.Backoff keyed per container) -------------------
   Times are milliseconds on any monotonic-enough clock (the agent uses CLOCK_REALTIME
   so that values survive an agent restart next to finishedAt). */

#define AGENT_BACKOFF_INITIAL_MS 10000LL
#define AGENT_BACKOFF_MAX_MS     300000LL

typedef struct agent_backoff
{
  int64_t delay_ms;   /* 0 = no entry yet */
  int64_t last_ms;    /* finish time the delay was last computed for */
  int64_t initial_ms; /* 0 = AGENT_BACKOFF_INITIAL_MS */
  int64_t max_ms;     /* 0 = AGENT_BACKOFF_MAX_MS */
} agent_backoff;

/* Called when the agent is about to restart a container that finished at finished_ms,
   at now_ms. Returns 0 when it may start now (and records the next delay, as kubelet's
   backOff.Next), or the milliseconds still to wait (CrashLoopBackOff) > 0.
   The entry resets when the container had been running quietly for 2 * max (10 min)
   since the last finish: a container that crashes after 10 minutes starts at once. */
int64_t agent_backoff_check (agent_backoff *b, int64_t finished_ms, int64_t now_ms);
/* The delay that a CrashLoopBackOff message names ("back-off 40s ..."). */
int64_t agent_backoff_delay (const agent_backoff *b);
/* "back-off 40s restarting failed container=web pod=web-1_default(<uid>)" */
char *agent_backoff_message (const agent_backoff *b, const char *container, const char *pod,
                             const char *ns, const char *uid);

/* ---- container states and reasons ---------------------------------------------------- */

/* Reasons a terminated container carries: "Completed" (0), "OOMKilled", else "Error". */
const char *agent_terminated_reason (int exit_code, bool oom_killed);
/* The cgroup v2 directory CGROUP_DIR counted an OOM kill (memory.events: oom_kill > 0).
   The agent asks it of a container's cgroup when the container exits: the runtime makes
   that cgroup at each create, so the count covers the run that just ended. False when the
   file cannot be read (no memory controller). */
bool agent_cgroup_oom_killed (const char *cgroup_dir);
/* Exit code for a wait status: the code, or 128 + signal. */
int agent_exit_code_from_status (int wait_status);

/* Waiting reasons used by the agent, with upstream's spelling. */
#define AGENT_REASON_CONTAINER_CREATING   "ContainerCreating"
#define AGENT_REASON_POD_INITIALIZING     "PodInitializing"
#define AGENT_REASON_CRASH_LOOP           "CrashLoopBackOff"
#define AGENT_REASON_IMAGE_PULL_BACKOFF   "ImagePullBackOff"
#define AGENT_REASON_ERR_IMAGE_PULL       "ErrImagePull"
#define AGENT_REASON_INVALID_IMAGE_NAME   "InvalidImageName"
#define AGENT_REASON_CREATE_CONFIG_ERROR  "CreateContainerConfigError"
#define AGENT_REASON_CREATE_ERROR         "CreateContainerError"
#define AGENT_REASON_RUN_ERROR            "RunContainerError"
#define AGENT_REASON_CONTAINER_CANNOT_RUN "ContainerCannotRun"

typedef enum agent_ctr_state
{
  AGENT_CTR_WAITING = 0,
  AGENT_CTR_RUNNING,
  AGENT_CTR_TERMINATED,
  AGENT_CTR_UNKNOWN,
} agent_ctr_state;

/* What the phase computation needs of each container's status. */
typedef struct agent_ctr_phase_input
{
  agent_ctr_state state;
  int exit_code;        /* of state.terminated, or of lastState.terminated when waiting */
  bool last_terminated; /* lastState.terminated is set (restarted at least once) */
  bool init;            /* an init container */
  bool sidecar;         /* an init container with restartPolicy Always */
  bool started;         /* sidecar: started (startup probe passed) */
} agent_ctr_phase_input;

/* Pod phase as kubelet's getPhase: "Pending", "Running", "Succeeded", "Failed".
   initialized: the pod's Initialized condition was already true (sidecars still
   starting do not make an initialized pod Pending again). A container without status
   yet is passed as AGENT_CTR_UNKNOWN. */
const char *agent_pod_phase (agent_restart_policy policy, const agent_ctr_phase_input *c, size_t n,
                             bool initialized);

#endif
