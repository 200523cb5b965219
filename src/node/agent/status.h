/* husk node agent: the pod status objects kubelet reports — containerStatuses entries and
   the pod conditions (pkg/kubelet/status/generate.go, v1.32). */
#ifndef HUSK_AGENT_STATUS_H
#define HUSK_AGENT_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "src/node/agent/restart.h"

typedef struct agent_ctr_term
{
  int exit_code;
  int signal;          /* 0 = not reported */
  const char *reason;  /* "Completed", "Error", "OOMKilled", ... (agent_terminated_reason) */
  const char *message; /* termination message, may be NULL */
  int64_t started_at;  /* unix seconds, 0 = unset */
  int64_t finished_at;
  const char *container_id; /* "husk://<id>" */
} agent_ctr_term;

typedef struct agent_ctr_status
{
  const char *name;
  const char *image;
  const char *image_id;
  const char *container_id;
  agent_ctr_state state;
  const char *waiting_reason; /* state WAITING (NULL = "ContainerCreating") */
  const char *waiting_message;
  int64_t started_at;  /* state RUNNING */
  agent_ctr_term term; /* state TERMINATED */
  bool has_last;       /* lastState.terminated */
  agent_ctr_term last;
  int restart_count;
  bool ready;
  int started;  /* -1 not reported, 0 false, 1 true */
  bool init;    /* an init container (initContainerStatuses) */
  bool sidecar; /* init container with restartPolicy Always */
} agent_ctr_status;

/* "2026-11-27T05:10:00Z" (metav1.Time has second precision). */
char *agent_format_time (int64_t unix_seconds);
/* A containerStatuses / initContainerStatuses entry. */
json_t *agent_ctr_status_json (const agent_ctr_status *s);

/* The phase-input view of a status (for agent_pod_phase). */
agent_ctr_phase_input agent_ctr_status_phase_input (const agent_ctr_status *s);

/* Pod conditions in kubelet's order: PodReadyToStartContainers, Initialized, Ready,
   ContainersReady, then PodScheduled (and any other type) kept from old. pod is the Pod
   (spec for container order and readinessGates, status.conditions for gates). statuses
   hold init and regular containers (flagged by .init). A condition whose status did not
   change keeps its lastTransitionTime from old (the pod's current status.conditions). */
json_t *agent_pod_conditions (json_t *pod, const agent_ctr_status *statuses, size_t n,
                              const char *phase, bool sandbox_ready, json_t *old, int64_t now);

#endif
