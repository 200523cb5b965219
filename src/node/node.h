/* husk node: the node agent daemon (`husk node`, and the node half of `husk up`). It
   registers a Node, renews its Lease, watches the pods bound to it and builds them from
   a husk-pause sandbox, CNI and the in-process OCI runtime (docs/node.md). */
#ifndef HUSK_NODE_H
#define HUSK_NODE_H

#include <stdatomic.h>

#include "lib/error.h"

struct MHD_Connection;

typedef struct node_config
{
  const char *server;     /* API server URL */
  const char *token;      /* bearer token (the master's node-token) */
  const char *ca_file;    /* CA to verify the API server; NULL: from the kubeconfig or none */
  const char *kubeconfig; /* alternative source of server/token/CA */
  bool insecure;          /* do not verify the API server's certificate */
  const char *name;       /* Node name; NULL: the host name */
  const char *data_dir;   /* images, pods, runtime state, CNI state */
  const char *node_ip;    /* InternalIP; NULL: the first non-loopback IPv4 address */
  const char *pod_cidr;   /* used when the master did not allocate one */
  const char *log_dir;    /* CRI logs; NULL: /var/log/pods */
  const char *cni_conf;   /* a CNI network configuration file; NULL: husk-cni on husk0 */
  const char *pause;      /* husk-pause binary; NULL: next to husk, else PATH */
  const char *overlay;    /* routes to other nodes: "host-gw" (NULL), "vxlan", "none" */
  int api_port;           /* node API (logs, exec, port-forward): 0 = 10250, < 0 = none */
  const char *api_bind;   /* node API listen address; NULL: 0.0.0.0 */
  const char *reserved;   /* "cpu=250m,memory=512Mi,ephemeral-storage=1Gi" kept from allocatable */
  /* pod/extras.c (docs/node.md "Static pods, image GC, eviction"); NULL: kubelet's default */
  const char *pod_manifest_path; /* static pods from this directory; NULL: none */
  const char *eviction_hard;     /* "memory.available<100Mi,nodefs.available<10%" */
  const char *image_gc_high;     /* percent of the image filesystem: "85" */
  const char *image_gc_low;      /* "80" */
  const char *image_min_age;     /* "2m" */
  const char *image_gc_period;   /* "5m" */
  /* pod/container.c (docs/node.md "Security context") */
  const char *allowed_unsafe_sysctls; /* "kernel.msg*,net.core.somaxconn"; NULL: safe set only */
  const char *seccomp_profile_root;   /* Localhost profiles; NULL: <data-dir>/seccomp */
  const char *pod_max_pids;           /* the pod cgroup's pids.max; NULL or "-1": max */
} node_config;

/* Runs the agent until *stop becomes non-zero (or SIGTERM/SIGINT when handle_signals).
   Pods keep running when it returns. */
int node_run (const node_config *cfg, atomic_int *stop, bool handle_signals, husk_error **err);

/* Answers pods/<name>/log from the CRI logs under cls (a log dir, NULL = /var/log/pods):
   the API server's pod_proxy hook when master and node share a host (`husk up`). */
int node_pod_log_proxy (void *cls, struct MHD_Connection *conn, const char *method,
                        const char *ns, const char *pod, const char *subresource,
                        const char *pod_json);

/* Binds every pending default-scheduler pod to node until *stop: for a one-node
   `husk up` while the master has no scheduler. */
int node_binder_run (const char *server, const char *token, const char *ca_file, const char *node,
                     atomic_int *stop, husk_error **err);

#endif
