/* husk api: the autoscaling/v1 Scale view of a workload. */
#ifndef HUSK_API_SCALE_H
#define HUSK_API_SCALE_H

#include <jansson.h>

#include "src/master/api/registry.h"

json_t *api_scale_view (const api_resource *res, const json_t *obj);
/* Copies spec.replicas of scale into obj (at res->scale_path); false if missing/invalid. */
bool api_scale_apply (const api_resource *res, json_t *obj, const json_t *scale);

#endif
