/* husk controllers: the in-memory cache of one resource type, fed by a list+watch (an
   informer's store, as client-go's) and shared by every controller.

   Contract: the objects a cache hands out are shared and READ-ONLY. They stay valid for as
   long as the caller holds its reference (an update replaces an object, it never changes
   one), but a caller that wants to change one (and PUT it) must json_deep_copy it first, or
   better GET it fresh: a cached object may be a projection (ctrl_cache_project_pod) and a
   PUT of a projection would drop what it left out. */
#ifndef HUSK_CTRL_CACHE_H
#define HUSK_CTRL_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ctrl_cache ctrl_cache;

/* What the cache keeps of an object: a new object (may share parts of obj). */
typedef json_t *(*ctrl_cache_project_fn) (json_t *obj);

ctrl_cache *ctrl_cache_new (ctrl_cache_project_fn project);
void ctrl_cache_free (ctrl_cache *c);

/* A full list (the first, or a relist after 410 Gone): the contents become items (each
   projected), objects absent from items go; the cache is synced at rv from now on. */
void ctrl_cache_replace (ctrl_cache *c, json_t *items, const char *rv);
/* The same with items that are already what ctrl_cache_keep returned (a paged list kept
   page by page). */
void ctrl_cache_replace_kept (ctrl_cache *c, json_t *items, const char *rv);
/* What the cache keeps of obj (its projection, interned): a new reference. */
json_t *ctrl_cache_keep (ctrl_cache *c, json_t *obj);
/* One watch event (ADDED, MODIFIED, DELETED) in the order the watch delivered it. An event
   older than what the cache holds for that object (by resourceVersion) is ignored. Returns
   true when the contents changed. */
bool ctrl_cache_apply (ctrl_cache *c, const char *type, json_t *obj);

/* Waits up to timeout_ms until the cache has been listed and has seen resourceVersion
   min_rv (0: only listed). False on timeout. */
bool ctrl_cache_wait (ctrl_cache *c, uint64_t min_rv, int timeout_ms);
/* The cached objects of namespace ns (every one when ns is NULL), sorted by namespace and
   name as a LIST answers: a new array of shared read-only objects. */
json_t *ctrl_cache_items (ctrl_cache *c, const char *ns);
/* The newest resourceVersion seen (0 before the first list). */
uint64_t ctrl_cache_rv (ctrl_cache *c);
size_t ctrl_cache_size (ctrl_cache *c);
/* Lists replaced so far (1 after the first list; each relist adds one). */
uint64_t ctrl_cache_lists (ctrl_cache *c);

/* "123" -> 123; 0 when absent or not a number. */
uint64_t ctrl_cache_rv_of (const json_t *obj);

/* Projections. Every type: the object without metadata.managedFields (a PUT without them
   keeps the stored ones). Pods also lose the kubectl last-applied annotation and, in each
   container (init and ephemeral too), everything but name, resources, ports and
   restartPolicy (no controller reads env, command, probes, mounts or images of pods). */
json_t *ctrl_cache_project_meta (json_t *obj);
json_t *ctrl_cache_project_pod (json_t *obj);

#endif
