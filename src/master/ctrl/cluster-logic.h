/* husk controllers: pure logic of the cluster-level controllers and admission (no I/O):
   ResourceQuota usage and checks (quota.c), LimitRange defaults and constraints
   (limitrange.c), default NoExecute tolerations and taint-based eviction (taints.c),
   PV/PVC matching (pvmatch.c). Shared by the API server's admission
   (src/master/api/admission.c) and the controllers. */
#ifndef HUSK_CTRL_CLUSTER_LOGIC_H
#define HUSK_CTRL_CLUSTER_LOGIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/error.h"

/* ---- ResourceQuota (quota.c) ----
   A usage is a JSON object {"<quota resource name>": integer}: millicores for cpu names
   (cpu, requests.cpu, limits.cpu), bytes or counts for everything else. */

/* The name counts in millis (cpu, requests.cpu, limits.cpu). */
bool quota_is_milli (const char *name);
/* Parses a quota quantity of resource name into its canonical integer. */
int quota_parse (const char *name, const json_t *v, int64_t *out, husk_error **err);
/* A canonical integer as upstream prints the quantity ("500m", "2", "1Gi", "3"). Caller
   frees. */
char *quota_format (const char *name, int64_t v);
/* What obj (of resource plural in API group, "" for core) charges to a quota: the object
   counts (pods, services, count/<plural>[.<group>], ...), and for pods the requests and
   limits of cpu, memory and ephemeral-storage (containers summed, init containers as max,
   plus overhead), for claims requests.storage (and per storage class). Pods that finished
   or are being deleted charge nothing. Returns a new object. */
json_t *quota_usage_of (const char *plural, const char *group, const json_t *obj);
/* What an update of obj (old -> obj) charges, as upstream's quota admission on Update: only
   pods, services and claims are evaluated on update (the object counts of every other kind
   are charged on create only); the usage of obj minus that of old, each name kept only
   when it grew (SubtractWithNonNegativeResult, zeros removed). An empty object when
   nothing grew. Returns a new object. */
json_t *quota_update_delta (const char *plural, const char *group, const json_t *obj,
                            const json_t *old);
/* Whether obj (of plural in group) counts for quota q: always without spec.scopes and
   spec.scopeSelector; with them only pods matching every scope (Terminating,
   NotTerminating, BestEffort, NotBestEffort, PriorityClass through scopeSelector with In,
   NotIn, Exists, DoesNotExist). Unknown scopes match nothing. */
bool quota_in_scope (const json_t *q, const char *plural, const char *group, const json_t *obj);
/* Adds usage b into a. */
void quota_usage_add (json_t *a, const json_t *b);
/* The quota resources of hard that obj of plural must declare but does not (pods whose
   containers lack requests/limits the quota constrains), as "limits.cpu,requests.memory"
   (sorted), or NULL. Caller frees. */
char *quota_missing (const char *plural, const json_t *obj, const json_t *hard);
/* The plural and group a hard quota resource name is counted on ("pods" for requests.cpu,
   "deployments"/"apps" for count/deployments.apps). Returns false for names husk does not
   count. *plural is malloc'd. */
bool quota_resource_of (const char *name, char **plural, const char **group);
/* Charges delta to quota q (its spec.hard against used): returns NULL when every
   constrained resource stays within its hard limit (and sets *new_used to used + delta),
   or upstream's message "exceeded quota: q, requested: pods=1, used: pods=2, limited:
   pods=2" (caller frees). Errors in q's own quantities are reported as messages too. */
char *quota_charge (const json_t *q, const json_t *used, const json_t *delta, json_t **new_used);
/* Usage parsed from a quota's status.used (names that do not parse are skipped). */
json_t *quota_used_of (const json_t *q);
/* A usage as quota status text: {"pods": "2", "requests.cpu": "500m"} (new object). */
json_t *quota_usage_text (const json_t *usage);
/* The usage restricted to the names in hard (every hard name present, 0 when unused). */
json_t *quota_usage_mask (const json_t *usage, const json_t *hard);

/* ---- LimitRange (limitrange.c) ---- */

/* Fills containers' (and init containers') missing requests and limits of pod from the
   Container items of the LimitRanges lrs (an array) -- default for limits, defaultRequest
   (else default, else max) for requests -- and records what it set in the annotation
   kubernetes.io/limit-ranger. */
void limitrange_default_pod (json_t *pod, const json_t *lrs);
/* Checks pod against min, max and maxLimitRequestRatio of the Container and Pod items.
   Returns NULL when it complies, else upstream's messages (one, or several as "[a, b]");
   caller frees. */
char *limitrange_check_pod (const json_t *pod, const json_t *lrs);

/* ---- taints and tolerations (taints.c) ---- */

#define TAINT_NOT_READY   "node.kubernetes.io/not-ready"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"

/* Adds upstream's DefaultTolerationSeconds tolerations (not-ready and unreachable,
   NoExecute, 300 s) to a pod that tolerates neither already. Returns true when changed. */
bool taints_default_tolerations (json_t *pod, int64_t seconds);
/* Whether toleration tol tolerates taint (key, value, effect). */
bool taints_tolerates (const json_t *tol, const json_t *taint);
/* For a pod on a node with NoExecute taints (array of taints with timeAdded): the unix
   time at which the pod must be evicted, 0 for "now" (an untolerated taint), or -1 for
   never (every NoExecute taint tolerated forever). */
int64_t taints_eviction_time (const json_t *pod, const json_t *taints);

/* ---- PV/PVC matching (pvmatch.c) ---- */

/* Index in pvs (an array) of the smallest Available PV that claim fits: same
   storageClassName ("" matching ""), every access mode of the claim offered, capacity at
   least the request, the claim's selector (matchLabels) satisfied, no claimRef to another
   claim. -1 when none. A PV whose claimRef names this claim (pre-bound) wins. */
int pvmatch_find (const json_t *claim, const json_t *pvs);
/* The PV's claimRef names this claim (namespace, name, and uid when both have one). */
bool pvmatch_claimref_is (const json_t *pv, const json_t *claim);

#endif
