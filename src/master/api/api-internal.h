/* husk api: declarations shared by the API server's files. */
#ifndef HUSK_API_INTERNAL_H
#define HUSK_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "src/master/api/api.h"
#include "src/master/api/auth.h"
#include "src/master/api/tls.h"

#define API_MAX_BODY (3 * 1024 * 1024)

struct api_server
{
  struct MHD_Daemon *tls_daemon;
  struct MHD_Daemon *plain_daemon;
  api_tls tls;
  api_auth auth;
  struct store *store;
  char *data_dir;
  int port;
  char *url; /* how this host reaches the server: the bind address, or 127.0.0.1 */
  pthread_mutex_t alloc_lock; /* ClusterIP / NodePort allocation */
  pthread_t ns_thread; /* namespaces.c: finishes Terminating namespaces */
  bool ns_thread_started;
  bool ns_stop;
  api_pod_proxy_fn pod_proxy;
  void *pod_proxy_cls;
  struct api_getcache *getcache; /* getcache.c: single-object GETs */
};

/* server.c's libmicrohttpd callbacks (cls: the api_server), for local.c's daemon. */
extern MHD_AccessHandlerCallback const api_server_on_request;
extern MHD_RequestCompletedCallback const api_server_on_completed;

/* One HTTP request, from headers to the response. */
typedef struct api_req
{
  api_server *srv;
  struct MHD_Connection *conn;
  const char *method;
  char *path; /* URL path without query */
  husk_buf body;
  bool too_large;
  bool plain; /* came over the loopback plain-HTTP port */
  const char *user;
  char *user_buf; /* storage of user for service account tokens */
  json_t *warnings; /* array of strings for Warning: headers */
  bool retry_on_conflict; /* patch: a lost race is retried, not answered 409 */
  bool conflicted;        /* set instead of replying when retry_on_conflict */
  bool managed_done;      /* server-side apply has set metadata.managedFields */
  bool corked;            /* cork.c: the reply is held in GnuTLS until completion */
} api_req;

/* ---- responses (reply.c) ---- */
const char *api_query (api_req *r, const char *key);
const char *api_header (api_req *r, const char *key);
/* A boolean query parameter ("true", "1", "True", ... as Go's ParseBool). */
bool api_query_bool (api_req *r, const char *key);
/* Queues body (taken) with content type and status code. */
enum MHD_Result api_reply_raw (api_req *r, unsigned code, const char *ctype, char *body,
                               size_t len);
/* Dumps j (reference stolen) as JSON. */
enum MHD_Result api_reply_json (api_req *r, unsigned code, json_t *j);
/* Queues a response shared between requests (not destroyed here: the caller keeps its
   reference); len is its body's length. */
enum MHD_Result api_reply_shared (api_req *r, unsigned code, struct MHD_Response *resp,
                                  size_t len);
enum MHD_Result api_reply_json_ct (api_req *r, unsigned code, const char *ctype, json_t *j);
void api_warn (api_req *r, const char *fmt, ...) _printf_ (2, 3);

/* ---- metav1.Status (status.c) ---- */
json_t *api_status_new (unsigned code, const char *reason, const char *message);
/* details: {name, group, kind} of the object concerned; any may be NULL. */
void api_status_details (json_t *st, const char *name, const char *group, const char *kind);
/* Adds details.causes[] {reason, message, field}. */
void api_status_cause (json_t *st, const char *reason, const char *field, const char *message);
enum MHD_Result api_reply_status (api_req *r, json_t *st);
enum MHD_Result api_reply_error (api_req *r, unsigned code, const char *reason, const char *fmt,
                                 ...) _printf_ (4, 5);
/* Maps a husk_error's errno to a Status code and reason. */
void api_errno_status (int errnum, unsigned *code, const char **reason);

/* ---- routes ---- */
enum MHD_Result api_serve_discovery (api_req *r, char **parts, size_t n);
enum MHD_Result api_serve_openapi (api_req *r, char **parts, size_t n);
enum MHD_Result api_serve_resource (api_req *r, char **parts, size_t n);

/* Splits a path into non-empty segments (url-decoded); returns the count. *out is one block
   (the NULL-terminated array and the segments' text): free it with free(). */
size_t api_split_path (const char *path, char ***out);

#endif
