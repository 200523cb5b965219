/* husk node agent: what a pod spec means on the node, computed without side effects:
   quantities, environment (env, envFrom, $(VAR)), QoS class, cgroup v2 values, resolv.conf,
   /etc/hosts, hostname. All JSON arguments are the Kubernetes objects as the API serves
   them (a Pod, its spec, a container). */
#ifndef HUSK_AGENT_PODSPEC_H
#define HUSK_AGENT_PODSPEC_H

#include <jansson.h>
#include <stdint.h>

#include "lib/error.h"

/* Quantities: lib/quantity.h (husk_quantity_parse/husk_quantity_json, scale 1000 for CPU). */
#include "lib/quantity.h"

/* ---- environment ---------------------------------------------------------------------- */

typedef struct agent_env_ctx
{
  /* A ConfigMap / Secret of the pod's namespace by name: *out = new reference, or NULL
     when it does not exist (0 returned); < 0 only when it cannot be known. */
  int (*get_configmap) (void *ud, const char *name, json_t **out, husk_error **err);
  int (*get_secret) (void *ud, const char *name, json_t **out, husk_error **err);
  void *ud;
  json_t *pod;              /* the Pod, for fieldRef and resourceFieldRef */
  json_t *node_allocatable; /* {"cpu":"4","memory":"8Gi",...}: limits when a container has none */
  /* NULL-terminated "NAME=value" put first (service links): env and envFrom override. */
  char *const *base;
} agent_env_ctx;

typedef struct agent_env
{
  size_t n;
  char **names;
  char **values;
  /* envFrom keys skipped for not being valid variable names (kubelet reports them in
     an InvalidEnvironmentVariableNames event), NULL-terminated, may be empty. */
  char **invalid;
} agent_env;

/* Resolves a container's environment as kubelet does: base, then envFrom in order
   (prefix prepended), then env in order, where each value has $(VAR) expanded against
   what is defined before it. A later definition replaces an earlier one in place.
   A missing ConfigMap/Secret/key that is not optional fails with upstream's message
   (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`): the container's
   CreateContainerConfigError. */
int agent_env_resolve (const agent_env_ctx *ctx, json_t *container, agent_env **out,
                       husk_error **err);
const char *agent_env_get (const agent_env *env, const char *name);
/* "NAME=value" entries, NULL-terminated: the OCI process.env. */
char **agent_env_strv (const agent_env *env);
void agent_env_free (agent_env *env);

/* Service link variables (FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_PORT_80_TCP_ADDR, ...) for
   a pod in namespace ns, from Service objects (any namespaces; those of ns count only with
   enable_links = spec.enableServiceLinks, default true; "kubernetes" in "default" always).
   Headless and ExternalName services give none. NULL-terminated "NAME=value", sorted by
   service: the base of agent_env_ctx. */
char **agent_service_env (json_t *services, const char *ns, bool enable_links);

/* Kubernetes' $(VAR) expansion: $(NAME) becomes lookup(NAME) or stays as written when
   lookup returns NULL; $$ is a literal $; anything else is copied. */
char *agent_expand (const char *in, const char *(*lookup) (void *ud, const char *name), void *ud);
/* command + args of a container expanded against env: the OCI process.args without the
   image's entrypoint/cmd (NULL-terminated, empty when the container names neither). The
   image defaults apply as upstream: command replaces the entrypoint and drops the image's
   cmd; args alone replace the cmd. image_entrypoint/image_cmd may be NULL. */
char **agent_container_argv (json_t *container, const agent_env *env, char *const *image_entrypoint,
                             char *const *image_cmd);
/* fieldRef value ("metadata.name", "metadata.labels['app']", "status.podIPs", ...). With
   whole_maps, "metadata.labels"/"metadata.annotations" format as k="v" lines (downward
   API volumes). */
int agent_field_ref (json_t *pod, const char *path, bool whole_maps, char **out, husk_error **err);
/* resourceFieldRef value for container (by name) with divisor (NULL = "1"). */
int agent_resource_field_ref (json_t *pod, const char *container, const char *resource,
                              const json_t *divisor, json_t *node_allocatable, char **out,
                              husk_error **err);

/* ---- QoS and cgroup v2 values ----------------------------------------------------------- */

typedef enum agent_qos
{
  AGENT_QOS_BEST_EFFORT = 0,
  AGENT_QOS_BURSTABLE,
  AGENT_QOS_GUARANTEED,
} agent_qos;

/* upstream GetPodQOS over init and regular containers (cpu and memory only; a limit
   without a request counts as that request, as API defaulting makes it). */
int agent_pod_qos (json_t *pod_spec, agent_qos *out, husk_error **err);
const char *agent_qos_name (agent_qos q); /* "BestEffort", "Burstable", "Guaranteed" */

#define AGENT_CPU_PERIOD 100000

typedef struct agent_cgroup_res
{
  uint64_t cpu_weight; /* 1..10000 */
  int64_t cpu_quota;   /* microseconds per AGENT_CPU_PERIOD; -1 = max */
  int64_t memory_max;  /* bytes; -1 = max */
  int64_t memory_low;  /* bytes; 0 = none */
  int64_t pids_max;    /* -1 = max */
} agent_cgroup_res;

/* kubelet's MilliCPUToShares and the cgroup v2 conversion (runc's ConvertCPUSharesToCgroupV2Value).
 */
uint64_t agent_cpu_shares (int64_t milli);
uint64_t agent_cpu_weight_from_shares (uint64_t shares);
/* MilliCPUToQuota: -1 for no limit, at least 1000. */
int64_t agent_cpu_quota (int64_t milli_limit);

/* A container's values: cpu.weight from requests.cpu, cpu.max from limits.cpu,
   memory.max from limits.memory, memory.low from requests.memory. */
int agent_container_cgroup (json_t *container, agent_cgroup_res *out, husk_error **err);
/* The pod cgroup (kubelet's ResourceConfigForPod): requests summed (init containers as
   max), limits only when every container has one, BestEffort pods get weight 1;
   pids_limit < 0 = max. */
int agent_pod_cgroup (json_t *pod_spec, int64_t pids_limit, agent_cgroup_res *out,
                      husk_error **err);
/* The text to write to file ("cpu.weight", "cpu.max", "memory.max", "memory.low",
   "pids.max"), or NULL for another name. */
char *agent_cgroup_value (const agent_cgroup_res *r, const char *file);

/* ---- DNS, /etc/hosts, hostname ------------------------------------------------------------ */

typedef struct agent_dns_cluster
{
  const char *const *dns;  /* cluster DNS servers, NULL-terminated; NULL = {"10.43.0.10"} */
  const char *domain;      /* NULL = "cluster.local" */
  const char *host_resolv; /* the node's resolv.conf text (for Default and host searches) */
} agent_dns_cluster;

/* resolv.conf for the pod (dnsPolicy ClusterFirst, ClusterFirstWithHostNet, Default, None;
   dnsConfig nameservers/searches/options merged), in containerd's layout: search line,
   nameserver lines, options line. At most 3 nameservers, 32 searches / 2048 characters. */
int agent_resolv_conf (json_t *pod, const agent_dns_cluster *c, char **out, husk_error **err);

/* Hostname and domain as kubelet: spec.hostname or the pod name cut to 63 characters,
   domain "<subdomain>.<ns>.svc.<cluster domain>" when spec.subdomain is set (else "").
   With setHostnameAsFQDN the hostname is the FQDN. */
int agent_pod_hostname (json_t *pod, const char *cluster_domain, char **hostname, char **domain,
                        husk_error **err);
/* kubelet's managed /etc/hosts: localhost entries, the pod's IPs with its names,
   hostAliases. */
char *agent_hosts_file (json_t *pod, char *const *pod_ips, const char *hostname,
                        const char *domain);

/* Writes <dir>/hostname, <dir>/hosts and <dir>/resolv.conf (0644, each atomically): the
   files the runtime binds at /etc/hostname, /etc/hosts and /etc/resolv.conf. For a
   hostNetwork pod, hosts is kubelet's host-network variant (the node's /etc/hosts text,
   host_hosts, under its own header, plus hostAliases) and hostname the node's
   (node_name). */
int agent_pod_write_net_files (json_t *pod, const agent_dns_cluster *c, char *const *pod_ips,
                               const char *host_hosts, const char *node_name, const char *dir,
                               husk_error **err);

#endif
