/* husk node agent: the Node's capacity, allocatable and pressure conditions, and the
   eviction order under pressure (kubelet's cm/node_container, eviction manager). */
#ifndef HUSK_AGENT_NODE_H
#define HUSK_AGENT_NODE_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

typedef struct agent_node_resources
{
  int64_t cpu_milli;
  int64_t memory;            /* bytes */
  int64_t ephemeral_storage; /* bytes */
  int64_t pods;
} agent_node_resources;

/* What this machine has: online CPUs, MemTotal, the size of the filesystem holding
   data_dir, and max_pods (kubelet default 110 when <= 0). proc_root is normally "/proc"
   (tests pass another). */
int agent_node_capacity (const char *proc_root, const char *data_dir, int64_t max_pods,
                         agent_node_resources *out, husk_error **err);
/* --reserved / --system-reserved text "cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=..."
   into r (unnamed resources 0). */
int agent_node_parse_reserved (const char *text, agent_node_resources *r, husk_error **err);
/* allocatable = capacity - reserved - hard eviction thresholds (memory.available 100Mi,
   nodefs.available 10 % of the disk), never below 0. */
agent_node_resources agent_node_allocatable (const agent_node_resources *capacity,
                                             const agent_node_resources *reserved);
/* {"cpu":"4","memory":"16318464Ki","ephemeral-storage":"...Ki","pods":"110",
    "hugepages-1Gi":"0","hugepages-2Mi":"0"} as kubelet formats them. */
json_t *agent_node_resources_json (const agent_node_resources *r);

/* Eviction signals the agent measures. */
typedef struct agent_node_signals
{
  int64_t memory_available; /* bytes (MemAvailable) */
  int64_t nodefs_available; /* bytes free for unprivileged users on data_dir's fs */
  int64_t nodefs_size;
  int64_t nodefs_inodes_free;
  int64_t nodefs_inodes;
  int64_t pids_available; /* pid_max - processes; < 0 unknown */
  int64_t pids_max;
} agent_node_signals;

int agent_node_measure (const char *proc_root, const char *data_dir, agent_node_signals *out,
                        husk_error **err);

/* Pressure as kubelet's default hard thresholds judge it: memory.available < 100Mi,
   nodefs.available < 10 %, nodefs.inodesFree < 5 %, pid.available < 10 % of pid_max
   (the last one is husk's: upstream has no default for it). */
typedef struct agent_node_pressure
{
  bool memory, disk, pid;
} agent_node_pressure;
agent_node_pressure agent_node_pressure_of (const agent_node_signals *s);

/* Node conditions Ready, MemoryPressure, DiskPressure, PIDPressure with kubelet's reasons
   and messages; ready_message NULL = ready. lastHeartbeatTime = now, lastTransitionTime
   kept from old when the status did not change. */
json_t *agent_node_conditions (const agent_node_pressure *p, const char *not_ready_message,
                               json_t *old, int64_t now);

/* ---- the Node object and its Lease -------------------------------------------------------- */

typedef struct agent_node_info
{
  const char *name;
  const char *internal_ip; /* may be NULL */
  const char *pod_cidr;    /* may be NULL */
  const char *version;     /* husk's version, e.g. "0.1.0" */
  int kubelet_port;        /* node API port, 10250 */
  const char *proc_root;   /* "/proc" (tests pass another) */
  const char *etc_root;    /* "/etc" (machine-id, os-release) */
} agent_node_info;

/* The Node the agent registers: labels kubernetes.io/hostname, kubernetes.io/os,
   kubernetes.io/arch; spec.podCIDR(s); status capacity/allocatable, addresses (InternalIP,
   Hostname), daemonEndpoints, nodeInfo (machineID, systemUUID, bootID, kernelVersion,
   osImage, containerRuntimeVersion "husk://<version>", kubeletVersion
   "v1.32.0-husk.<version>", operatingSystem, architecture). */
json_t *agent_node_object (const agent_node_info *info, const agent_node_resources *capacity,
                           const agent_node_resources *allocatable);
/* The node's Lease in kube-node-lease (holder = node, 40 s, renewTime now with
   microseconds), owned by the Node (node_uid may be NULL before registration). */
json_t *agent_node_lease (const char *node, const char *node_uid, int64_t now_us);

/* One pod as the eviction ranking sees it. */
typedef struct agent_evict_candidate
{
  int64_t usage;    /* of the starved resource (bytes) */
  int64_t requests; /* the pod's requests of it */
  int32_t priority; /* spec.priority */
} agent_evict_candidate;

/* Sorts idx (indexes into c) into eviction order for memory or disk pressure: pods using
   more than they requested first, then lower priority, then by usage above requests
   (kubelet's rankMemoryPressure/rankDiskPressure). BestEffort pods request nothing, so
   they come first whenever they use anything. */
void agent_eviction_rank (const agent_evict_candidate *c, size_t n, size_t *idx);

#endif
