/* husk node agent: lifecycle hooks (postStart, preStop) and the termination grace period,
   as kubelet runs them (pkg/kubelet/lifecycle, kuberuntime_container.go killContainer). */
#ifndef HUSK_AGENT_HOOKS_H
#define HUSK_AGENT_HOOKS_H

#include <jansson.h>
#include <stdint.h>

#include "src/node/agent/probe.h"

/* Runs a lifecycle handler (container.lifecycle.postStart or .preStop: exec, httpGet or
   sleep) for container of pod, bounded by timeout_s. Returns 0, or < 0 with kubelet's
   message ("Exec lifecycle hook ([/bin/false]) for Container \"c\" in Pod \"p_ns(uid)\"
   failed - error: command '/bin/false' exited with 1: , message: \"\""): the
   FailedPostStartHook / FailedPreStopHook event. A failed postStart kills the container. */
int agent_hook_run (json_t *pod, json_t *container, json_t *handler, const agent_probe_target *t,
                    int timeout_s, husk_error **err);

#define AGENT_MIN_GRACE_SECONDS     2
#define AGENT_DEFAULT_GRACE_SECONDS 30

/* Seconds between SIGTERM (after preStop) and SIGKILL for a container being stopped:
   metadata.deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds (30), or a
   probe-level terminationGracePeriodSeconds when the kill is for that probe's failure
   (probe may be NULL); at least 2. */
int64_t agent_grace_seconds (json_t *pod, const agent_probe_spec *failed_probe);
/* What is left for SIGTERM after a preStop hook that took hook_ms (kubelet: at least 2 s). */
int64_t agent_grace_after_hook (int64_t grace_s, int64_t hook_ms);

#endif
