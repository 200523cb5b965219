/* husk node: the pod network's node-side loops (docs/cni.md): NetworkPolicy enforcement
   (netpol.c) and routes to the other nodes' podCIDRs (routes.c). They watch the API through
   their own threads and program this node's network namespace; errors are logged and retried. */
#ifndef HUSK_NODE_NET_H
#define HUSK_NODE_NET_H

#include "lib/kclient.h"

typedef struct node_net_config
{
  kclient *kc;          /* shared (kclient is thread-safe; each watch has its own connection) */
  const char *node;     /* this Node's name */
  const char *node_ip;  /* this node's InternalIP */
  const char *pod_cidr; /* this node's podCIDR */
  const char *overlay;  /* "host-gw" (NULL), "vxlan", or "none" (no routes programmed) */
} node_net_config;

typedef struct node_net node_net;

/* Starts the loops (copies what it needs from cfg). Never fails: a bad setting is logged
   and that loop stays off. */
node_net *node_net_start (const node_net_config *cfg);
/* Stops the loops and waits for them (within about a second). The rules and routes stay:
   pods outlive the agent. NULL is fine. */
void node_net_stop (node_net *n);

/* gsoMaxSize for the default CNI configuration: the IPv4 GSO size of the link holding
   node_ip when an administrator raised it above 64 KiB (BIG TCP on that NIC), else 0 (also
   with the vxlan overlay). Pods with a larger size than their way out would have every
   packet leaving the node segmented in software. */
int node_net_pod_gso (const char *node_ip, const char *overlay);

#endif
