/* husk controllers: what the controllers share (manager.c). */
#ifndef HUSK_CTRL_INTERNAL_H
#define HUSK_CTRL_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/kclient.h"

typedef struct ctrl_ctx
{
  kclient *k;
  atomic_int *stop;
} ctrl_ctx;

/* One controller: sync reconciles every object it owns from fresh lists (level triggered);
   it runs after any watched resource changed, and at least every few seconds. */
typedef struct ctrl_def
{
  const char *name;
  int (*sync) (ctrl_ctx *c, husk_error **err);
} ctrl_def;

int ctrl_replicaset_sync (ctrl_ctx *c, husk_error **err);
int ctrl_deployment_sync (ctrl_ctx *c, husk_error **err);
int ctrl_endpoints_sync (ctrl_ctx *c, husk_error **err);
int ctrl_serviceaccount_sync (ctrl_ctx *c, husk_error **err);
int ctrl_job_sync (ctrl_ctx *c, husk_error **err);
int ctrl_cronjob_sync (ctrl_ctx *c, husk_error **err);

/* GET path (a list); *items gets its items array (a new reference). */
int ctrl_list (ctrl_ctx *c, const char *path, json_t **items, husk_error **err);
/* The metadata of a new pod for owner (kind in api_version) from owner's spec.template:
   the template's metadata, generateName "<owner>-", the namespace and a controller
   ownerReference. The caller may add labels, then ctrl_create_pod posts it. */
json_t *ctrl_pod_meta (const json_t *owner, const char *api_version, const char *kind);
/* POSTs a pod with meta and owner's spec.template.spec. */
int ctrl_create_pod (ctrl_ctx *c, const json_t *owner, json_t *meta, husk_error **err);
/* For a write that failed because the object changed (409) or went away (404): not an
   error, the next pass starts from fresh lists. Clears *err then and returns 0. */
int ctrl_tolerate_stale (int ret, long code, husk_error **err);
/* PUTs obj (with the resourceVersion it was read at) to
   <prefix>/namespaces/<ns>/<plural>/<name><sub>, e.g. prefix "/apis/apps/v1", sub "/status". */
int ctrl_put (ctrl_ctx *c, const char *prefix, const char *plural, json_t *obj, const char *sub,
              husk_error **err);
/* The uid of obj's controller ownerReference, or NULL. */
const char *ctrl_controller_uid (const json_t *obj);
/* metadata.deletionTimestamp is set. */
bool ctrl_terminating (const json_t *obj);
/* RFC 3339 timestamp -> unix seconds (0 when absent or malformed). */
int64_t ctrl_time_parse (const char *s);
/* Now as RFC 3339 (UTC); caller frees. */
char *ctrl_time_now (void);
/* A pod counts as active: not terminating, not Succeeded or Failed. */
bool ctrl_pod_active (const json_t *pod);
/* Condition Ready=True. */
bool ctrl_pod_ready (const json_t *pod);
/* Ready for at least min_ready seconds at now. */
bool ctrl_pod_available (const json_t *pod, int64_t min_ready, int64_t now);
/* An ownerReference to obj (apiVersion/kind given) marked controller. */
json_t *ctrl_owner_ref (const char *api_version, const char *kind, const json_t *obj);

#endif
