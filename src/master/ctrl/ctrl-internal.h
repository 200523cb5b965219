/* husk controllers: what the controllers share (manager.c). */
#ifndef HUSK_CTRL_INTERNAL_H
#define HUSK_CTRL_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lib/kclient.h"
#include "src/master/ctrl/cache.h"

/* ---- informer.c: the shared caches ---- */
#define CTRL_N_INFORMERS 18
#define CTRL_INFORMER_PODS 0 /* ctrl_informer_defs[0] */
typedef struct ctrl_informer_def
{
  const char *path;              /* the collection, e.g. "/apis/apps/v1/replicasets" */
  ctrl_cache_project_fn project; /* NULL: ctrl_cache_project_meta */
} ctrl_informer_def;
extern const ctrl_informer_def ctrl_informer_defs[CTRL_N_INFORMERS];

/* What the controllers asked of the API (logged when the manager stops). */
typedef struct ctrl_list_stats
{
  atomic_ulong http_lists;   /* LISTs sent over HTTP by ctrl_list (no cache, or a query) */
  atomic_ulong pod_http_lists; /* ... of pods */
  atomic_ulong cached_lists; /* lists served from a cache */
} ctrl_list_stats;

typedef struct ctrl_ctx
{
  kclient *k;
  atomic_int *stop;
  ctrl_cache *const *caches;       /* CTRL_N_INFORMERS caches, or NULL: every list over HTTP */
  uint64_t want[CTRL_N_INFORMERS]; /* per cache: the newest resourceVersion this controller wrote */
  ctrl_list_stats *stats;          /* may be NULL */
  bool private_lists;              /* ctrl_list hands out deep copies (see ctrl_def) */
} ctrl_ctx;

/* A request path taken apart: the informer of its collection (or -1), its namespace (NULL:
   all; the caller clears it), whether it names one object (or a subresource) and whether
   it has a query. */
typedef struct ctrl_path
{
  int informer;
  char *ns;
  bool object, query;
} ctrl_path;
int ctrl_informer_parse (const char *path, ctrl_path *out);
/* Keeps cache in step with path (list, then watch; a relist after 410 Gone or a lost
   resume replaces the contents) until *stop; changed(ud, listed) after each change. */
int ctrl_informer_run (kclient *k, const char *path, ctrl_cache *cache,
                       void (*changed) (void *ud, bool listed), void *ud, atomic_int *stop,
                       husk_error **err);
/* ctrl_informer_run for every informer i < n at once, in the calling thread (one curl multi
   handle): caches[i] follows ctrl_informer_defs[i].path; changed(uds[i], listed). */
int ctrl_informer_run_all (kclient *k, ctrl_cache *const *caches, size_t n,
                           void (*changed) (void *ud, bool listed), void *const *uds,
                           atomic_int *stop, husk_error **err);
void ctrl_path_clear (ctrl_path *p);
/* A write (POST, PUT, PATCH, DELETE) through kclient_json that remembers the resourceVersion
   the server answered with, so that this controller's next ctrl_list of that type sees it.
   *out (optional) gets the answer. */
int ctrl_write (ctrl_ctx *c, const char *method, const char *path, const char *content_type,
                json_t *body, json_t **out, long *code, husk_error **err);

/* One controller: sync reconciles every object it owns from fresh lists (level triggered);
   it runs after any watched resource changed, and at least every few seconds. */
typedef struct ctrl_def
{
  const char *name;
  int (*sync) (ctrl_ctx *c, husk_error **err);
  unsigned wakes; /* bits of the manager's watched resources that wake it (0: all) */
  /* A controller that changes what it lists: its lists are deep copies of the cached
     objects (none today: every controller copies what it changes). */
  bool private_lists;
} ctrl_def;

int ctrl_replicaset_sync (ctrl_ctx *c, husk_error **err);
int ctrl_deployment_sync (ctrl_ctx *c, husk_error **err);
int ctrl_endpoints_sync (ctrl_ctx *c, husk_error **err);
int ctrl_serviceaccount_sync (ctrl_ctx *c, husk_error **err);
int ctrl_job_sync (ctrl_ctx *c, husk_error **err);
int ctrl_cronjob_sync (ctrl_ctx *c, husk_error **err);
int ctrl_daemonset_sync (ctrl_ctx *c, husk_error **err);
int ctrl_statefulset_sync (ctrl_ctx *c, husk_error **err);
int ctrl_gc_sync (ctrl_ctx *c, husk_error **err);

/* The items of the list at path (a new array). A plain collection path ("/api/v1/pods",
   "/api/v1/namespaces/<ns>/pods") is served from its cache once listed, after the cache has
   seen this controller's own writes (ctrl_write); a path with a query, or of a type without
   a cache, is a GET. The items of a cache are SHARED AND READ-ONLY (cache.h): copy one
   (json_deep_copy) before changing it, and GET it fresh before a PUT of a pod (pods are
   cached as projections). */
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

/* ---- objects.c ---- */
/* POSTs a pod (meta, spec) into ns; a 409 (the name exists) is not an error. */
int ctrl_post_pod (ctrl_ctx *c, const char *ns, json_t *meta, json_t *spec, husk_error **err);
/* DELETE path; 404 and 409 are not errors. */
int ctrl_delete (ctrl_ctx *c, const char *path, husk_error **err);
int ctrl_delete_pod (ctrl_ctx *c, const json_t *pod, husk_error **err);
/* meta.labels[key] = value (creating the map). */
void ctrl_set_label (json_t *meta, const char *key, const char *value);
/* obj's label key, or NULL. */
const char *ctrl_label (const json_t *obj, const char *key);
/* The pods (of pods) whose controller ownerReference is owner; a new array. */
json_t *ctrl_owned_pods (const json_t *owner, json_t *pods);

/* ---- revision.c: ControllerRevisions of DaemonSets and StatefulSets ---- */
typedef struct ctrl_revision
{
  char *name;        /* <owner>-<hash> */
  char *hash;        /* its controller-revision-hash label */
  json_int_t number; /* .revision */
} ctrl_revision;
void ctrl_revision_clear (ctrl_revision *r);
/* The revisions (of revs, all ControllerRevisions) controlled by owner; a new array. */
json_t *ctrl_revisions_of (const json_t *owner, json_t *revs);
/* The revision of mine named name, or NULL. */
json_t *ctrl_revision_named (json_t *mine, const char *name);
/* rev holds owner's current spec.template. */
bool ctrl_revision_matches (const json_t *rev, const json_t *owner);
/* The revision of owner's current template: found in mine (renumbered as the newest when
   an older one matches, i.e. a rollback) or created with the next number. */
int ctrl_revision_current (ctrl_ctx *c, json_t *owner, const char *kind, json_t *mine,
                           ctrl_revision *out, husk_error **err);
/* Deletes the oldest revisions beyond owner's spec.revisionHistoryLimit (default 10) among
   those live() says are not in use. */
void ctrl_revision_prune (ctrl_ctx *c, const json_t *owner, json_t *mine,
                          bool (*live) (const json_t *rev, void *ud), void *ud);

#endif
