/* husk node: a CNI configuration list as the pod network (--cni-conf naming a file with
   "plugins", e.g. Debian's bridge + host-local and portmap instead of husk-cni). The chain
   runs through cni/chain.c; this adapts the agent's pod to it. */
#ifndef HUSK_NODE_NET_CNILIST_H
#define HUSK_NODE_NET_CNILIST_H

#include <jansson.h>
#include <sys/types.h>

#include "lib/error.h"

typedef struct node_net_cni
{
  const char *cni_path, *husk_cni, *data_dir; /* the agent's plugin path, husk-cni, data dir */
  int log_fd;                                 /* the plugins' stderr (-1: inherited) */
  const char *pod_uid, *pod_ns, *pod_name;
  pid_t pause_pid; /* the sandbox holding the pod's netns; <= 0 or gone: DEL without one */
} node_net_cni;

/* Runs command (ADD, DEL, CHECK) for the pod over the list conf. port_mappings (stolen; may
   be NULL) is the pod's hostPorts, given to plugins declaring the portMappings capability.
   Results are cached under <data_dir>/cni/results for DEL and CHECK. ADD sets *out to the
   chain's final result. */
int node_net_cni_list (const node_net_cni *c, json_t *conf, json_t *port_mappings,
                       const char *command, json_t **out, husk_error **err);

#endif
