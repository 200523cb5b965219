/* husk node API: the HTTPS server of `husk node` that the API server proxies pods/log,
   exec, attach and portforward to (kubelet's /containerLogs, /exec, /attach, /portForward),
   with /healthz and /metrics. docs/node.md "Node API". */
#ifndef HUSK_NODEAPI_H
#define HUSK_NODEAPI_H

#include "lib/error.h"

#define NODEAPI_DEFAULT_PORT 10250

typedef struct nodeapi_config
{
  const char *bind;     /* listen address; NULL: 0.0.0.0 */
  int port;             /* 0: any free port */
  const char *data_dir; /* the node's data dir: certificate in <data_dir>/nodeapi/pki */
  const char *rt_root;  /* runtime state of the pods' containers */
  const char *log_dir;  /* CRI logs (<ns>_<pod>_<uid>/<container>/<n>.log) */
  const char *token;    /* the bearer token a caller must present (the master's node token) */
  const char *token2;   /* a second accepted token (may be NULL) */
} nodeapi_config;

typedef struct nodeapi nodeapi;

/* Makes (first start) or loads the serving certificate and starts serving in background
   threads. */
int nodeapi_start (const nodeapi_config *cfg, nodeapi **out, husk_error **err);
int nodeapi_port (const nodeapi *s);
void nodeapi_stop (nodeapi *s);

struct node_agent;
/* Starts the node API of a running agent on cfg->api_port (0: NODEAPI_DEFAULT_PORT; < 0:
   none), checking callers against the agent's own token. A port that cannot be bound is
   warned about and *out stays NULL: pods still run. Sets a->api_port to the bound port. */
void nodeapi_agent_start (struct node_agent *a, nodeapi **out);

#endif
