/* husk api: namespace deletion (Terminating, contents first, then the namespace). */
#ifndef HUSK_API_NAMESPACES_H
#define HUSK_API_NAMESPACES_H

#include "src/master/api/handlers.h"

/* DELETE of namespace old (stored at rev): marks it Terminating and sweeps it once. Replies. */
enum MHD_Result api_namespace_delete (api_req *r, const api_route *rt, json_t *old, int64_t rev);
/* Deletes what remains in a Terminating namespace and, once empty, the namespace; returns
   whether the namespace is gone. */
bool api_namespace_sweep (api_server *srv, const char *name);
/* The thread that finishes Terminating namespaces (every second). */
void api_namespace_sweeper_start (api_server *srv);
void api_namespace_sweeper_stop (api_server *srv);

#endif
