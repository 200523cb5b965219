/* husk api: pod creation beyond defaults (QoS class, priority) and PriorityClass rules. */
#ifndef HUSK_API_PODS_H
#define HUSK_API_PODS_H

#include "src/master/api/api-internal.h"
#include "src/master/api/schema.h"

/* Guaranteed, Burstable or BestEffort, from the containers' cpu/memory requests and limits
   as upstream's GetPodQOS. */
const char *api_pod_qos (const json_t *pod);
/* Resolves spec.priorityClassName (or the global default class) into spec.priority and
   spec.preemptionPolicy; replies 403 (unknown class, conflicting priority) and returns
   false. */
bool api_pod_priority (api_req *r, json_t *pod);
/* Both of the above for a pod being created (status.qosClass set). */
bool api_pod_create (api_req *r, json_t *pod);

void api_default_priorityclass (json_t *o);
void api_validate_priorityclass (const json_t *o, const json_t *old, api_problems *p);
/* VALUE, GLOBAL-DEFAULT, PREEMPTIONPOLICY cells. */
json_t *api_cell_pc_value (const json_t *o);
json_t *api_cell_pc_default (const json_t *o);

#endif
