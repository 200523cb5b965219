/* husk scheduler runner: the loop inside `husk master` that list+watches nodes, pods and
   storage objects through the API, feeds the sched cache and queue, and writes bindings,
   PodScheduled=False conditions, FailedScheduling events and preemptions back. */
#ifndef HUSK_SCHED_RUNNER_H
#define HUSK_SCHED_RUNNER_H

#include "lib/error.h"
#include "src/master/sched/sched.h"

typedef struct sched_runner_config
{
  const char *server;  /* "https://127.0.0.1:PORT" */
  const char *token;   /* bearer token (the admin token) */
  const char *ca_file; /* PEM to verify the server with; NULL: insecure (loopback only) */
  const char *unix_socket; /* reach server through this socket (server "http://localhost") */
  sched_fit_strategy strategy;
} sched_runner_config;

typedef struct sched_runner sched_runner;

/* Starts the watch threads and the scheduling thread. The strings are copied. */
int sched_runner_start (const sched_runner_config *cfg, sched_runner **out, husk_error **err);
/* Stops and joins the threads (within about a second), frees everything. NULL is fine. */
void sched_runner_stop (sched_runner *r);
/* Parses a --scheduler-score value: LeastAllocated or MostAllocated. -EINVAL otherwise. */
int sched_runner_parse_strategy (const char *s, sched_fit_strategy *out);

#endif
