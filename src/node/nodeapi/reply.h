/* husk node API: answers in kubelet's shapes, for the node API's routes and for the node's
   other HTTP handlers (logproxy.c, the pods/log hook of `husk up`). */
#ifndef HUSK_NODEAPI_REPLY_H
#define HUSK_NODEAPI_REPLY_H

#include <microhttpd.h>
#include <stdbool.h>

#include "lib/error.h"
#include "lib/util.h"

/* Queues body (malloc'd; the response frees it) with the given code and Content-Type. */
enum MHD_Result nodeapi_reply (struct MHD_Connection *c, unsigned code, const char *ctype,
                               char *body, size_t len);
/* A metav1.Status failure, as kubelet answers. */
enum MHD_Result nodeapi_reply_status (struct MHD_Connection *c, unsigned code, const char *reason,
                                      const char *fmt, ...) _printf_ (4, 5);
/* The error's errno mapped to a code (ENOENT 404, EINVAL 400, else 500). */
enum MHD_Result nodeapi_reply_error (struct MHD_Connection *c, const husk_error *err);
/* A query argument of the request, or NULL. */
const char *nodeapi_arg (struct MHD_Connection *c, const char *k);
/* Is the query argument true ("true", "1", "True", "TRUE")? */
bool nodeapi_arg_true (struct MHD_Connection *c, const char *k);

#endif
