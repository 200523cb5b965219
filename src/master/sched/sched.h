/* husk scheduler core: a node-info cache and one scheduling cycle over Kubernetes JSON
   (v1 Node, v1 Pod). No I/O: the master feeds the cache from its watches, calls
   sched_schedule for each pending pod and writes the binding (or the PodScheduled=False
   condition and Event carrying result.message) itself. See docs/scheduler.md. */
#ifndef HUSK_SCHED_H
#define HUSK_SCHED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

typedef struct sched_cache sched_cache;

typedef enum sched_fit_strategy
{
  SCHED_LEAST_ALLOCATED = 0, /* spread (upstream's default) */
  SCHED_MOST_ALLOCATED,      /* bin packing */
} sched_fit_strategy;

typedef struct sched_config
{
  sched_fit_strategy strategy;
  /* percentageOfNodesToScore: 0 = upstream's adaptive rule (50% - nodes/125, at least 5%,
     at least 100 nodes); 100 = every node. */
  int percentage_of_nodes_to_score;
  /* Seed of the tie-break among equally scored nodes (0: a fixed default). */
  uint64_t seed;
} sched_config;

typedef struct sched_result
{
  char *node;    /* the chosen node; NULL when the pod fits nowhere */
  char *message; /* when node is NULL: upstream's FitError text ("0/3 nodes are available: ...") */
  /* Preemption (node NULL): the node the pod is nominated to and the pods ("ns/name") to
     evict there first. */
  char *nominated_node;
  char **victims;
  size_t n_victims;
  size_t feasible; /* nodes found feasible in this cycle */
} sched_result;

void sched_result_clear (sched_result *r);

sched_cache *sched_cache_new (void);
void sched_cache_free (sched_cache *c);

/* Adds or replaces a node (keyed by metadata.name). Takes its own reference on node. */
int sched_cache_set_node (sched_cache *c, json_t *node, husk_error **err);
/* Removes a node; its pods stay known and count again if the node comes back. 0 or -ENOENT. */
int sched_cache_remove_node (sched_cache *c, const char *name);

/* Adds or replaces a pod (keyed by namespace/name). Pods with spec.nodeName count against
   that node; pods without it and pods in phase Succeeded/Failed are dropped from the cache. */
int sched_cache_set_pod (sched_cache *c, json_t *pod, husk_error **err);
/* Records pod as bound to node (the scheduler's "assume" before the binding is written). */
int sched_cache_assume_pod (sched_cache *c, json_t *pod, const char *node, husk_error **err);
int sched_cache_remove_pod (sched_cache *c, const char *ns, const char *name);

/* Storage objects for VolumeBinding (PersistentVolumeClaim, PersistentVolume, StorageClass),
   keyed by namespace/name or name. The remove functions return 0 or -ENOENT. */
int sched_cache_set_pvc (sched_cache *c, json_t *pvc, husk_error **err);
int sched_cache_remove_pvc (sched_cache *c, const char *ns, const char *name);
int sched_cache_set_pv (sched_cache *c, json_t *pv, husk_error **err);
int sched_cache_remove_pv (sched_cache *c, const char *name);
int sched_cache_set_storage_class (sched_cache *c, json_t *sc, husk_error **err);
int sched_cache_remove_storage_class (sched_cache *c, const char *name);

size_t sched_cache_node_count (const sched_cache *c);
size_t sched_cache_pod_count (const sched_cache *c);
/* Requested resources summed over a node's pods (cpu in millicores, memory in bytes).
   Returns -ENOENT when the node is unknown. */
int sched_cache_node_requested (const sched_cache *c, const char *node, int64_t *milli_cpu,
                                int64_t *memory, int64_t *pods);

/* One scheduling cycle for pod (a v1 Pod). Reads the cache, never changes it. Returns 0 with
 *out filled (node or message), or a negative error for malformed input. */
int sched_schedule (sched_cache *c, const sched_config *cfg, json_t *pod, sched_result *out,
                    husk_error **err);

/* Effective requests of a pod as upstream computes them: max(sum of containers (plus
   restartable init containers), max init container) + overhead. */
int sched_pod_requests (json_t *pod, int64_t *milli_cpu, int64_t *memory, int64_t *ephemeral,
                        husk_error **err);

/* DaemonSet placement (upstream NodeShouldRunDaemonPod) of pod (the DaemonSet's template as
   a Pod) on node: *should_run when nodeName, nodeSelector, required node affinity and the
   NoSchedule/NoExecute taints allow it (with the tolerations the DaemonSet controller adds
   to daemon pods: not-ready and unreachable NoExecute; disk/memory/pid-pressure and
   unschedulable NoSchedule; network-unavailable for hostNetwork pods); *should_continue is
   false when a running daemon pod must go (placement mismatch or an untolerated NoExecute
   taint). Resources are not considered. */
int sched_daemon_fits (json_t *node, json_t *pod, bool *should_run, bool *should_continue,
                       husk_error **err);

/* Per-node scores of the last feasible nodes (for tests and `husk` diagnostics): the weighted
   sum that sched_schedule compares. Returns -ENOENT if the node is infeasible for pod. */
int sched_score_node (sched_cache *c, const sched_config *cfg, json_t *pod, const char *node,
                      int64_t *score, husk_error **err);

#endif
