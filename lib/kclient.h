/* husk: a Kubernetes API client over libcurl: bearer token, CA from flags or a kubeconfig,
   plain requests returning the HTTP status and body, and a resumable list+watch.
   A kclient is safe to use from several threads (one request at a time per handle:
   requests are serialised by a lock); a watch uses its own connection. */
#ifndef HUSK_KCLIENT_H
#define HUSK_KCLIENT_H

#include <jansson.h>
#include <stdatomic.h>

#include "lib/error.h"

typedef struct kclient_config
{
  char *server;   /* "https://127.0.0.1:6443" */
  char *token;    /* bearer token; NULL: none */
  char *ca_file;  /* PEM file to verify the server with; NULL: system store */
  char *ca_pem;   /* PEM text (certificate-authority-data) instead of a file */
  bool insecure;  /* insecure-skip-tls-verify */
  long timeout_ms; /* per plain request; 0 = 30 s */
  /* Connect to this Unix socket instead of server's host and port (server is then
     "http://localhost": the master's in-process clients, src/master/api/local.c). */
  char *unix_socket;
} kclient_config;

/* Reads the current context of a kubeconfig (YAML or JSON): server, CA (file or data),
   insecure-skip-tls-verify, token (or tokenFile). Relative file names are taken from the
   kubeconfig's directory. Fields already set in *out are kept (flags win). */
int kclient_config_from_kubeconfig (const char *path, kclient_config *out, husk_error **err);
void kclient_config_clear (kclient_config *c);

typedef struct kclient kclient;

int kclient_new (const kclient_config *cfg, kclient **out, husk_error **err);
void kclient_free (kclient *k);
DEFINE_CLEANUP (kclient *, kclient_free)
const char *kclient_server (const kclient *k);

/* One request. Returns 0 when the server answered (any status: *status gets it, *body the
   response, NUL-terminated, may be NULL to discard), < 0 when it could not be reached.
   content_type/body may be NULL. */
int kclient_request (kclient *k, const char *method, const char *path, const char *content_type,
                     const char *body, long *status, char **resp, husk_error **err);

/* The message of a metav1.Status body, or NULL. */
char *kclient_status_message (const char *body);
/* errno for an HTTP status: 404 ENOENT, 409 EEXIST, 410 ESTALE, 400/422 EINVAL, 401/403
   EACCES, 429/5xx EAGAIN, other EIO. */
int kclient_status_errno (long status);

/* JSON in, JSON out. A status >= 400 is an error "<METHOD> <path>: <Status message> (HTTP n)"
   with kclient_status_errno's errnum. out and status may be NULL. */
int kclient_json (kclient *k, const char *method, const char *path, const char *content_type,
                  json_t *body, json_t **out, long *status, husk_error **err);

/* ---- list + watch -------------------------------------------------------------------- */

typedef struct kclient_watch_ops
{
  /* A full list: the first one, and each relist after 410 Gone or a reconnect that could
     not resume. items is the list's items array (borrowed). */
  int (*on_list) (void *ud, json_t *items, const char *resource_version);
  /* One event: type ADDED, MODIFIED, DELETED (BOOKMARK and ERROR are handled here). */
  int (*on_event) (void *ud, const char *type, json_t *object);
  /* Optional: the connection state changed (true: watching, false: failing, retrying). */
  void (*on_state) (void *ud, bool connected, const char *error);
  void *ud;
  /* Optional: called for each listed item as its page arrives; what it returns (a new
     reference, e.g. a slimmer copy) is what on_list gets, so that a paged list of a large
     collection is never held whole. */
  json_t *(*on_list_item) (void *ud, json_t *item);
} kclient_watch_ops;

typedef struct kclient_watch_opts
{
  const char *query;        /* extra query, already escaped ("fieldSelector=spec.nodeName%3Dn1") */
  int timeout_seconds;      /* server-side watch timeout, then resume; 0 = 300 */
  long backoff_initial_ms;  /* 0 = 200 */
  long backoff_max_ms;      /* 0 = 30000 */
  int list_page;            /* list in pages of this many items (limit/continue); 0 = one */
} kclient_watch_opts;

/* Lists path, then watches it from the list's resourceVersion, calling ops for each line.
   A dropped connection resumes from the last resourceVersion seen (bookmarks included);
   410 Gone relists; errors back off (doubling to backoff_max). Runs until *stop is set
   (checked at least once a second), then returns 0. A callback returning < 0 also ends it
   with that code. */
int kclient_watch (kclient *k, const char *path, const kclient_watch_opts *opts,
                   const kclient_watch_ops *ops, atomic_int *stop, husk_error **err);

/* One list+watch of kclient_watch_many. */
typedef struct kclient_watch_spec
{
  const char *path;
  const kclient_watch_opts *opts; /* NULL: the defaults */
  const kclient_watch_ops *ops;
} kclient_watch_spec;

/* kclient_watch for n paths at once, in the calling thread: each list page and each watch is
   a transfer of one curl multi handle (a connection each, no thread each). The watches keep
   kclient_watch's behaviour one by one; a callback failing ends its own watch only. Returns
   when *stop is set (0, or the first failed callback's code with err) or when every watch
   has so ended. */
int kclient_watch_many (kclient *k, const kclient_watch_spec *specs, size_t n, atomic_int *stop,
                        husk_error **err);

/* URL-escapes s for a query value. */
char *kclient_escape (const char *s);

#endif
