/* husk node, pod network loops: caches of API objects fed by list+watch threads, and one
   worker that re-applies (debounced) what changed. */
#ifndef HUSK_NODE_NET_INTERNAL_H
#define HUSK_NODE_NET_INTERNAL_H

#include <pthread.h>

#include "cni/crossnode.h"
#include "src/node/net/net.h"

enum
{
  NET_POLICIES,
  NET_PODS,
  NET_NAMESPACES,
  NET_NODES,
  NET_NCACHES
};

typedef struct net_cache
{
  struct node_net *net;
  int id;
  const char *path;                /* "/api/v1/pods" */
  json_t *(*strip) (json_t *obj);  /* the fields that matter (new reference) */
  json_t *objs;                    /* "ns/name" -> stripped object; under net->lock */
  bool synced;                     /* the first list arrived */
  pthread_t thread;
  bool started;
} net_cache;

struct node_net
{
  kclient *kc;
  char *node, *node_ip, *pod_cidr, *overlay;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  unsigned dirty; /* bits 1 << NET_* */
  atomic_int stop;
  net_cache caches[NET_NCACHES];
  pthread_t worker;
  bool worker_started;
  /* worker state */
  bool netpol_applied; /* the table is in place (something was isolated) */
  char *netpol_last;   /* the model JSON last applied */
  char *routes_last;   /* the peers last synced */
  cni_peer *peers;     /* ... as cni_peers */
  size_t npeers;
  char *fast_last;     /* what the cross-node shortcut was last synced for */
};

/* cache.c */
void net_cache_init (node_net *n, int id, const char *path, json_t *(*strip) (json_t *));
int net_cache_start (net_cache *c);
/* The cached objects as a new array (caller holds n->lock). */
json_t *net_cache_items (net_cache *c);
void net_cache_free (net_cache *c);

/* netpol.c: strips and the apply step (worker thread, n->lock not held). */
json_t *net_strip_policy (json_t *obj);
json_t *net_strip_pod (json_t *obj);
json_t *net_strip_namespace (json_t *obj);
int net_netpol_sync (node_net *n, json_t *policies, json_t *pods, json_t *namespaces,
                     husk_error **err);

/* routes.c */
json_t *net_strip_node (json_t *obj);
int net_routes_sync (node_net *n, json_t *nodes, husk_error **err);
/* The pods' bridge of the agent's default CNI configuration (src/node/node.c). */
#define NET_BRIDGE "husk0"
int net_fast_sync (node_net *n, husk_error **err);

#endif
