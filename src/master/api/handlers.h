/* husk api: the REST verbs on resources (private to the API server). */
#ifndef HUSK_API_HANDLERS_H
#define HUSK_API_HANDLERS_H

#include "src/master/api/api-internal.h"
#include "src/master/api/registry.h"
#include "src/master/api/selector.h"
#include "src/master/store/store.h"

typedef struct api_route
{
  const api_resource *res;
  const char *ns;   /* NULL: cluster-scoped or all namespaces */
  const char *name; /* NULL: the collection */
  const char *sub;  /* subresource or NULL */
} api_route;

/* resource.c */
enum MHD_Result api_reply_store_error (api_req *r, const api_route *rt, husk_error *err);
/* Replies with a stored object (JSON text) or its one-row Table. */
enum MHD_Result api_reply_object (api_req *r, const api_route *rt, unsigned code,
                                  const char *json);
bool api_wants_table (api_req *r);
bool api_dry_run (api_req *r);
/* Decodes the request body (JSON, YAML or protobuf) into an object; replies on failure. */
bool api_decode_body (api_req *r, const api_route *rt, json_t **out);
/* Checks obj against the type's schema under fieldValidation, runs validation; replies
   (400/422) and returns false when refused. old is NULL on create. */
bool api_admit (api_req *r, const api_route *rt, json_t *obj, const json_t *old);
char *api_now_rfc3339 (void);

/* read.c */
enum MHD_Result api_do_get (api_req *r, const api_route *rt);
enum MHD_Result api_do_list (api_req *r, const api_route *rt);
/* labelSelector/fieldSelector of the query; replies 400 and returns false on bad input. */
bool api_parse_selectors (api_req *r, const api_route *rt, api_selector **ls,
                          api_selector **fs);
/* Lists (one page of) the objects matching the selectors. */
int api_list_matching (api_req *r, const api_route *rt, api_selector *ls, api_selector *fs,
                       size_t limit, const char *cont, store_list_result *res,
                       husk_error **err);
/* Parses a stored object without its metadata.managedFields (tables, selectors). */
int api_parse_without_managed (const char *json, json_t **out);
/* watch.c */
enum MHD_Result api_do_watch (api_req *r, const api_route *rt);
/* write.c */
enum MHD_Result api_do_create (api_req *r, const api_route *rt);
enum MHD_Result api_do_update (api_req *r, const api_route *rt);
enum MHD_Result api_do_delete (api_req *r, const api_route *rt);
enum MHD_Result api_do_delete_collection (api_req *r, const api_route *rt);
/* Stores obj as the new state of the existing object old (update semantics: immutable
   metadata kept, generation bumped on spec changes, status kept unless status_only, the
   object removed when its last finalizer goes during deletion). Replies. */
enum MHD_Result api_finish_update (api_req *r, const api_route *rt, json_t *obj, json_t *old,
                                   int64_t expect_rev, bool status_only);
/* Creates obj (metadata filled, defaults, admission, allocation) and replies 201. */
enum MHD_Result api_finish_create (api_req *r, const api_route *rt, json_t *obj);
/* The stored object as JSON, and its revision; replies on failure. */
bool api_load (api_req *r, const api_route *rt, json_t **out, int64_t *rev);
/* patch.c */
enum MHD_Result api_do_patch (api_req *r, const api_route *rt);
/* sub.c */
enum MHD_Result api_do_subresource (api_req *r, const api_route *rt);
/* log, exec, attach, portforward: handed to the configured pod proxy. */
enum MHD_Result api_do_pod_stream (api_req *r, const api_route *rt);
/* convert.c: served version <-> storage version. */
void api_hpa_v1_to_v2 (json_t *o);
void api_hpa_v2_to_v1 (json_t *o);
void api_event_v1_to_core (json_t *o);
void api_event_core_to_v1 (json_t *o);
/* The text to store for obj (converted to the storage version). */
char *api_storage_text (const api_resource *res, const json_t *obj);
/* A stored text as this version serves it (a copy). */
char *api_served_text (const api_resource *res, const char *json);
/* review.c: access reviews, answered "allowed" for every authenticated user. */
enum MHD_Result api_do_review (api_req *r, const api_route *rt);
/* services.c: allocates spec.clusterIP(s) and node ports; releases happen implicitly
   (allocation scans the stored services). Returns false after replying on failure.
   The caller holds srv->alloc_lock until the service is stored (api_alloc_guard). */
bool api_service_allocate (api_req *r, json_t *svc, const json_t *old);
/* Locks srv->alloc_lock for the rest of the scope when res is services. */
static inline void
api_alloc_unlockp (pthread_mutex_t **m)
{
  if (*m)
    pthread_mutex_unlock (*m);
}
#define api_alloc_guard(r, res)                                                                    \
  _cleanup_ (api_alloc_unlockp) pthread_mutex_t *alloc_guard_                                      \
      = streq ((res)->plural, "services") ? &(r)->srv->alloc_lock : NULL;                         \
  if (alloc_guard_)                                                                                \
    pthread_mutex_lock (alloc_guard_)
/* bootstrap.c: default namespaces */
int api_bootstrap (struct store *st, husk_error **err);

#endif
