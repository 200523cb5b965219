/* husk node agent: probe internals shared by probe.c and grpc.c. */
#ifndef HUSK_AGENT_PROBE_INTERNAL_H
#define HUSK_AGENT_PROBE_INTERNAL_H

#include "src/node/agent/probe.h"

#define AGENT_PROBE_USER_AGENT "kube-probe/1.32"

/* gRPC health check (grpc.health.v1.Health/Check over h2c with prior knowledge). */
agent_probe_result agent_probe_run_grpc (const agent_probe_spec *s, const agent_probe_target *t,
                                         char **msg);
/* libcurl's global init, once. */
void agent_probe_curl_init (void);

#endif
