/* husk node agent: container probes (httpGet, tcpSocket, exec, grpc) and kubelet's
   liveness/readiness/startup state machine (pkg/kubelet/prober, v1.32).

   The checks are blocking calls bounded by timeoutSeconds; the state machine is pure
   (times passed in, no clock read), so the agent may run checks from its loop or from a
   worker thread and feed results back. */
#ifndef HUSK_AGENT_PROBE_H
#define HUSK_AGENT_PROBE_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

typedef enum agent_probe_kind
{
  AGENT_PROBE_LIVENESS = 0,
  AGENT_PROBE_READINESS,
  AGENT_PROBE_STARTUP,
} agent_probe_kind;

typedef enum agent_probe_action
{
  AGENT_PROBE_EXEC = 1,
  AGENT_PROBE_HTTP,
  AGENT_PROBE_TCP,
  AGENT_PROBE_GRPC,
} agent_probe_action;

typedef enum agent_probe_result
{
  AGENT_PROBE_UNKNOWN = 0,
  AGENT_PROBE_SUCCESS,
  AGENT_PROBE_FAILURE,
} agent_probe_result;

typedef struct agent_probe_spec
{
  agent_probe_action action;
  char **command;      /* exec, NULL-terminated */
  bool https;          /* httpGet scheme HTTPS (certificates are not verified, as kubelet) */
  char *host;          /* httpGet/tcpSocket host; NULL = the pod IP */
  char *path;          /* httpGet path, "/" by default */
  int port;            /* resolved; -1 when a named port is not in the container */
  char *port_name;     /* as written when the port was a name */
  char **header_names; /* httpGet httpHeaders, NULL-terminated, parallel to header_values */
  char **header_values;
  char *grpc_service;        /* grpc.service, NULL = "" */
  int initial_delay;         /* seconds */
  int period;                /* seconds, default 10 */
  int timeout;               /* seconds, default 1 */
  int success_threshold;     /* default 1 (must be 1 for liveness and startup) */
  int failure_threshold;     /* default 3 */
  int64_t termination_grace; /* probe-level terminationGracePeriodSeconds, -1 unset */
} agent_probe_spec;

/* Parses container.livenessProbe / readinessProbe / startupProbe (the probe object);
   container gives named ports. Validation as the API server's (one action, thresholds
   >= 1, successThreshold 1 for liveness/startup). */
int agent_probe_spec_parse (json_t *probe, json_t *container, agent_probe_kind kind,
                            agent_probe_spec **out, husk_error **err);
void agent_probe_spec_free (agent_probe_spec *s);

/* Runs argv in the container (the runtime provides it: an exec in the container's
   namespaces and cgroup, no fork of a runtime binary per probe). Waits at most timeout_ms;
   on timeout it kills the process and fails with errnum ETIMEDOUT. Otherwise 0 with
   *exit_code and *output (stdout+stderr, at most 10 KiB, may be NULL). */
typedef int (*agent_probe_exec_fn) (void *ud, char *const argv[], int timeout_ms, int *exit_code,
                                    char **output, husk_error **err);

typedef struct agent_probe_target
{
  const char *pod_ip;       /* default host for httpGet/tcpSocket/grpc */
  agent_probe_exec_fn exec; /* for exec probes */
  void *exec_ud;
} agent_probe_target;

/* Runs one check. *message (may be NULL) gets what kubelet puts in the Unhealthy event
   ("HTTP probe failed with statuscode: 500", "dial tcp 127.0.0.1:81: connect: connection
   refused", the command's output) or a warning on success; caller frees. */
agent_probe_result agent_probe_run (const agent_probe_spec *s, const agent_probe_target *t,
                                    char **message);

/* ---- state machine (one per container and probe kind) ------------------------------------ */

typedef struct agent_prober
{
  const agent_probe_spec *spec;
  agent_probe_kind kind;
  int64_t started_ms;           /* container start */
  int64_t last_run_ms;          /* -1 before the first run */
  agent_probe_result last;      /* last raw result */
  int run;                      /* consecutive raw results equal to last */
  agent_probe_result published; /* what the container's status shows */
  bool on_hold;                 /* liveness/startup failed: waiting for the restart */
} agent_prober;

/* Starts tracking a container that started at started_ms. The published result starts
   as kubelet's: liveness Success, readiness Failure, startup Unknown. */
void agent_prober_init (agent_prober *p, const agent_probe_spec *spec, agent_probe_kind kind,
                        int64_t started_ms);
/* The container was restarted: counters and published result start over. */
void agent_prober_reset (agent_prober *p, int64_t started_ms);
/* When the next check is due (ms), or -1 when this prober does not run: on hold, a
   startup probe that already succeeded, or (started false) liveness/readiness while the
   container's startup probe has not succeeded yet. started: no startup probe, or it
   succeeded. */
int64_t agent_prober_next (const agent_prober *p, bool started);
/* Feeds a raw result obtained at now_ms. Returns true when the published result changed
   (then read p->published). A published liveness or startup Failure means: kill the
   container (the prober holds until agent_prober_reset). */
bool agent_prober_record (agent_prober *p, agent_probe_result raw, int64_t now_ms);

const char *agent_probe_kind_name (agent_probe_kind k); /* "Liveness", "Readiness", "Startup" */

#endif
