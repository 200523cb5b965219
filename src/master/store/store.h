/* husk: the master's state store (DESIGN.md 6, docs/store.md).

   One interface, two backends (SQLite, the default; etcd v3 for HA), chosen by URL at
   store_open. Objects are compact JSON strings addressed by (resource, namespace, name) and
   kept under the key /registry/<resource>/<namespace>/<name> (cluster-scoped objects, with
   ns NULL or "": /registry/<resource>/<name>).

   Revisions: one global counter. Every successful write (a single op or a whole txn) takes
   the next revision; it is the object's resourceVersion. The store OWNS
   metadata.resourceVersion: whatever the caller puts there is replaced, and every object the
   store hands back (get, list, txn results, watch events) carries
   "resourceVersion":"<decimal revision>" of its last write. (A DELETED event carries the
   object's last state with the deletion's revision, as Kubernetes does.) Stored objects are
   re-encoded compact with "metadata" as their first member and "resourceVersion" first in
   it; member order is otherwise kept.

   Errors: functions return 0 (or a count) on success, < 0 with *err set on failure. The
   failure class is (*err)->errnum, one of the STORE_E* below; the API server maps them to
   HTTP codes. Outputs are written only on success.

   Threading: a store handle is safe to use from any number of threads at once (the API
   server's connection threads, controllers, the scheduler). A store_watch handle belongs to
   one thread at a time; see store_watch_next. */
#ifndef HUSK_STORE_H
#define HUSK_STORE_H

#include <errno.h>
#include <stdint.h>

#include "lib/error.h"

/* errnum classes of store errors and their HTTP meaning:
   STORE_ENOTFOUND  404: no such object
   STORE_EEXIST     409 AlreadyExists: create of a present key
   STORE_ECONFLICT  409 Conflict: expect_rev != the object's revision
   STORE_ETOOOLD    410 Gone: watch history does not reach from_rev, or a continue token
                    whose snapshot is gone (etcd compacted)
   STORE_EINVAL     400/500: bad key segment, not a JSON object, bad token
   STORE_EUNAVAIL   503: backend unreachable (all etcd endpoints down, or a write's outcome
                    unknown because the connection broke) */
#define STORE_ENOTFOUND ENOENT
#define STORE_EEXIST    EEXIST
#define STORE_ECONFLICT ESTALE
#define STORE_ETOOOLD   ERANGE
#define STORE_EINVAL    EINVAL
#define STORE_EUNAVAIL  EHOSTUNREACH
/* Anything else (EIO, ENOSPC, ...) is an internal error (500). */

typedef struct store store;
typedef struct store_watch store_watch;

/* Which keys are "volatile": kept in memory unless durable_volatile is set, so an idle
   cluster writes nothing to disk. Resources "leases" and "events" (exact match). Events
   expire event_ttl_sec after their last write (a DELETED event is emitted). Volatile objects
   share the global revision counter; after a restart of a SQLite store they are gone and the
   counter never goes backwards. The etcd backend ignores this (etcd owns durability). */
typedef struct store_options
{
  /* NULL, "sqlite" or "sqlite://" -> <data_dir>/state.db; "sqlite:///abs/path.db";
     "etcd://h1:2379,h2:2379,h3:2379" (http) or "etcds://..." (https). */
  const char *url;
  const char *data_dir;   /* for the default SQLite file; created if missing */
  uint32_t watch_ring;    /* events of history kept per resource; 0 -> 10000 */
  /* bytes of object text kept per resource beyond its newest 100 events; 0 -> 8 MiB. Older
     events go first, so a watch from before them gets 410 Gone (upstream keeps 100 events
     per resource in its watch cache by default). */
  size_t watch_ring_bytes;
  bool durable_volatile;  /* write leases/events to disk like everything else */
  uint32_t event_ttl_sec; /* 0 -> 3600 */
  /* etcd TLS (any set implies https): PEM files. */
  const char *tls_ca;
  const char *tls_cert;
  const char *tls_key;
  uint32_t etcd_timeout_ms; /* per request, per endpoint; 0 -> 5000 */
} store_options;

/* Opens (creating if needed) the store. SQLite: runs recovery, starts the writer thread. */
int store_open (const store_options *opts, store **out, husk_error **err);
/* Stops background threads and frees everything. Open watchers must be closed first. */
void store_close (store *s);
DEFINE_CLEANUP (store *, store_close)

/* "sqlite" or "etcd". */
const char *store_backend_name (store *s);

/* The latest committed revision (the resourceVersion of an empty list). */
int store_current_revision (store *s, int64_t *out, husk_error **err);

/* *json_out: malloc'd compact JSON with metadata.resourceVersion; *rev_out (may be NULL):
   its revision. STORE_ENOTFOUND when absent. */
int store_get (store *s, const char *resource, const char *ns, const char *name, char **json_out,
               int64_t *rev_out, husk_error **err);

typedef struct store_list_result
{
  char **items; /* n malloc'd JSON objects, key order (namespace, then name) */
  size_t n;
  int64_t revision;     /* the list's resourceVersion: watch from here sees later changes */
  char *continue_token; /* NULL when this was the last page */
} store_list_result;
/* A number that changes whenever an object of resource is written (the revision of the
   latest write this process committed, 0 before any), so that what was read after it was
   taken is still current while it is unchanged; -1 when the backend may be written by
   others (etcd), i.e. nothing read from it may be cached. */
int64_t store_resource_write_rev (store *s, const char *resource);
void store_list_result_free (store_list_result *r); /* frees the contents, not r */

/* Lists objects of a resource in one namespace (ns set) or all (ns NULL or "").
   limit 0 = everything. continue_token: NULL, or the token of the previous page (the other
   arguments must be the same). A token is an opaque printable string, usable as the
   Kubernetes `continue` value. Consistency: the first page is a snapshot at .revision; later
   pages report the same .revision. etcd serves later pages from that snapshot (or fails
   with STORE_ETOOOLD once compacted); SQLite serves them from the current state of the keys
   after the last one returned (objects changed meanwhile show their newer state; the watch
   from .revision reports those changes too). */
int store_list (store *s, const char *resource, const char *ns, size_t limit,
                const char *continue_token, store_list_result *out, husk_error **err);

typedef enum store_op_type
{
  STORE_OP_CREATE = 1, /* fails STORE_EEXIST if present */
  STORE_OP_UPDATE,     /* fails STORE_ENOTFOUND if absent, STORE_ECONFLICT on expect_rev */
  STORE_OP_DELETE,     /* same as update */
} store_op_type;

typedef struct store_op
{
  /* in */
  store_op_type type;
  const char *resource, *ns, *name;
  const char *json;   /* create/update: a JSON object (any formatting; stored compact) */
  const struct json_t *obj; /* create/update instead of json: the object as a jansson tree
                               (read during the call, not kept; encoded without a text copy) */
  int64_t expect_rev; /* update/delete: 0 = any revision, else must equal the current one */
  /* out (valid after store_txn returned 0; free result with free()) */
  char *result;     /* stored object with resourceVersion; delete: the last state */
  int64_t prev_rev; /* update/delete: revision the object had before */
} store_op;

/* Applies all ops atomically, or none. All ops of one txn share one new revision (*rev_out,
   may be NULL). A key may appear only once per txn. On failure *err names the first failing
   op ("pods/default/web: ...") with its class, and no op has effect. Returns 0 or < 0.
   Durability: when 0 is returned the write is on disk (SQLite: fsynced, shared with
   concurrent writers by group commit; etcd: committed by the raft quorum). */
int store_txn (store *s, store_op *ops, size_t n, int64_t *rev_out, husk_error **err);

/* One-op conveniences over store_txn. *json_out (may be NULL): the stored object. */
int store_create (store *s, const char *resource, const char *ns, const char *name,
                  const char *json, char **json_out, int64_t *rev_out, husk_error **err);
/* store_create with the object as a jansson tree (store_op.obj). */
int store_create_obj (store *s, const char *resource, const char *ns, const char *name,
                      const struct json_t *obj, char **json_out, int64_t *rev_out,
                      husk_error **err);
int store_update (store *s, const char *resource, const char *ns, const char *name,
                  const char *json, int64_t expect_rev, char **json_out, int64_t *rev_out,
                  husk_error **err);
/* *json_out: the deleted object's last state with the deletion's revision. */
int store_delete (store *s, const char *resource, const char *ns, const char *name,
                  int64_t expect_rev, char **json_out, int64_t *rev_out, husk_error **err);

/* ---- watch ---- */

typedef enum store_event_type
{
  STORE_ADDED = 1,
  STORE_MODIFIED,
  STORE_DELETED,
} store_event_type;

/* An event; read-only, shared between watchers (reference counted). */
typedef struct store_event
{
  store_event_type type;
  int64_t rev; /* the write's revision (= object's resourceVersion) */
  const char *resource;
  const char *ns; /* "" for cluster-scoped */
  const char *name;
  const char *json; /* the object with metadata.resourceVersion = rev */
  size_t json_len;
} store_event;
void store_event_unref (const store_event *e);

/* Starts a watch on a resource in one namespace (ns set) or all (NULL or ""), delivering
   every event with revision > from_rev, in revision order (events of one txn in op order),
   none lost, none repeated. from_rev 0 = from now (the current revision).
   STORE_ETOOOLD when the in-memory history no longer reaches from_rev: the client must
   relist (HTTP 410 Gone). */
int store_watch_open (store *s, const char *resource, const char *ns, int64_t from_rev,
                      store_watch **out, husk_error **err);

/* Next event. Returns 1 and *out (release with store_event_unref), 0 when timeout_ms
   passed without one (timeout_ms < 0 waits forever, 0 polls), < 0 on error:
   STORE_ETOOOLD when this watcher fell so far behind that history it had not read was
   dropped (send a 410 ERROR event and end the watch), STORE_EUNAVAIL if the backend's
   stream is lost for good. Not to be called concurrently on one handle; different handles
   are independent. */
int store_watch_next (store_watch *w, int timeout_ms, const store_event **out, husk_error **err);

/* A file descriptor that polls readable while store_watch_next would return without
   blocking (for poll/epoll loops or libmicrohttpd's suspended connections). Owned by the
   watcher; valid until store_watch_close; created on first call. Draining happens inside
   store_watch_next. */
int store_watch_fd (store_watch *w);

/* The highest revision this watcher knows to be complete (for BOOKMARK events): every
   event up to it has been returned or did not match. */
int64_t store_watch_progress (store_watch *w);

/* Wakes a store_watch_next blocked in another thread; that call (and every later one)
   returns -ECANCELED-1 via husk_err (errnum ECANCELED). Safe from any thread. */
void store_watch_cancel (store_watch *w);

/* Frees the watcher (no concurrent store_watch_next on it). */
void store_watch_close (store_watch *w);
DEFINE_CLEANUP (store_watch *, store_watch_close)

#endif
