/* husk api: per-type defaulting and validation (upstream's rules, the common subset). */
#ifndef HUSK_API_DEFAULTS_H
#define HUSK_API_DEFAULTS_H

#include "src/master/api/registry.h"

void api_default_pod (json_t *o);
void api_default_pod_spec (json_t *spec);
void api_default_service (json_t *o);
void api_default_deployment (json_t *o);
void api_default_replicaset (json_t *o);
void api_default_daemonset (json_t *o);
void api_default_statefulset (json_t *o);
void api_default_job (json_t *o);
void api_default_cronjob (json_t *o);
void api_default_secret (json_t *o);
void api_default_namespace (json_t *o);

void api_validate_pod (const json_t *o, const json_t *old, api_problems *p);
void api_validate_service (const json_t *o, const json_t *old, api_problems *p);
void api_validate_workload (const json_t *o, const json_t *old, api_problems *p);
void api_validate_configmap (const json_t *o, const json_t *old, api_problems *p);

/* Checks a name against DNS-1123 subdomain (or label when label is set) rules. */
void api_validate_name (const char *name, const char *field, bool label, api_problems *p);

#endif
